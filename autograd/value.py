"""The ``Value`` node: one float, the op that made it, and its parents.

Every operator and method here is one line that names an op of :mod:`autograd.ops`;
:func:`apply` runs the op's forward rule and records the node. The local gradients
live in the op table, and the backward pass in :mod:`autograd.engine`.
"""

from __future__ import annotations

import math
import numbers
import operator
from math import isfinite
from typing import Any, Union
from collections.abc import Sequence

from . import ops
from .context import STATE
from .errors import OverflowValueError, TracingError, check_result, forward_error
from .ops import FLOAT_MATH, Op

__all__ = ["Value", "Parameter", "Constant", "apply", "apply_nary", "parents_of",
           "parents_and_data", "as_value", "to_float", "TracingError", "OverflowValueError"]

Number = Union[int, float, bool]
Operand = Union["Value", int, float]


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
    elif isinstance(data, Value):
        raise TypeError("Value data must be a number, got a Value: use v.detach() "
                        "for a new leaf with the same data")
    else:
        raise TypeError("Value data must be a real number (int, float, bool or NumPy "
                        f"scalar), got {type(data).__name__}: {data!r}"[:200])
    if number != number:
        raise ValueError("Value data must not be NaN")
    return number


def _at_zero(value: Any) -> float | None:
    """step's and sign's value at 0 as their op argument: None for the default 0."""
    number = to_float(value)
    if math.isinf(number):
        raise ValueError(f"at_zero must be a finite number, got {number!r}")
    return None if number == 0.0 else number


def _is_numpy_bool(data: Any) -> bool:
    kind = type(data)
    return kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool")


