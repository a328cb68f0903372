"""The ``Value`` node: one float, the op that made it, and its parents.

Every operator and method here is one line that names an op of :mod:`autograd.ops`;
:func:`apply` runs the op's forward rule and records the node. The local gradients
live in the op table, and the backward pass in :mod:`autograd.engine`.
"""

from __future__ import annotations

import threading
from itertools import repeat
from math import isfinite, isnan
from typing import Any, Union
from collections.abc import Sequence

from . import ops
from .context import STATE
from .errors import OverflowValueError, TracingError, check_result, forward_error
from .ops import FLOAT_MATH, Op, documented
from .scalars import at_zero_arg, to_float

__all__ = ["Value", "Parameter", "Constant", "apply", "apply_nary", "parents_of", "data_clock", "assign_data",
           "as_value", "to_float", "TracingError", "OverflowValueError"]

Number = Union[int, float, bool]
Operand = Union["Value", int, float]

class Value:
    """A scalar node of a computational graph.

    ``data`` is the node's float; ``grad`` is d(output)/d(this node) after
    ``output.backward()`` (0.0 before). Ops on Values build the graph.

    Equality and hashing are by identity, so Values can be dict keys and set
    members; compare numbers with ``a.data == b.data``. ``<``, ``<=``, ``>``, ``>=``
    compare ``data`` and return a bool.

    Example:
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> q = x + y; f = q * z; f.backward()
        >>> f.data, q.grad, x.grad, y.grad, z.grad
        (-12.0, -4.0, -4.0, -4.0, 3.0)
    """

    # The operands sit in two slots, _x and _y (an n-ary op keeps its tuple in _x),
    # rather than in a tuple per node: one GC-tracked object per node instead of
    # two halves the cyclic collector's work while a big graph is being built.
    __slots__ = ("_data", "grad", "label", "_op", "_x", "_y", "_arg", "_scope", "_version", "_pass_grad")
    __array_ufunc__ = None  # NumPy scalars on the left defer to our reflected operators

    _data: float
    grad: Any  # a float (a Value only inside grad(create_graph=True))
    label: str
    _op: Op | None
    _x: Any
    _y: Any
    _arg: Any
    _scope: tuple[str, ...] | None
    _version: int  # the data-write clock when made or last assigned (see the data setter)
    _pass_grad: float  # the engine's: what a backward pass summed for the node (unset before one)

    def __init__(self, data: Number, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self._data = to_float(data)
        self.grad = 0.0
        self.label = label
        self._op = self._x = self._y = self._arg = None
        self._scope = STATE.get().scope
        self._version = _data_writes

    # -- what the node holds -------------------------------------------------
    @property
    def data(self) -> float:
        """The node's float. Assigning checks the type, as the constructor does."""
        if STATE.get().tracing:
            raise TracingError(
                "read Value.data while autograd.compile traced the function: the "
                "compiled tape would freeze this branch for every input. Use ops "
                "(autograd.maximum, relu, where-free forms) instead of Python control flow "
                "on data, or call the function eagerly.")
        return self._data

    @data.setter
    def data(self, data: Number) -> None:
        # Nodes made from this one hold results of the old data: their _version is now
        # older than this one's, and backward() refuses them (StaleGraphError).
        # The clock moves after the write, under a lock (`+=` alone is a load, an add and a
        # store: two threads could move it back): a reader that saw the old clock reads again.
        global _data_writes
        number = to_float(data)
        with _CLOCK:
            self._data, self._version = number, _data_writes + 1
            _data_writes += 1

    @property
    def op(self) -> Op | None:
        """The :class:`~autograd.ops.Op` that made this node; ``None`` for a leaf."""
        return self._op

    @property
    def arg(self) -> Any:
        """The op's constant argument (an exponent, a slope), or ``None``."""
        return self._arg

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands this node was computed from, in order (empty for a leaf)."""
        return parents_of(self)

    @property
    def is_leaf(self) -> bool:
        """True for a node no op made: an input, a parameter or a constant."""
        return self._op is None

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The :func:`autograd.scope` path this node was created in, or ``None``."""
        return self._scope

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"{type(self).__name__}(data={self._data!r}, grad={self.grad!r}{label})"

    # The operators and methods below each make one op of the table; their docstrings
    # are written by @documented from the table's local gradients.
    @documented(ops.ADD, "self + other.", "(Value(2.0) + 1).data", "3.0")
    def __add__(self, other: Operand) -> Value:
        return apply(ops.ADD, self, other)

    @documented(ops.ADD, "other + self.", "(1 + Value(2.0)).data", "3.0")
    def __radd__(self, other: Operand) -> Value:
        return apply(ops.ADD, as_value(other), self)

    @documented(ops.SUB, "self - other.", "(Value(2.0) - 1).data", "1.0")
    def __sub__(self, other: Operand) -> Value:
        return apply(ops.SUB, self, other)

    @documented(ops.SUB, "other - self.", "(1 - Value(2.0)).data", "-1.0")
    def __rsub__(self, other: Operand) -> Value:
        return apply(ops.SUB, as_value(other), self)

    @documented(ops.MUL, "self * other.", "(Value(2.0) * 3).data", "6.0")
    def __mul__(self, other: Operand) -> Value:
        return apply(ops.MUL, self, other)

    @documented(ops.MUL, "other * self.", "(3 * Value(2.0)).data", "6.0")
    def __rmul__(self, other: Operand) -> Value:
        return apply(ops.MUL, as_value(other), self)

    @documented(ops.DIV, "self / other.", "(Value(3.0) / 2).data", "1.5")
    def __truediv__(self, other: Operand) -> Value:
        return apply(ops.DIV, self, other)

    @documented(ops.DIV, "other / self.", "(3 / Value(2.0)).data", "1.5")
    def __rtruediv__(self, other: Operand) -> Value:
        return apply(ops.DIV, as_value(other), self)

    @documented((ops.POWC, ops.POW), "self ** exponent: powc for a number exponent, pow for a Value.",
                "(Value(3.0) ** 2).data", "9.0")
    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.POWC, self, arg=to_float(exponent))

    @documented(ops.POW, "base ** self.", "(2 ** Value(3.0)).data", "8.0")
    def __rpow__(self, base: Operand) -> Value:
        return apply(ops.POW, as_value(base), self)

    @documented(ops.NEG, "-self.", "(-Value(2.0)).data", "-2.0")
    def __neg__(self) -> Value:
        return apply(ops.NEG, self)

    def __pos__(self) -> Value:
        """+self: the Value itself, no new node."""
        return self

    @documented(ops.ABS, "abs(self).", "abs(Value(-2.0)).data", "2.0")
    def __abs__(self) -> Value:
        return apply(ops.ABS, self)

    # Comparisons read data, and so are refused while autograd.compile traces.
    def __lt__(self, other: Operand) -> bool:
        """self.data < other (a bool, no node)."""
        return self.data < _data_of(other)

    def __le__(self, other: Operand) -> bool:
        """self.data <= other (a bool, no node)."""
        return self.data <= _data_of(other)

    def __gt__(self, other: Operand) -> bool:
        """self.data > other (a bool, no node)."""
        return self.data > _data_of(other)

    def __ge__(self, other: Operand) -> bool:
        """self.data >= other (a bool, no node)."""
        return self.data >= _data_of(other)

    def __float__(self) -> float:
        """float(v): the node's data."""
        return self.data

    def item(self) -> float:
        """The node's float, as PyTorch's ``tensor.item()`` (the same as ``.data``).

        Example:
            >>> (Value(2.0) * 3).item()
            6.0
        """
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

    # -- elementwise functions -------------------------------------------------
    @documented(ops.EXP, "e^x.", "Value(0.0).exp().data", "1.0")
    def exp(self) -> Value:
        return apply(ops.EXP, self)

    @documented(ops.LOG, "Natural logarithm; ``ValueError`` for x <= 0.", "Value(1.0).log().data", "0.0")
    def log(self) -> Value:
        return apply(ops.LOG, self)

    @documented(ops.SQRT, "Square root; ``ValueError`` for x < 0.", "Value(9.0).sqrt().data", "3.0")
    def sqrt(self) -> Value:
        return apply(ops.SQRT, self)

    @documented(ops.SIN, "Sine.", "Value(0.0).sin().data", "0.0")
    def sin(self) -> Value:
        return apply(ops.SIN, self)

    @documented(ops.COS, "Cosine.", "Value(0.0).cos().data", "1.0")
    def cos(self) -> Value:
        return apply(ops.COS, self)

    @documented(ops.SINC, "sin(x)/x, 1 at 0 (unnormalised).", "Value(0.0).sinc().data", "1.0")
    def sinc(self) -> Value:
        return apply(ops.SINC, self)

    @documented(ops.TANH, "Hyperbolic tangent.", "Value(0.0).tanh().data", "0.0")
    def tanh(self) -> Value:
        return apply(ops.TANH, self)

    @documented(ops.SIGMOID, "1/(1 + e^-x), stable for any x.", "Value(0.0).sigmoid().data", "0.5")
    def sigmoid(self) -> Value:
        return apply(ops.SIGMOID, self)

    @documented(ops.LOG_SIGMOID, "log(sigmoid(x)) = -softplus(-x), stable for any x.",
                "round(Value(0.0).log_sigmoid().data, 6)", "-0.693147")
    def log_sigmoid(self) -> Value:
        return apply(ops.LOG_SIGMOID, self)

    @documented(ops.RELU, "max(0, x); gradient 0 at 0.", "Value(-3.0).relu().data", "0.0")
    def relu(self) -> Value:
        return apply(ops.RELU, self)

    @documented(ops.LEAKY_RELU, "x if x > 0 else slope x.", "Value(-2.0).leaky_relu(0.1).data", "-0.2")
    def leaky_relu(self, slope: float = 0.01) -> Value:
        return apply(ops.LEAKY_RELU, self, arg=to_float(slope))

    @documented(ops.ELU, "x if x > 0 else alpha (e^x - 1).", "Value(1.0).elu().data", "1.0")
    def elu(self, alpha: float = 1.0) -> Value:
        return apply(ops.ELU, self, arg=to_float(alpha))

    @documented(ops.SELU, "Scaled ELU (lambda 1.0507, alpha 1.67326).", "Value(0.0).selu().data", "0.0")
    def selu(self) -> Value:
        return apply(ops.SELU, self)

    @documented(ops.SOFTPLUS, "log(1 + e^x), stable for any x.",
                "round(Value(0.0).softplus().data, 6)", "0.693147")
    def softplus(self) -> Value:
        return apply(ops.SOFTPLUS, self)

    @documented(ops.SOFTSIGN, "x / (1 + |x|).", "Value(1.0).softsign().data", "0.5")
    def softsign(self) -> Value:
        return apply(ops.SOFTSIGN, self)

    @documented(ops.STEP, "1 if x > 0, 0 if x < 0, ``at_zero`` at 0.", "Value(0.0).step(1.0).data", "1.0")
    def step(self, at_zero: float = 0.0) -> Value:
        return apply(ops.STEP, self, arg=at_zero_arg(at_zero))

    @documented(ops.SIGN, "-1 if x < 0, 1 if x > 0, ``at_zero`` at 0.", "Value(-0.3).sign().data", "-1.0")
    def sign(self, at_zero: float = 0.0) -> Value:
        return apply(ops.SIGN, self, arg=at_zero_arg(at_zero))

    # -- gradients ---------------------------------------------------------------
    def backward(self, gradient: Number = 1.0) -> None:
        """Fill ``.grad`` of every node of this graph with d(self)/d(node).

        Seeds this node with ``gradient`` and applies the chain rule in reverse
        topological order. Calling it again *adds* the new gradients to ``.grad``
        (as PyTorch and micrograd do); use :meth:`zero_grad` between passes.

        Example:
            >>> x = Value(3.0); y = x * x
            >>> y.backward(); x.grad
            6.0
            >>> y.backward(); x.grad  # accumulates
            12.0
        """
        _engine().backward(self, gradient)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on every node of this graph.

        Example:
            >>> x = Value(3.0); y = x * x; y.backward(); y.zero_grad(); x.grad
            0.0
        """
        for node in _engine().topological_order(self):
            node.grad = 0.0

    def detach(self) -> Value:
        """A new leaf with the same data (and label), cut from the graph.

        Example:
            >>> x = Value(2.0); y = (x * x).detach(); y.is_leaf, y.data
            (True, 4.0)
        """
        leaf = Value(self._data, self.label)
        tracer = STATE.get().tracer
        if tracer is not None:  # autograd.compile replays the cut, not today's number
            tracer.detached(self, leaf)
        return leaf


def _engine() -> Any:
    """The engine, by a late import: it imports this module, and backward()/zero_grad() are its door."""
    from . import engine

    return engine


class Parameter(Value):
    """A leaf Value that a model learns (a weight or a bias).

    A ``Value`` that drawings colour as a parameter and ``nn`` collects in ``parameters()``.

    Example:
        >>> w = Parameter(0.5, "w"); (w * 2).data
        1.0
    """

    __slots__ = ()


class Constant(Value):
    """A leaf made from a plain number in an expression, such as the 1 in ``1 + x``.

    Example:
        >>> (Value(2.0) + 1).parents[1]
        Constant(data=1.0, grad=0.0)
    """

    __slots__ = ()


def as_value(x: Operand) -> Value:
    """``x`` itself if it is a Value, else a :class:`Constant` holding it.

    Example:
        >>> as_value(3).data
        3.0
    """
    return x if isinstance(x, Value) else _constant(x)


def _constant(number: Any) -> Constant:
    """``Constant(number)``, made without the constructor's checks when the number is a float
    (not NaN) and so would pass them: `y + 1.0` takes 11,070 instructions a link instead of
    11,640 (valgrind), as apply() makes its nodes."""
    if type(number) is not float or number != number:
        return Constant(number)  # converted, or refused with the constructor's error
    constant = object.__new__(Constant)
    constant._data, constant.grad, constant.label = number, 0.0, ""
    constant._op = constant._x = constant._y = constant._arg = None
    constant._scope, constant._version = STATE.get().scope, _data_writes
    return constant


def _data_of(x: Operand) -> float:
    return x.data if isinstance(x, Value) else to_float(x)


def apply(op: Op, x: Value | tuple[Value, ...], y: Operand | None = None, arg: Any = None,
          data: Sequence[float] | None = None) -> Value:
    """Run ``op``'s forward rule on the operands' floats and record the new node.

    ``x`` and ``y`` are a binary op's operands (``y`` may be a number: it becomes a
    :class:`Constant`); ``y=None`` for a unary op; an n-ary op's operands are the tuple
    ``x``, as the node stores it, and ``data`` their floats if the caller read them
    already. Inside ``no_grad()`` the result is a leaf. Where the maths has no value the
    error names the op and its operands.

    Example:
        >>> apply(ops.MUL, Value(3.0), -4).data
        -12.0
    """
    inputs: Sequence[float]
    # The number in `y + 1.0` comes as it is (not through as_value()), and apply() asks
    # only what each kind of node needs: `y + c` 7,500 instructions a link instead of
    # 8,150, `y + 1.0` 11,200 instead of 12,350 (valgrind).
    if not isinstance(x, Value):  # an n-ary op: x is the tuple of its operands
        inputs = [operand._data for operand in x] if data is None else data  # 1.5 us for 33, 2.8 with map()
    elif op.arity == 1:
        inputs = (x._data,)
    else:
        if not isinstance(y, Value):  # a number on the right becomes a Constant node
            y = _constant(y)
        inputs = (x._data, y._data)
    try:
        out = op.forward(FLOAT_MATH, inputs, arg)
    except (ArithmeticError, ValueError) as error:
        raise forward_error(op, inputs, arg, error) from None
    if not isfinite(out):  # NaN, or inf from finite operands: an error (autograd.errors)
        check_result(op, inputs, arg, out)
    # Made without the constructor's checks (out is a float): 0.3 us off an add's 0.9 (measured).
    state = STATE.get()
    node = object.__new__(Value)
    node._data, node.grad, node.label = out, 0.0, ""
    if state.grad_enabled:
        node._op, node._x, node._y, node._arg = op, x, y, arg
    else:
        node._op = node._x = node._y = node._arg = None
    node._scope, node._version = state.scope, _data_writes
    return node


def apply_nary(op: Op, operands: tuple[Value, ...], arg: Any = None) -> Value:
    """Run an n-ary op (sum, dot, logsumexp) on a tuple of operands: ONE node.

    Example:
        >>> apply_nary(ops.SUM, (Value(1.0), Value(2.0), Value(3.0))).data
        6.0
    """
    return apply(op, operands, None, arg)


_data_writes = 0  # how many times any Value's data was assigned: the clock of _version
_CLOCK = threading.Lock()  # held while the clock moves (the data setter, assign_data)


def assign_data(values: Sequence[Value], numbers: Sequence[Any]) -> None:
    """Assign many Values' ``.data`` as the setter would, one tick of the clock for all (older nodes stale).

    >>> w = Value(1.0); assign_data([w], [3]); w.data
    3.0
    """
    global _data_writes
    if len(values) != len(numbers):
        raise ValueError(f"assign_data got {len(values)} Values and {len(numbers)} numbers")
    if not all(map(isinstance, values, repeat(Value))):  # checked before any write: a failure changes nothing
        bad = next(i for i, value in enumerate(values) if not isinstance(value, Value))
        raise TypeError(f"assign_data: values[{bad}] is a {type(values[bad]).__name__}, not a Value")
    # Plain floats without NaN, found in C: 101,000 in 6 ms (to_float() on each, naming a bad one: 29 ms).
    if not set(map(type, numbers)) <= {float} or any(map(isnan, numbers)):
        numbers = [to_float(number) for number in numbers]
    with _CLOCK:  # as the setter: the clock moves once all are written
        for value, number in zip(values, numbers):
            value._data, value._version = number, _data_writes + 1
        _data_writes += 1


def data_clock() -> int:
    """How many times any Value's ``.data`` was assigned: a node made at this count is not stale.

    Example:
        >>> before = data_clock(); Value(1.0).data = 2.0; data_clock() - before
        1
    """
    return _data_writes


def parents_of(node: Value) -> tuple[Value, ...]:
    """The operands of ``node`` in order: empty for a leaf.

    Example:
        >>> x = Value(1.0); len(parents_of(x * 2))
        2
    """
    op = node._op
    if op is None:
        return ()
    if op.arity is None:
        operands: tuple[Value, ...] = node._x  # an n-ary node keeps its operands' tuple in _x
        return operands
    return (node._x,) if op.arity == 1 else (node._x, node._y)
