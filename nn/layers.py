"""Neurons, layers and multilayer perceptrons.

A neuron computes activation(w . x + b); its w . x + b is ONE graph node
(:func:`autograd.dot`), so a drawing shows one node per neuron sum and backward
visits it once. Every forward runs inside :func:`autograd.scope`: a layer's nodes
are tagged ``"layer {i}"`` and a neuron's ``"neuron {j}"`` inside it, so each node
knows its layer and neuron.
"""

from __future__ import annotations

import numbers
from typing import Any
from collections.abc import Mapping, Sequence

import autograd
from autograd import Parameter, Value
from autograd.ops import OPS, DotOperands
from autograd.value import apply_nary

from .activations import ActivationSpec, resolve_activation
from .init import InitSpec, Seed, make_rng, resolve_init
from .module import Module
from .registry import build_module, count_parameters, register_module

__all__ = ["Neuron", "Layer", "MLP", "Sequential", "as_inputs", "positive_int", "weighted_sum",
           "ScopedByIndex"]

DOT = OPS["dot"]  # operands w_1..w_n, x_1..x_n, b: one node per neuron sum


def weighted_sum(weights: Sequence[Value], inputs: Sequence[Value], bias: Value) -> Value:
    """w . x + b as ONE dot node, for operands that are Values already.

    ``autograd.dot(weights, inputs, bias=bias)`` without re-checking every operand:
    this runs once per neuron per sample, and the checks cost 40-75% of it
    (measured: 1.00 s vs 1.76 s for 100k two-input sums).

    Example:
        >>> weighted_sum([Value(2.0)], [Value(3.0)], Value(1.0)).data
        7.0
    """
    return apply_nary(DOT, DotOperands(weights, inputs, bias).pack(), True)


def positive_int(what: str, n: Any) -> int:
    """``n`` as an int if it is a positive integer, else ``ValueError`` naming ``what``.

    Example:
        >>> positive_int("nin", 3)
        3
        >>> positive_int("nout", 0)
        Traceback (most recent call last):
        ...
        ValueError: nout must be a positive int, got 0
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {n!r}")
    return int(n)


def as_inputs(x: Any, nin: int, owner: str) -> list[Value]:
    """The inputs of a module as Values: numbers become leaves labelled x0, x1, ...

    Raises ``ValueError`` for the wrong number of inputs and ``TypeError`` for a
    non-number, naming the module.

    Example:
        >>> [v.label for v in as_inputs([1.0, 2.0], 2, "MLP")]
        ['x0', 'x1']
    """
    if isinstance(x, (Value, str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{owner} takes a sequence of {nin} inputs, got {type(x).__name__}")
    if len(x) != nin:
        raise ValueError(f"{owner} takes {nin} input{'s' if nin != 1 else ''}, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v, f"x{i}") for i, v in enumerate(x)]


class ScopedByIndex:
    """A module whose nodes are tagged with the scope ``"{scope_kind} {index}"``.

    ``index`` is its place in its parent (``None`` when standalone: the scope is then
    just the kind). Drawings fold scopes by kind (``autograd.draw(collapse="neuron")``).
    """

    scope_kind = ""
    _index: int | None = None
    _scope_name = ""

    @property
    def index(self) -> int | None:
        """Its place in its parent; its nodes' scope is ``"{scope_kind} {index}"``."""
        return self._index

    @index.setter
    def index(self, index: int | None) -> None:
        self._index = index
        self._scope_name = self.scope_kind if index is None else f"{self.scope_kind} {index}"


