"""Training: ``fit`` runs epochs of batches; each batch is one "loss and gradients" step.

* online (incremental) mode, ``batch_size=1``: one update per sample, m an epoch;
* mini-batch mode, ``batch_size=k``: one update per k samples (ceil(m / k) an epoch);
* full-batch mode, ``batch_size=None``: one update per epoch.

The data are checked before the first step: a ragged row, a wrong input width, a
NaN or infinite value, or a label the loss cannot take is reported with its row.

The per-batch step lives in one object, a :class:`nn.step.BatchStep`: it runs the
model on a batch, computes the loss and leaves the batch gradient in each
parameter's ``.grad``, eagerly (:class:`LossAndGrad`) or on a compiled tape that
runs a whole batch at once (:class:`nn.compiled.CompiledLossAndGrad`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import autograd
from autograd import Parameter, Value

from .checks import check_data, check_inputs, check_sequences
from .init import Seed, make_rng
from .losses import LossSpec, resolve_loss
from .module import Module
from .optim import SGD, Optimizer
from .recurrent import Recurrent
from .step import (BatchResult, BatchStep, LossAndGrad, output_floats, sample_correct, sample_loss)

# LossAndGrad, BatchResult and check_data live in nn.step and nn.checks; they are
# re-exported here for code written against their first home.
__all__ = ["fit", "History", "LossAndGrad", "BatchResult", "evaluate", "Evaluation", "predict",
           "check_data", "gradcheck"]


@dataclass
class History:
    """What :func:`fit` did: the loss of each epoch (and accuracy, for classifiers).

    ``loss[e]`` is the mean loss over the samples of epoch ``e``, each measured when
    its batch was computed (before that batch's update). ``accuracy`` is ``None``
    for regression losses.

    Example:
        >>> History(loss=[0.5, 0.25], accuracy=[0.5, 1.0], updates=8)
        History(epochs=2, updates=8, loss=0.25, accuracy=1)
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] | None = None
    updates: int = 0
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.loss)

    def __repr__(self) -> str:
        last = f", loss={self.loss[-1]:.6g}" if self.loss else ""
        accuracy = f", accuracy={self.accuracy[-1]:.4g}" if self.accuracy else ""
        early = ", stopped early" if self.stopped_early else ""
        return f"History(epochs={self.epochs}, updates={self.updates}{last}{accuracy}{early})"


def fit(model: Module, X: Any, Y: Any, loss: LossSpec = "mse", optimizer: Optimizer | None = None,
        epochs: int = 100, batch_size: int | None = 1, *, lr: float = 0.1, l2: float = 0.0,
        reduction: str = "mean", shuffle: bool = True, seed: Seed = None, tol: float | None = None,
        progress: bool = True, callback: Callable[[int, History], Any] | None = None,
        compiled: bool = False) -> History:
    """Train ``model`` on inputs ``X`` and targets ``Y``; return the :class:`History`.

    Args:
        loss: a name in :data:`nn.LOSSES` (``"mse"``, ``"squared_error"``, ``"bce"``,
            ``"bce_logits"``, ``"cross_entropy"``, ``"hinge"``), a Loss or a function.
        optimizer: an :class:`~nn.Optimizer`; by default ``SGD(model, lr=lr)``.
        batch_size: 1 for online mode, k for mini-batches, None for the full batch.
        l2: strength of the L2 penalty added to each batch's loss (weights only).
        reduction: "mean" (default) or "sum" of the per-sample losses of a batch.
        shuffle: visit the samples in a new random order each epoch (seeded by ``seed``).
        tol: stop once an epoch's loss is at most ``tol``.
        progress: show a tqdm progress bar.
        callback: called as ``callback(epoch, history)`` after each epoch; a true
            result stops training.
        compiled: run each batch on a tape compiled once by :func:`autograd.compile`
            (:class:`nn.compiled.CompiledLossAndGrad`): same history, much faster.

    Example (the course's exercise 1, part 2: teach [0, 1] -> [0, 1]):
        >>> from nn import MLP
        >>> model = MLP(2, [3, 2], activation="sigmoid", init=1.0)
        >>> history = fit(model, [[0, 1]], [[0, 1]], loss="bce", lr=0.25, epochs=100, progress=False)
        >>> [round(y.data, 2) for y in model([0, 1])], history.updates
        ([0.01, 0.99], 100)
    """
    loss_fn = resolve_loss(loss)
    rows, targets = check_data(model, X, Y, loss_fn)
    batch_size = _check_schedule(len(rows), epochs, batch_size, tol)
    if optimizer is None:
        optimizer = SGD(model, lr=lr)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.Optimizer, got {type(optimizer).__name__}")
    step = _make_step(model, loss_fn, l2, reduction, compiled)
    rng = make_rng(seed)
    history = History(accuracy=[] if loss_fn.classifier else None)
    order = list(range(len(rows)))
    model.train()
    bar = _progress_bar(epochs, progress)
    try:
        for epoch in range(epochs):
            if shuffle and batch_size < len(rows):
                rng.shuffle(order)
            _run_epoch(step, optimizer, rows, targets, order, batch_size, history)
            _show_progress(bar, history)
            converged = tol is not None and history.loss[-1] <= tol
            if converged or (callback is not None and callback(epoch, history)):
                history.stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    return history


