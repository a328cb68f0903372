"""The op table: every primitive operation's forward rule and local gradient, once.

Each op is written against a small "math" namespace ``m`` instead of a concrete
library, so the same two lines serve three masters:

* :data:`FLOAT_MATH` - plain Python floats: eager forward and ``backward()``;
* ``VALUE_MATH`` (in :mod:`autograd.engine`) - ``Value`` nodes: ``grad(create_graph=True)``,
  where the local gradient is itself a differentiable graph;
* ``NUMPY_MATH`` (in :mod:`autograd.compile`) - NumPy arrays: the compiled tape,
  replayed over a whole batch at once.

A local gradient receives the operands ``xs``, the op's result ``out`` and the op's
constant argument ``arg`` (a slope, an exponent...), and returns one partial
derivative per operand: d out / d xs[i]. The engine multiplies each by the upstream
gradient ("upstream gradient x local gradient") and adds it to that operand.

Only ``<``, ``<=``, ``>``, ``>=`` and ``m.is_zero`` may test values here: ``==`` on a
``Value`` compares identity, not data.

Example:
    >>> OPS["mul"].local_grads(FLOAT_MATH, [3.0, -4.0], -12.0, None)
    (-4.0, 3.0)
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, TypeVar
from collections.abc import Callable, Iterable, Sequence

__all__ = ["Op", "OPS", "FLOAT_MATH", "FloatMath", "DotOperands", "documented", "SELU_SCALE", "SELU_ALPHA"]

SELU_SCALE = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772


class FloatMath:
    """The primitive functions of the op table, on Python floats.

    Every function is numerically stable over the whole float range: the
    overflow-prone forms (sigmoid, softplus, logsumexp) branch on the sign first.

    Example:
        >>> FLOAT_MATH.sigmoid(-1e308)
        0.0
    """

    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)
    sin = staticmethod(math.sin)
    cos = staticmethod(math.cos)
    pow = staticmethod(math.pow)  # raises on 0**-1 and (-8)**(1/3) instead of going complex
    abs = staticmethod(abs)

    @staticmethod
    def where(condition: bool, if_true: Any, if_false: Any) -> Any:
        return if_true if condition else if_false

    @staticmethod
    def is_zero(x: float) -> bool:
        return x == 0.0

    @staticmethod
    def minimum(x: float, y: float) -> float:
        return x if x < y else y

    @staticmethod
    def sign(x: float) -> float:
        return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)

    @staticmethod
    def sigmoid(x: float) -> float:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)

    @staticmethod
    def softplus(x: float) -> float:
        # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): e^-|x| never overflows.
        return (x if x > 0.0 else 0.0) + math.log1p(math.exp(-abs(x)))

    @staticmethod
    def total(xs: Iterable[float]) -> float:
        return sum(xs, 0.0)

    @staticmethod
    def largest(xs: Sequence[float]) -> float:
        return max(xs)


FLOAT_MATH = FloatMath()


class DotOperands:
    """dot's operand layout: a dot node stores all w, then all x, then the optional bias.

    ``split`` reads that layout, ``pack`` writes it; everything that builds or reads
    a dot node (the op's rules, ``autograd.dot``, layers, the compiled tape) goes
    through these two. Plain tuples, not objects: both run once per neuron per
    sample in eager training (a NamedTuple here cost 18% of an MLP step, measured).

    Example:
        >>> DotOperands.split(["w0", "w1", "x0", "x1", "b"], True)
        (['w0', 'w1'], ['x0', 'x1'], 'b')
        >>> DotOperands.pack(["w0", "w1"], ["x0", "x1"], "b")
        ('w0', 'w1', 'x0', 'x1', 'b')
    """

    @staticmethod
    def split(operands: Sequence[Any], has_bias: Any) -> tuple[Sequence[Any], Sequence[Any], Any]:
        """``(weights, inputs, bias)`` of a dot node's operands; ``has_bias`` is its ``arg``."""
        n = len(operands) // 2  # 2n operands, or 2n + 1 with the bias
        return operands[:n], operands[n:2 * n], operands[-1] if has_bias else None

    @staticmethod
    def pack(weights: Sequence[Any], inputs: Sequence[Any], bias: Any = None) -> tuple[Any, ...]:
        """The flat operand tuple a dot node stores (the bias last, when there is one)."""
        if bias is None:
            return (*weights, *inputs)
        return (*weights, *inputs, bias)


F = TypeVar("F", bound=Callable[..., Any])
Forward = Callable[[Any, Sequence[Any], Any], Any]
LocalGrads = Callable[[Any, Sequence[Any], Any, Any], Sequence[Any]]
Bilinear = Callable[[Sequence[Any], Any], tuple[Sequence[Any], Sequence[Any], Any]]  # DotOperands.split


@dataclass(frozen=True, eq=False)
class Op:
    """One primitive operation of the graph.

    Attributes:
        name: the op's name, also the ``Value`` method or operator that makes it.
        symbol: how a graph drawing labels the op node (``"+"``, ``"tanh"``...).
        forward: ``forward(m, xs, arg) -> out``.
        local_grads: ``local_grads(m, xs, out, arg) -> (d out/d xs[0], ...)``.
        derivative: the local gradient in words, for docs and graph tooltips.
        arity: the number of operands, or ``None`` for n-ary ops (sum, dot, logsumexp).
        bilinear: ``None``, or for a bilinear op (dot) the function that splits its
            operands into ``(weights, inputs, bias)`` (``DotOperands.split``):
            the op then is ``sum_i w_i x_i (+ b)``, so its local gradients are
            ``d/dw_i = x_i``, ``d/dx_i = w_i``, ``d/db = 1`` - what JAX's
            ``defbilinear`` declares. The compiled tape trusts it to run dot nodes as
            matrix products; a property test checks it against ``local_grads``.
        bounded: True if the local gradients are finite for any operands and the rule
            never raises (relu's 0 or 1, tanh's 1 - tanh^2): a zero upstream gradient
            then sends only zeros, and ``backward()`` skips the node. A property test
            checks it on infinite, huge and tiny operands.

    Example:
        >>> OPS["tanh"].derivative
        '1 - tanh(x)^2'
        >>> OPS["dot"].bilinear([1.0, 2.0, 3.0, 4.0, 5.0], True)
        ([1.0, 2.0], [3.0, 4.0], 5.0)
    """

    name: str
    symbol: str
    forward: Forward
    local_grads: LocalGrads
    derivative: str
    arity: int | None = 1
    bilinear: Bilinear | None = None
    bounded: bool = False

    def format_arg(self, arg: Any) -> str:
        """The text of the op's constant argument (an exponent, a slope), or ``""`` if none.

        The one place that writes it: drawings (``**2``, ``leaky_relu(0.01)``), the
        tape listing (``powc[2]``) and error messages all show this text. It is as
        short as ``:g`` when that is exact, else the float's full ``repr``. An n-ary
        op's argument (dot's bias flag) is structure, not a constant, and shows nothing.

        Example:
            >>> OPS["powc"].format_arg(2.0), OPS["leaky_relu"].format_arg(0.01), OPS["add"].format_arg(None)
            ('2', '0.01', '')
        """
        if arg is None or self.arity is None:
            return ""
        number = float(arg)
        short = f"{number:g}"
        return short if float(short) == number else repr(number)

    def label(self, arg: Any = None) -> str:
        """The op node's text in a drawing, e.g. ``**2`` or ``leaky_relu(0.01)``.

        Example:
            >>> OPS["powc"].label(2.0), OPS["elu"].label(0.123456789)
            ('**2', 'elu(0.123456789)')
        """
        text = self.format_arg(arg)
        if not text:
            return self.symbol
        if self.name == "powc":
            return f"**{text}"
        return f"{self.symbol}({text})"

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


OPS: dict[str, Op] = {}


def _define(name: str, symbol: str, derivative: str, arity: int | None = 1, bilinear: Bilinear | None = None,
            bounded: bool = False) -> Callable[[tuple[Forward, LocalGrads]], Op]:
    """Register an op from a pair of functions: ``(forward, local_grads)``."""

    def register(rules: tuple[Forward, LocalGrads]) -> Op:
        forward, local_grads = rules
        op = Op(name, symbol, forward, local_grads, derivative, arity, bilinear, bounded)
        OPS[name] = op
        return op

    return register


def documented(op: Op | tuple[Op, ...], summary: str, example: str, result: str) -> Callable[[F], F]:
    """Decorate a function that makes ``op``: its docstring says what it computes, its local
    gradient read from the table (never a second copy), and a short example.

    Example:
        >>> @documented(OPS["exp"], "e^x.", "round(2.0 ** 0.5, 3)", "1.414")
        ... def exp(x): ...
        >>> print(exp.__doc__.splitlines()[2])
        Local gradient, from autograd.OPS['exp'].derivative: e^x.
    """
    made = op if isinstance(op, tuple) else (op,)
    gradient = "\n".join(f"Local gradient{'s (d/dx, d/dy)' if o.arity == 2 else ''}, from "
                          f"autograd.OPS[{o.name!r}].derivative: {o.derivative}." for o in made)

    def document(function: F) -> F:
        function.__doc__ = f"{summary}\n\n{gradient}\n\nExample:\n    >>> {example}\n    {result}\n"
        return function

    return document


# ---------------------------------------------------------------------------
# Arithmetic. The course's gate patterns: add distributes, mul swaps.
# ---------------------------------------------------------------------------
ADD = _define("add", "+", "1, 1", 2, bounded=True)((
    lambda m, xs, arg: xs[0] + xs[1],
    lambda m, xs, out, arg: (1.0, 1.0),
))
SUB = _define("sub", "-", "1, -1", 2, bounded=True)((
    lambda m, xs, arg: xs[0] - xs[1],
    lambda m, xs, out, arg: (1.0, -1.0),
))
MUL = _define("mul", "*", "y, x", 2)((
    lambda m, xs, arg: xs[0] * xs[1],
    lambda m, xs, out, arg: (xs[1], xs[0]),
))
DIV = _define("div", "/", "1/y, -x/y^2", 2)((
    lambda m, xs, arg: xs[0] / xs[1],
    lambda m, xs, out, arg: (1.0 / xs[1], -out / xs[1]),
))
NEG = _define("neg", "*-1", "-1", bounded=True)((
    lambda m, xs, arg: -xs[0],
    lambda m, xs, out, arg: (-1.0,),
))
POW = _define("pow", "**", "y x^(y-1) (0 at x = y = 0), x^y ln x (0 at x = 0)", 2)((
    lambda m, xs, arg: m.pow(xs[0], xs[1]),
    lambda m, xs, out, arg: (_power_rule(m, xs[0], xs[1]), _exponent_rule(m, xs[0], out)),
))
POWC = _define("powc", "**", "k x^(k-1) (0 at x = k = 0)")((  # x ** k, a constant exponent k = arg
    lambda m, xs, arg: m.pow(xs[0], arg),
    lambda m, xs, out, arg: (_power_rule(m, xs[0], arg),),
))
ABS = _define("abs", "abs", "sign(x)")((
    lambda m, xs, arg: m.abs(xs[0]),
    lambda m, xs, out, arg: (m.sign(xs[0]),),
))
# At a tie the gradient is split half and half, as PyTorch does: max(x, x) = x then
# gives x the gradient 1, and neither operand is favoured by its position.
MAX = _define("max", "max", "1 to the larger input, 0 to the other, 1/2 each on a tie", 2)((
    lambda m, xs, arg: m.where(xs[0] >= xs[1], xs[0], xs[1]),
    lambda m, xs, out, arg: (_larger_share(m, xs[0], xs[1]), _larger_share(m, xs[1], xs[0])),
))
MIN = _define("min", "min", "1 to the smaller input, 0 to the other, 1/2 each on a tie", 2)((
    lambda m, xs, arg: m.where(xs[0] <= xs[1], xs[0], xs[1]),
    lambda m, xs, out, arg: (_larger_share(m, xs[1], xs[0]), _larger_share(m, xs[0], xs[1])),
))


def _larger_share(m: Any, x: Any, y: Any) -> Any:
    """x's share of the gradient of max(x, y): 1 if x is larger, 0 if smaller, 1/2 on a tie."""
    return m.where(x > y, 1.0, m.where(x < y, 0.0, 0.5))


def _power_rule(m: Any, x: Any, k: Any) -> Any:
    """d/dx x^k = k x^(k-1), and its limit 0 at x = k = 0 (x^0 = 1 is flat, even at 0).

    where() computes both of its sides, so at x = k = 0 the base is swapped for 1 and
    0^-1 is never computed: k 1^-1 = 0 there. Elsewhere the formula is untouched, so
    grad(create_graph=True) differentiates it in x and in k. (abs, not x*x + k*k,
    which underflows to 0 for tiny nonzero operands.)
    """
    flat = m.is_zero(m.abs(x) + m.abs(k))
    return k * m.pow(m.where(flat, 1.0, x), k - 1.0)


def _exponent_rule(m: Any, x: Any, out: Any) -> Any:
    """d/dy x^y = x^y ln x for x > 0; 0 at x = 0 (0^y = 0 for every y > 0); NaN for x < 0.

    A negative base has no real derivative in the exponent: the NaN is only read if the
    exponent needs a gradient, and then backward() names it (grad(x ** n, [x]) at
    x = -3 never does). ln is taken of 1 where x <= 0, so it never raises.
    """
    positive = x > 0.0
    return m.where(positive, out * m.log(m.where(positive, x, 1.0)),
                   m.where(m.is_zero(x), 0.0, math.nan))


# ---------------------------------------------------------------------------
# n-ary ops: one node however many operands, so a neuron's w.x + b is one node.
# ---------------------------------------------------------------------------
_split_dot, _pack_dot = DotOperands.split, DotOperands.pack  # once per neuron per sample: no lookups


# dot: operands are w_1..w_n, x_1..x_n and, when arg is True, a bias b. Its two rules are
# named functions registered as they are, not called from lambdas: dot runs once per
# neuron per sample, and the extra frame cost 0.07 of its 1.5 us (measured).
def _dot_forward(m: Any, xs: Sequence[Any], has_bias: bool) -> Any:
    weights, inputs, bias = _split_dot(xs, has_bias)
    total = m.total(map(operator.mul, weights, inputs))  # no list of products: 25% off (measured)
    return total if bias is None else total + bias  # added last, as sum(products + [bias]) did


def _dot_local_grads(m: Any, xs: Sequence[Any], out: Any, has_bias: bool) -> tuple[Any, ...]:
    weights, inputs, _ = _split_dot(xs, has_bias)
    return _pack_dot(inputs, weights, 1.0 if has_bias else None)


SUM = _define("sum", "sum", "1 for every operand", None)((
    lambda m, xs, arg: m.total(xs),
    lambda m, xs, out, arg: (1.0,) * len(xs),
))
DOT = _define("dot", "dot", "d/dw_i = x_i, d/dx_i = w_i, d/db = 1", None, bilinear=DotOperands.split)((
    _dot_forward, _dot_local_grads,
))
LOGSUMEXP = _define("logsumexp", "logsumexp", "softmax: e^(x_i - max) / sum_j e^(x_j - max)", None)((
    lambda m, xs, arg: _logsumexp_forward(m, xs),
    lambda m, xs, out, arg: _softmax(m, xs),
))


def _logsumexp_forward(m: Any, xs: Sequence[Any]) -> Any:
    shift = m.largest(xs)  # e^(x - max) <= 1: never overflows
    return shift + m.log(m.total([m.exp(x - shift) for x in xs]))


def _softmax(m: Any, xs: Sequence[Any]) -> tuple[Any, ...]:
    # Not e^(x_i - out): for huge x_i, out rounds to max(x) (1e308 + log 2 == 1e308)
    # and those weights stop adding up to 1. Normalising explicitly keeps them exact.
    shift = m.largest(xs)
    weights = [m.exp(x - shift) for x in xs]
    total = m.total(weights)
    return tuple(w / total for w in weights)


# ---------------------------------------------------------------------------
# Elementwise functions and the course's activations (docs/course.md, section 5).
# ---------------------------------------------------------------------------
EXP = _define("exp", "exp", "e^x")((
    lambda m, xs, arg: m.exp(xs[0]),
    lambda m, xs, out, arg: (out,),
))
LOG = _define("log", "log", "1/x")((
    lambda m, xs, arg: m.log(xs[0]),
    lambda m, xs, out, arg: (1.0 / xs[0],),
))
SQRT = _define("sqrt", "sqrt", "1 / (2 sqrt(x))")((
    lambda m, xs, arg: m.sqrt(xs[0]),
    lambda m, xs, out, arg: (0.5 / out,),
))
SIN = _define("sin", "sin", "cos(x)")((
    lambda m, xs, arg: m.sin(xs[0]),
    lambda m, xs, out, arg: (m.cos(xs[0]),),
))
COS = _define("cos", "cos", "-sin(x)")((
    lambda m, xs, arg: m.cos(xs[0]),
    lambda m, xs, out, arg: (-m.sin(xs[0]),),
))
TANH = _define("tanh", "tanh", "1 - tanh(x)^2", bounded=True)((
    lambda m, xs, arg: m.tanh(xs[0]),
    lambda m, xs, out, arg: (1.0 - out * out,),
))
SIGMOID = _define("sigmoid", "sigmoid", "(1 - s) s", bounded=True)((
    lambda m, xs, arg: m.sigmoid(xs[0]),
    lambda m, xs, out, arg: (out * (1.0 - out),),
))
RELU = _define("relu", "relu", "1 if x > 0 else 0", bounded=True)((
    lambda m, xs, arg: m.where(xs[0] > 0.0, xs[0], 0.0),
    lambda m, xs, out, arg: (m.where(xs[0] > 0.0, 1.0, 0.0),),
))
LEAKY_RELU = _define("leaky_relu", "leaky_relu", "1 if x > 0 else slope")((
    lambda m, xs, arg: m.where(xs[0] > 0.0, xs[0], arg * xs[0]),
    lambda m, xs, out, arg: (m.where(xs[0] > 0.0, 1.0, arg),),
))
# For x <= 0, elu = alpha (e^x - 1), whose derivative alpha e^x is out + alpha.
ELU = _define("elu", "elu", "1 if x > 0 else elu(x) + alpha")((
    lambda m, xs, arg: m.where(xs[0] > 0.0, xs[0], arg * m.expm1(m.minimum(xs[0], 0.0))),
    lambda m, xs, out, arg: (m.where(xs[0] > 0.0, 1.0, out + arg),),
))
SELU = _define("selu", "selu", "scale if x > 0 else selu(x) + scale alpha")((
    lambda m, xs, arg: m.where(
        xs[0] > 0.0, SELU_SCALE * xs[0], SELU_SCALE * SELU_ALPHA * m.expm1(m.minimum(xs[0], 0.0))),
    lambda m, xs, out, arg: (m.where(xs[0] > 0.0, SELU_SCALE, out + SELU_SCALE * SELU_ALPHA),),
))
SOFTPLUS = _define("softplus", "softplus", "sigmoid(x)")((
    lambda m, xs, arg: m.softplus(xs[0]),
    lambda m, xs, out, arg: (m.sigmoid(xs[0]),),
))
LOG_SIGMOID = _define("log_sigmoid", "log_sigmoid", "sigmoid(-x)")((
    lambda m, xs, arg: -m.softplus(-xs[0]),
    lambda m, xs, out, arg: (m.sigmoid(-xs[0]),),
))
# The notes' table prints 1 - f(x)^2 for softsign; the true derivative is this one.
SOFTSIGN = _define("softsign", "softsign", "1 / (1 + |x|)^2")((
    lambda m, xs, arg: xs[0] / (1.0 + m.abs(xs[0])),
    lambda m, xs, out, arg: (1.0 / ((1.0 + m.abs(xs[0])) * (1.0 + m.abs(xs[0]))),),
))
# sinc(0) = 1 and sinc'(0) = 0; the inner where() keeps 0 out of every denominator.
# Near 0, (cos x - sinc x) / x cancels catastrophically, and so does its own derivative
# (grad(create_graph=True) differentiates this formula): there the Taylor series
# -x/3 + x^3/30 - x^5/840 is accurate to rounding, and its derivative is -1/3 at 0.
SINC_SERIES_BELOW = 0.04
SINC = _define("sinc", "sinc", "(cos(x) - sinc(x)) / x; -x/3 + x^3/30 - x^5/840 near 0")((
    lambda m, xs, arg: m.where(
        m.is_zero(xs[0]), 1.0, m.sin(xs[0]) / m.where(m.is_zero(xs[0]), 1.0, xs[0])),
    lambda m, xs, out, arg: (m.where(
        m.abs(xs[0]) < SINC_SERIES_BELOW,
        xs[0] * (xs[0] * xs[0] * (1.0 / 30.0 - xs[0] * xs[0] / 840.0) - 1.0 / 3.0),
        (m.cos(xs[0]) - out) / m.where(m.is_zero(xs[0]), 1.0, xs[0])),),
))
# The perceptron's units: flat almost everywhere, so no useful gradient (docs/course.md, sections 3 and 5).
# Their value at exactly 0 is a convention: arg (None means 0), e.g. sign(0) = 1 for Hopfield states.
STEP = _define("step", "step", "0 (flat)")((
    lambda m, xs, arg: m.where(xs[0] > 0.0, 1.0, 0.0 if arg is None else m.where(xs[0] < 0.0, 0.0, arg)),
    lambda m, xs, out, arg: (0.0,),
))
SIGN = _define("sign", "sign", "0 (flat)")((
    lambda m, xs, arg: m.sign(xs[0]) if arg is None else m.where(m.is_zero(xs[0]), arg, m.sign(xs[0])),
    lambda m, xs, out, arg: (0.0,),
))