@register_module
class Neuron(ScopedByIndex, Module):
    """activation(w . x + b) with ``nin`` weights and a bias.

    Args:
        nin: number of inputs.
        activation: a name (``"sigmoid"``, ``"relu"``, ``"step"``...), an Activation
            or a callable on a Value (see :mod:`nn.activations`).
        init: ``"uniform"`` (U[-0.5, 0.5], the course's), ``"xavier"``, ``"he"``, a
            number for every weight and bias, or an :class:`nn.init.Initializer`.
        seed: an int or a ``random.Random``; the same seed gives the same neuron.

    Example:
        >>> n = Neuron(2, activation="sigmoid", init=1.0)
        >>> y = n([0.0, 1.0]); round(y.data, 4)  # sigmoid(0 + 1 + 1)
        0.8808
        >>> y.parents[0].op.name, y.scope
        ('dot', ('neuron',))
    """

    scope_kind = "neuron"
    _weight_names = ("w",)
    _bias_names = ("b",)
    nout = 1

    def __init__(self, nin: int, activation: ActivationSpec = "sigmoid", *, init: InitSpec = "uniform",
                 seed: Seed = None, fan_out: int = 1) -> None:
        self.nin = positive_int("nin", nin)
        rng = make_rng(seed)
        initializer = resolve_init(init)
        self.w = [Parameter(initializer.weight(rng, self.nin, fan_out), f"w{i}") for i in range(self.nin)]
        self.b = Parameter(initializer.bias(rng, self.nin, fan_out), "b")
        self.activation = resolve_activation(activation, rng)
        self.index = None

    def forward(self, x: Sequence[Value | float]) -> Value:
        return self._forward(as_inputs(x, self.nin, "Neuron"))

    def _forward(self, inputs: list[Value]) -> Value:
        """The forward pass on inputs already checked and made Values (by its layer)."""
        with autograd.scope(self._scope_name):
            return self.activation.forward(weighted_sum(self.w, inputs, self.b))

    @classmethod
    def from_weights(cls, weights: Sequence[float], bias: float,
                     activation: ActivationSpec = "sigmoid") -> Neuron:
        """A neuron with the given weights and bias (e.g. from the course's slides).

        Example:
            >>> Neuron.from_weights([0.2, 0.2], -0.3, activation="step")([1, 1]).data
            1.0
        """
        neuron = cls(len(weights), activation, init=0.0)
        names = [f"w.{i}" for i in range(len(weights))]
        neuron.load_state_dict({**dict(zip(names, weights)), "b": bias, **_extra_state(neuron)})
        return neuron

    config_fields = ("nin", "activation")

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation.spec()}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return positive_int("nin", config["nin"]) + 1 + _activation_parameters(config["activation"])

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation.describe()}"


@register_module
class Layer(ScopedByIndex, Module):
    """``nout`` neurons that all see the same ``nin`` inputs; returns a list of ``nout`` Values.

    Example:
        >>> layer = Layer(2, 3, activation="sigmoid", init=1.0)
        >>> [round(a.data, 4) for a in layer([0.0, 1.0])]
        [0.8808, 0.8808, 0.8808]
        >>> layer([0.0, 1.0])[2].scope
        ('layer', 'neuron 2')
    """

    scope_kind = "layer"

    def __init__(self, nin: int, nout: int, activation: ActivationSpec = "sigmoid", *,
                 init: InitSpec = "uniform", seed: Seed = None) -> None:
        self.nin = positive_int("nin", nin)
        self.nout = positive_int("nout", nout)
        rng = make_rng(seed)
        self.neurons = [Neuron(self.nin, activation, init=init, seed=rng, fan_out=self.nout)
                        for _ in range(self.nout)]
        for j, neuron in enumerate(self.neurons):
            neuron.index = j
        self.index = None

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        inputs = as_inputs(x, self.nin, "Layer")
        with autograd.scope(self._scope_name):
            return [neuron._forward(inputs) for neuron in self.neurons]

    @classmethod
    def from_weights(cls, weights: Sequence[Sequence[float]], biases: Sequence[float],
                     activation: ActivationSpec = "sigmoid") -> Layer:
        """A layer from a weight matrix W (one row per neuron, nout x nin) and biases b.

        Example:
            >>> layer = Layer.from_weights([[0.2, 0.2], [-0.2, -0.2]], [-0.3, 0.2], activation="step")
            >>> [a.data for a in layer([0, 0])]
            [0.0, 1.0]
        """
        nin, nout = _matrix_shape("weights", weights)
        layer = cls(nin, nout, activation, init=0.0)
        layer.load_state_dict({**_layer_state("", weights, biases), **_extra_state(layer)})
        return layer

    config_fields = ("nin", "nout", "activation")

    def config(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout,
                "activation": self.neurons[0].activation.spec()}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, nout = positive_int("nin", config["nin"]), positive_int("nout", config["nout"])
        return nout * (nin + 1 + _activation_parameters(config["activation"]))

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, activation={self.neurons[0].activation.describe()}"

    _repr_children = False


