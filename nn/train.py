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
from typing import Any, TypedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
    for regression losses. ``engine`` is ``"compiled"`` or ``"eager"``; ``note``
    says why ``compiled="auto"`` trained eagerly (else ``None``).

    Example:
        >>> History(loss=[0.5, 0.25], accuracy=[0.5, 1.0], updates=8)
        History(epochs=2, updates=8, loss=0.25, accuracy=1)
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] | None = None
    updates: int = 0
    stopped_early: bool = False
    engine: str = "eager"
    note: str | None = None

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
        compiled: bool | str = "auto") -> History:
    """Train ``model`` on inputs ``X`` and targets ``Y``; return the :class:`History`.

    A recurrent net (:class:`nn.Elman`, :class:`nn.Jordan`) takes sequences: each row of
    ``X`` a list of steps, each target a list of one target per step (``None``: none); a
    sample's loss is the mean over its steps; ``truncate`` chooses (truncated) BPTT.

    Args:
        loss: a name in :data:`nn.LOSSES` (``"mse"``, ``"squared_error"``, ``"bce"``,
            ``"bce_logits"``, ``"cross_entropy"``, ``"hinge"``), a Loss or a function.
        optimizer: an :class:`~nn.Optimizer` over this model's parameters (or some of
            them); by default ``SGD(model, lr=lr)``.
        batch_size: 1 for online mode, k for mini-batches, None for the full batch.
        l2: strength of the L2 penalty added to each batch's loss (weights only).
        reduction: "mean" (default) or "sum" of the per-sample losses of a batch.
        shuffle: visit the samples in a new random order each epoch (seeded by ``seed``).
        tol: stop once an epoch's loss is at most ``tol``.
        progress: show a tqdm progress bar.
        callback: called as ``callback(epoch, history)`` after each epoch, with the
            parameter Values up to date; a true result stops training.
        compiled: ``"auto"`` (default) trains on a compiled tape
            (:class:`nn.compiled.CompiledLossAndGrad`) when model and loss trace
            cleanly, eagerly when not (RReLU in training mode, recurrent nets, Python
            branches on the numbers; ``history.note`` and a line above the progress bar
            say why) or where the tape would be slower (tiny graphs at tiny batches run
            by the program's groups, e.g. the 2-3-2 net in float32 online; float64 nets
            online stay on the tape, which replays one sample on floats: see
            :meth:`~nn.compiled.CompiledLossAndGrad.faster_than_eager`). ``True`` insists
            on the tape, ``False`` is eager. Either way: the same history, callbacks
            and parameters (to rounding); ``history.engine`` says which ran.

    Example (the course's exercise 1, part 2: teach [0, 1] -> [0, 1]):
        >>> from nn import MLP
        >>> model = MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
        >>> history = fit(model, [[0, 1]], [[0, 1]], loss="bce", lr=0.25, epochs=100, progress=False)
        >>> [round(y.data, 2) for y in model([0, 1])], history.updates
        ([0.01, 0.99], 100)
        >>> history.engine      # traced once; one sample a step replays on floats, faster than eager
        'compiled'
        >>> fit(model, [[0, 1]], [[0, 1]], loss="bce", epochs=1, progress=False, compiled=False).engine
        'eager'
    """
    loss_fn = resolve_loss(loss)
    rows, targets = check_data(model, X, Y, loss_fn)
    batch_size = _check_schedule(len(rows), epochs, batch_size, tol, callback)
    given_optimizer, optimizer = optimizer, _check_optimizer(model, optimizer, lr)
    rng = make_rng(seed)
    model.train()
    known = None if given_optimizer is not None else optimizer.parameters  # the SGD built on the model
    options = _StepOptions(l2=l2, reduction=reduction, parameters=known)
    step, note = _make_step(model, loss_fn, options, compiled, rows, targets, batch_size)
    history = History(accuracy=[] if loss_fn.classifier else None, engine=step.engine, note=note)
    with _progress_bar(epochs, progress, note) as bar, step.training(rows, targets, optimizer):
        _run_epochs(step, history, len(rows), epochs, batch_size, rng if shuffle else None, tol,
                    callback, bar)
    return history


