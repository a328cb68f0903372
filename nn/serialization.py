"""The model file: format, version, errors, and reading/writing its JSON. Imports nothing of nn.

A model file is one JSON object::

    {"format": "chainrule.nn", "version": 1,
     "architecture": {"type": "MLP", "nin": 2, "nouts": [3, 2], ...},
     "parameters": {"layers.0.neurons.0.w.0": 0.1234, ...}}

Reading parses JSON and nothing else (no pickle, no eval) and checks the document
field by field. Every problem, from a missing file to one hand-edited weight, raises
a :class:`ModelFileError` (a ``ValueError``) naming the file and what is wrong; a
missing file raises :class:`ModelFileNotFoundError`, which is also a
``FileNotFoundError``. Building a model from the architecture is
:func:`nn.load`'s job (:mod:`nn.module`); this module only knows the file.

Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
    >>> write_model_file(path, {"type": "Neuron", "nin": 1, "activation": "relu"},
    ...                  {"w.0": 0.5, "b": 0.0})
    >>> read_model_file(path)["parameters"]
    {'w.0': 0.5, 'b': 0.0}
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Union
from collections.abc import Callable, Mapping

__all__ = ["FORMAT", "VERSION", "ModelFileError", "ModelFileNotFoundError", "PathLike",
           "read_model_file", "write_model_file", "failure", "json_kind", "describe_architecture",
           "first_difference"]

FORMAT = "chainrule.nn"
VERSION = 1
_KEYS = ("format", "version", "architecture", "parameters")

PathLike = Union[str, Path]


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, truncated, edited or for another model."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """No model file at the path given (both a ModelFileError and a FileNotFoundError)."""


def write_model_file(path: PathLike, architecture: Mapping[str, Any],
                     parameters: Mapping[str, float]) -> None:
    """Write a model file atomically: to a temporary name, then renamed over ``path``.

    A crash never leaves half a file behind.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.json")
        >>> write_model_file(path, {"type": "Neuron", "nin": 1, "activation": "relu"}, {"w.0": 1.0, "b": 0.0})
        >>> json.load(open(path))["format"]
        'chainrule.nn'
    """
    document = {"format": FORMAT, "version": VERSION, "architecture": dict(architecture),
                "parameters": dict(parameters)}
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
    """Parse and check a model file; return its fields (no model is built).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "n.json")
        >>> write_model_file(path, {"type": "Neuron", "nin": 2, "activation": "sigmoid"},
        ...                  {"w.0": 0.0, "w.1": 0.0, "b": 0.0})
        >>> read_model_file(path)["architecture"]
        {'type': 'Neuron', 'nin': 2, 'activation': 'sigmoid'}
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileNotFoundError(f"no model file at {str(path)!r}")
    if not path.is_file():
        raise failure(path, "is not a file")
    document = _parse(path, path.read_bytes())
    _check_header(path, document)
    _check_parameters(path, document["parameters"])
    return document


def failure(path: PathLike, problem: str) -> ModelFileError:
    """The error for a problem with the model file at ``path`` (its message names the file).

    Example:
        >>> failure("m.json", "the file is empty")
        ModelFileError("cannot load model file 'm.json': the file is empty")
    """
    return ModelFileError(f"cannot load model file {str(path)!r}: {problem}")


def _parse(path: Path, raw: bytes) -> Any:
    if not raw.strip():
        raise failure(path, "the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 text ({error.reason} at byte {error.start}): not a model file"
        raise failure(path, problem) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        ends = text.rstrip()
        truncated = error.pos >= len(ends) or (ends.startswith("{") and not ends.endswith("}"))
        hint = " (the file looks truncated)" if truncated else ""
        where = f"line {error.lineno}, column {error.colno}"
        raise failure(path, f"not valid JSON at {where}: {error.msg}{hint}") from None
    except ValueError as error:  # duplicate keys, NaN or Infinity
        raise failure(path, str(error)) from None


def _check_header(path: Path, document: Any) -> None:
    fail: Callable[[str], ModelFileError] = functools.partial(failure, path)
    if not isinstance(document, dict):
        raise fail(f"expected a JSON object, found {json_kind(document)}")
    if document.get("format") != FORMAT:
        raise fail(f"not a chainrule model file: 'format' is {document.get('format')!r}, expected {FORMAT!r}")
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
        raise fail(f"unexpected field{'s' if len(unexpected) > 1 else ''} {', '.join(map(repr, unexpected))}")
    architecture = document["architecture"]
    if not isinstance(architecture, dict) or not isinstance(architecture.get("type"), str):
        raise fail("'architecture' must be an object with a 'type'")


def _check_parameters(path: Path, parameters: Any) -> None:
    if not isinstance(parameters, dict):
        raise failure(path, "'parameters' must be an object of names and numbers, "
                            f"found {json_kind(parameters)}")
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            problem = f"parameter {name!r} must be a number, found {json_kind(value)} {value!r}"
            raise failure(path, problem[:300])
        if not math.isfinite(value):
            raise failure(path, f"parameter {name!r} is {value!r}: parameters must be finite")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a model file may hold (parameters must be finite)")


def json_kind(value: Any) -> str:
    """How a JSON value is called in messages: ``an object``, ``a list``, ``null``...

    Example:
        >>> json_kind([1]), json_kind(None), json_kind(True)
        ('a list', 'null', 'a boolean')
    """
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def describe_architecture(architecture: Any) -> str:
    """``MLP(nin=2, nouts=[3, 1], ...)``: an architecture dict as a call, for messages.

    Example:
        >>> describe_architecture({"type": "Neuron", "nin": 2})
        'Neuron(nin=2)'
    """
    if not isinstance(architecture, dict):
        return repr(architecture)
    fields = ", ".join(f"{k}={v!r}" for k, v in architecture.items() if k != "type")
    return f"{architecture.get('type')}({fields})"


def first_difference(found: Any, expected: Any, where: str = "") -> str:
    """`` (nouts[0]: file 4, model 3)``: where two architectures first differ, or ``""``.

    Example:
        >>> first_difference({"nouts": [4, 1]}, {"nouts": [3, 1]})
        ' (nouts[0]: file 4, model 3)'
    """
    if isinstance(found, dict) and isinstance(expected, dict):
        for key in list(expected) + [k for k in found if k not in expected]:
            if found.get(key) != expected.get(key):
                inner = f"{where}.{key}" if where else key
                return first_difference(found.get(key), expected.get(key), inner)
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        for i, (a, b) in enumerate(zip(found, expected)):
            if a != b:
                return first_difference(a, b, f"{where}[{i}]")
    return f" ({where}: file {found!r}, model {expected!r})" if where else ""
