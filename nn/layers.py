"""Neurons, layers and multilayer perceptrons.

A neuron computes activation(w . x + b); its w . x + b is ONE graph node
(:func:`autograd.dot`), so a drawing shows one node per neuron sum and backward
visits it once. Every forward runs inside :func:`autograd.scope`: a layer's nodes
are tagged ``"layer {i}"`` and a neuron's ``"neuron {j}"`` inside it, so each node
knows its layer and neuron.
"""

from __future__ import annotations

import numbers
from contextlib import closing
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, cast
from collections.abc import Mapping, Sequence

if TYPE_CHECKING:  # typing.Self is Python 3.11+; chainrule runs on 3.10 too
    from typing_extensions import Self

from autograd import Parameter, Value
from autograd.value import data_clock
from autograd.context import in_turn

from .activations import ActivationSpec, resolve_activation
from .init import InitSpec, Seed, make_rng, resolve_init
from .module import Module
from .parts import ScopedByIndex, as_inputs, positive_int, weighted_sum
from .registry import build_module, count_parameters, register_module

__all__ = ["Neuron", "Layer", "MLP", "Sequential", "as_inputs", "positive_int", "weighted_sum",
           "ScopedByIndex"]

_scope_of = attrgetter("_scope")  # each neuron's scope, entered in turn by its layer
_UNREAD: tuple[int, list[Parameter], list[float]] = (-1, [], [])  # a neuron's weights' floats, not read yet


@register_module
class Neuron(ScopedByIndex, Module):
    """activation(w . x + b) with ``nin`` weights and a bias (or activation(w . x), ``bias=False``).

    Args:
        nin: number of inputs.
        activation: a name (``"sigmoid"``, ``"relu"``, ``"step"``...), an Activation
            or a callable on a Value (see :mod:`nn.activations`).
        bias: False for a neuron without a bias: no parameter ``b`` at all (not a
            frozen zero), as in the course's bias-free examples.
        init: ``"uniform"`` (U[-0.5, 0.5], the course's), ``"xavier"``, ``"he"``, a
            number for every weight and bias, or an :class:`nn.init.Initializer`.
        seed: an int or a ``random.Random``; the same seed gives the same neuron.

    Example:
        >>> n = Neuron(2, activation="sigmoid", init=1.0)
        >>> y = n([0.0, 1.0]); round(y.data, 4)  # sigmoid(0 + 1 + 1)
        0.8808
        >>> y.parents[0].op.name, y.scope
        ('dot', ('neuron',))
        >>> [name for name, _ in Neuron(2, bias=False).named_parameters()]
        ['w.0', 'w.1']
    """

    scope_kind = "neuron"
    _weight_names = ("w",)
    _bias_names = ("b",)
    nout = 1

    def __init__(self, nin: int, activation: ActivationSpec = "sigmoid", *, bias: bool = True,
                 init: InitSpec = "uniform", seed: Seed = None, fan_out: int = 1) -> None:
        self.nin = positive_int("nin", nin)
        rng = make_rng(seed)
        initializer = resolve_init(init)
        self.w = [Parameter(initializer.weight(rng, self.nin, fan_out), f"w{i}") for i in range(self.nin)]
        self.b = Parameter(initializer.bias(rng, self.nin, fan_out), "b") if _flag("bias", bias) else None
        self.activation = resolve_activation(activation, rng)
        self.index = None
        self._weights_read: tuple[int, list[Parameter], list[float]] = _UNREAD  # see _output

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self.forward(x)

    def forward(self, x: Sequence[Value | float]) -> Value:
        inputs = as_inputs(x, self.nin, "Neuron")
        with self._scope:
            return self._output(inputs)

    def _output(self, inputs: list[Value], input_data: list[float] | None = None) -> Value:
        """activation(w . x + b) in the scope the caller entered; ``input_data`` is the
        inputs' floats when the caller (its layer) read them once for all its neurons."""
        # The weights' floats are read again only when some Value's data was assigned
        # (autograd's data clock moved: an optimizer step) or ``w`` holds other Values, not
        # once per sample: a list compare by identity instead of a float read per weight.
        # micrograd's demo: 1.06 M instructions a sample's forward instead of 1.13 M (valgrind).
        # The clock is read once, before the floats: a write landing while they are read (from
        # another thread) moves it past the key stored, and the next forward reads again.
        now = data_clock()
        clock, weights, weight_data = self._weights_read
        if clock != now or weights != self.w:
            weights = list(self.w)
            weight_data = [w._data for w in weights]
            self._weights_read = (now, weights, weight_data)
        return self.activation.forward(weighted_sum(weights, inputs, self.b, input_data, weight_data))

    def __getstate__(self) -> dict[str, Any]:
        # The weights' floats are cached under this process's data clock, which starts again
        # at 0 in another process (an unpickled model): the cache is not saved.
        state = self.__dict__.copy()
        state.pop("_weights_read", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._weights_read = _UNREAD

    @classmethod
    def from_weights(cls, weights: Sequence[float], bias: float | None,
                     activation: ActivationSpec = "sigmoid") -> Self:
        """A neuron with the given weights and bias (e.g. from the course's slides);
        ``bias=None`` makes a neuron without a bias.

        Example:
            >>> Neuron.from_weights([0.2, 0.2], -0.3, activation="step")([1, 1]).data
            1.0
            >>> Neuron.from_weights([2.0, -1.0], None, activation="identity").state_dict()
            {'w.0': 2.0, 'w.1': -1.0}
        """
        neuron = cls(len(weights), activation, bias=bias is not None, init=0.0)
        state = {f"w.{i}": w for i, w in enumerate(weights)}
        if bias is not None:
            state["b"] = bias
        neuron.load_state_dict({**state, **_extra_state(neuron)})
        return neuron

    config_fields = ("nin", "activation")
    optional_config_fields = ("bias",)

    def config(self) -> dict[str, Any]:
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation.spec(),
                **_bias_config(self.b is not None)}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        return (positive_int("nin", config["nin"]) + _bias_count(config)
                + _activation_parameters(config["activation"]))

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation.describe()}"


