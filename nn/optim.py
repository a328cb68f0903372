"""Optimizers: they read each parameter's ``.grad`` and change its ``.data``.

An update is plain arithmetic on floats, outside the graph: no node is recorded.
The learning rate is a number or a schedule, a callable of the step number
(0 for the first update).

Each optimizer writes its update rule once, elementwise (:meth:`Optimizer.rule`):
:meth:`Optimizer.step` applies it to each parameter's float, and the compiled
training of :func:`nn.fit` to whole NumPy arrays of parameters
(:meth:`Optimizer.step_arrays`), so both make the same updates.

Weight decay ``lambda`` adds ``lambda * w`` to the gradient of *every* parameter
the optimizer was given, as PyTorch's optimizers do: ``SGD(model, ...)`` and
``SGD(model.parameters(), ...)`` decay the same set. The course's L2
regularisation leaves the biases out: that is ``fit(..., l2=...)``, a penalty on
the weights only.

Example:
    >>> from autograd import Parameter
    >>> w = Parameter(1.0); w.grad = 0.5
    >>> SGD([w], lr=0.1).step(); w.data
    0.95
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Union
from collections.abc import Callable, Iterable, Sequence

from autograd import Value
from autograd.ops import FLOAT_MATH

from .module import Module

__all__ = ["Optimizer", "SGD", "Adam", "LinearDecay", "ExponentialDecay", "LearningRate"]

LearningRate = Union[float, Callable[[int], float]]


class Optimizer:
    """Base class: the parameters, the learning rate (or schedule), weight decay and a step counter.

    A subclass names its per-parameter state in ``state_names`` (one list of
    floats per name, one float per parameter) and writes its update in
    :meth:`rule`.

    Attributes:
        parameters: the list of Values it updates (leaf Values: ``autograd.Parameter``
            or plain ``autograd.Value``).
        steps: how many updates it has made.

    Example:
        >>> from nn import Neuron
        >>> opt = SGD(Neuron(2, seed=0), lr=lambda step: 0.5 / (1 + step))
        >>> len(opt.parameters), opt.current_lr()
        (3, 0.5)
    """

    state_names: tuple[str, ...] = ()

    def __init__(self, params: Union[Module, Iterable[Value]], lr: LearningRate, *,
                 weight_decay: float = 0.0) -> None:
        self.parameters = _parameter_list(params)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        if not callable(lr):
            _positive("lr", lr)
        self.lr = lr
        self.steps = 0
        for name in self.state_names:
            setattr(self, name, [0.0] * len(self.parameters))

    def current_lr(self) -> float:
        """The learning rate of the next update (a schedule is called with ``steps``).

        Example:
            >>> from autograd import Parameter
            >>> SGD([Parameter(1.0)], lr=LinearDecay(1.0, 0.1, 100)).current_lr()
            1.0
        """
        lr = self.lr(self.steps) if callable(self.lr) else self.lr
        return _positive(f"the learning rate at step {self.steps}", lr)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0.

        Example:
            >>> from autograd import Parameter
            >>> w = Parameter(1.0); w.grad = 3.0; SGD([w]).zero_grad(); w.grad
            0.0
        """
        for p in self.parameters:
            p.grad = 0.0

    def rule(self, math: Any, lr: float, value: Any, grad: Any, *state: Any) -> tuple[Any, ...]:
        """The update of one parameter (floats) or of all at once (arrays): ``(new value, *new state)``.

        ``grad`` already includes weight decay; ``state`` holds one entry per
        name in ``state_names``; ``math`` is the op table's namespace for the
        numbers given (``FLOAT_MATH`` or ``NUMPY_MATH``).

        Written with augmented assignments (``value -= lr * grad``): floats are
        replaced, arrays updated in place. So the one rule serves both, and an
        update of 100,000 parameters makes no parameter-sized result arrays (on the
        course's 1000-100-10 net, ``value - lr * grad`` and its copy back took
        0.6-1.2 ms a step, mostly the page faults of fresh 800 KB arrays; in place
        0.15 ms). ``grad`` is never changed.

        Example:
            >>> from autograd import Parameter
            >>> from autograd.ops import FLOAT_MATH
            >>> SGD([Parameter(1.0)], momentum=0.5).rule(FLOAT_MATH, 0.1, 1.0, 2.0, -0.2)
            (0.7, -0.30000000000000004)
        """
        raise NotImplementedError

    def change_bound(self, lr: float, grad_bound: float, value_bound: float,
                     state_bounds: Sequence[float]) -> tuple[float, list[float]] | None:
        """Bounds on ``|value|`` and on each state's ``|entry|`` after one update by :meth:`rule`, or None.

        Given ``|grad| <= grad_bound``, ``|value| <= value_bound`` and each state's
        entries within its bound before the update, the value and the states after it
        (with weight decay) stay within the bounds returned, and computing them overflows
        only if computing the bounds does. The compiled training of :func:`nn.fit` uses
        them to skip the copy that undoes an update that overflows: while they stay far
        below the largest float, no update can. None (this default): the rule has no
        such bound (Adam divides), the copy is always taken.

        Example:
            >>> from autograd import Parameter
            >>> SGD([Parameter(1.0)], momentum=0.5).change_bound(0.1, 2.0, 1.0, [0.5]) is None
            False
        """
        return None

    def step(self) -> None:
        """Update every parameter from its ``.grad``, all at once (none if any result is not finite).

        Example:
            >>> from autograd import Parameter
            >>> w = Parameter(1.0); w.grad = 2.0; opt = SGD([w], lr=0.25); opt.step(); w.data, opt.steps
            (0.5, 1)
        """
        lr = self.current_lr()
        decay = self.weight_decay
        grads = self._gradients()
        states = [getattr(self, name) for name in self.state_names]
        rows = [self.rule(FLOAT_MATH, lr, p._data, g + decay * p._data if decay else g, *state)
                for p, g, *state in zip(self.parameters, grads, *states)]
        new_values, *new_states = zip(*rows)
        self._apply(new_values)
        for name, column in zip(self.state_names, new_states):
            setattr(self, name, list(column))

    def step_arrays(self, math: Any, values: Any, grads: Any, state: Sequence[Any]) -> tuple[Any, list[Any]]:
        """:meth:`step` on arrays: new values and state from ``values``, ``grads`` and ``state``.

        What the compiled training of :func:`nn.fit` calls with the parameters kept
        in one NumPy array (``math`` is ``autograd.compiler.NUMPY_MATH``). The
        ``values`` and ``state`` arrays given are updated in place (see
        :meth:`rule`) and returned; the parameter Values are not touched, and
        ``steps`` is not counted: the caller checks the results (see
        :meth:`diverged`), puts its copies back if they are not finite, and then
        adds 1 to ``steps``.

        Example:
            >>> from autograd import Parameter
            >>> from autograd.ops import FLOAT_MATH
            >>> SGD([Parameter(1.0)], lr=0.5, momentum=0.5).step_arrays(FLOAT_MATH, 1.0, 2.0, [0.0])
            (0.0, [-1.0])
        """
        lr = self.current_lr()
        if self.weight_decay:
            grads = grads + self.weight_decay * values
        new_values, *new_state = self.rule(math, lr, values, grads, *state)
        return new_values, new_state

    def diverged(self, index: int, value: float) -> FloatingPointError:
        """The error for an update that would make parameter ``index`` non-finite.

        Example:
            >>> from autograd import Parameter
            >>> print(SGD([Parameter(1.0, "w")]).diverged(0, float("inf")))  # doctest: +ELLIPSIS
            update 0 would make parameter 0 (w) inf: training diverged (...); no parameter was changed
        """
        label = self.parameters[index].label or "unlabelled"
        return FloatingPointError(f"update {self.steps} would make parameter {index} ({label}) {value!r}: "
                                  "training diverged (a smaller learning rate may help); "
                                  "no parameter was changed")

    def _gradients(self) -> list[float]:
        """Each parameter's gradient as a float."""
        grads = []
        for i, p in enumerate(self.parameters):
            g = p.grad
            if not isinstance(g, float):
                if isinstance(g, bool) or not isinstance(g, numbers.Real):
                    raise TypeError(f"parameter {i} ({p.label or 'unlabelled'}) has a "
                                    f"{type(g).__name__} gradient; optimizers need floats")
                g = float(g)
            grads.append(g)
        return grads

    def _apply(self, new_values: Sequence[float]) -> None:
        """Set all parameters at once, or none if any value is not finite."""
        for i, value in enumerate(new_values):
            if not math.isfinite(value):
                raise self.diverged(i, value)
        for p, value in zip(self.parameters, new_values):
            p.data = value
        self.steps += 1


