"""The module types :func:`nn.load` can rebuild, and :func:`nn.save` / :func:`nn.load`.

Each rebuildable class registers itself with :func:`register_module` and builds itself
from its own ``config()`` (``from_config``), so the loader holds no list of classes or
fields: a new module type written anywhere joins by registering. Before anything is
built, ``parameter_count`` computes from the architecture alone how many parameters the
model would have, and the loader compares it with the parameters the file holds.

Example:
    >>> {"Layer", "MLP", "Maxout"} <= set(MODULES)
    True
"""

from __future__ import annotations

from typing import Any, TypeVar

from .module import Module
from .serialization import PathLike, failure, json_kind, read_model_file

__all__ = ["MODULES", "register_module", "module_type", "count_parameters", "build_module", "save", "load"]

ModuleClass = TypeVar("ModuleClass", bound=type)

MODULES: dict[str, type[Module]] = {}
def register_module(cls: ModuleClass) -> ModuleClass:
    """Class decorator: let :func:`nn.load` rebuild ``cls`` from the ``config()`` it saves.

    The class lists its config keys in ``config_fields`` (and ``optional_config_fields``)
    and defines :meth:`Module.from_config` and :meth:`Module.parameter_count`.

    Example:
        >>> from autograd import Parameter
        >>> @register_module
        ... class Scale(Module):
        ...     config_fields = ()
        ...     def __init__(self): self.k = Parameter(0.0, "k")
        ...     def forward(self, x): return self.k * x
        ...     @classmethod
        ...     def from_config(cls, config): return cls()
        ...     @classmethod
        ...     def parameter_count(cls, config): return 1
        >>> build_module({"type": "Scale"}).state_dict()
        {'k': 0.0}
        >>> del MODULES["Scale"]  # (keep the doctest's class out of the registry)
    """
    name = cls.__name__
    known = MODULES.get(name)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"another module type named {name!r} is registered already "
                         f"({known.__module__}.{known.__qualname__})")
    MODULES[name] = cls
    return cls


def module_type(config: Any) -> type[Module]:
    """The registered class an architecture dict names, after checking its keys.

    Example:
        >>> module_type({"type": "Neuron", "nin": 2, "activation": "relu"}).__name__
        'Neuron'
    """
    if not isinstance(config, dict):
        raise ValueError(f"expected an object, found {json_kind(config)}")
    kind = config.get("type")
    cls = MODULES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(MODULES))
        raise ValueError(f"unknown model type {kind!r}"[:200] + f" (nn can rebuild {known}; "
                         "build your own model and call model.load(path))")
    fields, optional = cls.config_fields, cls.optional_config_fields
    given = [key for key in config if key != "type"]
    missing = [key for key in fields if key not in config]
    extra = [key for key in given if key not in fields and key not in optional]
    if missing or extra:
        raise ValueError(f"{kind} needs the fields {', '.join(fields)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unexpected {', '.join(extra)}"[:200] if extra else ""))
    return cls


def count_parameters(config: Any) -> int:
    """The number of parameters the architecture ``config`` declares, without building it.

    Example:
        >>> count_parameters({"type": "MLP", "nin": 2, "nouts": [3, 1], "activation": "sigmoid",
        ...                   "output_activation": "sigmoid"})
        13
    """
    return module_type(config).parameter_count(config)


def build_module(config: Any) -> Module:
    """A fresh model (all parameters 0) from an architecture dict made by ``config()``.

    Example:
        >>> build_module({"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"})
        Layer(nin=2, nout=3, activation=relu)
    """
    cls = module_type(config)
    model = cls.from_config(config)
    if model.config() != config:
        raise ValueError(f"{cls.__name__} rebuilt as {model.config()}, which differs from the file's "
                         f"{config}"[:300])
    return model


def save(model: Module, path: PathLike) -> None:
    """Write ``model``'s architecture and parameters to ``path`` as JSON (atomically).

    Example:
        >>> import json, os, tempfile
        >>> from nn import Neuron
        >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
        >>> save(Neuron(2, init=1.0), path)
        >>> json.load(open(path))["parameters"]
        {'w.0': 1.0, 'w.1': 1.0, 'b': 1.0}
    """
    if not isinstance(model, Module):
        raise TypeError(f"save needs an nn.Module, got {type(model).__name__}")
    model.save(path)


def load(path: PathLike) -> Module:
    """Build the model a file describes and load its parameters.

    The architecture is checked against the parameters the file holds before anything
    is built. Only registered types (see :func:`register_module`: MLP, Layer, Neuron,
    Maxout, Perceptron, Sequential of those...) can be rebuilt; for your own Module
    subclass, build it and call ``model.load(path)``.

    Example:
        >>> import os, tempfile
        >>> from nn import Layer
        >>> path = os.path.join(tempfile.mkdtemp(), "layer.json")
        >>> Layer(2, 3, activation="tanh", init=0.5).save(path)
        >>> load(path), load(path).state_dict()["neurons.2.b"]
        (Layer(nin=2, nout=3, activation=tanh), 0.5)
    """
    document = read_model_file(path)
    architecture, parameters = document["architecture"], document["parameters"]
    try:
        declared = count_parameters(architecture)
        if declared != len(parameters):
            raise ValueError(f"it declares {declared} parameters but the file holds {len(parameters)}")
        model = build_module(architecture)
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise failure(path, f"bad architecture: {error}") from None
    try:
        model.load_state_dict(parameters)
    except (TypeError, ValueError) as error:
        raise failure(path, str(error)) from None
    return model