@register_module
class Sequential(Module):
    """Modules applied one after another; each gets the previous one's outputs.

    Each member's graph nodes are tagged with the scope ``"layer {i}"``.

    Example:
        >>> net = Sequential(Layer(2, 3, activation="relu", seed=0),
        ...                  Layer(3, 1, activation="identity", seed=1))
        >>> len(net([1.0, -1.0])), net.nin, net.nout
        (1, 2, 1)
    """

    config_fields = ("layers",)

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes Modules, argument {i} is {type(layer).__name__}")
            if hasattr(layer, "index"):
                layer.index = i
        self.layers = list(layers)

    @property
    def nin(self) -> int | None:
        return getattr(self.layers[0], "nin", None) if self.layers else None

    @property
    def nout(self) -> int | None:
        return getattr(self.layers[-1], "nout", None) if self.layers else None

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        return cls(*[build_module(layer) for layer in _layer_configs(config)])

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return sum(count_parameters(layer) for layer in _layer_configs(config))

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


def _layer_configs(config: Mapping[str, Any]) -> list[Any]:
    layers = config["layers"]
    if not isinstance(layers, list) or not layers:
        raise ValueError("Sequential needs a non-empty list of layers")
    return layers


def _activation_parameters(spec: Any) -> int:
    """How many learnable parameters (PReLU's slope...) one instance of an activation has."""
    return len(resolve_activation(spec).parameters())


