"""What a number is to chainrule: the objects a ``Value`` accepts as its float.

A leaf module below :mod:`autograd.value` (it imports nothing of chainrule): the node's
constructor, its ``data`` setter and the ops' constant arguments all check their
numbers here.
"""

from __future__ import annotations

import numbers
from math import isfinite
from typing import Any

__all__ = ["to_float", "at_zero_arg"]


def to_float(data: Any) -> float:
    """Check that ``data`` is a real number and return it as a float.

    Accepts int, float, bool and NumPy scalars; rejects everything else with a
    ``TypeError`` naming the type, and NaN with a ``ValueError``.

    Example:
        >>> to_float(True)
        1.0
    """
    if type(data) is float:
        number = data
    elif isinstance(data, numbers.Real) or _is_numpy_bool(data):
        number = float(data)
    elif type(data).__module__ == "autograd.value":  # a Value, Parameter or Constant (it imports this module)
        raise TypeError("Value data must be a number, got a Value: use v.detach() "
                        "for a new leaf with the same data")
    else:
        raise TypeError("Value data must be a real number (int, float, bool or NumPy "
                        f"scalar), got {type(data).__name__}: {data!r}"[:200])
    if number != number:
        raise ValueError("Value data must not be NaN")
    return number


def at_zero_arg(value: Any) -> float | None:
    """step's and sign's value at 0 as their op argument: None for the default 0.

    Example:
        >>> at_zero_arg(0), at_zero_arg(1)
        (None, 1.0)
    """
    number = to_float(value)
    if not isfinite(number):
        raise ValueError(f"at_zero must be a finite number, got {number!r}")
    return None if number == 0.0 else number


def _is_numpy_bool(data: Any) -> bool:
    kind = type(data)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool")
