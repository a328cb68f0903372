"""A bridge to PyTorch: the same network as a ``torch.nn.Module``, and back.

For students who move on: :func:`to_torch` turns an :class:`nn.MLP` (or a
:class:`nn.Sequential` of :class:`nn.Layer`, or one Layer) into a
``torch.nn.Sequential`` of ``Linear`` layers and the matching activation modules,
with the same weights; in float64 its outputs and gradients equal chainrule's to
about 1e-15. :func:`from_torch` brings such a ``Sequential`` back and refuses
anything else with a message naming it.

PyTorch is optional (``pip install "chainrule[torch]"``, or ``pip install
torch==2.13.0``); ``import nn`` never imports it, this module does on first use.

Example:
    >>> import nn, torch
    >>> model = nn.MLP(2, [3, 1], activation="tanh", output_activation="identity", seed=0)
    >>> module = nn.to_torch(model)
    >>> module
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    >>> x = [0.5, -1.0]
    >>> abs(module(torch.tensor([x], dtype=torch.float64)).item() - model(x)[0].data) < 1e-12
    True
    >>> nn.from_torch(module).state_dict() == model.state_dict()
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .layers import MLP, Layer, Sequential
from .module import Module

if TYPE_CHECKING:  # the annotations only: torch is imported where it is used
    import torch

__all__ = ["to_torch", "from_torch", "TORCH_ACTIVATIONS"]


@dataclass(frozen=True)
class _Pair:
    """One activation on both sides: torch's module class and how their options correspond."""

    torch_class: str
    # chainrule attribute -> torch attribute, for the options both have (copied as floats)
    options: dict[str, str] = field(default_factory=dict)
    # torch attributes that must equal these for the module to be chainrule's function
    fixed: dict[str, float] = field(default_factory=dict)
    # torch attributes that only need to be large: (the value to_torch sets, the least
    # value from_torch accepts)
    large: dict[str, tuple[float, float]] = field(default_factory=dict)


# The one table both directions read. torch's Softplus returns x itself above `threshold`
# (default 20, off by e^-20 ~ 2e-9, which from_torch accepts); to_torch sets 40, where
# e^-40 ~ 4e-18 is below float64's resolution of x, so outputs and gradients agree to 1e-12.
TORCH_ACTIVATIONS: dict[str, _Pair] = {
    "sigmoid": _Pair("Sigmoid"),
    "tanh": _Pair("Tanh"),
    "relu": _Pair("ReLU"),
    "leaky_relu": _Pair("LeakyReLU", {"slope": "negative_slope"}),
    "elu": _Pair("ELU", {"alpha": "alpha"}),
    "selu": _Pair("SELU"),
    "softplus": _Pair("Softplus", fixed={"beta": 1.0}, large={"threshold": (40.0, 20.0)}),
    "softsign": _Pair("Softsign"),
    "prelu": _Pair("PReLU"),  # one learnable slope per neuron: num_parameters = out_features
}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("the PyTorch bridge needs PyTorch: pip install torch==2.13.0 "
                          "(or pip install \"chainrule[torch]\")") from None
    return torch


# ---------------------------------------------------------------------------
# chainrule -> torch
# ---------------------------------------------------------------------------
def _layers_of(model: Module) -> list[Layer]:
    """The Layers of an MLP, a Sequential of Layers or a Layer; else a TypeError naming the part."""
    if isinstance(model, Layer):
        return [model]
    if not isinstance(model, Sequential):
        raise TypeError(f"to_torch takes an MLP, a Sequential of Layers or a Layer, "
                        f"got {type(model).__name__}")
    for i, layer in enumerate(model.layers):
        if type(layer) is not Layer:
            raise TypeError(f"to_torch: layer {i} is a {type(layer).__name__}; only nn.Layer "
                            f"(fully connected) layers have a torch.nn.Linear counterpart")
    if not model.layers:
        raise ValueError("to_torch: the Sequential is empty")
    return [layer for layer in model.layers if isinstance(layer, Layer)]