@register_module
class Layer(ScopedByIndex, Module):
    """``nout`` neurons that all see the same ``nin`` inputs; returns a list of ``nout`` Values.

    ``bias=False`` leaves every neuron without a bias parameter.

    Example:
        >>> layer = Layer(2, 3, activation="sigmoid", init=1.0)
        >>> [round(a.data, 4) for a in layer([0.0, 1.0])]
        [0.8808, 0.8808, 0.8808]
        >>> layer([0.0, 1.0])[2].scope
        ('layer', 'neuron 2')
    """

    scope_kind = "layer"

    def __init__(self, nin: int, nout: int, activation: ActivationSpec = "sigmoid", *, bias: bool = True,
                 init: InitSpec = "uniform", seed: Seed = None) -> None:
        self.nin = positive_int("nin", nin)
        self.nout = positive_int("nout", nout)
        rng = make_rng(seed)
        self.neurons = [Neuron(self.nin, activation, bias=bias, init=init, seed=rng, fan_out=self.nout)
                        for _ in range(self.nout)]
        for j, neuron in enumerate(self.neurons):
            neuron.index = j
        self.index = None

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self.forward(x)

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(as_inputs(x, self.nin, "Layer"))

    def _forward(self, inputs: list[Value]) -> list[Value]:
        """The forward pass on inputs already checked and made Values (by its MLP)."""
        input_data = [x._data for x in inputs]  # read once, not once per neuron
        with self._scope, closing(in_turn(self.neurons, _scope_of)) as neurons:
            return [neuron._output(inputs, input_data) for neuron in neurons]

    @classmethod
    def from_weights(cls, weights: Sequence[Sequence[float]], biases: Sequence[float] | None,
                     activation: ActivationSpec = "sigmoid") -> Self:
        """A layer from a weight matrix W (one row per neuron, nout x nin) and biases b;
        ``biases=None`` makes a layer without biases.

        Example:
            >>> layer = Layer.from_weights([[0.2, 0.2], [-0.2, -0.2]], [-0.3, 0.2], activation="step")
            >>> [a.data for a in layer([0, 0])]
            [0.0, 1.0]
            >>> [a.data for a in Layer.from_weights([[1, 2], [3, 4]], None, activation="identity")([1, 1])]
            [3.0, 7.0]
        """
        nin, nout = _matrix_shape("weights", weights)
        layer = cls(nin, nout, activation, bias=biases is not None, init=0.0)
        layer.load_state_dict({**_layer_state("", weights, biases), **_extra_state(layer)})
        return layer

    config_fields = ("nin", "nout", "activation")
    optional_config_fields = ("bias",)

    def config(self) -> dict[str, Any]:
        return {"type": "Layer", "nin": self.nin, "nout": self.nout,
                "activation": self.neurons[0].activation.spec(),
                **_bias_config(self.neurons[0].b is not None)}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, nout = positive_int("nin", config["nin"]), positive_int("nout", config["nout"])
        return nout * (nin + _bias_count(config) + _activation_parameters(config["activation"]))

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

    config_fields: ClassVar[tuple[str, ...]] = ("layers",)

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
    ``activation`` is the hidden layers'; the last layer is linear by default
    (``output_activation="identity"``: scores or logits, as in PyTorch and micrograd).
    For sigmoid outputs, as the course's networks have, pass ``output_activation="sigmoid"``;
    ``output_activation=None`` gives the last layer the hidden ``activation``.
    ``bias=False`` builds every layer without biases.

    Example:
        >>> model = MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)  # exercise 1
        >>> model([0.0, 1.0])[0].data
        0.9744787489988975
        >>> model
        MLP(nin=2, nouts=[3, 2], activation=sigmoid, parameters=17)
          (layers.0): Layer(nin=2, nout=3, activation=sigmoid)
          (layers.1): Layer(nin=3, nout=2, activation=sigmoid)
    """

    def __init__(self, nin: int, nouts: Sequence[int] | int, activation: ActivationSpec = "sigmoid",
                 output_activation: ActivationSpec | None = "identity", *, bias: bool = True,
                 init: InitSpec = "uniform", seed: Seed = None) -> None:
        nin = positive_int("nin", nin)
        given: Any = nouts
        if isinstance(nouts, numbers.Integral) and not isinstance(nouts, bool):
            given = [int(nouts)]
        if isinstance(given, (str, bytes)) or not hasattr(given, "__iter__"):
            raise TypeError(f"nouts must be a list of layer sizes, got {type(given).__name__}")
        sizes = [nin] + [positive_int(f"nouts[{i}]", n) for i, n in enumerate(given)]
        if len(sizes) == 1:
            raise ValueError("an MLP needs at least one layer: nouts is empty")
        rng = make_rng(seed)
        last = len(sizes) - 2
        layers = [Layer(sizes[i], sizes[i + 1],
                        output_activation if i == last and output_activation is not None else activation,
                        bias=bias, init=init, seed=rng)
                  for i in range(len(sizes) - 1)]
        super().__init__(*layers)

    @property
    def _layers(self) -> list[Layer]:
        return cast(list[Layer], self.layers)  # an MLP's members are all Layers

    @property
    def nouts(self) -> list[int]:
        return [layer.nout for layer in self._layers]

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self.forward(x)

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        values = as_inputs(x, self._layers[0].nin, "MLP")
        for layer in self._layers:
            values = layer._forward(values)
        return values

    @classmethod
    def from_weights(cls, weights: Sequence[Sequence[Sequence[float]]],
                     biases: Sequence[Sequence[float]] | None,
                     activation: ActivationSpec = "sigmoid",
                     output_activation: ActivationSpec | None = "identity") -> Self:
        """An MLP from one weight matrix W (nout x nin: one row per neuron) and one bias
        vector per layer; ``biases=None`` builds it without biases. As for the
        constructor, the last layer is linear unless ``output_activation`` says otherwise.

        Example (the course's XNOR from step units: AND and NOR, then OR):
            >>> xnor = MLP.from_weights([[[0.2, 0.2], [-0.2, -0.2]], [[0.2, 0.2]]],
            ...                         [[-0.3, 0.2], [-0.1]], activation="step", output_activation="step")
            >>> [xnor([a, b])[0].data for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
            [1.0, 0.0, 0.0, 1.0]

        Example (bias-free, linear output: y = W2 relu(W1 x)):
            >>> net = MLP.from_weights([[[1, -1], [2, 0]], [[1, 1]]], None, activation="relu")
            >>> net([3, 1])[0].data, len(net.parameters())  # relu(2) + relu(6), 6 weights
            (8.0, 6)
        """
        if not weights or (biases is not None and len(weights) != len(biases)):
            raise ValueError(f"need one weight matrix and one bias vector per layer, "
                             f"got {len(weights)} and {'no' if biases is None else len(biases)}")
        shapes = [_matrix_shape(f"weights[{i}]", w) for i, w in enumerate(weights)]
        for i in range(1, len(shapes)):
            if shapes[i][0] != shapes[i - 1][1]:
                raise ValueError(f"weights[{i}] has {shapes[i][0]} columns but layer {i - 1} has "
                                 f"{shapes[i - 1][1]} outputs")
        model = cls(shapes[0][0], [nout for _, nout in shapes], activation, output_activation,
                    bias=biases is not None, init=0.0)
        state: dict[str, Any] = {}
        for i, w in enumerate(weights):
            state.update(_layer_state(f"layers.{i}.", w, None if biases is None else biases[i]))
        model.load_state_dict({**state, **_extra_state(model)})
        return model

    config_fields = ("nin", "nouts", "activation", "output_activation")
    optional_config_fields = ("bias",)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MLP:
        # Its fields are its constructor's arguments (Sequential's from_config reads "layers").
        return cls(**{key: value for key, value in config.items() if key != "type"})

    def config(self) -> dict[str, Any]:
        return {"type": "MLP", "nin": self.nin, "nouts": self.nouts,
                "activation": self._layers[0].neurons[0].activation.spec(),
                "output_activation": self._layers[-1].neurons[0].activation.spec(),
                **_bias_config(self._layers[0].neurons[0].b is not None)}

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nouts = config["nouts"]
        if not isinstance(nouts, list) or not nouts:
            raise ValueError("an MLP's nouts must be a non-empty list of layer sizes")
        sizes = [positive_int("nin", config["nin"])]
        sizes += [positive_int(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        hidden = _activation_parameters(config["activation"])
        output = _activation_parameters(config["output_activation"])
        bias = _bias_count(config)
        return sum(nout * (nin + bias + (output if i == len(nouts) - 1 else hidden))
                   for i, (nin, nout) in enumerate(zip(sizes, sizes[1:])))

    def extra_repr(self) -> str:
        hidden = self._layers[0].neurons[0].activation.describe()
        output = self._layers[-1].neurons[0].activation.describe()
        text = f"nin={self.nin}, nouts={self.nouts}, activation={hidden}"
        if output != hidden:
            text += f", output_activation={output}"
        if self._layers[0].neurons[0].b is None:
            text += ", bias=False"
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


def _layer_state(prefix: str, weights: Sequence[Sequence[float]],
                 biases: Sequence[float] | None) -> dict[str, float]:
    if biases is not None and len(biases) != len(weights):
        raise ValueError(f"{prefix or 'layer '}needs {len(weights)} biases (one per row of weights), "
                         f"got {len(biases)}")
    state: dict[str, float] = {}
    for j, row in enumerate(weights):
        for i, w in enumerate(row):
            state[f"{prefix}neurons.{j}.w.{i}"] = w
        if biases is not None:
            state[f"{prefix}neurons.{j}.b"] = biases[j]
    return state


def _flag(what: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {value!r}"[:200])
    return value


def _bias_config(has_bias: bool) -> dict[str, bool]:
    """The config entry for a module's biases: none when it has them (files stay as they were)."""
    return {} if has_bias else {"bias": False}


def _bias_count(config: Mapping[str, Any]) -> int:
    """1 if the neurons a config describes have a bias parameter, else 0."""
    return 1 if _flag("bias", config.get("bias", True)) else 0


def _extra_state(module: Module) -> dict[str, float]:
    """Current values of learnable activation parameters (slopes...), kept as they are."""
    kinds = {id(p) for p in module.weights()} | {id(p) for p in module.biases()}
    return {name: p._data for name, p in module.named_parameters() if id(p) not in kinds}