def _run_epochs(step: BatchStep, history: History, count: int, epochs: int, batch_size: int, rng: Any,
                tol: float | None, callback: Callable[[int, History], Any] | None, bar: Any) -> None:
    """Epoch after epoch into ``history``, until ``epochs``, ``tol`` or the callback stops it."""
    order = list(range(count))
    batches = -(-count // batch_size)
    for epoch in range(epochs):
        if rng is not None and batch_size < count:
            rng.shuffle(order)
        total, correct = step.train_epoch(order, batch_size)
        history.updates += batches
        history.loss.append(total / count if step.reduction == "mean" else total)
        if history.accuracy is not None:
            history.accuracy.append(correct / count)
        _show_progress(bar, history)
        if tol is not None and history.loss[-1] <= tol:
            history.stopped_early = True
            return
        if callback is not None:
            step.sync()  # the callback sees the trained Values
            if callback(epoch, history):
                history.stopped_early = True
                return


class _StepOptions(TypedDict):
    """The keyword arguments of a step (LossAndGrad and CompiledLossAndGrad), typed."""

    l2: float
    reduction: str
    parameters: list[Value] | None  # the model's, when the caller has them (else it walks the model)


def _make_step(model: Module, loss: Any, options: _StepOptions, compiled: bool | str,
               rows: list[Any], targets: list[Any], batch_size: int) -> tuple[BatchStep, str | None]:
    """The step ``compiled`` asks for, traced now. ``"auto"``: eager (and why) if the trace fails,
    eager (silently) where the tape would be slower: tiny graphs at tiny batches. ``options``:
    the step's keyword arguments (l2, reduction, parameters)."""
    if compiled not in (True, False, "auto"):
        raise ValueError(f"compiled must be True, False or 'auto', got {compiled!r}")
    if compiled is False:
        return LossAndGrad(model, loss, **options), None
    # the one lazy import of nn: the compiled tape needs NumPy, `import nn` does not
    from .compiled import CompiledLossAndGrad, NotTraceableError

    try:
        step = CompiledLossAndGrad(model, loss, **options)
        step.trace(rows[0], targets[0])
    except (NotTraceableError, autograd.TracingError) as error:
        if compiled is True:
            raise
        note = f"fit: training eagerly, the model and loss cannot be compiled: {error}"
        return LossAndGrad(model, loss, **options), note
    if compiled == "auto" and not step.faster_than_eager(batch_size):
        return LossAndGrad(model, loss, **options), None
    return step, None


def _check_optimizer(model: Module, optimizer: Any, lr: Any) -> Optimizer:
    """The optimizer to train with (``SGD(model, lr=lr)`` by default), its next learning rate checked.

    A schedule that gives a NaN, infinite or non-positive rate for the first update
    is reported here, before any forward pass (later rates are checked by the
    optimizer, before their update).
    """
    if optimizer is None:
        optimizer = SGD(model, lr=lr)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.Optimizer, got {type(optimizer).__name__}")
    checked: Optimizer = optimizer
    checked.current_lr()
    return checked


def _check_schedule(count: int, epochs: Any, batch_size: Any, tol: Any, callback: Any) -> int:
    """Check fit's epochs, batch size, tolerance and callback; the batch size as an int (<= ``count``)."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function of (epoch, history), got {type(callback).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is None:
        batch_size = count
    elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None (full batch), got {batch_size!r}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                            or not float(tol) >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    return min(int(batch_size), count)


def _show_progress(bar: Any, history: History) -> None:
    if bar is not None:
        bar.update(1)
        postfix = {"loss": f"{history.loss[-1]:.4g}"}
        if history.accuracy is not None:
            postfix["accuracy"] = f"{history.accuracy[-1]:.3f}"
        bar.set_postfix(postfix, refresh=False)


@dataclass(frozen=True)
class Evaluation:
    """Mean loss over a data set, and accuracy (None for regression losses).

    Example:
        >>> from nn import MLP, evaluate
        >>> model = MLP(2, [1], output_activation="sigmoid", init=0.0)
        >>> evaluate(model, [[0, 0], [1, 1]], [0, 1], loss="bce").accuracy  # outputs 0.5: half right
        0.5
    """

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
            total, correct = 0.0, 0.0
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
        >>> predict(MLP(2, [3, 2], output_activation="sigmoid", init=1.0), [[0, 1]])
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


def gradcheck(model: Module, X: Any, Y: Any, loss: LossSpec = "mse", eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_on_failure: bool = True) -> autograd.GradcheckResult:
    """Check the backward pass of a whole model against central differences.

    The function checked is the mean loss over (X, Y) as a function of every
    parameter; mismatches are reported with the parameters' dotted names. As
    :func:`autograd.gradcheck`, raises ``GradcheckError`` with the report when a partial
    disagrees, unless ``raise_on_failure=False``.

    Example:
        >>> from nn import MLP
        >>> model = MLP(2, [3, 2], output_activation="sigmoid", seed=0)
        >>> result = gradcheck(model, [[0.5, -1.0]], [[0.0, 1.0]], loss="bce")
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

    result = autograd.gradcheck(mean_loss, list(parameters), eps=eps, atol=atol, rtol=rtol,
                                raise_on_failure=False)
    named = tuple(Mismatch(m.index, names[m.index], m.analytic, m.numeric) for m in result.mismatches)
    result = GradcheckResult(result.analytic, result.numeric, named)
    if raise_on_failure and not result:
        raise autograd.GradcheckError(result)
    return result


@contextmanager
def _progress_bar(epochs: int, enabled: bool, note: str | None) -> Iterator[Any]:
    """A tqdm bar for the fit (None if not ``enabled``), closed when the fit ends."""
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=epochs, unit="epoch", desc="fit", leave=False)
    if note:
        bar.write(note)  # once, above the bar (tqdm writes it where the bar's notes go: stdout)
    try:
        yield bar
    finally:
        bar.close()

