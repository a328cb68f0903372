"""Batches of inputs for a compiled function, checked before anything runs.

:func:`checked_batch` turns a call's inputs into arrays of numbers with the traced
shapes, one batch size and no NaN, or raises an error naming the input; the
:class:`CheckedBatch` it returns can be given to later calls, which then skip the
checks. Only this module makes CheckedBatches, so a batch is never unchecked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .tape import count

__all__ = ["CheckedBatch", "checked_batch", "as_number_array", "has_nan"]

# Passed by this module only: a CheckedBatch made by hand would skip the checks (a NaN would
# reach the tape), so the constructor refuses any other caller.
_ISSUED = object()


class CheckedBatch:
    """Inputs checked once (:meth:`CompiledFunction.check_batch`), to run many times unchecked.

    Pass it instead of the arrays: ``compiled(batch)``, ``compiled.value_and_grad(batch)``.
    A training loop checks its data once (shapes, numbers, NaN: a pass over every
    number, 25 us a call on the course's 64x1000 batch) instead of at every step;
    :meth:`rows` picks a mini-batch, which needs no check either. Only ``check_batch``
    and ``rows`` make one (a batch made by hand is refused: it would skip the checks).

    The arrays are kept by reference, not copied: changing them after the check
    bypasses it (check again after a change). ``rows`` returns copies.

    Attributes:
        arrays: one array per input, batch first.
        size: the number of samples.
        shapes: the traced per-sample shapes they were checked against.
    """

    __slots__ = ("arrays", "size", "shapes")
    arrays: tuple[NDArray[Any], ...]
    size: int
    shapes: tuple[tuple[int, ...], ...]

    def __init__(self, arrays: tuple[NDArray[Any], ...], size: int, shapes: tuple[tuple[int, ...], ...],
                 *, issued_by: object = None) -> None:
        if issued_by is not _ISSUED:
            raise TypeError("a CheckedBatch comes from compiled.check_batch() (or its rows()): "
                            "one made by hand would skip the input checks")
        self.arrays, self.size, self.shapes = arrays, size, shapes

    def __repr__(self) -> str:
        return f"<CheckedBatch of {count(self.size, 'sample')}, shapes {list(self.shapes)}>"

    def rows(self, picked: NDArray[Any] | Sequence[int]) -> CheckedBatch:
        """The samples at indices ``picked`` (or where a boolean mask is True), still checked.

        Example:
            >>> import numpy as np, autograd
            >>> f = autograd.compile(lambda x: x * 2.0, (0.0,))
            >>> batch = f.check_batch(np.array([1.0, 2.0, 3.0]))
            >>> f(batch.rows(np.array([2, 0]))), f(batch.rows(np.array([True, False, True])))
            (array([6., 2.]), array([2., 6.]))
        """
        indices = np.asarray(picked)
        if indices.dtype == bool:
            if indices.shape != (self.size,):
                raise ValueError(f"rows() got a mask of {indices.size} entries for "
                                 f"{count(self.size, 'sample')}: give one per sample")
            indices = np.flatnonzero(indices)
        if indices.ndim != 1:
            raise ValueError(f"rows() takes one index per picked sample (a 1-d array), "
                             f"got shape {indices.shape}")
        if indices.size == 0:
            raise ValueError("the batch is empty: pick at least one sample")
        if indices.dtype.kind not in "iu":
            raise ValueError(f"rows() takes integer sample indices or a boolean mask, "
                             f"got dtype {indices.dtype}")
        try:
            arrays = tuple(array[indices] for array in self.arrays)
        except IndexError:
            outside = indices[(indices >= self.size) | (indices < -self.size)]
            raise IndexError(f"rows() picks among {count(self.size, 'sample')} (0..{self.size - 1}), "
                             f"got index {int(outside[0])}") from None
        size = arrays[0].shape[0] if arrays else len(indices)
        return CheckedBatch(arrays, size, self.shapes, issued_by=_ISSUED)


def checked_batch(names: Sequence[str], shapes: Sequence[tuple[int, ...]],
                  inputs: Sequence[Any]) -> CheckedBatch:
    """A call's inputs as arrays of numbers with the traced shapes and one batch size, checked.

    ``inputs`` may also be one :class:`CheckedBatch` (checked for these shapes before):
    it is returned as it is.

    Example:
        >>> checked_batch(["x"], [()], [[1.0, 2.0]])
        <CheckedBatch of 2 samples, shapes [()]>
        >>> checked_batch(["x"], [()], [[1.0, float("nan")]])
        Traceback (most recent call last):
        ...
        ValueError: input 'x' contains NaN (sample 1)
    """
    if len(inputs) == 1 and isinstance(inputs[0], CheckedBatch):
        checked = inputs[0]
        if list(checked.shapes) != list(shapes):
            raise ValueError(f"this batch was checked for inputs of shapes {list(checked.shapes)}, "
                             f"this compiled function takes {list(shapes)}")
        return checked
    if len(inputs) != len(names):
        raise TypeError(f"this compiled function takes {count(len(names), 'batched input')} "
                        f"({', '.join(names) or 'none'}), got {len(inputs)}")
    arrays = []
    batch = None
    for name, shape, given in zip(names, shapes, inputs):
        array = given if isinstance(given, np.ndarray) else as_number_array(name, given)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"input {name!r} must hold numbers, got dtype {array.dtype}")
        if array.ndim != len(shape) + 1 or array.shape[1:] != shape:
            expected = ", ".join(["batch", *map(str, shape)]) + ("," if not shape else "")
            raise ValueError(f"input {name!r} must have shape ({expected}) with one row per "
                             f"sample, got {array.shape}")
        if batch is None:
            batch = array.shape[0]
        elif array.shape[0] != batch:
            raise ValueError(f"inputs have different batch sizes: {names[0]!r} has {batch} "
                             f"rows, {name!r} has {array.shape[0]}")
        if array.dtype.kind == "f" and has_nan(array):
            row = int(np.argwhere(np.isnan(array))[0][0])
            raise ValueError(f"input {name!r} contains NaN (sample {row})")
        arrays.append(array)
    if batch == 0:
        raise ValueError("the batch is empty: give at least one sample")
    return CheckedBatch(tuple(arrays), 1 if batch is None else batch, tuple(shapes), issued_by=_ISSUED)


def has_nan(array: NDArray[Any]) -> bool:
    """Whether any entry is NaN: x . x is NaN exactly then (squares never cancel), in one BLAS call.

    Example:
        >>> import numpy as np
        >>> has_nan(np.array([1.0, 2.0])), has_nan(np.array([[1.0], [np.nan]]))
        (False, True)
    """
    flat = array.reshape(-1)
    try:
        return bool(np.isnan(np.dot(flat, flat)))
    except FloatingPointError:  # the squares overflowed (the tape's errstate raises): look closer
        return bool(np.isnan(array).any())


def as_number_array(name: str, given: Any) -> NDArray[Any]:
    """``given`` as a NumPy array of numbers, or a clear error naming the input.

    Example:
        >>> as_number_array("x", [[1, 2], [3]])
        Traceback (most recent call last):
        ...
        ValueError: input 'x' is ragged: every row must have the same length
    """
    try:
        array = np.asarray(given)
    except ValueError:
        raise ValueError(f"input {name!r} is ragged: every row must have the same length") from None
    if array.dtype == object:
        raise TypeError(f"input {name!r} must be an array of numbers, got {type(given).__name__} "
                        "holding non-numbers (or rows of different lengths)")
    return array
