"""Data checks: training data is checked and converted once, before the first step.

:func:`check_inputs` turns the input rows into lists of floats and
:func:`check_data` also puts the targets into the form the loss takes. Anything a
step could not use (a ragged row, a wrong input width, a NaN or infinite value, a
label the loss cannot take, a row given as a dict or a set) is refused with a
``ValueError`` or ``TypeError`` naming the row, so no step starts on bad data.

Every trainer in :mod:`nn` (``fit``, ``evaluate``, ``predict``, the perceptron
rule) calls these functions, so they all accept and refuse the same data.

Example:
    >>> from nn import MLP
    >>> check_inputs(MLP(2, [1]), [[0, 1], (2.5, -1)])
    [[0.0, 1.0], [2.5, -1.0]]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Set
from typing import Any

from autograd import Value

from .losses import Loss, LossSpec, resolve_loss
from .module import Module
from .recurrent import Recurrent

__all__ = ["check_inputs", "check_sequences", "check_data", "as_rows"]


def as_rows(what: str, data: Any) -> list[Any]:
    """``data`` as a list of rows; ``TypeError`` naming ``what`` if it is not a sequence of rows.

    A dict or a set is refused: listing one gives its keys, or its items in an
    arbitrary order, never the rows a user meant.

    Example:
        >>> as_rows("X", ((1, 2), (3, 4)))
        [(1, 2), (3, 4)]
    """
    _refuse_unordered(what, data)
    if isinstance(data, (str, bytes, Value)) or not hasattr(data, "__len__"):
        raise TypeError(f"{what} must be a sequence of rows, got {type(data).__name__}")
    return list(data)


def check_inputs(model: Module, X: Any, what: str = "X row") -> list[list[float]]:
    """Input rows as lists of floats, checked against ``model.nin``; ``ValueError`` naming the bad row.

    ``what`` names a row in the messages (``"X row"``; a sequence's steps for a recurrent net).

    Example:
        >>> from nn import MLP
        >>> check_inputs(MLP(2, [1]), [[0, 1, 2]])
        Traceback (most recent call last):
        ...
        ValueError: X row 0 has 3 values but the model takes 2 inputs
    """
    nin = getattr(model, "nin", None)
    whole = _finite_matrix_rows(X, nin)
    if whole is not None:
        return whole
    rows = as_rows("X", X)
    if not rows:
        raise ValueError("X is empty: no samples to train on")
    checked: list[list[float]] = []
    for i, row in enumerate(rows):
        _refuse_unordered(f"{what} {i}", row)
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise ValueError(f"{what} {i} is {type(row).__name__} {row!r}, not a sequence of inputs"[:200])
        if nin is not None and len(row) != nin:
            raise ValueError(f"{what} {i} has {len(row)} value{'s' if len(row) != 1 else ''} but the model "
                             f"takes {nin} input{'s' if nin != 1 else ''}")
        if checked and len(row) != len(checked[0]):
            raise ValueError(f"{what} {i} has {len(row)} values but row 0 has {len(checked[0])} "
                             "(ragged rows)")
        checked.append([_finite_input(f"{what} {i}", j, v) for j, v in enumerate(row)])
    return checked


def check_sequences(model: Module, X: Any) -> list[list[list[float]]]:
    """The input sequences of a recurrent net, each checked as rows of ``nin`` numbers.

    Example:
        >>> import nn
        >>> check_sequences(nn.Elman(1, 2, 1, seed=0), [[[1], [2]], [[3]]])
        [[[1.0], [2.0]], [[3.0]]]
    """
    sequences = as_rows("X", X)
    if not sequences:
        raise ValueError("X is empty: no sequences to train on")
    checked = []
    for i, sequence in enumerate(sequences):
        _refuse_unordered(f"X sequence {i}", sequence)
        if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__len__"):
            raise ValueError(f"X sequence {i} is {type(sequence).__name__}, not a list of steps")
        if len(sequence) == 0:
            raise ValueError(f"X sequence {i} is empty: a sequence needs at least one step")
        checked.append(check_inputs(model, sequence, f"X sequence {i}, step"))
    return checked


def check_data(model: Module, X: Any, Y: Any, loss: LossSpec) -> tuple[list[list[float]], list[Any]]:
    """Inputs as lists of floats and targets in the loss's form; ``ValueError`` naming the bad row.

    Example:
        >>> from nn import MLP
        >>> check_data(MLP(2, [1]), [[0, 1]], [1], "bce")
        ([[0.0, 1.0]], [[1.0]])
        >>> check_data(MLP(2, [1]), [[0, 1], [1, float("nan")]], [1, 0], "bce")
        Traceback (most recent call last):
        ...
        ValueError: X row 1, column 1 is nan: inputs must be finite numbers
    """
    loss_fn = resolve_loss(loss)
    if isinstance(model, Recurrent):
        return _check_sequence_data(model, X, Y, loss_fn)
    rows = check_inputs(model, X)
    targets = as_rows("Y", Y)
    if len(targets) != len(rows):
        raise ValueError(f"X has {len(rows)} rows but Y has {len(targets)}: one target per row")
    nout = getattr(model, "nout", None)
    checked = []
    for i, target in enumerate(targets):
        _refuse_unordered(f"Y row {i}", target)
        if hasattr(target, "tolist"):  # a NumPy row or scalar
            target = target.tolist()
        try:
            checked.append(loss_fn.check_target(target, nout))
        except ValueError as error:
            raise ValueError(f"Y row {i} does not fit the {loss_fn.name} loss: {error}") from None
    return rows, checked


def _check_sequence_data(model: Module, X: Any, Y: Any, loss_fn: Loss) -> tuple[list[Any], list[Any]]:
    """Sequences and one target per step (``None`` for a step without one), checked."""
    sequences = check_sequences(model, X)
    targets = as_rows("Y", Y)
    if len(targets) != len(sequences):
        raise ValueError(f"X has {len(sequences)} sequences but Y has {len(targets)}: one target "
                         "sequence per input sequence")
    checked = []
    nout = getattr(model, "nout", None)  # a recurrent net's (every nn net knows it)
    for i, (sequence, target) in enumerate(zip(sequences, targets)):
        steps = as_rows(f"Y sequence {i}", target)
        if len(steps) != len(sequence):
            raise ValueError(f"Y sequence {i} has {len(steps)} targets but X sequence {i} has "
                             f"{len(sequence)} steps: one target per step (None for none)")
        if all(step is None for step in steps):
            raise ValueError(f"Y sequence {i} has no target (all None): nothing to learn from")
        try:
            checked.append([None if step is None else
                            loss_fn.check_target(step.tolist() if hasattr(step, "tolist") else step,
                                                 nout) for step in steps])
        except ValueError as error:
            raise ValueError(f"Y sequence {i} does not fit the {loss_fn.name} loss: {error}") from None
    return sequences, checked


def _finite_matrix_rows(X: Any, nin: int | None) -> list[list[float]] | None:
    """A non-empty 2-D NumPy array of finite real numbers, ``nin`` wide, as rows of floats; else None.

    The common case checked by the array itself (the course's 64 x 1000 inputs in a
    millisecond, where the loop of :func:`check_inputs` took a fifth of a second);
    None sends anything else through that loop, which names the bad row.
    """
    dtype = getattr(X, "dtype", None)
    if getattr(dtype, "kind", None) not in ("i", "u", "f") or getattr(X, "ndim", None) != 2 or X.size == 0:
        return None
    if (nin is not None and X.shape[1] != nin) or not (math.isfinite(X.min()) and math.isfinite(X.max())):
        return None  # min and max are NaN if any entry is, and infinite if one is
    rows: list[list[float]] = X.astype("float64").tolist()
    return rows


def _finite_input(row: str, j: int, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{row}, column {j} is {type(v).__name__} {v!r}, not a number"[:200])
    number = float(v)
    if not math.isfinite(number):
        raise ValueError(f"{row}, column {j} is {number!r}: inputs must be finite numbers")
    return number


def _refuse_unordered(what: str, data: Any) -> None:
    if isinstance(data, (Mapping, Set)):
        kind = "a dict" if isinstance(data, Mapping) else "a set"
        raise TypeError(f"{what} is {kind} ({type(data).__name__}): give rows and values as lists, "
                        "tuples or arrays (a dict would give its keys, a set an arbitrary order)")