class SGD(Optimizer):
    """Gradient descent with the course's momentum ("inercia"):

    delta(t+1) = -lr * dE/dw + momentum * delta(t);  w <- w + delta(t+1).

    With ``momentum=0`` this is w <- w - lr dE/dw. ``weight_decay`` lambda adds
    lambda * w to each parameter's gradient (all the parameters given, as in
    PyTorch). Everything after ``lr`` is keyword-only.

    Example (two steps by hand: delta = -0.1 * 2 = -0.2, then -0.1 * 2 + 0.9 * -0.2 = -0.38):
        >>> from autograd import Parameter
        >>> w = Parameter(1.0); opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = 2.0; opt.step(); round(w.data, 10)
        0.8
        >>> w.grad = 2.0; opt.step(); round(w.data, 10)
        0.42
    """

    def __init__(self, params: Union[Module, Iterable[Value]], lr: LearningRate = 0.1, *,
                 momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        momentum = _non_negative("momentum", momentum)
        if momentum >= 1.0:
            raise ValueError(f"momentum must be below 1, got {momentum!r}")
        self.momentum = momentum
        # the last deltas are state only with momentum: plain SGD keeps none (for a
        # 100,000-parameter fit on the tape, one array fewer to update at every step)
        self.state_names = ("deltas",) if momentum else ()
        super().__init__(params, lr, weight_decay=weight_decay)

    def rule(self, math: Any, lr: float, value: Any, grad: Any, *state: Any) -> tuple[Any, ...]:
        # in place for arrays (see Optimizer.rule); bit for bit the course's
        # delta = -lr * grad + momentum * delta; w = w + delta
        if not self.momentum:
            value -= lr * grad
            return (value,)
        (delta,) = state
        delta *= self.momentum
        delta -= lr * grad
        value += delta
        return value, delta

    def change_bound(self, lr: float, grad_bound: float, value_bound: float,
                     state_bounds: Sequence[float]) -> tuple[float, list[float]] | None:
        """:meth:`Optimizer.change_bound` of SGD's rule, by the triangle inequality:
        ``|g + lambda w| <= G + lambda V``, ``|delta| <= momentum D + lr |g + lambda w|``,
        ``|w + delta| <= V + |delta|``. None for a subclass with a rule of its own.

        Example:
            >>> from autograd import Parameter
            >>> SGD([Parameter(1.0)], momentum=0.5).change_bound(0.1, 2.0, 1.0, [0.5])
            (1.45, [0.45])
        """
        if type(self).rule is not SGD.rule or type(self).step_arrays is not Optimizer.step_arrays:
            return None  # the bound is of SGD's rule, not of one written over it
        grad = grad_bound + self.weight_decay * value_bound
        if not self.momentum:
            return value_bound + lr * grad, []
        delta = self.momentum * state_bounds[0] + lr * grad
        return value_bound + delta, [delta]

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr!r}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
                f"parameters={len(self.parameters)})")


