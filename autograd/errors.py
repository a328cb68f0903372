"""The autograd core's errors, and the one check that keeps NaN and infinity out of a graph.

A leaf module: it imports nothing from autograd, so every other module (the core,
the compiler, the drawing code, ``nn``) can import it without an import circle.

The rule for non-finite numbers is IEEE 754's, the one NumPy applies in the compiled
tape: an op (forward rule or local gradient) that makes a NaN, or an infinity from
finite numbers (an overflow), raises an error naming the op and its operands. An
infinity that came in goes out (``minimum(-inf, 1.0)`` is ``-inf``).

Example:
    >>> from autograd import Value
    >>> Value(1e308) * 10
    Traceback (most recent call last):
    ...
    autograd.errors.OverflowValueError: mul(1e+308, 10.0): result too large (inf)
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Sequence

__all__ = ["TracingError", "NonFiniteError", "OverflowValueError", "StaleGraphError", "describe_call",
           "forward_error", "check_result", "check_gradients", "local_grad_error", "local_grad_not_finite",
           "stale_graph_error"]


class TracingError(RuntimeError):
    """Python code read a Value's data while ``autograd.compile`` was tracing.

    A traced graph records operations, not Python's ``if``/``while``: a branch on
    data would be frozen into the tape for every later input.

    Example:
        >>> import autograd
        >>> def relu_by_branch(x):
        ...     return x[0] if x[0].data > 0 else x[0] * 0.0
        >>> try:
        ...     autograd.compile(relu_by_branch, ([1.0],))
        ... except TracingError:
        ...     print("branching on data cannot be traced")
        branching on data cannot be traced
    """


class NonFiniteError(ValueError):
    """An op's result or gradient is NaN, or infinite although everything it read was finite.

    Example:
        >>> from autograd import Value
        >>> try:
        ...     Value(0.0) * float("inf")
        ... except NonFiniteError as error:
        ...     print(error)
        mul(0.0, inf) is NaN
    """


class OverflowValueError(OverflowError, NonFiniteError):
    """An op's result is too large for a float (an OverflowError and a ValueError).

    Example:
        >>> from autograd import Value
        >>> try:
        ...     Value(1000.0).exp()
        ... except OverflowError as error:
        ...     print(isinstance(error, NonFiniteError))
        True
    """


class StaleGraphError(RuntimeError):
    """``backward()`` reached a node whose operand's ``.data`` was assigned after the node was made.

    The node holds a result of the old data (``y = x.exp()`` keeps e^x of the old x), so
    its gradients would mix old and new values; PyTorch refuses the same way
    ("modified by an inplace operation").

    Example:
        >>> from autograd import Value
        >>> x = Value(2.0)
        >>> y = x.exp()
        >>> x.data = 3.0
        >>> try:
        ...     y.backward()
        ... except StaleGraphError:
        ...     print("recompute y from the new x")
        recompute y from the new x
    """


def stale_graph_error(op: Any, index: int, inputs: Sequence[float]) -> StaleGraphError:
    """The error for a node whose operand ``index`` was assigned after the node was computed.

    Example:
        >>> from autograd.ops import OPS
        >>> str(stale_graph_error(OPS["mul"], 1, [2.7, 1.0]))[:61]
        'operand 1 of mul(2.7, 1.0) had its .data assigned after mul w'
    """
    return StaleGraphError(
        f"operand {index} of {describe_call(op, inputs, None)} had its .data assigned after {op.name} "
        "was computed from it, so this graph holds results of the old value: run the forward pass "
        "again after changing .data (backward() would mix old results with the new data)")


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


def _all_finite(inputs: Sequence[float], arg: Any) -> bool:
    numbers = [*inputs, arg] if isinstance(arg, float) else inputs
    return all(math.isfinite(x) for x in numbers)


def check_result(op: Any, inputs: Sequence[float], arg: Any, out: float) -> None:
    """Raise if ``out``, the result of ``op`` on ``inputs``, is NaN or an overflow.

    Eager ops call it when a result is not finite, and the compiled tape calls it
    to name the sample where its NumPy maths failed.

    Example:
        >>> from autograd.ops import OPS
        >>> check_result(OPS["add"], [1e308, 1e308], None, float("inf"))
        Traceback (most recent call last):
        ...
        autograd.errors.OverflowValueError: add(1e+308, 1e+308): result too large (inf)
        >>> check_result(OPS["add"], [float("inf"), 1.0], None, float("inf"))  # inf in, inf out
    """
    if out != out:
        raise forward_error(op, inputs, arg, None)
    if not math.isfinite(out) and _all_finite(inputs, arg):
        raise OverflowValueError(f"{describe_call(op, inputs, arg)}: result too large ({out!r})")


def local_grad_error(op: Any, inputs: Sequence[float], arg: Any, error: Exception) -> ValueError:
    """The error for a local gradient that has no value at these operands.

    Example:
        >>> from autograd.ops import OPS
        >>> local_grad_error(OPS["sqrt"], [0.0], None, ZeroDivisionError("float division by zero"))
        ValueError('the local gradient of sqrt(0.0) is undefined (float division by zero)')
    """
    return ValueError(f"the local gradient of {describe_call(op, inputs, arg)} is undefined ({error})")


def local_grad_not_finite(op: Any, inputs: Sequence[float], arg: Any, index: int,
                          local: float) -> NonFiniteError:
    """The error for a local gradient that is NaN or infinite at these operands.

    Example:
        >>> from autograd.ops import OPS
        >>> local_grad_not_finite(OPS["pow"], [-3.0, 2.0], None, 1, math.nan)
        NonFiniteError('the local gradient of pow(-3.0, 2.0) for operand 1 is nan')
    """
    return NonFiniteError(f"the local gradient of {describe_call(op, inputs, arg)} for operand {index} "
                          f"is {local!r}")


def check_gradients(op: Any, inputs: Sequence[float], arg: Any, upstream: float,
                    local_grads: Sequence[float]) -> None:
    """Raise if a backward step (``upstream x local gradient`` per operand) is NaN or overflows.

    ``backward()`` calls it when a gradient it computed is not finite.

    Example:
        >>> from autograd.ops import OPS
        >>> check_gradients(OPS["div"], [1.0, 1e-160], None, 0.0, [1e160, -math.inf])
        Traceback (most recent call last):
        ...
        autograd.errors.NonFiniteError: the local gradient of div(1.0, 1e-160) for operand 1 is -inf
    """
    given_finite = _all_finite(inputs, arg) and math.isfinite(upstream)
    where = describe_call(op, inputs, arg)
    for index, local in enumerate(local_grads):
        product = upstream * local
        if math.isfinite(product) or (product == product and not given_finite):
            continue
        if not math.isfinite(local):
            raise local_grad_not_finite(op, inputs, arg, index, local)
        raise OverflowValueError(f"the gradient of operand {index} of {where} is too large: upstream "
                                 f"{upstream!r} x local gradient {local!r}")
    if given_finite:
        raise OverflowValueError(f"the gradients summed at an operand of {where} are too large")
