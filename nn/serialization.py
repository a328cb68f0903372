"""Saving models to JSON and loading them back: plain data only, checked field by field.

A model file is one JSON object::

    {"format": "chainrule.nn", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [3, 2], ...},
     "parameters": {"layers.0.neurons.0.w.0": 0.1234, ...}}

Loading parses JSON and nothing else (no pickle, no eval). Every problem, from a
missing file to one hand-edited weight, raises before any parameter changes: a
``FileNotFoundError`` for a missing file, else a :class:`ModelFileError` (a
``ValueError``) whose message names the file and what is wrong.

Example:
    >>> import os, tempfile
    >>> from nn import MLP
    >>> path = os.path.join(tempfile.mkdtemp(), "xor.json")
    >>> MLP(2, [3, 1], seed=0).save(path)
    >>> load(path)
    MLP(nin=2, nouts=[3, 1], activation=sigmoid, parameters=13)
      (layers.0): Layer(nin=2, nout=3, activation=sigmoid)
      (layers.1): Layer(nin=3, nout=1, activation=sigmoid)
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any
from collections.abc import Callable

from .module import Module, PathLike, Sequential

__all__ = ["save", "load", "load_into", "read_model_file", "ModelFileError", "FORMAT", "VERSION"]

FORMAT = "chainrule.nn"
VERSION = 1
_KEYS = ("format", "version", "architecture", "parameters")


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, truncated, edited or for another model."""


