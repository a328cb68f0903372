"""Training: ``fit`` runs epochs of batches; each batch is one "loss and gradients" step.

* online (incremental) mode, ``batch_size=1``: one update per sample, m an epoch;
* mini-batch mode, ``batch_size=k``: one update per k samples (ceil(m / k) an epoch);
* full-batch mode, ``batch_size=None``: one update per epoch.

The data are checked before the first step: a ragged row, a wrong input width, a
NaN or infinite value, or a label the loss cannot take is reported with its row.

The per-batch step lives in one object, :class:`LossAndGrad`: it runs the model on
a batch, computes the loss and leaves the batch gradient in each parameter's
``.grad``. Another implementation of the same call (such as a compiled tape that
runs a whole batch at once) can replace it without touching the training loop.
"""

from __future__ import annotations

import gc
import math
import numbers
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Sequence

import autograd
from autograd import Parameter, Value

from .init import Seed, make_rng
from .losses import Loss, LossSpec, l2_penalty, resolve_loss
from .module import Module
from .optim import SGD, Optimizer
from .recurrent import Recurrent, sequence_loss

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


@dataclass(frozen=True)
class BatchResult:
    """One batch's loss and the model's outputs (floats, one list per sample)."""

    loss: float
    outputs: list[list[float]]


class LossAndGrad:
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

    def __init__(self, model: Module, loss: LossSpec, l2: float = 0.0, reduction: str = "mean") -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.model = model
        self.loss = resolve_loss(loss)
        self.l2 = float(l2)
        self.reduction = reduction
        self.parameters = model.parameters()
        self.weights = model.weights()

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        # The graph is acyclic (nodes point to their parents only), so reference
        # counting frees it; pausing the cyclic collector saves it from scanning
        # tens of thousands of live nodes again and again while the graph grows.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run(xs, ys)
        finally:
            if collecting:
                gc.enable()

    def _run(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        losses, outputs = zip(*[_sample_loss(self.model, self.loss, x, y) for x, y in zip(xs, ys)])
        total = losses[0] if len(losses) == 1 else autograd.sum(losses)
        if self.reduction == "mean" and len(losses) > 1:
            total = total * (1.0 / len(losses))
        if self.l2:
            total = total + l2_penalty(self.weights, self.l2)
        for parameter, gradient in zip(self.parameters, autograd.grad(total, self.parameters)):
            parameter.grad = gradient
        return BatchResult(total.data, [_floats(out) for out in outputs])


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
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    count = len(rows)
    if batch_size is None:
        batch_size = count
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch), got {batch_size!r}")
    batch_size = min(int(batch_size), count)
    if tol is not None and not (isinstance(tol, numbers.Real) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    if optimizer is None:
        optimizer = SGD(model, lr=lr)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.Optimizer, got {type(optimizer).__name__}")

    if compiled and isinstance(model, Recurrent):
        raise ValueError(f"compiled=True cannot train a recurrent net ({type(model).__name__}) yet: "
                         "each sequence length unrolls a different graph. Use compiled=False.")
    if compiled:
        from .compiled import CompiledLossAndGrad

        step: Any = CompiledLossAndGrad(model, loss_fn, l2=l2, reduction=reduction)
    else:
        step = LossAndGrad(model, loss_fn, l2=l2, reduction=reduction)
    rng = make_rng(seed)
    history = History(accuracy=[] if loss_fn.classifier else None)
    order = list(range(count))
    model.train()
    bar = _progress_bar(epochs, progress)
    try:
        for epoch in range(epochs):
            if shuffle and batch_size < count:
                rng.shuffle(order)
            total_loss, correct = 0.0, 0
            for start in range(0, count, batch_size):
                batch = order[start:start + batch_size]
                ys = [targets[i] for i in batch]
                result = step([rows[i] for i in batch], ys)
                optimizer.step()
                history.updates += 1
                weight = len(batch) if reduction == "mean" else 1
                total_loss += result.loss * weight
                if history.accuracy is not None:
                    correct += sum(_correct(loss_fn, out, y) for out, y in zip(result.outputs, ys))
            epoch_loss = total_loss / count if reduction == "mean" else total_loss
            history.loss.append(epoch_loss)
            if history.accuracy is not None:
                history.accuracy.append(correct / count)
            if bar is not None:
                bar.update(1)
                postfix = {"loss": f"{epoch_loss:.4g}"}
                if history.accuracy is not None:
                    postfix["accuracy"] = f"{history.accuracy[-1]:.3f}"
                bar.set_postfix(postfix, refresh=False)
            if tol is not None and epoch_loss <= tol:
                history.stopped_early = True
                break
            if callback is not None and callback(epoch, history):
                history.stopped_early = True
                break
    finally:
        if bar is not None:
            bar.close()
    return history


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
                loss_value, outputs = _sample_loss(model, loss_fn, row, target)
                total += loss_value.data
                if loss_fn.classifier:
                    correct += _correct(loss_fn, _floats(outputs), target)
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
    rows = _check_sequences(model, X) if isinstance(model, Recurrent) else _check_inputs(model, X)
    was_training = model.training
    model.eval()
    try:
        with autograd.no_grad():
            return [_floats(model(row)) for row in rows]
    finally:
        model.train(was_training)


def check_data(model: Module, X: Any, Y: Any, loss: LossSpec) -> tuple[list[list[float]], list[Any]]:
    """Inputs as lists of floats and targets in the loss's form; ``ValueError`` naming the bad row.

    Example:
        >>> from nn import MLP
        >>> check_data(MLP(2, [1]), [[0, 1]], [1], "bce")
        ([[0.0, 1.0]], [[1.0]])
        >>> check_data(MLP(2, [1]), [[0, 1], [1, float("nan")]], [1, 0], "bce")
        Traceback (most recent call last):
        ...
        ValueError: X row 1, column 1 is nan: inputs must be finite numbers
    """
    loss_fn = resolve_loss(loss)
    if isinstance(model, Recurrent):
        return _check_sequence_data(model, X, Y, loss_fn)
    rows = _check_inputs(model, X)
    targets = _sequence("Y", Y)
    if len(targets) != len(rows):
        raise ValueError(f"X has {len(rows)} rows but Y has {len(targets)}: one target per row")
    nout = getattr(model, "nout", None)
    checked = []
    for i, target in enumerate(targets):
        if hasattr(target, "tolist"):  # a NumPy row or scalar
            target = target.tolist()
        try:
            checked.append(loss_fn.check_target(target, nout))
        except ValueError as error:
            raise ValueError(f"Y row {i} does not fit the {loss_fn.name} loss: {error}") from None
    return rows, checked


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
        losses = [_sample_loss(model, loss_fn, row, target)[0] for row, target in zip(rows, targets)]
        return autograd.sum(losses) * (1.0 / len(losses))

    result = autograd.gradcheck(mean_loss, list(parameters), eps=eps, atol=atol, rtol=rtol)
    named = tuple(Mismatch(m.index, names[m.index], m.analytic, m.numeric) for m in result.mismatches)
    return GradcheckResult(result.analytic, result.numeric, named)


def _output_list(outputs: Any) -> list[Value]:
    return [outputs] if isinstance(outputs, Value) else list(outputs)


def _sample_loss(model: Module, loss_fn: Loss, x: Any, target: Any) -> tuple[Value, list]:
    """One sample's loss and outputs; a recurrent net's sample is a sequence (loss: mean over steps)."""
    if isinstance(model, Recurrent):
        outputs = model(x)
        return sequence_loss(outputs, target, loss_fn), outputs
    outputs = _output_list(model(x))
    return loss_fn(outputs, target), outputs


def _floats(outputs: Any) -> list:
    """Values as floats, keeping the nesting (a list of steps for a recurrent net)."""
    if isinstance(outputs, Value):
        return [outputs.data]
    return [o.data if isinstance(o, Value) else _floats(o) for o in outputs]


def _correct(loss_fn: Loss, outputs: list, target: Any) -> float:
    """1.0 for a correct prediction, 0.0 otherwise; for a sequence, the fraction of its steps."""
    if outputs and isinstance(outputs[0], list):
        steps = [(out, y) for out, y in zip(outputs, target) if y is not None]
        return sum(bool(loss_fn.is_correct(out, y)) for out, y in steps) / len(steps)
    return float(bool(loss_fn.is_correct(outputs, target)))


def _sequence(what: str, data: Any) -> list:
    if isinstance(data, (str, bytes, Value)) or not hasattr(data, "__len__"):
        raise TypeError(f"{what} must be a sequence of rows, got {type(data).__name__}")
    return list(data)


def _check_sequences(model: Module, X: Any) -> list[list[list[float]]]:
    """The input sequences of a recurrent net, each checked as rows of ``nin`` numbers."""
    sequences = _sequence("X", X)
    if not sequences:
        raise ValueError("X is empty: no sequences to train on")
    checked = []
    for i, sequence in enumerate(sequences):
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__len__"):
            raise ValueError(f"X sequence {i} is {type(sequence).__name__}, not a list of steps")
        if len(sequence) == 0:
            raise ValueError(f"X sequence {i} is empty: a sequence needs at least one step")
        checked.append(_check_inputs(model, sequence, f"X sequence {i}, step"))
    return checked


def _check_sequence_data(model: Module, X: Any, Y: Any, loss_fn: Loss) -> tuple[list, list]:
    """Sequences and one target per step (``None`` for a step without one), checked."""
    sequences = _check_sequences(model, X)
    targets = _sequence("Y", Y)
    if len(targets) != len(sequences):
        raise ValueError(f"X has {len(sequences)} sequences but Y has {len(targets)}: one target "
                         "sequence per input sequence")
    checked = []
    for i, (sequence, target) in enumerate(zip(sequences, targets)):
        steps = _sequence(f"Y sequence {i}", target)
        if len(steps) != len(sequence):
            raise ValueError(f"Y sequence {i} has {len(steps)} targets but X sequence {i} has "
                             f"{len(sequence)} steps: one target per step (None for none)")
        if all(step is None for step in steps):
            raise ValueError(f"Y sequence {i} has no target (all None): nothing to learn from")
        try:
            checked.append([None if step is None else
                            loss_fn.check_target(step.tolist() if hasattr(step, "tolist") else step,
                                                 model.nout) for step in steps])
        except ValueError as error:
            raise ValueError(f"Y sequence {i} does not fit the {loss_fn.name} loss: {error}") from None
    return sequences, checked


def _check_inputs(model: Module, X: Any, what: str = "X row") -> list[list[float]]:
    rows = _sequence("X", X)
    if not rows:
        raise ValueError("X is empty: no samples to train on")
    nin = getattr(model, "nin", None)
    checked = []
    for i, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError(f"{what} {i} is {type(row).__name__} {row!r}, not a sequence of inputs"[:200])
        if nin is not None and len(row) != nin:
            raise ValueError(f"{what} {i} has {len(row)} value{'s' if len(row) != 1 else ''} but the model "
                             f"takes {nin} input{'s' if nin != 1 else ''}")
        if checked and len(row) != len(checked[0]):
            raise ValueError(f"{what} {i} has {len(row)} values but row 0 has {len(checked[0])} "
                             "(ragged rows)")
        values = []
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"{what} {i}, column {j} is {type(v).__name__} {v!r}, not a number"[:200])
            v = float(v)
            if not math.isfinite(v):
                raise ValueError(f"{what} {i}, column {j} is {v!r}: inputs must be finite numbers")
            values.append(v)
        checked.append(values)
    return checked


def _progress_bar(epochs: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, unit="epoch", desc="fit", leave=False)

