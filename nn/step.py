"""The per-batch step of training: one batch in, its loss out, gradients in ``.grad``.

:class:`BatchStep` is what every implementation of the step shares: the model, the
loss, the L2 strength, the reduction ("mean" or "sum" of a batch's per-sample
losses) and the arithmetic that turns per-sample losses into the batch's loss.
:class:`LossAndGrad` runs the step eagerly on the scalar engine;
:class:`nn.compiled.CompiledLossAndGrad` runs the same step on a compiled tape.
Both add up a batch with the same function (:meth:`BatchStep.batch_loss`, which
calls the op table's ``FLOAT_MATH.total``, as ``autograd.sum`` does), so the same
per-sample losses give bit-identical batch losses on either engine.

Example:
    >>> from nn import Neuron
    >>> step = LossAndGrad(Neuron(1, activation="identity", init=0.0), "squared_error")
    >>> step.batch_loss([1.0, 2.0, 3.0], penalty=0.0)      # the mean of three losses
    2.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import autograd
from autograd import Value
from autograd.gc_pause import CyclicGcPaused
from autograd.ops import FLOAT_MATH

from .losses import Loss, LossSpec, l2_penalty, resolve_loss
from .module import Module
from .recurrent import Recurrent, sequence_loss

if TYPE_CHECKING:
    from .optim import Optimizer

__all__ = ["BatchResult", "BatchStep", "LossAndGrad", "output_list", "sample_loss", "output_floats",
           "sample_correct"]

REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class BatchResult:
    """One batch's loss and the model's outputs (floats, one list per sample).

    Example:
        >>> BatchResult(0.5, [[1.0, 0.0]]).loss
        0.5
    """

    loss: float
    outputs: list[list[float]]


def output_list(outputs: Any) -> list[Value]:
    """A model's outputs as a list of Values (a one-output model may return a bare Value).

    Example:
        >>> len(output_list(Value(1.0))), len(output_list([Value(1.0), Value(2.0)]))
        (1, 2)
    """
    return [outputs] if isinstance(outputs, Value) else list(outputs)


def sample_loss(model: Module, loss: Loss, x: Any, target: Any) -> tuple[Value, list[Any]]:
    """One sample's loss and outputs; a recurrent net's sample is a sequence (loss: mean over steps).

    Example:
        >>> from nn import Neuron, resolve_loss
        >>> value, outputs = sample_loss(Neuron(1, activation="identity", init=1.0),
        ...                              resolve_loss("squared_error"), [2.0], [0.0])
        >>> value.data, [o.data for o in outputs]
        (4.5, [3.0])
    """
    if isinstance(model, Recurrent):
        outputs = model(x)
        return sequence_loss(outputs, target, loss), outputs
    outputs = output_list(model(x))
    return loss(outputs, target), outputs


def output_floats(outputs: Any) -> list[Any]:
    """Values as floats, keeping the nesting (a list of steps for a recurrent net).

    Example:
        >>> output_floats([Value(1.0), Value(2.0)]), output_floats([[Value(1.0)], [Value(2.0)]])
        ([1.0, 2.0], [[1.0], [2.0]])
    """
    if isinstance(outputs, Value):
        return [outputs.data]
    return [o.data if isinstance(o, Value) else output_floats(o) for o in outputs]


def sample_correct(loss: Loss, outputs: list[Any], target: Any) -> float:
    """1.0 for a correct prediction, 0.0 otherwise; for a sequence, the fraction of its steps.

    Example:
        >>> from nn import resolve_loss
        >>> bce = resolve_loss("bce")
        >>> sample_correct(bce, [0.9], [1.0]), sample_correct(bce, [0.2], [1.0])
        (1.0, 0.0)
    """
    if outputs and isinstance(outputs[0], list):
        steps = [(out, y) for out, y in zip(outputs, target) if y is not None]
        return sum(bool(loss.is_correct(out, y)) for out, y in steps) / len(steps)
    return float(bool(loss.is_correct(outputs, target)))


class BatchStep:
    """What every per-batch step shares: model, loss, ``l2``, reduction, and the batch loss.

    A subclass implements ``__call__(xs, ys) -> BatchResult``: run the model on a
    batch of input rows and checked targets, return the batch's loss and outputs,
    and leave each parameter's gradient of that loss in its ``.grad``.

    :func:`nn.fit` drives a step through :meth:`training` (a fit's data and
    optimizer) and :meth:`train_epoch` (one pass: a step and an update per batch);
    a subclass may keep the parameters elsewhere during a fit (the compiled step
    keeps them in a NumPy array) as long as :meth:`sync` puts them back.

    The batch loss is the mean (or sum) of the per-sample losses, plus ``l2`` times
    the sum of the squared weights (biases excluded, as the course says).

    ``parameters`` is ``model.parameters()`` when the caller holds that list already,
    taken as it is: :func:`nn.fit` passes the one of the SGD it built on the model
    (a walk of the model and a set of its parameters fewer: 10 ms for the course's
    101,000).

    Example:
        >>> from nn import Neuron
        >>> step = LossAndGrad(Neuron(1, seed=0), "mse", l2=0.5, reduction="sum")
        >>> step.reduction, step.l2, len(step.parameters), len(step.weights)
        ('sum', 0.5, 2, 1)
    """

    def __init__(self, model: Module, loss: LossSpec, l2: float = 0.0, reduction: str = "mean", *,
                 parameters: list[Value] | None = None) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        given: Any = l2  # users pass anything: refuse what is not a finite number >= 0
        number = isinstance(given, numbers.Real) and not isinstance(given, bool)
        if not number or not (math.isfinite(float(given)) and float(given) >= 0.0):
            raise ValueError(f"l2 must be a finite number >= 0 (the strength of the L2 penalty), got {l2!r}")
        self.model = model
        self.loss = resolve_loss(loss)
        self.l2 = float(l2)
        self.reduction = reduction
        self.parameters = model.parameters() if parameters is None else parameters
        self.weights = model.weights() if self.l2 else []  # only the L2 penalty reads them

    engine = "eager"

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        raise NotImplementedError

    @contextmanager
    def training(self, rows: list[Any], targets: list[Any], optimizer: Optimizer) -> Iterator[None]:
        """A fit's checked data and optimizer, for :meth:`train_epoch`; the Values are synced at the end.

        An optimizer that updates a Value the model does not use is refused before
        any step: built on another model, it would "train" without changing anything.
        """
        # the usual optimizer, built on the model, holds the model's list: compared in C by
        # identity without touching a Value (the course net: 0.4 ms, a set of its 101,000
        # parameters 7 ms); any other list is checked against the set
        same = optimizer.parameters == self.parameters
        mine = set() if same else set(self.parameters)  # Values hash and compare by identity
        for i, p in enumerate([] if same or mine.issuperset(optimizer.parameters) else optimizer.parameters):
            if p not in mine:
                raise ValueError(f"the optimizer's parameter {i} ({p.label or 'unlabelled'}) is not a "
                                 "parameter of this model: build the optimizer on this model or its "
                                 "parameters")
        self._rows, self._targets, self._optimizer = rows, targets, optimizer
        try:
            yield
        finally:
            self.sync()
            del self._rows, self._targets, self._optimizer

    def sync(self) -> None:
        """Make the parameter Values hold the trained values (an eager step always has)."""

    def train_epoch(self, order: list[int], batch_size: int) -> tuple[float, float]:
        """One pass over the data in ``order``, a step and an update per batch.

        Returns the sum of the batch losses (each times its size for the mean
        reduction) and the number of correct predictions (0 for regression losses).
        """
        rows, targets, optimizer = self._rows, self._targets, self._optimizer
        weighted = self.reduction == "mean"
        total, correct = 0.0, 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            ys = [targets[i] for i in batch]
            result = self([rows[i] for i in batch], ys)
            optimizer.step()
            total += result.loss * (len(batch) if weighted else 1)
            if self.loss.classifier:
                correct += sum(sample_correct(self.loss, out, y) for out, y in zip(result.outputs, ys))
        return total, correct

    def batch_loss(self, losses: Sequence[float], penalty: float) -> float:
        """The batch's loss from its per-sample losses and the L2 penalty's value.

        The same operations, in the same order, as the eager step's graph: the sum
        (``FLOAT_MATH.total``, the forward rule of ``autograd.sum``), times 1/n for
        the mean, plus the penalty.

        Example:
            >>> from nn import Neuron
            >>> LossAndGrad(Neuron(1), "mse", reduction="sum").batch_loss([0.5, 0.25], penalty=0.0)
            0.75
        """
        total: float = self._combine(losses, penalty, FLOAT_MATH.total)
        return total

    def _combine(self, losses: Sequence[Any], penalty: Any, add_up: Any) -> Any:
        """The batch-loss rule, once, for floats (the compiled step) and Values (the eager graph)."""
        count = len(losses)
        total = losses[0] if count == 1 else add_up(losses)
        if self.reduction == "mean" and count > 1:
            total = total * (1.0 / count)
        if self.l2:
            total = total + penalty
        return total


class LossAndGrad(BatchStep):
    """The per-batch step of training, run eagerly on the scalar engine.

    Calling it with a batch (input rows and checked targets) builds the graph of the
    batch's mean loss (plus ``l2`` times the sum of the squared weights), runs the
    backward pass, and sets each parameter's ``.grad`` to its gradient.

    Example:
        >>> from nn import Neuron
        >>> n = Neuron(1, activation="identity", init=1.0)      # y = x + 1
        >>> result = LossAndGrad(n, "squared_error")([[2.0]], [[0.0]])
        >>> result.loss, [p.grad for p in n.parameters()]       # E = 9/2; dE/dw = 3 * 2, dE/db = 3
        (4.5, [6.0, 3.0])
    """

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        # The graph is acyclic (nodes point to their parents only), so reference
        # counting frees it; pausing the cyclic collector saves it from scanning
        # tens of thousands of live nodes again and again while the graph grows.
        with CyclicGcPaused():
            return self._run(xs, ys)

    def _run(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        losses, outputs = zip(*[sample_loss(self.model, self.loss, x, y) for x, y in zip(xs, ys)])
        penalty = l2_penalty(self.weights, self.l2) if self.l2 else None
        total = self._combine(losses, penalty, autograd.sum)
        for parameter, gradient in zip(self.parameters, autograd.grad(total, self.parameters)):
            parameter.grad = gradient
        return BatchResult(total.data, [output_floats(out) for out in outputs])
