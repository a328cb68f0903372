"""Training and inference on the compiled tape (:func:`autograd.compile`).

:class:`CompiledLossAndGrad` is :class:`nn.LossAndGrad` (the per-batch step of
:func:`nn.fit`) run on a compiled tape: the model and its loss are traced once and
every batch after that runs as a few NumPy calls, the whole batch at once. Called
on a batch, it returns what the eager step returns (the batch's loss and the
model's outputs) and leaves the same gradients in each parameter's ``.grad``.

Inside :func:`nn.fit` it goes further: the data are converted to arrays once per
fit, the parameters live in one NumPy array for the whole fit, the optimizer
updates that array with its own rule (:meth:`nn.Optimizer.step_arrays`), and the
parameter Values are written once, at the end (and before each callback). Nothing
done per epoch grows with the number of parameters beyond the arithmetic itself.
History, progress bar and results equal eager training's to rounding (the tape
adds in another order): 1e-9 in the tests.

:func:`compile_model` traces a model's forward for inference: call it on a
``(batch, nin)`` array, get a ``(batch, nout)`` array, with the parameters' current
values at every call.

What a tape cannot replay is refused with :class:`NotTraceableError` (a
``ValueError``): a model whose forward draws random numbers (``RReLU`` in training
mode: the tape would freeze one draw) and a recurrent net (each sequence length
unrolls another graph). ``fit(compiled="auto")`` trains those eagerly instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

import autograd
from autograd import Value
from autograd.compiler import NUMPY_MATH, CompiledFunction
from autograd.compiler.numpy_math import FloatArray

from .activations import RReLU
from .losses import LossSpec, l2_penalty
from .module import Module
from .recurrent import Recurrent
from .step import BatchResult, BatchStep, output_list

if TYPE_CHECKING:
    from .optim import Optimizer

__all__ = ["CompiledLossAndGrad", "compile_model", "NotTraceableError"]

# When a batch is tiny, a tape step costs its fixed per-group overhead while an eager
# step costs its few nodes. Measured with benchmarks/bench_nn.py (online part) and
# five MLPs at batch size 1 on this project's 2-core CI machine kind: about 30 us per
# program group for the tape, about 7 us per unit of work (a tape instruction or a
# parameter) for the eager step plus its update; e.g. the 2-3-2 exercise net (25
# instructions, 17 parameters, 12 groups) 250-270 us eager vs 255-530 us taped, the
# 2-8-1 net (26, 33, 12) 441 vs 378 us. Below this much work per group, eager wins.
# One sample of a small float64 tape runs on its scalar replay instead (no groups): since
# a fit checks its data once, not per call, that beats the eager step for every MLP
# measured (per update, eager vs tape, under load 5: 2-3-2 sigmoid 182 vs 153 us, 2-8-1
# 244 vs 171, 4-16-3 587 vs 317). At batch 2, without a replay, the 2-3-2 net measured
# 307 us eager vs 316 us taped: 3%, within the noise of these runs (see the spreads above),
# so the model's choice of the tape there is a tie, not a loss.
EAGER_WORK_PER_GROUP = 4.5


class NotTraceableError(ValueError):
    """The model cannot be replayed by a compiled tape (random draws, per-sequence graphs).

    Example:
        >>> import nn
        >>> CompiledLossAndGrad(nn.MLP(1, [1], activation="rrelu", output_activation="rrelu"), "mse")
        Traceback (most recent call last):
        ...
        nn.compiled.NotTraceableError: the model has an RReLU in training mode: ...
    """


def _refuse_untraceable(model: Module) -> None:
    if isinstance(model, Recurrent):
        raise NotTraceableError(f"compiled=True cannot train a recurrent net ({type(model).__name__}) "
                                "yet: each sequence length unrolls a different graph, which one tape "
                                "cannot replay. Train it with compiled=False.")
    for module in model.modules():
        if isinstance(module, RReLU) and module.training:
            raise NotTraceableError("the model has an RReLU in training mode: it draws a new random slope "
                                    "at every call, which a compiled tape would freeze. Train it with "
                                    "compiled=False, or put it in eval mode.")


def compile_model(model: Module, dtype: str = "float64") -> CompiledFunction:
    """The model's forward traced once, in eval mode: ``(batch, nin)`` array -> ``(batch, nout)``.

    Example:
        >>> import numpy as np
        >>> from nn import MLP
        >>> model = MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
        >>> compile_model(model)(np.array([[0.0, 1.0]]))
        array([[0.97447875, 0.97447875]])
    """
    nin = getattr(model, "nin", None)
    if nin is None:
        raise ValueError(f"compile_model needs a model that knows its number of inputs (nin), got "
                         f"{type(model).__name__}")
    was_training = model.training
    model.eval()
    try:
        return autograd.compile(lambda x: output_list(model(x)), ([0.0] * nin,), model.parameters(),
                                dtype=dtype)
    finally:
        model.train(was_training)


class CompiledLossAndGrad(BatchStep):
    """:class:`nn.LossAndGrad` on a compiled tape: traced once, then a whole batch at a time.

    Calling it with a batch (input rows and checked targets) returns the batch's
    :class:`nn.BatchResult` (loss and outputs) and sets each parameter's ``.grad``,
    as the eager step does. The trace happens on the first batch, or earlier with
    :meth:`trace`. Class-index targets of ``cross_entropy`` are given to the tape as
    one-hot vectors (the loss's probability form, the same value and gradient).

    Example:
        >>> from nn import Neuron, LossAndGrad
        >>> n = Neuron(1, activation="identity", init=1.0)      # y = x + 1
        >>> result = CompiledLossAndGrad(n, "squared_error")([[2.0]], [[0.0]])
        >>> result.loss, [p.grad for p in n.parameters()]       # as LossAndGrad's example
        (4.5, [6.0, 3.0])
    """

    engine = "compiled"

    def __init__(self, model: Module, loss: LossSpec, l2: float = 0.0, reduction: str = "mean",
                 dtype: str = "float64", *, parameters: list[Value] | None = None) -> None:
        super().__init__(model, loss, l2, reduction, parameters=parameters)
        _refuse_untraceable(model)
        self.dtype = dtype
        self.compiled: CompiledFunction | None = None
        self._classes = 0  # > 0: targets are class indices, given to the tape one-hot
        self._seeds: dict[int, FloatArray] = {}

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        inputs = np.asarray(xs, dtype=float)
        compiled = self.trace(inputs[0], ys[0])
        batch = len(inputs)
        result = compiled.value_and_grad(inputs, self._target_array(ys), output_grad=self._seed(batch))
        self.loss.check_outputs(result.outputs[:, 2:])  # what the eager loss function checks itself
        for parameter, gradient in zip(self.parameters, result.param_grads.tolist()):
            parameter.grad = gradient
        total = self.batch_loss(result.outputs[:, 0].tolist(), penalty=float(result.outputs[0, 1]))
        return BatchResult(total, result.outputs[:, 2:].tolist())

    def trace(self, example_input: Any, example_target: Any) -> CompiledFunction:
        """Trace the model and loss on one sample (once; later calls return the same tape).

        Raises :class:`autograd.TracingError` if the model or loss branches on the
        numbers (reads ``.data``, compares Values): the tape could not replay that.

        Example:
            >>> from nn import MLP
            >>> step = CompiledLossAndGrad(MLP(2, [3, 1]), "mse")
            >>> step.trace([0.0, 1.0], [1.0]).input_names
            ['x', 'target']
        """
        if self.compiled is None:
            if isinstance(example_target, int):
                self._classes = int(getattr(self.model, "nout", 0) or 0)
                if self._classes < 1:
                    raise ValueError("class-index targets need a model that knows its number of outputs")
            example = self._target_array([example_target])[0]
            loss, l2, weights, model = self.loss, self.l2, self.weights, self.model

            def per_sample(x: list[Value], target: Any) -> list[Value]:
                outputs = output_list(model(x))
                value = loss(outputs, target if isinstance(target, list) else [target])
                penalty = l2_penalty(weights, l2) if l2 else autograd.Constant(0.0)
                return [value, penalty, *outputs]

            self.compiled = autograd.compile(per_sample, (np.asarray(example_input, dtype=float), example),
                                             self.parameters, dtype=self.dtype)
        return self.compiled

    def faster_than_eager(self, batch_size: int) -> bool:
        """Whether the traced tape should beat the eager step on batches of ``batch_size``.

        A cost model from measurements (see ``EAGER_WORK_PER_GROUP``): one sample that
        replays on floats always is; false only for tiny graphs at tiny batches run by the
        program's groups, such as the course's 2-3-2 net in float32, one sample at a time.

        Example:
            >>> from nn import MLP
            >>> step = CompiledLossAndGrad(MLP(2, [3, 2]), "bce", dtype="float32")
            >>> _ = step.trace([0.0, 1.0], [0.0, 1.0])
            >>> step.faster_than_eager(1), step.faster_than_eager(4)
            (False, True)
        """
        compiled = self.compiled
        if compiled is None:
            raise RuntimeError("faster_than_eager needs the tape: call trace() first")
        if batch_size == 1 and compiled.scalar_replay is not None:
            return True
        work = batch_size * (len(compiled.tape) + len(compiled.params))
        return work >= EAGER_WORK_PER_GROUP * len(compiled.program.groups)

    # -- a whole fit on the tape ---------------------------------------------------------
    @contextmanager
    def training(self, rows: list[Any], targets: list[Any], optimizer: Optimizer) -> Iterator[None]:
        """The data as arrays and the parameters in one array for a fit; written back at the end."""
        self.trace(rows[0], targets[0])
        with super().training(rows, targets, optimizer):  # checks the optimizer; syncs at the end
            self._fit: _FitArrays | None = _FitArrays(self, rows, targets, optimizer)
            try:
                yield
            finally:
                fit, self._fit = self._fit, None
                fit.release()

    def sync(self) -> None:
        fit = getattr(self, "_fit", None)
        if fit is not None:
            fit.write_back()

    def train_epoch(self, order: list[int], batch_size: int) -> tuple[float, float]:
        fit = self._fit
        assert fit is not None, "train_epoch runs inside training()"
        count = len(order)
        picks = None if batch_size >= count else np.array(order)  # full batch: the data as it is
        weighted = self.reduction == "mean"
        total, correct = 0.0, 0.0
        for start in range(0, count, batch_size):
            picked = None if picks is None else picks[start:start + batch_size]
            loss, outputs, read = fit.train_batch(picked)
            size = count if picked is None else len(picked)
            total += loss * (size if weighted else 1)
            if self.loss.classifier:  # never sequences here (recurrent nets train eagerly)
                # a loss's own is_correct counts on the targets as checked, not as the tape read them
                targets = read if self.loss.counts_arrays else (
                    fit.targets if picked is None else [fit.targets[i] for i in picked.tolist()])
                correct += self.loss.count_correct(outputs, targets)
        return total, correct

    # -- helpers ---------------------------------------------------------------------------
    def _target_array(self, ys: Sequence[Any]) -> FloatArray:
        if self._classes:
            one_hot: FloatArray = np.eye(self._classes)[np.asarray(ys, dtype=int)]
            return one_hot
        return np.asarray(ys, dtype=float)

    def _seed(self, batch: int) -> FloatArray:
        """d(batch loss)/d(output): the loss column 1/batch (mean) or 1; the penalty once."""
        seed = self._seeds.get(batch)
        if seed is None:
            assert self.compiled is not None
            seed = np.zeros((batch, len(self.compiled.tape.outputs)))
            seed[:, 0] = 1.0 / batch if self.reduction == "mean" and batch > 1 else 1.0
            seed[0, 1] = 1.0 if self.l2 else 0.0
            self._seeds[batch] = seed
        return seed


class _FitArrays:
    """One fit's data, parameters and optimizer state as arrays, and the update between batches.

    Memory: the parameters live in the tape's own buffer for the whole fit
    (:meth:`autograd.compiler.CompiledFunction.hold_parameters`): each batch reads
    them there and the optimizer updates them there, in place; the gradients are
    read where the backward pass left them. No parameter-sized array is copied per
    batch besides the update's arithmetic (and, for a rule without
    :meth:`nn.Optimizer.change_bound`, the copy that undoes an overflow); the Values,
    their ``.grad`` and the optimizer's lists are written by :meth:`write_back` only
    (at the end of a fit and before a callback).
    """

    def __init__(self, step: CompiledLossAndGrad, rows: list[Any], targets: list[Any],
                 optimizer: Optimizer) -> None:
        assert step.compiled is not None
        self.owner, self.compiled, self.optimizer = step, step.compiled, optimizer
        # converted and checked once per fit: a step's batch is these arrays or some of their rows
        self.batch = self.compiled.check_batch(np.asarray(rows, dtype=float), step._target_array(targets))
        self.targets = targets  # as check_target made them: a custom is_correct counts on these
        self.values = self.compiled.hold_parameters()  # the tape's buffer: updated in place
        self.grads: FloatArray | None = None  # the tape's gradients of the last batch (a view)
        self.changed = False  # whether a batch ran since the Values were written
        # None: the optimizer updates every parameter, in the tape's order (no gather, no scatter)
        self.subset: NDArray[np.intp] | None = None
        if optimizer.parameters != self.compiled.params:  # compared by identity
            position = {p: i for i, p in enumerate(self.compiled.params)}
            self.subset = np.array([position[p] for p in optimizer.parameters])  # checked by BatchStep
        # updated in place, so that no step allocates (and page-faults in) fresh parameter-sized arrays
        self.state = [np.array(getattr(optimizer, name), dtype=float) for name in optimizer.state_names]
        # What the rule changes in place, and a copy of each to put back if an update overflows
        # (a failed update changes nothing). The copy costs 38 us alone, 68-96 us of the course
        # net's 1.1-1.2 ms step in place (it evicts the step's other arrays; 101,000 parameters).
        # Rejected, measured or counted: swapping two parameter buffers (the rule updates in place
        # either way: one copy pass remains, and the tape would need two bindings); copying and
        # updating cache-sized chunks in turn (16,384 parameters a chunk: 1.11 ms a step against
        # 1.16 ms, the copy's pass remains). Taken: the rule's own bounds (below), which need no
        # copy while they hold; a rule that has none (Adam divides) copies at every update.
        self.live = ([self.values] if self.subset is None else []) + self.state
        self.copies: list[FloatArray] = []  # made when first needed (never while bounds hold)
        # Bounds on |value| and each state's |entry|, carried from update to update by the
        # rule's own change_bound: while they stay under SAFE_FRACTION of the dtype's largest
        # float no update can overflow, and the copies are not needed. Course net, in place:
        # the copy 68 us a step, the gradient's norm that replaces it 21 us (1.13 ms -> 1.08
        # ms). None: measure again.
        self.bounds: tuple[float, list[float]] | None = None
        self.bounded = True  # False once the rule says it has no bound (Adam): copy always
        # updates proved safe without reading the gradients since the bounds last started again
        # from the arrays' norms; None once the gradient's norm is needed (see _next_bounds)
        self.unread_updates: int | None = 0

    def train_batch(self, picked: NDArray[np.intp] | None) -> tuple[float, FloatArray, FloatArray]:
        """One batch (rows ``picked``, or all): forward, backward, update; the loss, the outputs and
        the targets (as the tape read them: one-hot for class indices)."""
        batch = self.batch if picked is None else self.batch.rows(picked)
        result = self.compiled.value_and_grad(batch, output_grad=self.owner._seed(batch.size))
        self.owner.loss.check_outputs(result.outputs[:, 2:])  # before the update: a failed step keeps nothing
        self.grads = result.param_grads
        self.changed = True  # the gradients at least (an update that diverges changes no value)
        self._update(result.param_grads)
        loss = self.owner.batch_loss(result.outputs[:, 0].tolist(), penalty=float(result.outputs[0, 1]))
        return loss, result.outputs[:, 2:], batch.arrays[1]

    def _update(self, grads: FloatArray) -> None:
        """The optimizer's rule on the arrays, in place: all parameters change or none (as ``step()``).

        The values and gradients are finite (the tape raises on overflow), so only an
        overflow in the rule can make a value non-finite: it raises, and the copies
        taken before the rule (into arrays kept for the fit: no allocation) are put back.
        """
        optimizer, subset = self.optimizer, self.subset
        values = self.values if subset is None else self.values[subset]  # a gather is a copy
        if subset is not None:
            grads = grads[subset]
        self.bounds = self._next_bounds(values, grads)
        copied = self.bounds is None
        if copied and not self.copies:
            self.copies = [np.empty_like(array) for array in self.live]
        for array, copy in zip(self.live if copied else [], self.copies):
            np.copyto(copy, array)
        try:
            with np.errstate(over="raise", invalid="raise"):
                new_values, new_state = optimizer.step_arrays(NUMPY_MATH, values, grads, self.state)
        except FloatingPointError:
            if not copied:  # cannot happen: the rule's bounds prove this update finite
                raise
            for array, copy in zip(self.live, self.copies):
                np.copyto(array, copy)
            raise self._divergence(grads) from None
        for array, new in zip([values, *self.state], [new_values, *new_state]):
            if new is not array:  # a rule written without augmented assignments returns new arrays
                np.copyto(array, new)
        if subset is not None:
            self.values[subset] = values
        optimizer.steps += 1

    def _next_bounds(self, values: FloatArray, grads: FloatArray) -> tuple[float, list[float]] | None:
        """The bounds after this update if they prove it cannot overflow, else None (take the copies).

        The gradients are finite (the tape raises on overflow), so below the dtype's largest
        float: with a small learning rate that alone proves an update safe, without reading
        them. When the bounds so carried grow too large, they start again from the arrays'
        own norms (a pass over the values and each state array); when that does not pay (it
        happened again within as many updates as it reads arrays), the gradient's norm is
        taken at every update from then on. The course net's 2,000 updates at lr 1e-4 read
        no gradient; the gradient's norm cost them 28-35 ms CPU in 600 updates, 4% of a step.
        """
        if not self.bounded:
            return None
        lr, largest = self.optimizer.current_lr(), float(np.finfo(values.dtype).max)
        with np.errstate(over="ignore"):  # an infinite norm only means no bound: the copies are taken
            fresh = self.bounds is None
            if fresh:
                self.bounds = self._array_norms(values)
            if self.unread_updates is not None:
                found = self._safe_bounds(lr, largest)
                if found is None and not fresh and self.unread_updates > 1 + len(self.state):
                    self.bounds, self.unread_updates = self._array_norms(values), 0  # start again
                    found = self._safe_bounds(lr, largest)
                if found is not None or not self.bounded:
                    self.unread_updates += 1
                    return found
                self.unread_updates = None  # from now on, the gradient's norm, from the arrays' norms
                if not fresh:
                    self.bounds = self._array_norms(values)
            return self._safe_bounds(lr, _norm(grads))

    def _array_norms(self, values: FloatArray) -> tuple[float, list[float]]:
        """The values' and each state array's norm (each bounds every |entry|)."""
        return _norm(values), [_norm(array) for array in self.state]

    def _safe_bounds(self, lr: float, grad_bound: float) -> tuple[float, list[float]] | None:
        """The rule's bounds after an update with gradients bounded by ``grad_bound``, if they are
        safe (under SAFE_FRACTION of the dtype's largest float); None if not, or if the rule has none."""
        assert self.bounds is not None
        found = self.optimizer.change_bound(lr, grad_bound, *self.bounds)
        if found is None:
            self.bounded = False
            return None
        value_bound, state_bounds = found
        # step_arrays() forms g + decay w before the rule: in the tape's dtype that sum may
        # overflow first (float32: 3.4e38 + 0.01 x 5e37), though the bounds, in Python floats, do not
        decay = self.optimizer.weight_decay
        decayed = grad_bound + decay * self.bounds[0] if decay else 0.0
        safe = SAFE_FRACTION * float(np.finfo(self.values.dtype).max)  # float32 overflows at 3.4e38
        return found if max([decayed, value_bound, *state_bounds]) < safe else None

    def _divergence(self, grads: FloatArray) -> FloatingPointError:
        """The optimizer's error naming the first parameter the update would make non-finite."""
        values = self.values if self.subset is None else self.values[self.subset]
        with np.errstate(all="ignore"):  # the update again, on copies, to see where it fails
            trial, _ = self.optimizer.step_arrays(NUMPY_MATH, values.copy(), grads,
                                                  [array.copy() for array in self.state])
        index = int(np.flatnonzero(~np.isfinite(trial))[0])
        return self.optimizer.diverged(index, float(trial[index]))

    def write_back(self) -> None:
        """The trained values into the parameter Values, the last gradients into ``.grad``,
        the optimizer's state into its lists (nothing if no update happened since the last time)."""
        if not self.changed:
            return
        self.compiled.write_back()
        if self.grads is not None:
            for parameter, gradient in zip(self.compiled.params, self.grads.tolist()):
                parameter.grad = gradient
        for name, array in zip(self.optimizer.state_names, self.state):
            setattr(self.optimizer, name, array.tolist())
        self.changed = False

    def release(self) -> None:
        """:meth:`write_back`, and the tape reads the parameter Values again."""
        self.write_back()
        self.compiled.release_parameters(write_back=False)


# Bounds below this fraction of the dtype's largest float leave every update at least 4 times short
# of it: the rounding of the bounds' arithmetic and of the update itself (a few ulps) cannot reach it.
# (It was 1e-8, when the bounds were carried with the gradient's norm only: the gradients' finiteness
# alone, lr times the largest float, needs room.)
SAFE_FRACTION = 0.25


def _norm(array: FloatArray) -> float:
    """At least every |entry|: the L2 norm (one BLAS pass), plus what squares below the smallest
    normal float lose; inf if the sum of squares overflows."""
    return math.sqrt(float(np.dot(array, array))) + 1e-140
