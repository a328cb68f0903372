"""Check ``backward()`` against central finite differences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

from .context import no_grad
from .engine import grad
from .value import Value

__all__ = ["gradcheck", "GradcheckResult", "GradcheckError", "Mismatch", "numerical_grad"]


@dataclass(frozen=True)
class Mismatch:
    """One partial derivative where backward and the finite difference disagree."""

    index: int
    label: str
    analytic: float
    numeric: float

    def __str__(self) -> str:
        name = self.label or f"input {self.index}"
        return (f"d/d{name}: backward gives {self.analytic!r}, central difference "
                f"{self.numeric!r} (off by {abs(self.analytic - self.numeric):.3g})")


@dataclass(frozen=True)
class GradcheckResult:
    """What :func:`gradcheck` found. True in a boolean context when all partials agree.

    Example:
        >>> from autograd import Value, gradcheck
        >>> result = gradcheck(lambda x: x * x, [Value(3.0)])
        >>> result.ok, result.analytic, [round(n, 6) for n in result.numeric]
        (True, (6.0,), [6.0])
    """

    analytic: tuple[float, ...]
    numeric: tuple[float, ...]
    mismatches: tuple[Mismatch, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"gradcheck passed: {len(self.analytic)} partial derivatives agree"
        return "gradcheck failed:\n" + "\n".join(f"  {m}" for m in self.mismatches)


class GradcheckError(AssertionError):
    """``gradcheck`` found partial derivatives where backward and the finite difference disagree.

    The message is the report; ``error.result`` is the :class:`GradcheckResult`.

    Example:
        >>> from autograd import Value, gradcheck
        >>> try:
        ...     gradcheck(lambda x: x.step(), [Value(0.0, "x")])  # step's slope is 0, the jump's is not
        ... except GradcheckError as error:
        ...     print(error.result.ok, error.result.analytic)
        False (0.0,)
    """

    def __init__(self, result: GradcheckResult) -> None:
        super().__init__(str(result))
        self.result = result


def numerical_grad(f: Callable[..., Value], inputs: Sequence[Value], eps: float = 1e-6) -> tuple[float, ...]:
    """Central differences (f(x + eps) - f(x - eps)) / (2 eps), one input at a time.

    Example:
        >>> x = Value(3.0)
        >>> round(numerical_grad(lambda x: x * x, [x])[0], 6)
        6.0
    """
    partials = []
    with no_grad():
        for x in inputs:
            original, version = x.data, x._version
            try:
                x.data = original + eps
                above = _as_float(f(*inputs))
                x.data = original - eps
                below = _as_float(f(*inputs))
            finally:  # as it was: graphs built from x before the check stay usable; the
                x.data = original  # clock moves (caches keyed by it, e.g. nn's neurons', read again)
                x._version = version
            partials.append((above - below) / (2.0 * eps))
    return tuple(partials)


def _as_float(result: object) -> float:
    if isinstance(result, Value):
        return result.data
    if isinstance(result, (int, float)):
        return float(result)
    raise TypeError(f"gradcheck needs f to return a Value, got {type(result).__name__}")


def gradcheck(f: Callable[..., Value], inputs: Sequence[Value], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_on_failure: bool = True) -> GradcheckResult:
    """Compare the backward pass of ``f(*inputs)`` with central differences in float64.

    A partial passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
    When one does not, raises :class:`GradcheckError` (an ``AssertionError``) with
    the report as its message, as PyTorch's ``gradcheck`` does, so a bare
    ``gradcheck(f, xs)`` statement checks. Returns the :class:`GradcheckResult`
    (truthy); ``raise_on_failure=False`` returns it in every case (falsy on failure).

    Example:
        >>> from autograd import Value, gradcheck
        >>> x, y = Value(0.5, "x"), Value(-1.5, "y")
        >>> print(gradcheck(lambda x, y: (x * y).tanh() + x.exp(), [x, y]))
        gradcheck passed: 2 partial derivatives agree
        >>> bool(gradcheck(lambda x: x.step(), [Value(0.0, "x")], raise_on_failure=False))
        False
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradcheck inputs must be Values, input {i} is {type(x).__name__}")
    if eps <= 0 or not math.isfinite(eps):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    output = f(*inputs)
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck needs f to return a Value, got {type(output).__name__}")
    analytic = tuple(float(g) for g in grad(output, inputs))
    numeric = numerical_grad(f, inputs, eps)
    mismatches = tuple(
        Mismatch(i, x.label, a, n)
        for i, (x, a, n) in enumerate(zip(inputs, analytic, numeric))
        if not abs(a - n) <= atol + rtol * abs(n))
    result = GradcheckResult(analytic, numeric, mismatches)
    if raise_on_failure and not result:
        raise GradcheckError(result)
    return result
