"""The autograd core's errors and their messages, naming the op and its operands.

A leaf module: it imports nothing from autograd, so every other module (the core,
the compiler, the drawing code, ``nn``) can import it without an import circle.

Example:
    >>> from autograd import Value
    >>> Value(0.0).log()
    Traceback (most recent call last):
    ...
    ValueError: log(0.0): undefined (math domain error)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

__all__ = ["TracingError", "NonFiniteError", "OverflowValueError", "describe_call", "forward_error",
           "local_grad_error"]


class TracingError(RuntimeError):
    """Python code read a Value's data while ``autograd.compile`` was tracing.

    A traced graph records operations, not Python's ``if``/``while``: a branch on
    data would be frozen into the tape for every later input.
    """


class NonFiniteError(ValueError):
    """An op's result or gradient is NaN, or infinite although everything it read was finite."""


class OverflowValueError(OverflowError, NonFiniteError):
    """An op's result is too large for a float (an OverflowError and a ValueError)."""


def describe_call(op: Any, inputs: Sequence[float], arg: Any) -> str:
    """The op applied to its operands as text, for error messages: ``mul(3.0, -4.0)``.

    Example:
        >>> from autograd.ops import OPS
        >>> describe_call(OPS["powc"], [2.0], 3.0)
        'powc(2.0; 3.0)'
    """
    shown = ", ".join(repr(x) for x in inputs[:6]) + (", ..." if len(inputs) > 6 else "")
    if arg is not None and op.arity is not None:
        shown += f"; {arg!r}"
    return f"{op.name}({shown})"


def forward_error(op: Any, inputs: Sequence[float], arg: Any, error: Exception | None) -> Exception:
    """The error for a forward rule that has no value here (``error`` None: the result is NaN).

    Example:
        >>> from autograd.ops import OPS
        >>> forward_error(OPS["log"], [0.0], None, ValueError("math domain error"))
        ValueError('log(0.0): undefined (math domain error)')
    """
    where = describe_call(op, inputs, arg)
    if error is None:
        return NonFiniteError(f"{where} is NaN")
    if isinstance(error, OverflowError):
        return OverflowValueError(f"{where}: result too large ({error})")
    return ValueError(f"{where}: undefined ({error})")


def local_grad_error(op: Any, inputs: Sequence[float], arg: Any, error: Exception) -> ValueError:
    """The error for a local gradient that has no value at these operands.

    Example:
        >>> from autograd.ops import OPS
        >>> local_grad_error(OPS["sqrt"], [0.0], None, ZeroDivisionError("float division by zero"))
        ValueError('the local gradient of sqrt(0.0) is undefined (float division by zero)')
    """
    return ValueError(f"the local gradient of {describe_call(op, inputs, arg)} is undefined ({error})")
