"""Optimizers: they read each parameter's ``.grad`` and change its ``.data``.

An update is plain arithmetic on floats, outside the graph: no node is recorded.
The learning rate is a number or a schedule, a callable of the step number
(0 for the first update).

Weight decay is the course's L2 regularisation applied in the update: it adds
``weight_decay * w`` to a weight's gradient. Given a model, an optimizer decays its
weights only, never its biases (the course's L2 rule); given a plain list of
parameters, it decays all of them.

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
from collections.abc import Callable, Iterable

from autograd import Parameter

from .module import Module

__all__ = ["Optimizer", "SGD", "Adam", "LinearDecay", "ExponentialDecay", "LearningRate"]

LearningRate = Union[float, Callable[[int], float]]


class Optimizer:
    """Base class: the parameters, the learning rate (or schedule) and a step counter.

    Attributes:
        parameters: the list of parameters it updates.
        steps: how many updates it has made.

    Example:
        >>> from nn import Neuron
        >>> opt = SGD(Neuron(2, seed=0), lr=lambda step: 0.5 / (1 + step))
        >>> len(opt.parameters), opt.current_lr()
        (3, 0.5)
    """

    def __init__(self, params: Union[Module, Iterable[Parameter]], lr: LearningRate,
                 weight_decay: float = 0.0) -> None:
        if isinstance(params, Module):
            self.parameters = params.parameters()
            decayed = {id(p) for p in params.weights()}
        else:
            if isinstance(params, Parameter):
                raise TypeError("pass a list of parameters or a model, not one Parameter")
            self.parameters = list(params)
            decayed = {id(p) for p in self.parameters}
        for i, p in enumerate(self.parameters):
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizers update autograd.Parameter objects; item {i} is "
                                f"{type(p).__name__}")
        if not self.parameters:
            raise ValueError("the optimizer got no parameters to update")
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self._decayed = [id(p) in decayed and self.weight_decay > 0.0 for p in self.parameters]
        if not callable(lr):
            _positive("lr", lr)
        self.lr = lr
        self.steps = 0

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

    def _gradients(self) -> list[float]:
        """Each parameter's gradient, plus weight decay where it applies."""
        grads = []
        for i, (p, decayed) in enumerate(zip(self.parameters, self._decayed)):
            g = p.grad
            if not isinstance(g, float):
                if isinstance(g, bool) or not isinstance(g, numbers.Real):
                    raise TypeError(f"parameter {i} ({p.label or 'unlabelled'}) has a "
                                    f"{type(g).__name__} gradient; optimizers need floats")
                g = float(g)
            grads.append(g + self.weight_decay * p._data if decayed else g)
        return grads

    def _apply(self, new_values: list[float]) -> None:
        """Set all parameters at once, or none if any value is not finite."""
        for i, value in enumerate(new_values):
            if not math.isfinite(value):
                p = self.parameters[i]
                raise FloatingPointError(
                    f"update {self.steps} would make parameter {i} ({p.label or 'unlabelled'}) "
                    f"{value!r}: training diverged (a smaller learning rate may help); "
                    "no parameter was changed")
        for p, value in zip(self.parameters, new_values):
            p.data = value
        self.steps += 1

    def step(self) -> None:
        """Update every parameter from its ``.grad`` (see :class:`SGD` and :class:`Adam`)."""
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent with the course's momentum ("inercia"):

    delta(t+1) = -lr * dE/dw + momentum * delta(t);  w <- w + delta(t+1).

    With ``momentum=0`` this is w <- w - lr dE/dw. ``weight_decay`` lambda adds
    lambda * w to each weight's gradient (L2, biases excluded when given a model).

    Example (two steps by hand: delta = -0.1 * 2 = -0.2, then -0.1 * 2 + 0.9 * -0.2 = -0.38):
        >>> from autograd import Parameter
        >>> w = Parameter(1.0); opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = 2.0; opt.step(); round(w.data, 10)
        0.8
        >>> w.grad = 2.0; opt.step(); round(w.data, 10)
        0.42
    """

    def __init__(self, params: Union[Module, Iterable[Parameter]], lr: LearningRate = 0.1,
                 momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _non_negative("momentum", momentum)
        if self.momentum >= 1.0:
            raise ValueError(f"momentum must be below 1, got {momentum!r}")
        self.deltas = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.current_lr()
        grads = self._gradients()
        if self.momentum:
            deltas = [-lr * g + self.momentum * d for g, d in zip(grads, self.deltas)]
        else:
            deltas = [-lr * g for g in grads]
        self._apply([p._data + d for p, d in zip(self.parameters, deltas)])
        self.deltas = deltas

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr!r}, momentum={self.momentum:g}, weight_decay={self.weight_decay:g}, "
                f"parameters={len(self.parameters)})")


class Adam(Optimizer):
    """Adam: per-parameter steps from running averages of the gradient and its square.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    w <- w - lr * m_hat / (sqrt(v_hat) + eps), with the bias-corrected m_hat, v_hat.

    Example (the first step moves each parameter by about lr, whatever the gradient's size):
        >>> from autograd import Parameter
        >>> w = Parameter(1.0); w.grad = 123.0
        >>> Adam([w], lr=0.01).step(); round(w.data, 6)
        0.99
    """

    def __init__(self, params: Union[Module, Iterable[Parameter]], lr: LearningRate = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, weight_decay)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _positive("eps", eps)
        self.m = [0.0] * len(self.parameters)
        self.v = [0.0] * len(self.parameters)

    def step(self) -> None:
        lr = self.current_lr()
        grads = self._gradients()
        beta1, beta2 = self.betas
        t = self.steps + 1
        correction1, correction2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        m = [beta1 * m + (1.0 - beta1) * g for m, g in zip(self.m, grads)]
        v = [beta2 * v + (1.0 - beta2) * g * g for v, g in zip(self.v, grads)]
        self._apply([p._data - lr * (mi / correction1) / (math.sqrt(vi / correction2) + self.eps)
                     for p, mi, vi in zip(self.parameters, m, v)])
        self.m, self.v = m, v

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
        self.steps = int(steps)

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


def _positive(what: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (math.isfinite(x) and x > 0):
        raise ValueError(f"{what} must be a positive finite number, got {x!r}")
    return float(x)


def _non_negative(what: str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{what} must be a finite number >= 0, got {x!r}")
    return float(x)