def _torch_activation(layer: Layer, where: str, dtype: Any) -> Any:
    """The torch module for a layer's activation; None for identity; ValueError if it has none."""
    torch = _torch()
    activation = layer.neurons[0].activation
    if activation.name == "identity":
        return None
    pair = TORCH_ACTIVATIONS.get(activation.name)
    scaled = getattr(activation, "c", 1.0) != 1.0
    if pair is None or scaled:
        supported = ", ".join(["identity", *TORCH_ACTIVATIONS])
        raise ValueError(f"to_torch: {where} uses the activation {activation.describe()}, which has no "
                         f"torch.nn counterpart here (supported: {supported}; sigmoid and tanh with c=1)")
    module_class = getattr(torch.nn, pair.torch_class)
    if activation.name == "prelu":
        slopes = [neuron.activation.slope.data for neuron in layer.neurons]  # type: ignore[attr-defined]
        module = module_class(num_parameters=len(slopes), dtype=dtype)
        with torch.no_grad():
            module.weight.copy_(torch.tensor(slopes, dtype=dtype))
        return module
    options = {theirs: float(getattr(activation, ours)) for ours, theirs in pair.options.items()}
    large = {attribute: value for attribute, (value, _) in pair.large.items()}
    return module_class(**options, **pair.fixed, **large)


def to_torch(model: Module, *, dtype: Any = None) -> torch.nn.Sequential:
    """A ``torch.nn.Sequential`` computing what ``model`` computes, with a copy of its weights.

    Each :class:`nn.Layer` becomes a ``torch.nn.Linear`` (weight row j = neuron j's w,
    bias j = its b) followed by its activation's module (none for identity). The copy
    is independent: training one does not change the other. ``dtype`` defaults to
    ``torch.float64``, chainrule's precision.

    Raises ``TypeError`` for a model that is not made of Layers (naming the part) and
    ``ValueError`` for an activation torch has no module for (step, sign, sin...).

    Example:
        >>> import nn
        >>> nn.to_torch(nn.MLP(2, [1], activation="sigmoid", output_activation="sigmoid", seed=0))
        Sequential(
          (0): Linear(in_features=2, out_features=1, bias=True)
          (1): Sigmoid()
        )
    """
    _torch()  # without PyTorch: an ImportError that says how to install it
    import torch  # typed from here on; `import nn` alone never imports it

    dtype = torch.float64 if dtype is None else dtype
    modules: list[Any] = []
    for i, layer in enumerate(_layers_of(model)):
        biases = [n.b.data for n in layer.neurons if n.b is not None]  # none for bias=False
        linear = torch.nn.Linear(layer.nin, layer.nout, bias=bool(biases), dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=dtype))
            if biases:
                linear.bias.copy_(torch.tensor(biases, dtype=dtype))
        modules.append(linear)
        activation = _torch_activation(layer, f"layer {i}", dtype)
        if activation is not None:
            modules.append(activation)
    return torch.nn.Sequential(*modules)


# ---------------------------------------------------------------------------
# torch -> chainrule
# ---------------------------------------------------------------------------
def _describe(module: Any) -> str:
    text = repr(module)
    return text if "\n" not in text and len(text) <= 80 else type(module).__name__


def _activation_name(module: Any, position: int) -> str:
    """chainrule's name for a torch activation module; ValueError naming the module if none."""
    torch = _torch()
    name = next((ours for ours, pair in TORCH_ACTIVATIONS.items()
                 if type(module) is getattr(torch.nn, pair.torch_class)), None)
    if name is None:
        supported = ", ".join(["Linear", "Identity", *(p.torch_class for p in TORCH_ACTIVATIONS.values())])
        raise ValueError(f"from_torch: module {position} is {_describe(module)}, which chainrule does not "
                         f"support (a Sequential of: {supported})")
    return name


def _activation_spec(module: Any, position: int, nout: int) -> str | dict[str, Any]:
    """The chainrule activation spec for a torch activation module; ValueError if its options differ."""
    name = _activation_name(module, position)
    pair = TORCH_ACTIVATIONS[name]
    wrong = [f"{attribute}={required:g}" for attribute, required in pair.fixed.items()
             if float(getattr(module, attribute)) != required]
    wrong += [f"{attribute}>={least:g}" for attribute, (_, least) in pair.large.items()
              if float(getattr(module, attribute)) < least]
    if wrong:
        raise ValueError(f"from_torch: module {position} is {_describe(module)}; chainrule's {name} "
                         f"needs {', '.join(wrong)}")
    if name == "prelu" and module.num_parameters != nout:
        raise ValueError(f"from_torch: module {position} is {_describe(module)}, one slope shared by "
                         f"{nout} neurons; chainrule's prelu learns one slope per neuron: use "
                         f"PReLU(num_parameters={nout})")
    options = {ours: float(getattr(module, theirs)) for ours, theirs in pair.options.items()}
    return {"name": name, **options} if options else name


