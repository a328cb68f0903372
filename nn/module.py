"""``Module``: the base of every neuron, layer and network, with PyTorch-like names.

A module finds its parameters by walking its public attributes: a
:class:`~autograd.Parameter`, another :class:`Module`, or a list of either. The walk
follows the order the constructor set them, so names such as
``layers.0.neurons.2.w.1`` are stable: the same model always gets the same names.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any, Union
from collections.abc import Iterator, Mapping

from autograd import Parameter

__all__ = ["Module", "Sequential", "PathLike"]

PathLike = Union[str, Path]


class Module:
    """Base class: parameters, gradients, train/eval mode, state and files.

    Subclasses set their parameters and sub-modules as attributes in ``__init__``
    (lists of them are fine) and define ``forward``; calling the module calls it.
    Attributes whose names start with ``_`` are private and never walked.

    Example:
        >>> from autograd import Parameter
        >>> class Scale(Module):
        ...     def __init__(self):
        ...         self.k = Parameter(2.0, "k")
        ...     def forward(self, x):
        ...         return self.k * x
        >>> m = Scale()
        >>> m(3.0).data, [name for name, _ in m.named_parameters()]
        (6.0, ['k'])
    """

    # Attribute names whose parameters are weights or biases: the L2 penalty and
    # weight decay act on weights only, never on biases (the course's L2 rule).
    _weight_names: tuple[str, ...] = ()
    _bias_names: tuple[str, ...] = ()

    training: bool = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- walking the tree ----------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, str, Any]]:
        """(dotted name, attribute name, member) for each public Parameter/Module member."""
        for attribute, value in vars(self).items():
            if attribute.startswith("_"):
                continue
            if isinstance(value, (Parameter, Module)):
                yield attribute, attribute, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{attribute}.{i}", attribute, item

    def _walk(self, prefix: str = "") -> Iterator[tuple[str, Parameter, Module, str]]:
        for name, attribute, member in self._members():
            if isinstance(member, Module):
                yield from member._walk(f"{prefix}{name}.")
            else:
                yield f"{prefix}{name}", member, self, attribute

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Each parameter with its dotted name, in a stable order; a shared one once.

        Example:
            >>> from nn import Neuron
            >>> [name for name, _ in Neuron(2, seed=0).named_parameters()]
            ['w.0', 'w.1', 'b']
        """
        seen: set[int] = set()
        for name, parameter, _, _ in self._walk():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                yield name, parameter

    def parameters(self) -> list[Parameter]:
        """Every parameter (weights, biases, learnable activation parameters), once each.

        Example:
            >>> from nn import MLP
            >>> len(MLP(2, [3, 2], seed=0).parameters())  # 3*(2+1) + 2*(3+1)
            17
        """
        return [parameter for _, parameter in self.named_parameters()]

    def weights(self) -> list[Parameter]:
        """The parameters that multiply an input: what the L2 penalty acts on (no biases).

        Example:
            >>> from nn import Neuron
            >>> len(Neuron(3, seed=0).weights())
            3
        """
        return self._of_kind(lambda module, attribute: attribute in module._weight_names)

    def biases(self) -> list[Parameter]:
        """The bias parameters.

        Example:
            >>> from nn import Layer
            >>> len(Layer(3, 4, seed=0).biases())
            4
        """
        return self._of_kind(lambda module, attribute: attribute in module._bias_names)

    def _of_kind(self, test: Any) -> list[Parameter]:
        seen: set[int] = set()
        chosen = []
        for _, parameter, owner, attribute in self._walk():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                if test(owner, attribute):
                    chosen.append(parameter)
        return chosen

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it, depth first.

        Example:
            >>> from nn import Layer
            >>> sum(1 for _ in Layer(2, 3, activation="relu", seed=0).modules())  # layer, 3 neurons, 3 relus
            7
        """
        yield self
        for _, _, member in self._members():
            if isinstance(member, Module):
                yield from member.modules()

    # -- gradients and mode --------------------------------------------------------
    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0.

        Example:
            >>> from nn import Neuron
            >>> n = Neuron(2, seed=0); n([1.0, 2.0]).backward(); n.zero_grad()
            >>> [p.grad for p in n.parameters()]
            [0.0, 0.0, 0.0]
        """
        for parameter in self.parameters():
            parameter.grad = 0.0

    def train(self, mode: bool = True) -> Module:
        """Training mode (the default): RReLU draws random slopes. Returns the module.

        Example:
            >>> from nn import MLP
            >>> MLP(2, [1], seed=0).eval().training
            False
        """
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: RReLU uses its mean slope. Same as ``train(False)``.

        Example:
            >>> from nn import MLP
            >>> MLP(2, [1], seed=0).eval().train().training
            True
        """
        return self.train(False)

    # -- state and files -----------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """``{dotted name: value}`` for every parameter, in :meth:`named_parameters` order.

        Example:
            >>> from nn import Neuron
            >>> Neuron(2, init=1.0).state_dict()
            {'w.0': 1.0, 'w.1': 1.0, 'b': 1.0}
        """
        return {name: parameter._data for name, parameter in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set every parameter from ``{name: number}``; all or nothing.

        Every name must be present, none unknown, every value a finite real number;
        otherwise a ``ValueError`` (``TypeError`` for a wrong kind of value) names the
        problem and no parameter changes.

        Example:
            >>> from nn import Neuron
            >>> n = Neuron(2, init=0.0)
            >>> n.load_state_dict({"w.0": 1.5, "w.1": -2, "b": 0.25}); n.state_dict()
            {'w.0': 1.5, 'w.1': -2.0, 'b': 0.25}
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"a state dict must be a mapping of names to numbers, got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            problems = []
            if missing:
                problems.append(f"missing {_some(missing)}")
            if unexpected:
                problems.append(f"unexpected {_some(unexpected)}")
            raise ValueError(f"state does not match this {type(self).__name__}'s parameters: "
                             + "; ".join(problems))
        values = {name: _checked_number(name, state[name]) for name in named}
        for name, parameter in named.items():
            parameter.data = values[name]

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data: enough to rebuild the model with :func:`nn.load`.

        Example:
            >>> from nn import Neuron
            >>> Neuron(2, activation="tanh").config()
            {'type': 'Neuron', 'nin': 2, 'activation': 'tanh'}
        """
        return {"type": type(self).__name__}

    def save(self, path: PathLike) -> None:
        """Write the architecture and every parameter to a JSON file (atomically).

        Example:
            >>> import tempfile, os
            >>> from nn import MLP
            >>> model = MLP(2, [3, 1], seed=0)
            >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
            >>> model.save(path)
            >>> other = MLP(2, [3, 1], seed=1); other.load(path)
            >>> other.state_dict() == model.state_dict()
            True
        """
        from .serialization import save

        save(self, path)

    def load(self, path: PathLike) -> None:
        """Load parameters saved by :meth:`save` into this model, checking the architecture.

        Never unpickles or evaluates anything. A missing, truncated, mismatched or
        malformed file raises an error naming the problem and leaves the model unchanged
        (``FileNotFoundError`` or :class:`nn.ModelFileError`, a ``ValueError``).

        Example:
            >>> from nn import Neuron
            >>> Neuron(2).load("no/such/model.json")
            Traceback (most recent call last):
            ...
            FileNotFoundError: no model file at 'no/such/model.json'
        """
        from .serialization import load_into

        load_into(self, path)

    # -- display ---------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()})"
        children = [(name, member) for name, _, member in self._members()
                    if isinstance(member, Module) and not getattr(member, "_repr_inline", False)]
        if not children or not getattr(self, "_repr_children", True):
            return head
        lines = [head]
        for name, child in children:
            lines.extend(_indent(f"({name}): {child!r}").splitlines())
        return "\n".join(lines)


class Sequential(Module):
    """Modules applied one after another; each gets the previous one's outputs.

    Each member's graph nodes are tagged with the scope ``"layer {i}"``.

    Example:
        >>> from nn import Layer, Sequential
        >>> net = Sequential(Layer(2, 3, activation="relu", seed=0),
        ...                  Layer(3, 1, activation="identity", seed=1))
        >>> len(net([1.0, -1.0])), net.nin, net.nout
        (1, 2, 1)
    """

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

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _some(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return f"{len(names)} parameter{'s' if len(names) != 1 else ''} ({shown}{more})"


def _checked_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"parameter {name!r} must be a number, got {type(value).__name__}: {value!r}"[:200])
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"parameter {name!r} must be finite, got {number!r}")
    return number
