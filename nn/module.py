"""``Module``: the base of every neuron, layer and network, with PyTorch-like names.

A module finds its parameters by walking its public attributes: a
:class:`~autograd.Parameter`, another :class:`Module`, or a list of either. The walk
follows the order the constructor set them, so names such as
``layers.0.neurons.2.w.1`` are stable: the same model always gets the same names.
"""

from __future__ import annotations

import math
import numbers
from itertools import repeat
from typing import Any, ClassVar
from collections.abc import Callable, Iterator, Mapping

from autograd import Parameter

from .serialization import (PathLike, describe_architecture, failure, first_difference, read_model_file,
                            write_model_file)

__all__ = ["Module", "PathLike"]


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

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # Calling a module calls forward. Declared as a Callable attribute (as PyTorch does)
    # so that each subclass may declare its own precise __call__ for type checkers.
    __call__: Callable[..., Any] = _call

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
        """Every parameter (weights, biases, learnable activation parameters), once each,
        in :meth:`named_parameters` order.

        Example:
            >>> from nn import MLP
            >>> len(MLP(2, [3, 2], seed=0).parameters())  # 3*(2+1) + 2*(3+1)
            17
        """
        found: list[Parameter] = []
        self._collect_parameters(found)
        if len(set(found)) == len(found):  # no shared parameter (a set: 7 ms for 101,000, dict 19 ms)
            return found
        return list(dict.fromkeys(found))  # a shared parameter once, where it was met first

    def _collect_parameters(self, found: list[Parameter]) -> None:
        # The walk of _members without names, generators or a set of ids: for the course's
        # 1000-100-10 net (101,000 parameters) named_parameters() took 0.3-0.6 s, this 20-40 ms.
        # A list of Parameters only (a neuron's weights) is tested and taken by maps in C:
        # the walk 6.3 ms -> 2.5 ms on that net.
        for attribute, value in vars(self).items():
            if attribute.startswith("_"):
                continue
            members = value if isinstance(value, (list, tuple)) else (value,)
            if all(map(isinstance, members, repeat(Parameter))):
                found.extend(members)
                continue
            for member in members:
                if isinstance(member, Parameter):
                    found.append(member)
                elif isinstance(member, Module):
                    member._collect_parameters(found)

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
        for attribute, value in vars(self).items():  # as _members, without naming each parameter
            if not attribute.startswith("_"):
                members = value if isinstance(value, (list, tuple)) else (value,)
                if all(map(isinstance, members, repeat(Parameter))):
                    continue  # a neuron's weights, tested in C as in _collect_parameters
                for member in members:
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

    # -- architecture and files -----------------------------------------------------
    # A module that nn.load can rebuild lists the keys of its config() here (besides
    # "type"), defines from_config and parameter_count, and is @register_module'd.
    config_fields: ClassVar[tuple[str, ...]] = ()
    optional_config_fields: ClassVar[tuple[str, ...]] = ()

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data: enough to rebuild the model with :func:`nn.load`.

        Example:
            >>> from nn import Neuron
            >>> Neuron(2, activation="tanh").config()
            {'type': 'Neuron', 'nin': 2, 'activation': 'tanh'}
        """
        return {"type": type(self).__name__}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Module:
        """A new module from a :meth:`config` dict; ``ValueError`` if bad. Its parameters
        are then set by the loader.

        By default the config's fields are the constructor's keyword arguments;
        override it where they are not.

        Example:
            >>> from nn import Layer
            >>> Layer.from_config({"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"})
            Layer(nin=2, nout=3, activation=relu)
        """
        return cls(**{key: value for key, value in config.items() if key != "type"})

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        """How many parameters :meth:`from_config` would make, found WITHOUT making them.

        It checks the config's values as it goes, so a file declaring a huge model is
        refused before anything is allocated.

        Example:
            >>> from nn import Layer
            >>> Layer.parameter_count({"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"})
            9
        """
        raise NotImplementedError(f"{cls.__name__} does not say how many parameters its config makes")

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
        write_model_file(path, self.config(), self.state_dict())

    def load(self, path: PathLike) -> None:
        """Load parameters saved by :meth:`save` into this model, checking the architecture.

        Never unpickles or evaluates anything. A missing, truncated, mismatched or
        malformed file raises :class:`nn.ModelFileError` (a ``ValueError``; for a
        missing file also a ``FileNotFoundError``) naming the problem, and leaves the
        model unchanged.

        Example:
            >>> from nn import Neuron
            >>> Neuron(2).load("no/such/model.json")
            Traceback (most recent call last):
            ...
            nn.serialization.ModelFileNotFoundError: no model file at 'no/such/model.json'
        """
        document = read_model_file(path)
        expected = self.config()
        found = document["architecture"]
        if found != expected:
            raise failure(path, f"the file holds {describe_architecture(found)} but this model is "
                                f"{describe_architecture(expected)}{first_difference(found, expected)}")
        try:
            self.load_state_dict(document["parameters"])
        except (TypeError, ValueError) as error:
            raise failure(path, str(error)) from None

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