class Adam(Optimizer):
    """Adam: per-parameter steps from running averages of the gradient and its square.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    w <- w - lr * m_hat / (sqrt(v_hat) + eps), with the bias-corrected m_hat, v_hat.
    Everything after ``lr`` is keyword-only.

    Example (the first step moves each parameter by about lr, whatever the gradient's size):
        >>> from autograd import Parameter
        >>> w = Parameter(1.0); w.grad = 123.0
        >>> Adam([w], lr=0.01).step(); round(w.data, 6)
        0.99
    """

    state_names = ("m", "v")

    def __init__(self, params: Union[Module, Iterable[Value]], lr: LearningRate = 0.001, *,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay=weight_decay)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _positive("eps", eps)

    def rule(self, math: Any, lr: float, value: Any, grad: Any, *state: Any) -> tuple[Any, ...]:
        m, v = state
        beta1, beta2 = self.betas
        t = self.steps + 1
        m *= beta1  # in place for arrays (see Optimizer.rule)
        m += (1.0 - beta1) * grad
        v *= beta2
        v += (1.0 - beta2) * grad * grad
        value -= lr * (m / (1.0 - beta1 ** t)) / (math.sqrt(v / (1.0 - beta2 ** t)) + self.eps)
        return value, m, v

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr!r}, betas={self.betas}, parameters={len(self.parameters)})"