def _make_step(model: Module, loss: Any, l2: float, reduction: str, compiled: bool) -> BatchStep:
    if compiled and isinstance(model, Recurrent):
        raise ValueError(f"compiled=True cannot train a recurrent net ({type(model).__name__}) yet: "
                         "each sequence length unrolls a different graph. Use compiled=False.")
    if compiled:
        # the one lazy import of nn: the compiled tape needs NumPy, `import nn` does not
        from .compiled import CompiledLossAndGrad

        return CompiledLossAndGrad(model, loss, l2=l2, reduction=reduction)
    return LossAndGrad(model, loss, l2=l2, reduction=reduction)


def _check_schedule(count: int, epochs: Any, batch_size: Any, tol: Any) -> int:
    """Check fit's epochs, batch size and tolerance; the batch size as an int (at most ``count``)."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is None:
        batch_size = count
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch), got {batch_size!r}")
    if tol is not None and not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    return min(int(batch_size), count)


def _run_epoch(step: BatchStep, optimizer: Optimizer, rows: list[list[float]], targets: list[Any],
               order: list[int], batch_size: int, history: History) -> None:
    """One pass over the data in ``order``: a step and an update per batch; the epoch's loss into history."""
    count, mean = len(rows), step.reduction == "mean"
    total_loss, correct = 0.0, 0
    for start in range(0, count, batch_size):
        batch = order[start:start + batch_size]
        ys = [targets[i] for i in batch]
        result = step([rows[i] for i in batch], ys)
        optimizer.step()
        history.updates += 1
        total_loss += result.loss * (len(batch) if mean else 1)
        if history.accuracy is not None:
            correct += sum(sample_correct(step.loss, out, y) for out, y in zip(result.outputs, ys))
    history.loss.append(total_loss / count if mean else total_loss)
    if history.accuracy is not None:
        history.accuracy.append(correct / count)


def _show_progress(bar: Any, history: History) -> None:
    if bar is not None:
        bar.update(1)
        postfix = {"loss": f"{history.loss[-1]:.4g}"}
        if history.accuracy is not None:
            postfix["accuracy"] = f"{history.accuracy[-1]:.3f}"
        bar.set_postfix(postfix, refresh=False)


@dataclass(frozen=True)
class Evaluation:
    """Mean loss over a data set, and accuracy (None for regression losses)."""

    loss: float
    accuracy: float | None


def evaluate(model: Module, X: Any, Y: Any, loss: LossSpec = "mse") -> Evaluation:
    """The model's mean loss (and accuracy, for classifiers) on a data set; no graph is kept.

    Example:
        >>> from nn import Neuron
        >>> evaluate(Neuron(1, activation="identity", init=0.0), [[1.0], [2.0]], [1.0, 3.0])
        Evaluation(loss=5.0, accuracy=None)
    """
    loss_fn = resolve_loss(loss)
    rows, targets = check_data(model, X, Y, loss_fn)
    was_training = model.training
    model.eval()
    try:
        with autograd.no_grad():
            total, correct = 0.0, 0
            for row, target in zip(rows, targets):
                loss_value, outputs = sample_loss(model, loss_fn, row, target)
                total += loss_value.data
                if loss_fn.classifier:
                    correct += sample_correct(loss_fn, output_floats(outputs), target)
    finally:
        model.train(was_training)
    return Evaluation(total / len(rows), correct / len(rows) if loss_fn.classifier else None)


def predict(model: Module, X: Any) -> list[list[float]]:
    """The model's outputs (floats) for each row of ``X``, in eval mode and without a graph.

    Example:
        >>> from nn import MLP
        >>> predict(MLP(2, [3, 2], init=1.0), [[0, 1]])
        [[0.9744787489988975, 0.9744787489988975]]
    """
    rows = check_sequences(model, X) if isinstance(model, Recurrent) else check_inputs(model, X)
    was_training = model.training
    model.eval()
    try:
        with autograd.no_grad():
            return [output_floats(model(row)) for row in rows]
    finally:
        model.train(was_training)


def gradcheck(model: Module, X: Any, Y: Any, loss: LossSpec = "mse", eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3) -> autograd.GradcheckResult:
    """Check the backward pass of a whole model against central differences.

    The function checked is the mean loss over (X, Y) as a function of every
    parameter; mismatches are reported with the parameters' dotted names.

    Example:
        >>> from nn import MLP
        >>> result = gradcheck(MLP(2, [3, 2], seed=0), [[0.5, -1.0]], [[0.0, 1.0]], loss="bce")
        >>> bool(result), len(result.analytic)
        (True, 17)
    """
    from autograd.gradcheck import GradcheckResult, Mismatch

    loss_fn = resolve_loss(loss)
    rows, targets = check_data(model, X, Y, loss_fn)
    names, parameters = zip(*model.named_parameters())

    def mean_loss(*_: Parameter) -> Value:
        losses = [sample_loss(model, loss_fn, row, target)[0] for row, target in zip(rows, targets)]
        return autograd.sum(losses) * (1.0 / len(losses))

    result = autograd.gradcheck(mean_loss, list(parameters), eps=eps, atol=atol, rtol=rtol)
    named = tuple(Mismatch(m.index, names[m.index], m.analytic, m.numeric) for m in result.mismatches)
    return GradcheckResult(result.analytic, result.numeric, named)


def _progress_bar(epochs: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, unit="epoch", desc="fit", leave=False)