class Value:
    """A scalar node of a computational graph.

    ``data`` is the node's float; ``grad`` is d(output)/d(this node) after
    ``output.backward()`` (0.0 before). Ops on Values build the graph.

    Equality and hashing are by identity, so Values can be dict keys and set
    members; compare numbers with ``a.data == b.data``. ``<``, ``<=``, ``>``, ``>=``
    compare ``data`` and return a bool.

    Example:
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> q = x + y
        >>> f = q * z
        >>> f.backward()
        >>> f.data, q.grad, x.grad, y.grad, z.grad
        (-12.0, -4.0, -4.0, -4.0, 3.0)
    """

    # The operands sit in two slots, _x and _y (an n-ary op keeps its tuple in _x),
    # rather than in a tuple per node: one GC-tracked object per node instead of
    # two halves the cyclic collector's work while a big graph is being built.
    __slots__ = ("_data", "grad", "label", "_op", "_x", "_y", "_arg", "_scope", "_version")
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
        # A node made from this one before now holds a result of the old data: its
        # _version is now older than this one's, which backward() checks on every edge
        # (StaleGraphError) rather than mixing old results with the new data.
        global _data_writes
        self._data = to_float(data)
        _data_writes += 1
        self._version = _data_writes

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

    # -- arithmetic: each line names an op of the table ----------------------
    def __add__(self, other: Operand) -> Value:
        return apply(ops.ADD, self, as_value(other))

    def __radd__(self, other: Operand) -> Value:
        return apply(ops.ADD, as_value(other), self)

    def __sub__(self, other: Operand) -> Value:
        return apply(ops.SUB, self, as_value(other))

    def __rsub__(self, other: Operand) -> Value:
        return apply(ops.SUB, as_value(other), self)

    def __mul__(self, other: Operand) -> Value:
        return apply(ops.MUL, self, as_value(other))

    def __rmul__(self, other: Operand) -> Value:
        return apply(ops.MUL, as_value(other), self)

    def __truediv__(self, other: Operand) -> Value:
        return apply(ops.DIV, self, as_value(other))

    def __rtruediv__(self, other: Operand) -> Value:
        return apply(ops.DIV, as_value(other), self)

    def __pow__(self, exponent: Operand) -> Value:
        if isinstance(exponent, Value):
            return apply(ops.POW, self, exponent)
        return apply(ops.POWC, self, arg=to_float(exponent))

    def __rpow__(self, base: Operand) -> Value:
        return apply(ops.POW, as_value(base), self)

    def __neg__(self) -> Value:
        return apply(ops.NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return apply(ops.ABS, self)

    # -- comparisons read data (and so are refused while tracing) -------------
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data_of(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data_of(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data_of(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data_of(other)

    def __float__(self) -> float:
        return self.data

    def __bool__(self) -> bool:
        return self.data != 0.0

    # -- elementwise functions -------------------------------------------------
    def exp(self) -> Value:
        """e^x. Example: ``Value(0.0).exp().data == 1.0``."""
        return apply(ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm; ``ValueError`` for x <= 0. Example: ``Value(1.0).log().data == 0.0``."""
        return apply(ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root; ``ValueError`` for x < 0. Example: ``Value(9.0).sqrt().data == 3.0``."""
        return apply(ops.SQRT, self)

    def sin(self) -> Value:
        """Sine. Example: ``Value(0.0).sin().data == 0.0``."""
        return apply(ops.SIN, self)

    def cos(self) -> Value:
        """Cosine. Example: ``Value(0.0).cos().data == 1.0``."""
        return apply(ops.COS, self)

    def sinc(self) -> Value:
        """sin(x)/x, 1 at 0 (unnormalised). Example: ``Value(0.0).sinc().data == 1.0``."""
        return apply(ops.SINC, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent. Example: ``Value(0.0).tanh().data == 0.0``."""
        return apply(ops.TANH, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1/(1 + e^-x), stable for any x. Example: ``Value(0.0).sigmoid().data == 0.5``."""
        return apply(ops.SIGMOID, self)

    def log_sigmoid(self) -> Value:
        """log(sigmoid(x)) = -softplus(-x), stable for any x. Example: ``Value(0.0).log_sigmoid()``."""
        return apply(ops.LOG_SIGMOID, self)

    def relu(self) -> Value:
        """max(0, x); gradient 0 at 0. Example: ``Value(-3.0).relu().data == 0.0``."""
        return apply(ops.RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope x. Example: ``Value(-2.0).leaky_relu(0.1).data == -0.2``."""
        return apply(ops.LEAKY_RELU, self, arg=to_float(slope))

    def elu(self, alpha: float = 1.0) -> Value:
        """x if x > 0 else alpha (e^x - 1). Example: ``Value(1.0).elu().data == 1.0``."""
        return apply(ops.ELU, self, arg=to_float(alpha))

    def selu(self) -> Value:
        """Scaled ELU (lambda 1.0507, alpha 1.67326). Example: ``Value(0.0).selu().data == 0.0``."""
        return apply(ops.SELU, self)

    def softplus(self) -> Value:
        """log(1 + e^x), stable for any x. Example: ``Value(0.0).softplus()`` is log 2."""
        return apply(ops.SOFTPLUS, self)

    def softsign(self) -> Value:
        """x / (1 + |x|). Example: ``Value(1.0).softsign().data == 0.5``."""
        return apply(ops.SOFTSIGN, self)

    def step(self, at_zero: float = 0.0) -> Value:
        """1 if x > 0, 0 if x < 0, and ``at_zero`` at 0 (0 by default); gradient 0: the perceptron's unit.

        Example: ``Value(0.3).step().data == 1.0`` and ``Value(0.0).step(at_zero=1.0).data == 1.0``.
        """
        return apply(ops.STEP, self, arg=_at_zero(at_zero))

    def sign(self, at_zero: float = 0.0) -> Value:
        """-1 if x < 0, 1 if x > 0, and ``at_zero`` at 0 (0 by default); gradient 0.

        Example: ``Value(-0.3).sign().data == -1.0`` and ``Value(0.0).sign(at_zero=1.0).data == 1.0``.
        """
        return apply(ops.SIGN, self, arg=_at_zero(at_zero))

    # -- gradients ---------------------------------------------------------------
    def backward(self, gradient: Number = 1.0) -> None:
        """Fill ``.grad`` of every node of this graph with d(self)/d(node).

        Seeds this node with ``gradient`` and applies the chain rule in reverse
        topological order. Calling it again *adds* the new gradients to ``.grad``
        (as PyTorch and micrograd do); use :meth:`zero_grad` between passes.

        Example:
            >>> x = Value(3.0)
            >>> y = x * x
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
    """The engine module, imported on first use: the core's one late import.

    The engine imports this module (it walks and builds Values), while
    ``Value.backward()`` and ``zero_grad()`` are the engine's front door, as in
    PyTorch and micrograd: importing it here, late, is what breaks the circle.
    """
    from . import engine

    return engine


class Parameter(Value):
    """A leaf Value that a model learns (a weight or a bias).

    It behaves as a ``Value``; drawings colour it as a parameter and ``nn``
    collects it in ``Module.parameters()``.

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
    if isinstance(x, Value):
        return x
    return _new_node(Constant, to_float(x), None, None, None, None)


def _data_of(x: Operand) -> float:
    return x.data if isinstance(x, Value) else to_float(x)


def apply(op: Op, x: Value, y: Value | None = None, arg: Any = None) -> Value:
    """Run a unary (``y=None``) or binary op's forward rule and record the new node.

    Inside ``no_grad()`` the result is a leaf. Where the maths has no value the
    error names the op and its operands.

    Example:
        >>> apply(ops.MUL, Value(3.0), Value(-4.0)).data
        -12.0
    """
    inputs = (x._data,) if y is None else (x._data, y._data)
    try:
        out = op.forward(FLOAT_MATH, inputs, arg)
    except (ArithmeticError, ValueError) as error:
        raise forward_error(op, inputs, arg, error) from None
    if not isfinite(out):  # NaN, or inf from finite operands: an error (autograd.errors)
        check_result(op, inputs, arg, out)
    return _new_node(Value, out, op, x, y, arg)


def apply_nary(op: Op, operands: tuple[Value, ...], arg: Any = None) -> Value:
    """Run an n-ary op (sum, dot, logsumexp) on a tuple of operands: ONE node.

    Example:
        >>> apply_nary(ops.SUM, (Value(1.0), Value(2.0), Value(3.0))).data
        6.0
    """
    inputs = list(map(_data_getter, operands))
    try:
        out = op.forward(FLOAT_MATH, inputs, arg)
    except (ArithmeticError, ValueError) as error:
        raise forward_error(op, inputs, arg, error) from None
    if not isfinite(out):
        check_result(op, inputs, arg, out)
    return _new_node(Value, out, op, operands, None, arg)


_forward_error = forward_error  # the compiler's old name for it; use autograd.errors.forward_error


def _new_node(kind: type, data: float, op: Op | None, x: Any, y: Any, arg: Any) -> Any:
    """Make a node without the constructor's checks: its data is a float already."""
    state = STATE.get()
    node: Any = object.__new__(kind)
    node._data = data
    node.grad = 0.0
    node.label = ""
    if state.grad_enabled:
        node._op, node._x, node._y, node._arg = op, x, y, arg
    else:
        node._op = node._x = node._y = node._arg = None
    node._scope = state.scope
    node._version = _data_writes
    return node


_data_writes = 0  # how many times any Value's data was assigned: the clock of _version
_data_getter = operator.attrgetter("_data")


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
        return node._x
    return (node._x,) if op.arity == 1 else (node._x, node._y)


def parents_and_data(node: Value) -> tuple[tuple[Value, ...], Sequence[float]]:
    """``parents_of(node)`` and their floats, in one call for the backward loop.

    Example:
        >>> x = Value(3.0); parents_and_data(x * 2)[1]
        (3.0, 2.0)
    """
    op = node._op
    if op is None:
        return (), ()
    x = node._x
    if op.arity == 2:
        y = node._y
        return (x, y), (x._data, y._data)
    if op.arity == 1:
        return (x,), (x._data,)
    return x, list(map(_data_getter, x))
