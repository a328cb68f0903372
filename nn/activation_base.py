"""The base of every activation: an elementwise function of one Value, and its options.

Example:
    >>> from autograd import Value
    >>> class Double(Activation):
    ...     name = "double"
    ...     def forward(self, x): return x * 2.0
    >>> Double()(Value(1.5)).data, Double().spec()
    (3.0, 'double')
"""

from __future__ import annotations

import math
from typing import Any, Union

from autograd import Value

from .module import Module

__all__ = ["Activation", "finite_option"]


class Activation(Module):
    """An elementwise function of one Value; its ``name`` is how layers ask for it.

    Example:
        >>> from nn import ReLU
        >>> ReLU()(Value(-2.0)).data
        0.0
    """

    name = "activation"
    _repr_inline = True  # shown in the owner's repr, not as a child line

    def __call__(self, x: Value) -> Value:
        return self.forward(x)

    def forward(self, x: Value) -> Value:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """Constructor arguments that differ from their defaults (for config and repr)."""
        return {}

    def spec(self) -> Union[str, dict[str, Any]]:
        """How a config records this activation: its name, or a dict with its options.

        Example:
            >>> from nn import Sigmoid
            >>> Sigmoid().spec(), Sigmoid(c=2.0).spec()
            ('sigmoid', {'name': 'sigmoid', 'c': 2.0})
        """
        options = self.options()
        return {"name": self.name, **options} if options else self.name

    def describe(self) -> str:
        """Short text for reprs: ``sigmoid`` or ``sigmoid(c=2)``."""
        options = self.options()
        if not options:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={v:g}" for k, v in options.items()) + ")"

    def __repr__(self) -> str:
        return self.describe()


def finite_option(what: str, value: Any) -> float:
    """An activation's option as a float, or ``ValueError`` if it is not a finite number.

    Example:
        >>> finite_option("slope", 0.5)
        0.5
        >>> finite_option("slope", 1e999)
        Traceback (most recent call last):
        ...
        ValueError: slope must be a finite number, got inf
    """
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {number!r}")
    return number
