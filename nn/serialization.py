"""The model file: format, version, errors, and reading/writing its JSON. Imports nothing of nn.

A model file is one JSON object::

    {"format": "chainrule.nn", "version": 2,
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
import secrets
import stat
from pathlib import Path
from typing import Any, Union
from collections.abc import Callable, Mapping

__all__ = ["FORMAT", "VERSION", "MAX_FILE_BYTES", "MAX_PARAMETERS", "MAX_DEPTH", "MAX_INTEGER",
           "ModelFileError", "ModelFileNotFoundError", "PathLike",
           "read_model_file", "write_model_file", "failure", "json_kind", "describe_architecture",
           "first_difference"]

FORMAT = "chainrule.nn"
VERSION = 2
# Version 1 (chainrule 0.1) wrote a leaky ReLU with the then-default slope 0.1 as a bare
# "leaky_relu"; since version 2 the default slope is 0.01 (PyTorch's), so reading a
# version 1 file spells that slope out.
_OLD_LEAKY_SLOPE = 0.1

# Limits a model file is checked against before anything is built. A scalar engine
# makes one Python object per parameter (~100 bytes), so a million is already large.
MAX_FILE_BYTES = 128 * 2 ** 20
MAX_PARAMETERS = 1_000_000
MAX_DEPTH = 32            # JSON nesting: a Sequential inside a Sequential... 10 deep is plenty
MAX_INTEGER = 2 ** 53     # every size is an integer a float holds exactly
_KEYS = ("format", "version", "architecture", "parameters")

PathLike = Union[str, Path]


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not JSON, truncated, edited or for another model.

    The message names the file and what is wrong with it; a failed load changes nothing.

    Example:
        >>> import os, tempfile, nn
        >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
        >>> with open(path, "w") as file:
        ...     _ = file.write('{"format": "chainrule')
        >>> nn.load(path)
        Traceback (most recent call last):
        ...
        nn.serialization.ModelFileError: cannot load model file '...': not valid JSON ... looks truncated)
    """


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """No model file at the path given (both a ModelFileError and a FileNotFoundError)."""


def write_model_file(path: PathLike, architecture: Mapping[str, Any],
                     parameters: Mapping[str, float]) -> None:
    """Write a model file atomically: to a temporary name, then renamed over ``path``.

    A crash never leaves half a file behind. The file gets the usual permissions
    (0666 less the umask, like any file the user creates). The name must end in
    ``.json`` (a model file is JSON, whatever its name says), and every parameter
    must be finite; otherwise a ``ValueError`` names the problem and nothing is written.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "m.json")
        >>> write_model_file(path, {"type": "Neuron", "nin": 1, "activation": "relu"}, {"w.0": 1.0, "b": 0.0})
        >>> json.load(open(path))["format"]
        'chainrule.nn'
        >>> write_model_file("model.pt", {"type": "Neuron"}, {})
        Traceback (most recent call last):
        ...
        ValueError: chainrule writes models as JSON: name the file 'model.json', not 'model.pt'
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise ValueError(f"chainrule writes models as JSON: name the file {path.stem + '.json'!r}, "
                         f"not {path.name!r}")
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"cannot save parameter {name!r}: it is {value!r}, and a model file holds "
                             "finite numbers only (training diverged? lower the learning rate)")
    document = {"format": FORMAT, "version": VERSION, "architecture": dict(architecture),
                "parameters": dict(parameters)}
    _write_atomically(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def _write_atomically(path: Path, text: str) -> None:
    # os.open with mode 0o666 lets the kernel apply the umask, as for any new file;
    # tempfile.mkstemp would make it 0600 (readable by its owner only).
    folder = path.parent
    while True:
        temporary = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
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
    document = _parse(path, _read_bytes(path))
    _check_header(path, document)
    _check_parameters(path, document["parameters"])
    _check_architecture(path, document["architecture"])
    assert isinstance(document, dict)  # _check_header refused anything else
    if document["version"] == 1:
        document["architecture"] = _from_version_1(document["architecture"])
        document["version"] = VERSION
    return document


def _from_version_1(architecture: Any) -> Any:
    """A version 1 architecture in version 2's terms: bare leaky ReLUs get their slope 0.1."""
    if isinstance(architecture, list):
        return [_from_version_1(item) for item in architecture]
    if not isinstance(architecture, dict):
        return architecture
    upgraded = {}
    for key, value in architecture.items():
        if key.endswith("activation") and _is_leaky_relu(value):
            value = {"name": "leaky_relu", "slope": _OLD_LEAKY_SLOPE,
                     **({k: v for k, v in value.items() if k != "name"} if isinstance(value, dict) else {})}
        upgraded[key] = _from_version_1(value)
    return upgraded