def save(model: Module, path: PathLike) -> None:
    """Write ``model``'s architecture and parameters to ``path`` as JSON.

    The file is written to a temporary name and then renamed, so a crash never
    leaves half a file behind.

    Example:
        >>> import os, tempfile
        >>> from nn import Neuron
        >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
        >>> save(Neuron(2, init=1.0), path)
        >>> json.load(open(path))["parameters"]
        {'w.0': 1.0, 'w.1': 1.0, 'b': 1.0}
    """
    if not isinstance(model, Module):
        raise TypeError(f"save needs an nn.Module, got {type(model).__name__}")
    document = {"format": FORMAT, "version": VERSION, "architecture": model.config(),
                "parameters": model.state_dict()}
    text = json.dumps(document, indent=1, allow_nan=False)
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text + "\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_model_file(path: PathLike) -> dict[str, Any]:
    """Parse and check a model file; return its fields (the model is not built).

    Example:
        >>> import os, tempfile
        >>> from nn import Neuron
        >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
        >>> save(Neuron(2), path)
        >>> read_model_file(path)["architecture"]
        {'type': 'Neuron', 'nin': 2, 'activation': 'sigmoid'}
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {str(path)!r}")
    if not path.is_file():
        raise ModelFileError(f"{str(path)!r} is not a file")
    raw = path.read_bytes()
    fail = _failer(path)
    if not raw.strip():
        raise fail("the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise fail(f"not UTF-8 text ({error.reason} at byte {error.start}): not a model file") from None
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys,
                              parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        ends = text.rstrip()
        truncated = error.pos >= len(ends) or (ends.startswith("{") and not ends.endswith("}"))
        hint = " (the file looks truncated)" if truncated else ""
        where = f"line {error.lineno}, column {error.colno}"
        raise fail(f"not valid JSON at {where}: {error.msg}{hint}") from None
    except ValueError as error:  # duplicate keys, NaN or Infinity
        raise fail(str(error)) from None
    if not isinstance(document, dict):
        raise fail(f"expected a JSON object, found {_json_kind(document)}")
    if document.get("format") != FORMAT:
        raise fail(f"not a chainrule model file: 'format' is {document.get('format')!r}, "
                   f"expected {FORMAT!r}")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise fail(f"'version' must be an integer, found {version!r}")
    if version != VERSION:
        newer = " (written by a newer chainrule)" if version > VERSION else ""
        raise fail(f"format version {version} is not supported{newer}; "
                   f"this chainrule reads version {VERSION}")
    missing = [key for key in _KEYS if key not in document]
    unexpected = [key for key in document if key not in _KEYS]
    if missing:
        raise fail(f"missing field{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
    if unexpected:
        raise fail(f"unexpected field{'s' if len(unexpected) > 1 else ''} "
                   f"{', '.join(map(repr, unexpected))}")
    architecture = document["architecture"]
    if not isinstance(architecture, dict) or not isinstance(architecture.get("type"), str):
        raise fail("'architecture' must be an object with a 'type'")
    parameters = document["parameters"]
    if not isinstance(parameters, dict):
        raise fail(f"'parameters' must be an object of names and numbers, found {_json_kind(parameters)}")
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise fail(f"parameter {name!r} must be a number, found {_json_kind(value)} {value!r}"[:300])
        if not math.isfinite(value):
            raise fail(f"parameter {name!r} is {value!r}: parameters must be finite")
    return document


def load_into(model: Module, path: PathLike) -> None:
    """Load the parameters in ``path`` into ``model``, whose architecture must match.

    Example:
        >>> import os, tempfile
        >>> from nn import Neuron
        >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
        >>> save(Neuron(2, init=1.0), path)
        >>> n = Neuron(2, init=0.0); load_into(n, path); n.state_dict()["b"]
        1.0
    """
    document = read_model_file(path)
    fail = _failer(Path(path))
    expected = model.config()
    if document["architecture"] != expected:
        raise fail(f"the file holds {_describe(document['architecture'])} but this model is "
                   f"{_describe(expected)}{_first_difference(document['architecture'], expected)}")
    try:
        model.load_state_dict(document["parameters"])
    except (TypeError, ValueError) as error:
        raise fail(str(error)) from None


def load(path: PathLike) -> Module:
    """Build the model a file describes and load its parameters.

    Only nn's own architectures (MLP, Layer, Neuron, Maxout, Perceptron, Sequential of
    those) can be rebuilt; for your own Module subclass, build it and call
    ``model.load(path)``.

    Example:
        >>> import os, tempfile
        >>> from nn import Layer
        >>> path = os.path.join(tempfile.mkdtemp(), "layer.json")
        >>> Layer(2, 3, activation="tanh", init=0.5).save(path)
        >>> load(path), load(path).state_dict()["neurons.2.b"]
        (Layer(nin=2, nout=3, activation=tanh), 0.5)
    """
    document = read_model_file(path)
    fail = _failer(Path(path))
    try:
        model = build(document["architecture"])
    except (TypeError, ValueError, KeyError) as error:
        raise fail(f"bad architecture: {error}") from None
    try:
        model.load_state_dict(document["parameters"])
    except (TypeError, ValueError) as error:
        raise fail(str(error)) from None
    return model


def build(architecture: dict[str, Any]) -> Module:
    """A fresh model (all parameters 0) from an architecture dict made by ``config()``.

    Example:
        >>> build({"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"})
        Layer(nin=2, nout=3, activation=relu)
    """
    from .layers import MLP, Layer, Maxout, Neuron
    from .perceptron import Perceptron

    if not isinstance(architecture, dict):
        raise ValueError(f"expected an object, found {_json_kind(architecture)}")
    builders: dict[str, tuple[tuple[str, ...], Callable[..., Module]]] = {
        "MLP": (("nin", "nouts", "activation", "output_activation"),
                lambda nin, nouts, activation, output_activation:
                MLP(nin, nouts, activation, output_activation, init=0.0)),
        "Layer": (("nin", "nout", "activation"),
                  lambda nin, nout, activation: Layer(nin, nout, activation, init=0.0)),
        "Neuron": (("nin", "activation"), lambda nin, activation: Neuron(nin, activation, init=0.0)),
        "Maxout": (("nin", "nout", "pieces"),
                   lambda nin, nout, pieces: Maxout(nin, nout, pieces, init=0.0)),
        "Perceptron": (("nin", "activation"),
                       lambda nin, activation: Perceptron(nin, activation, init=0.0)),
        "Sequential": (("layers",), lambda layers: _build_sequential(layers)),
    }
    kind = architecture.get("type")
    if kind not in builders:
        known = ", ".join(sorted(builders))
        raise ValueError(f"unknown model type {kind!r} (nn can rebuild {known}; build your own "
                         "model and call model.load(path))")
    fields, builder = builders[kind]
    given = set(architecture) - {"type"}
    if given != set(fields):
        missing = sorted(set(fields) - given)
        extra = sorted(given - set(fields))
        raise ValueError(f"{kind} needs the fields {', '.join(fields)}"
                         + (f"; missing {', '.join(missing)}" if missing else "")
                         + (f"; unexpected {', '.join(extra)}" if extra else ""))
    model = builder(**{name: architecture[name] for name in fields})
    if model.config() != architecture:
        raise ValueError(f"{kind} rebuilt as {model.config()}, which differs from the file's {architecture}")
    return model


def _build_sequential(layers: Any) -> Sequential:
    if not isinstance(layers, list) or not layers:
        raise ValueError("Sequential needs a non-empty list of layers")
    return Sequential(*[build(layer) for layer in layers])


def _failer(path: Path) -> Callable[[str], ModelFileError]:
    return lambda problem: ModelFileError(f"cannot load model file {str(path)!r}: {problem}")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a model file may hold (parameters must be finite)")


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _describe(architecture: Any) -> str:
    if not isinstance(architecture, dict):
        return repr(architecture)
    fields = ", ".join(f"{k}={v!r}" for k, v in architecture.items() if k != "type")
    return f"{architecture.get('type')}({fields})"


def _first_difference(found: Any, expected: Any, where: str = "") -> str:
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in list(expected) + [k for k in found if k not in expected]:
            if found.get(key) != expected.get(key):
                inner = f"{where}.{key}" if where else key
                return _first_difference(found.get(key), expected.get(key), inner)
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        for i, (a, b) in enumerate(zip(found, expected)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    return f" ({where}: file {found!r}, model {expected!r})" if where else ""