@dataclass
class _Planned:
    """A torch Linear and the activation after it, with their positions in the Sequential."""

    position: int
    linear: Any
    activation: Any = None
    activation_position: int = -1


def _plan(modules: Sequence[Any]) -> list[_Planned]:
    """The Linear layers with their activations, in order; ValueError naming a misplaced module."""
    torch = _torch()
    plan: list[_Planned] = []
    for position, module in enumerate(modules):
        if type(module) is torch.nn.Linear:
            if plan and plan[-1].linear.out_features != module.in_features:
                raise ValueError(f"from_torch: module {position} takes {module.in_features} inputs but "
                                 f"the layer before it gives {plan[-1].linear.out_features}")
            plan.append(_Planned(position, module))
        elif type(module) is torch.nn.Identity:
            continue
        elif _activation_name(module, position) and (not plan or plan[-1].activation is not None):
            where = "before the first Linear" if not plan else "after another activation"
            raise ValueError(f"from_torch: module {position} ({_describe(module)}) comes {where}; "
                             f"chainrule applies one activation after each Linear")
        else:
            plan[-1].activation, plan[-1].activation_position = module, position
    if not plan:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    return plan


def _layer_from(planned: _Planned) -> Layer:
    torch = _torch()
    linear, activation = planned.linear, planned.activation
    spec = ("identity" if activation is None
            else _activation_spec(activation, planned.activation_position, linear.out_features))
    weights = linear.weight.detach().to(dtype=torch.float64).tolist()
    biases = None if linear.bias is None else linear.bias.detach().to(dtype=torch.float64).tolist()
    if not all(math.isfinite(v) for row in [*weights, biases or []] for v in row):
        raise ValueError(f"from_torch: module {planned.position} has a weight or bias that is NaN or "
                         f"infinite")
    layer: Layer = Layer.from_weights(weights, biases, activation=spec)
    if spec == "prelu":
        slopes = activation.weight.detach().to(dtype=torch.float64).tolist()
        layer.load_state_dict({**layer.state_dict(), **{f"neurons.{j}.activation.slope": slope
                                                        for j, slope in enumerate(slopes)}})
    return layer


def from_torch(module: torch.nn.Module) -> Sequential:
    """The chainrule network of a ``torch.nn.Sequential`` of ``Linear`` layers and activations.

    Each ``Linear`` becomes an :class:`nn.Layer` with the same weights (``bias=False``
    without a bias),
    taking the activation module after it (none, or ``Identity``, means a linear
    layer); supported activations are in :data:`TORCH_ACTIVATIONS`. Returns an
    :class:`nn.MLP` when every hidden layer has the same activation, else an
    :class:`nn.Sequential` of Layers. Anything else (a convolution, dropout, a
    custom module, an activation with options chainrule lacks) raises ``ValueError``
    naming the module and its position; nothing is built unless all of it fits.

    Example:
        >>> import torch, nn
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(),
        ...                                   torch.nn.Linear(4, 1)))
        MLP(nin=2, nouts=[4, 1], activation=relu, output_activation=identity, parameters=17)
          (layers.0): Layer(nin=2, nout=4, activation=relu)
          (layers.1): Layer(nin=4, nout=1, activation=identity)
        >>> nn.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Dropout(0.5)))
        Traceback (most recent call last):
        ...
        ValueError: from_torch: module 1 is Dropout(p=0.5, inplace=False), which chainrule does not ...
    """
    torch = _torch()
    if type(module) is torch.nn.Linear:
        module = torch.nn.Sequential(module)
    if type(module) is not torch.nn.Sequential:
        raise TypeError(f"from_torch takes a torch.nn.Sequential of Linear layers and activations, "
                        f"got {_describe(module)}")
    plan = _plan(list(module.children()))
    layers = [_layer_from(planned) for planned in plan]  # all checked before any is built
    return _as_mlp(layers)


def _as_mlp(layers: list[Layer]) -> Sequential:
    """An MLP with the layers' weights when every hidden layer has the same activation."""
    specs = [layer.neurons[0].activation.spec() for layer in layers]
    biased = {layer.neurons[0].b is not None for layer in layers}
    if any(spec != specs[0] for spec in specs[:-1]) or len(biased) > 1:
        return Sequential(*layers)
    model = MLP(layers[0].nin, [layer.nout for layer in layers], specs[0], specs[-1], bias=biased.pop(),
                init=0.0)
    model.load_state_dict({f"layers.{i}.{name}": value for i, layer in enumerate(layers)
                           for name, value in layer.state_dict().items()})
    return model