def _is_leaky_relu(spec: Any) -> bool:
    name = spec.get("name") if isinstance(spec, dict) else spec
    return isinstance(name, str) and name.lower() == "leaky_relu"


def _read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file of at most MAX_FILE_BYTES, never a FIFO or device."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ModelFileNotFoundError(f"no model file at {str(path)!r}") from None
    except OSError as error:
        raise failure(path, f"cannot open it ({error.strerror or error})") from None
    mode = os.fstat(handle).st_mode
    if not stat.S_ISREG(mode):
        os.close(handle)
        raise failure(path, "is not a file" + ("" if stat.S_ISDIR(mode) else " (not a regular file)"))
    with os.fdopen(handle, "rb") as file:
        try:
            raw = file.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            raise failure(path, f"cannot read it ({error.strerror or error})") from None
    if len(raw) > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 2 ** 20
        raise failure(path, f"the file is larger than {limit} MiB, the limit for a model file")
    return raw


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
    except RecursionError:  # the parser recurses once per level of nesting
        problem = f"JSON nested too deeply (a model file nests at most {MAX_DEPTH} levels)"
        raise failure(path, problem) from None
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
    if version not in (1, VERSION):
        newer = " (written by a newer chainrule)" if version > VERSION else ""
        raise fail(f"format version {version} is not supported{newer}; "
                   f"this chainrule reads versions 1 to {VERSION}")
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
    if len(parameters) > MAX_PARAMETERS:
        raise failure(path, f"it holds {len(parameters)} parameters, more than the limit of {MAX_PARAMETERS}")
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            problem = f"parameter {name!r} must be a number, found {json_kind(value)} {value!r}"
            raise failure(path, problem[:300])
        if not _is_finite(value):
            raise failure(path, f"parameter {name!r} is {_short(value)}: parameters must be finite "
                                "floats")


def _check_architecture(path: Path, architecture: Any) -> None:
    """Depth, integers and floats of the architecture, checked without recursion.

    Classes check their own fields when asked how many parameters they make; this
    catches what would break them first: nesting deeper than :data:`MAX_DEPTH`
    (a recursion), integers beyond :data:`MAX_INTEGER` and non-finite floats.
    """
    pending: list[tuple[Any, str, int]] = [(architecture, "architecture", 1)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise failure(path, f"the architecture nests more than {MAX_DEPTH} levels deep (at {where})")
        if isinstance(value, dict):
            pending.extend((item, f"{where}.{key}", depth + 1) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        elif isinstance(value, int) and abs(value) > MAX_INTEGER:
            raise failure(path, f"{where} is {_short(value)}, beyond the limit of {MAX_INTEGER}")
        elif not _is_finite(value):
            raise failure(path, f"{where} is {_short(value)}: numbers in a model file must be finite")


def _is_finite(number: Any) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an integer too large for a float
        return False


def _short(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        # str() refuses integers over 4300 digits (about 14,000 bits): estimate those.
        exact = value.bit_length() < 14_000
        digits = len(str(abs(value))) if exact else int(value.bit_length() * math.log10(2)) + 1
        return f"an integer of {'' if exact else 'about '}{digits} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


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