class LinearDecay:
    """A schedule from ``start`` to ``end`` in ``steps`` updates, then ``end``.

    micrograd's demo uses 1.0 - 0.9 k / 100, which is ``LinearDecay(1.0, 0.1, 100)``.

    Example:
        >>> schedule = LinearDecay(1.0, 0.1, 100)
        >>> schedule(0), round(schedule(50), 10), round(schedule(500), 10)
        (1.0, 0.55, 0.1)
    """

    def __init__(self, start: float, end: float, steps: int) -> None:
        self.start, self.end = _positive("start", start), _positive("end", end)
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        self.steps: int = int(steps)

    def __call__(self, step: int) -> float:
        return self.start - (self.start - self.end) * min(step, self.steps) / self.steps

    def __repr__(self) -> str:
        return f"LinearDecay({self.start:g}, {self.end:g}, {self.steps})"


class ExponentialDecay:
    """lr(step) = start * rate ** step.

    Example:
        >>> ExponentialDecay(1.0, 0.5)(3)
        0.125
    """

    def __init__(self, start: float, rate: float) -> None:
        self.start = _positive("start", start)
        self.rate = _positive("rate", rate)

    def __call__(self, step: int) -> float:
        return self.start * self.rate ** step

    def __repr__(self) -> str:
        return f"ExponentialDecay({self.start:g}, {self.rate:g})"


def _parameter_list(params: Union[Module, Iterable[Value]]) -> list[Value]:
    """A model's parameters, or the leaf Values given, checked."""
    if isinstance(params, Value):
        raise TypeError("pass a list of parameters or a model, not one Value")
    if not isinstance(params, (Module, Iterable)) or isinstance(params, (str, bytes)):
        raise TypeError(f"params must be a model or an iterable of Values, got {type(params).__name__}")
    if isinstance(params, Module):  # a model's parameters are distinct leaf Parameters by construction
        from_model: list[Value] = list(params.parameters())
        if not from_model:
            raise ValueError("the optimizer got no parameters to update")
        return from_model
    parameters: list[Value] = list(params)
    if not parameters:
        raise ValueError("the optimizer got no parameters to update")
    seen: set[int] = set()
    for i, p in enumerate(parameters):
        if not isinstance(p, Value):
            raise TypeError(f"optimizers update autograd Values; item {i} is {type(p).__name__}")
        if p.op is not None:
            raise ValueError(f"item {i} was computed by {p.op.name}: an optimizer updates leaf "
                             "Values (parameters), not results")
        if id(p) in seen:
            raise ValueError(f"item {i} appears twice: each parameter is updated once a step")
        seen.add(id(p))
    return parameters


def _real(x: object) -> float | None:
    """``x`` as a float if it is a real number (not a bool), else None."""
    return None if isinstance(x, bool) or not isinstance(x, numbers.Real) else float(x)


def _positive(what: str, x: Any) -> float:
    number = _real(x)
    if number is None or not (math.isfinite(number) and number > 0):
        raise ValueError(f"{what} must be a positive finite number, got {x!r}")
    return number


def _non_negative(what: str, x: Any) -> float:
    number = _real(x)
    if number is None or not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{what} must be a finite number >= 0, got {x!r}")
    return number
