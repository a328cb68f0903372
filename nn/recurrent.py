"""Recurrent networks: Elman and Jordan nets, unrolled through time and trained by BPTT.

A recurrent net reads a sequence x_0, x_1, ..., x_{T-1} one step at a time and keeps
*context units*: a copy of what it computed at the step before.

* **Elman**: the context is the previous hidden state,
  h_t = f(W_x x_t + W_c h_{t-1} + b),  y_t = g(V h_t + c).
* **Jordan**: the context is the previous output,
  h_t = f(W_x x_t + W_c y_{t-1} + b),  y_t = g(V h_t + c).

Both are two :class:`nn.Layer`\\ s: ``hidden`` sees the step's inputs followed by the
context (its first ``nin`` weights read x_t, the others the context) and ``output``
sees the hidden layer. Calling the net on a sequence *unrolls* it: the same
parameters are used at every step, and each step's nodes are tagged with the scope
``"step t"``, so ``autograd.draw(outputs, collapse="step")`` draws one box per step.
The backward pass through the unrolled graph is backpropagation through time (BPTT);
``truncate=k`` detaches the context every k steps (truncated BPTT), so no gradient
flows back across more than k steps.

Example:
    >>> import nn
    >>> net = nn.Elman(1, 3, 1, seed=0)
    >>> outputs = net([[0.5], [-0.2], [0.1]])   # one list of nout Values per step
    >>> len(outputs), len(outputs[0]), outputs[2][0].scope[0]
    (3, 1, 'step 2')
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping, Sequence

import autograd
from autograd import Constant, Value

from .activations import ActivationSpec
from .init import InitSpec, Seed, make_rng
from .layers import Layer, positive_int, as_inputs
from .losses import LossSpec, resolve_loss
from .module import Module
from .registry import register_module

__all__ = ["Recurrent", "Elman", "Jordan", "Unrolled", "sequence_loss", "as_sequence"]

Step = Sequence[Any]  # one step's inputs: nin numbers or Values


@dataclass
class Unrolled:
    """One run of a recurrent net over a sequence: every step's outputs and hidden state.

    ``outputs[t]`` and ``hidden[t]`` are the lists of Values y_t and h_t; ``state`` is
    the context after the last step (pass it as ``state=`` to continue the sequence).

    Example:
        >>> import nn
        >>> run = nn.Elman(1, 2, 1, seed=0).unroll([[1.0], [0.0]])
        >>> len(run.outputs), len(run.hidden[1]), len(run.state)
        (2, 2, 2)
    """

    outputs: list[list[Value]]
    hidden: list[list[Value]]
    state: list[Value]

    def hidden_gradients(self, loss: Value) -> list[list[float]]:
        """d loss / d h_t for every step t: the gradients BPTT sends back through time.

        Each is the *total* derivative: through y_t and through every later step.
        ``.grad`` is left untouched.

        Example:
            >>> import nn
            >>> net = nn.Elman(1, 2, 1, init=0.5)
            >>> run = net.unroll([[1.0], [1.0]])
            >>> grads = run.hidden_gradients(run.outputs[-1][0])
            >>> [round(g, 6) for g in grads[1]]  # y_1 = 0.5 h_1 + ... + 0.5
            [0.5, 0.5]
        """
        flat = [h for step in self.hidden for h in step]
        gradients = autograd.grad(loss, flat)
        width = len(self.hidden[0]) if self.hidden else 0
        return [list(gradients[t * width:(t + 1) * width]) for t in range(len(self.hidden))]


class Recurrent(Module):
    """The base of :class:`Elman` and :class:`Jordan`: two layers and a context fed back.

    Subclasses say which values become the next step's context (``_context``) and how
    many context units there are (``ncontext``). ``nn.fit`` trains any ``Recurrent``
    on sequences: each sample is a sequence, each target a list with one target per
    step (``None`` where a step has no target).

    Example:
        >>> from nn import Elman, Jordan
        >>> [isinstance(net, Recurrent) for net in (Elman(1, 2, 1), Jordan(1, 2, 1))]
        [True, True]
        >>> Elman(1, 2, 1).ncontext, Jordan(1, 2, 1).ncontext  # hidden units, or outputs, fed back
        (2, 1)
    """

    def __init__(self, nin: int, nhidden: int, nout: int, activation: ActivationSpec = "tanh",
                 output_activation: ActivationSpec = "identity", *, init: InitSpec = "uniform",
                 seed: Seed = None, truncate: int | None = None) -> None:
        self.nin = positive_int("nin", nin)
        self.nhidden = positive_int("nhidden", nhidden)
        self.nout = positive_int("nout", nout)
        rng = make_rng(seed)
        self.hidden = Layer(self.nin + self.ncontext, self.nhidden, activation, init=init, seed=rng)
        self.output = Layer(self.nhidden, self.nout, output_activation, init=init, seed=rng)
        self.hidden.index, self.output.index = 0, 1
        self.truncate = truncate

    @property
    def ncontext(self) -> int:
        """How many context units feed back into the hidden layer."""
        return self.context_size(self.nhidden, self.nout)

    @staticmethod
    def context_size(nhidden: int, nout: int) -> int:
        """The number of context units of a net with these sizes."""
        raise NotImplementedError

    @property
    def truncate(self) -> int | None:
        """Truncated BPTT: detach the context every ``truncate`` steps (``None``: full BPTT)."""
        return self._truncate

    @truncate.setter
    def truncate(self, steps: int | None) -> None:
        self._truncate = None if steps is None else positive_int("truncate", steps)

    def _context(self, hidden: list[Value], outputs: list[Value]) -> list[Value]:
        raise NotImplementedError

    def initial_state(self) -> list[Value]:
        """The context before the first step: zeros, labelled c0, c1, ...

        Example:
            >>> import nn
            >>> [(c.label, c.data) for c in nn.Jordan(2, 3, 1, seed=0).initial_state()]
            [('c0', 0.0)]
        """
        return [Constant(0.0, f"c{j}") for j in range(self.ncontext)]

    def unroll(self, sequence: Sequence[Step], state: Sequence[Any] | None = None) -> Unrolled:
        """Run the net over ``sequence`` (a list of steps, each ``nin`` inputs) and keep every step.

        ``state`` is the context to start from (``ncontext`` numbers or Values; zeros
        by default), e.g. the ``state`` of an earlier run to continue a sequence.

        Example:
            >>> import nn
            >>> run = nn.Jordan(1, 2, 1, init=0.5).unroll([[1.0], [1.0]])
            >>> [round(y[0].data, 6) for y in run.outputs]
            [1.261594, 1.426175]
        """
        steps = as_sequence(sequence, self.nin, type(self).__name__)
        context = self._checked_state(state)
        outputs, hidden = [], []
        for t, inputs in enumerate(steps):
            if self._truncate is not None and t > 0 and t % self._truncate == 0:
                context = [c.detach() for c in context]
            with autograd.scope(f"step {t}"):
                h = self.hidden(inputs + context)
                y = self.output(h)
            context = self._context(h, y)
            hidden.append(h)
            outputs.append(y)
        return Unrolled(outputs, hidden, context)

    def forward(self, sequence: Sequence[Step], state: Sequence[Any] | None = None) -> list[list[Value]]:
        """The outputs at every step: a list with one list of ``nout`` Values per step.

        Example:
            >>> import nn
            >>> [[round(y.data, 6) for y in step] for step in nn.Elman(1, 2, 1, init=0.5)([[1.0]])]
            [[1.261594]]
        """
        return self.unroll(sequence, state).outputs

    def hidden_gradients(self, sequence: Sequence[Step], targets: Sequence[Any], loss: LossSpec = "mse",
                         state: Sequence[Any] | None = None) -> list[list[float]]:
        """d L / d h_t at every step t, where L is :func:`sequence_loss` of the sequence.

        The gradients backpropagation through time sends to each step's hidden state
        (``.grad`` is left untouched); see :meth:`Unrolled.hidden_gradients`.

        Example:
            >>> import nn
            >>> net = nn.Elman(1, 2, 1, init=0.5)
            >>> [[round(g, 4) for g in step] for step in net.hidden_gradients([[1.0], [1.0]], [None, [0.0]])]
            [[0.1606, 0.1606], [1.4427, 1.4427]]
        """
        run = self.unroll(sequence, state)
        return run.hidden_gradients(sequence_loss(run.outputs, targets, loss))

    def _checked_state(self, state: Sequence[Any] | None) -> list[Value]:
        if state is None:
            return self.initial_state()
        if isinstance(state, (str, bytes, Value)) or not hasattr(state, "__len__"):
            raise TypeError(f"{type(self).__name__} state must be a list of {self.ncontext} "
                            f"context values, got {type(state).__name__}")
        if len(state) != self.ncontext:
            raise ValueError(f"{type(self).__name__} state must have {self.ncontext} context "
                             f"values (one per context unit), got {len(state)}")
        return [c if isinstance(c, Value) else Constant(c, f"c{j}") for j, c in enumerate(state)]

    config_fields = ("nin", "nhidden", "nout", "activation", "output_activation")

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, nhidden, nout = (positive_int(key, config[key]) for key in ("nin", "nhidden", "nout"))
        hidden = {"nin": nin + cls.context_size(nhidden, nout), "nout": nhidden,
                  "activation": config["activation"]}
        output = {"nin": nhidden, "nout": nout, "activation": config["output_activation"]}
        return Layer.parameter_count(hidden) + Layer.parameter_count(output)

    def config(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "nin": self.nin, "nhidden": self.nhidden,
                "nout": self.nout, "activation": self.hidden.neurons[0].activation.spec(),
                "output_activation": self.output.neurons[0].activation.spec()}

    def extra_repr(self) -> str:
        hidden = self.hidden.neurons[0].activation.describe()
        output = self.output.neurons[0].activation.describe()
        truncate = f", truncate={self._truncate}" if self._truncate is not None else ""
        return (f"nin={self.nin}, nhidden={self.nhidden}, nout={self.nout}, activation={hidden}, "
                f"output_activation={output}{truncate}")

    _repr_children = False


@register_module
class Elman(Recurrent):
    """An Elman network: the context units hold the previous hidden state h_{t-1}.

    h_t = activation(W_x x_t + W_c h_{t-1} + b), y_t = output_activation(V h_t + c),
    with h_{-1} = 0 (or ``state``). ``hidden`` has ``nin + nhidden`` weights per
    neuron: the first ``nin`` read x_t, the rest h_{t-1}.

    Example (one step with every weight and bias 0.5: h = tanh(0.5 + 0.5) twice):
        >>> net = Elman(1, 2, 1, init=0.5)
        >>> [round(h.data, 6) for h in net.unroll([[1.0]]).hidden[0]]
        [0.761594, 0.761594]
        >>> net
        Elman(nin=1, nhidden=2, nout=1, activation=tanh, output_activation=identity)
    """

    @staticmethod
    def context_size(nhidden: int, nout: int) -> int:
        return nhidden

    def _context(self, hidden: list[Value], outputs: list[Value]) -> list[Value]:
        return hidden


@register_module
class Jordan(Recurrent):
    """A Jordan network: the context units hold the previous output y_{t-1}.

    h_t = activation(W_x x_t + W_c y_{t-1} + b), y_t = output_activation(V h_t + c),
    with y_{-1} = 0 (or ``state``). ``hidden`` has ``nin + nout`` weights per neuron.

    Example:
        >>> net = Jordan(2, 4, 1, seed=0)
        >>> len(net.hidden.neurons[0].w), len(net([[1.0, 0.0], [0.0, 1.0]]))
        (3, 2)
    """

    @staticmethod
    def context_size(nhidden: int, nout: int) -> int:
        return nout

    def _context(self, hidden: list[Value], outputs: list[Value]) -> list[Value]:
        return outputs


def as_sequence(sequence: Any, nin: int, owner: str) -> list[list[Value]]:
    """A sequence's steps as lists of ``nin`` Values, labelled x0[t], x1[t], ...

    Raises ``TypeError`` for something that is not a sequence of steps and
    ``ValueError`` (naming the step) for an empty sequence or a step of the wrong size.

    Example:
        >>> [[v.label for v in step] for step in as_sequence([[1, 2], [3, 4]], 2, "Elman")]
        [['x0[0]', 'x1[0]'], ['x0[1]', 'x1[1]']]
        >>> as_sequence([[1, 2], [3]], 2, "Elman")
        Traceback (most recent call last):
        ...
        ValueError: Elman step 1 takes 2 inputs, got 1
    """
    if isinstance(sequence, (str, bytes, Value)) or not hasattr(sequence, "__len__"):
        raise TypeError(f"{owner} takes a sequence (a list of steps, each {nin} inputs), "
                        f"got {type(sequence).__name__}")
    if len(sequence) == 0:
        raise ValueError(f"{owner} got an empty sequence: it needs at least one step")
    steps = []
    for t, step in enumerate(sequence):
        if isinstance(step, (Value, numbers.Real)):
            raise TypeError(f"{owner} step {t} is a single number: each step must be a list of "
                            f"{nin} inputs (write [[x0], [x1], ...] for one input per step)")
        try:
            values = as_inputs(step, nin, f"{owner} step {t}")
        except (TypeError, ValueError) as error:  # a value that is not a number: say where
            if str(error).startswith(owner):
                raise
            raise type(error)(f"{owner} step {t}: {error}") from None
        for i, (value, given) in enumerate(zip(values, step)):
            if value is not given:
                value.label = f"x{i}[{t}]"
        steps.append(values)
    return steps


def sequence_loss(outputs: Sequence[Sequence[Value]], targets: Sequence[Any],
                  loss: LossSpec = "mse") -> Value:
    """The mean over the steps of ``loss(outputs[t], targets[t])``; steps whose target is None are skipped.

    This is the loss :func:`nn.fit` trains a recurrent net on, for each sequence.

    Example:
        >>> import nn
        >>> net = nn.Elman(1, 2, 1, init=0.0)           # every output 0
        >>> sequence_loss(net([[1.0], [2.0]]), [[1.0], [3.0]], "mse").data  # (1 + 9) / 2
        5.0
        >>> sequence_loss(net([[1.0], [2.0]]), [None, [3.0]], "mse").data
        9.0
    """
    loss_fn = resolve_loss(loss)
    if len(outputs) != len(targets):
        raise ValueError(f"the sequence has {len(outputs)} steps but {len(targets)} targets: "
                         "give one target per step (None for a step without one)")
    losses = [loss_fn(out, target) for out, target in zip(outputs, targets) if target is not None]
    if not losses:
        raise ValueError("every target of the sequence is None: nothing to learn from")
    total = losses[0] if len(losses) == 1 else autograd.sum(losses)
    return total * (1.0 / len(losses)) if len(losses) > 1 else total