@register_module
class MLP(Sequential):
    """A multilayer perceptron: layers of sizes ``nouts`` after ``nin`` inputs.

    Returns a list of Values, one per output (even for one output).
    ``output_activation`` defaults to ``activation`` (the course's networks use
    sigmoids everywhere); pass ``"identity"`` for linear outputs (logits, scores).

    Example:
        >>> model = MLP(2, [3, 2], activation="sigmoid", init=1.0)  # exercise 1
        >>> model([0.0, 1.0])[0].data
        0.9744787489988975
        >>> model
        MLP(nin=2, nouts=[3, 2], activation=sigmoid, parameters=17)
          (layers.0): Layer(nin=2, nout=3, activation=sigmoid)
          (layers.1): Layer(nin=3, nout=2, activation=sigmoid)
    """

    def __init__(self, nin: int, nouts: Sequence[int] | int, activation: ActivationSpec = "sigmoid",
                 output_activation: ActivationSpec | None = None, *, init: InitSpec = "uniform",
                 seed: Seed = None) -> None:
        nin = positive_int("nin", nin)
        if isinstance(nouts, numbers.Integral) and not isinstance(nouts, bool):
            nouts = [nouts]
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__iter__"):
            raise TypeError(f"nouts must be a list of layer sizes, got {type(nouts).__name__}")
        nouts = [positive_int(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        if not nouts:
            raise ValueError("an MLP needs at least one layer: nouts is empty")
        rng = make_rng(seed)
        sizes = [nin] + nouts
        last = len(nouts) - 1
        layers = [Layer(sizes[i], sizes[i + 1],
                        output_activation if i == last and output_activation is not None else activation,
                        init=init, seed=rng)
                  for i in range(len(nouts))]
        super().__init__(*layers)

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self.layers]

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        x = as_inputs(x, self.layers[0].nin, "MLP")
        for layer in self.layers:
            x = layer(x)
        return x

    @classmethod
    def from_weights(cls, weights: Sequence[Sequence[Sequence[float]]], biases: Sequence[Sequence[float]],
                     activation: ActivationSpec = "sigmoid",
                     output_activation: ActivationSpec | None = None) -> MLP:
        """An MLP from one weight matrix (nout x nin) and one bias vector per layer.

        Example (the course's XNOR from step units: AND and NOR, then OR):
            >>> xnor = MLP.from_weights([[[0.2, 0.2], [-0.2, -0.2]], [[0.2, 0.2]]],
            ...                         [[-0.3, 0.2], [-0.1]], activation="step")
            >>> [xnor([a, b])[0].data for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
            [1.0, 0.0, 0.0, 1.0]
        """
        if len(weights) != len(biases) or not weights:
            raise ValueError(f"need one weight matrix and one bias vector per layer, "
                             f"got {len(weights)} and {len(biases)}")
        shapes = [_matrix_shape(f"weights[{i}]", w) for i, w in enumerate(weights)]
        for i in range(1, len(shapes)):
            if shapes[i][0] != shapes[i - 1][1]:
                raise ValueError(f"weights[{i}] has {shapes[i][0]} columns but layer {i - 1} has "
                                 f"{shapes[i - 1][1]} outputs")
        model = cls(shapes[0][0], [nout for _, nout in shapes], activation, output_activation, init=0.0)
        state: dict[str, Any] = {}
        for i, (w, b) in enumerate(zip(weights, biases)):
            state.update(_layer_state(f"layers.{i}.", w, b))
        model.load_state_dict({**state, **_extra_state(model)})
        return model

    config_fields = ("nin", "nouts", "activation", "output_activation")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MLP:
        # Its fields are its constructor's arguments (Sequential's from_config reads "layers").
        return cls(**{key: value for key, value in config.items() if key != "type"})

    def config(self) -> dict[str, Any]:
        return {"type": "MLP", "nin": self.nin, "nouts": self.nouts,
                "activation": self.layers[0].neurons[0].activation.spec(),
                "output_activation": self.layers[-1].neurons[0].activation.spec()}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nouts = config["nouts"]
        if not isinstance(nouts, list) or not nouts:
            raise ValueError("an MLP's nouts must be a non-empty list of layer sizes")
        sizes = [positive_int("nin", config["nin"])]
        sizes += [positive_int(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        hidden = _activation_parameters(config["activation"])
        output = _activation_parameters(config["output_activation"])
        return sum(nout * (nin + 1 + (output if i == len(nouts) - 1 else hidden))
                   for i, (nin, nout) in enumerate(zip(sizes, sizes[1:])))

    def extra_repr(self) -> str:
        hidden = self.layers[0].neurons[0].activation.describe()
        output = self.layers[-1].neurons[0].activation.describe()
        text = f"nin={self.nin}, nouts={self.nouts}, activation={hidden}"
        if output != hidden:
            text += f", output_activation={output}"
        return text + f", parameters={len(self.parameters())}"


def _matrix_shape(what: str, matrix: Sequence[Sequence[float]]) -> tuple[int, int]:
    """(nin, nout) of a weight matrix given as nout rows of nin numbers."""
    rows = [list(row) for row in matrix]
    if not rows or not rows[0]:
        raise ValueError(f"{what} is empty")
    for j, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise ValueError(f"{what} row {j} has {len(row)} weights, row 0 has {len(rows[0])}")
    return len(rows[0]), len(rows)


def _layer_state(prefix: str, weights: Sequence[Sequence[float]], biases: Sequence[float]) -> dict:
    if len(biases) != len(weights):
        raise ValueError(f"{prefix or 'layer '}needs {len(weights)} biases (one per row of weights), "
                         f"got {len(biases)}")
    state: dict[str, Any] = {}
    for j, (row, bias) in enumerate(zip(weights, biases)):
        for i, w in enumerate(row):
            state[f"{prefix}neurons.{j}.w.{i}"] = w
        state[f"{prefix}neurons.{j}.b"] = bias
    return state


def _extra_state(module: Module) -> dict[str, float]:
    """Current values of learnable activation parameters (slopes...), kept as they are."""
    kinds = {id(p) for p in module.weights()} | {id(p) for p in module.biases()}
    return {name: p._data for name, p in module.named_parameters() if id(p) not in kinds}
