"""Training and inference on the compiled tape (:func:`autograd.compile`).

:class:`CompiledLossAndGrad` is :class:`nn.LossAndGrad` (the per-batch step of
:func:`nn.fit`) run on a compiled tape: the model and its loss are traced once, on
the first batch, and every batch after that runs as a few NumPy calls, the whole
batch at once. It returns what the eager step returns (the batch's loss and the
model's outputs) and leaves the same gradients in each parameter's ``.grad``, so
``fit(..., compiled=True)`` keeps the history, progress bar and results of eager
training (equal to rounding: the tape adds in another order).

:func:`compile_model` traces a model's forward for inference: call it on a
``(batch, nin)`` array, get a ``(batch, nout)`` array, with the parameters' current
values at every call.

A model whose forward draws random numbers (``RReLU`` in training mode) cannot be
traced: the tape would freeze one draw. It is refused with a ``ValueError``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np

import autograd
from autograd import Value
from autograd.compiler import CompiledFunction

from .activations import RReLU
from .losses import LossSpec, l2_penalty
from .module import Module
from .step import BatchResult, BatchStep, output_list

__all__ = ["CompiledLossAndGrad", "compile_model"]


def _refuse_random(model: Module) -> None:
    for module in model.modules():
        if isinstance(module, RReLU) and module.training:
            raise ValueError("the model has an RReLU in training mode: it draws a new random slope "
                             "at every call, which a compiled tape would freeze. Train it with "
                             "compiled=False, or put it in eval mode.")


def compile_model(model: Module, dtype: str = "float64") -> CompiledFunction:
    """The model's forward traced once, in eval mode: ``(batch, nin)`` array -> ``(batch, nout)``.

    Example:
        >>> import numpy as np
        >>> from nn import MLP
        >>> model = MLP(2, [3, 2], activation="sigmoid", init=1.0)
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
    """:class:`nn.LossAndGrad` on a compiled tape: traced on the first batch, then a batch at a time.

    Calling it with a batch (input rows and checked targets) returns the batch's
    :class:`nn.BatchResult` (loss and outputs) and sets each parameter's ``.grad``,
    as the eager step does. Class-index targets of ``cross_entropy`` are given to the
    tape as one-hot vectors (the loss's probability form, the same value and gradient).

    Example:
        >>> from nn import Neuron, LossAndGrad
        >>> n = Neuron(1, activation="identity", init=1.0)      # y = x + 1
        >>> result = CompiledLossAndGrad(n, "squared_error")([[2.0]], [[0.0]])
        >>> result.loss, [p.grad for p in n.parameters()]       # as LossAndGrad's example
        (4.5, [6.0, 3.0])
    """

    def __init__(self, model: Module, loss: LossSpec, l2: float = 0.0, reduction: str = "mean",
                 dtype: str = "float64") -> None:
        super().__init__(model, loss, l2, reduction)
        _refuse_random(model)
        self.dtype = dtype
        self.compiled: CompiledFunction | None = None
        self._classes = 0  # > 0: targets are class indices, given to the tape one-hot
        self._seeds: dict[int, np.ndarray] = {}

    def __call__(self, xs: Sequence[Sequence[float]], ys: Sequence[Any]) -> BatchResult:
        inputs = np.asarray(xs, dtype=float)
        if self.compiled is None:
            self.compiled = self._trace(inputs[0], ys[0])
        targets = self._target_array(ys)
        batch = len(inputs)
        result = self.compiled.value_and_grad(inputs, targets, output_grad=self._seed(batch))
        for parameter, gradient in zip(self.parameters, result.param_grads.tolist()):
            parameter.grad = gradient
        total = self.batch_loss(result.outputs[:, 0].tolist(), penalty=float(result.outputs[0, 1]))
        return BatchResult(total, result.outputs[:, 2:].tolist())

    # -- the traced function ------------------------------------------------------------
    def _trace(self, example_input: np.ndarray, example_target: Any) -> CompiledFunction:
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

        return autograd.compile(per_sample, (example_input, example), self.parameters, dtype=self.dtype)

    def _target_array(self, ys: Sequence[Any]) -> np.ndarray:
        if self._classes:
            return np.eye(self._classes)[np.asarray(ys, dtype=int)]
        return np.asarray(ys, dtype=float)

    def _seed(self, batch: int) -> np.ndarray:
        """d(batch loss)/d(output): the loss column 1/batch (mean) or 1; the penalty once."""
        seed = self._seeds.get(batch)
        if seed is None:
            seed = np.zeros((batch, len(self.compiled.tape.outputs)))
            seed[:, 0] = 1.0 / batch if self.reduction == "mean" and batch > 1 else 1.0
            seed[0, 1] = 1.0 if self.l2 else 0.0
            self._seeds[batch] = seed
        return seed
