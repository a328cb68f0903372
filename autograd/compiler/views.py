"""Buffers read through views: a group's slots as a strided view when they are regular.

The program keeps values and gradients in buffers with one row per slot. A group
reads the slots of its operands; when they form a regular pattern (a run, a grid,
one slot repeated) NumPy can address them as a view of the buffer, without the
copy a gather (``buffer[idx]``) makes at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["BATCHED", "SHARED", "strided_pattern", "strided_view", "slot_target", "Access"]

# The two buffers a slot can live in: one row of batch_size numbers per batched slot
# (inputs and everything that depends on them), one number per shared slot
# (parameters, frozen leaves, constants and what depends on them alone).
BATCHED, SHARED = 0, 1


def strided_pattern(idx: np.ndarray) -> tuple[int, tuple[int, ...]] | None:
    """``(base, steps)`` with ``idx[i, j, ...] == base + i*steps[0] + j*steps[1] + ...``, or None.

    Example:
        >>> strided_pattern(np.array([[4, 6, 8], [5, 7, 9]]))
        (4, (1, 2))
        >>> strided_pattern(np.array([3, 1])) is None
        True
    """
    if idx.size == 0:
        return None
    base = int(idx.flat[0])
    steps = []
    expected: Any = base
    for axis, length in enumerate(idx.shape):
        step = 0
        if length > 1:
            corner = [0] * idx.ndim
            corner[axis] = 1
            step = int(idx[tuple(corner)]) - base
            if step < 0:
                return None
        steps.append(step)
        shape = [1] * idx.ndim
        shape[axis] = length
        expected = expected + np.arange(length).reshape(shape) * step
    if not np.array_equal(np.broadcast_to(expected, idx.shape), idx):
        return None
    return base, tuple(steps)


def strided_view(buffer: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
    """``buffer[idx]`` as a view (no copy) when idx is a strided pattern, else None.

    Example:
        >>> buffer = np.arange(10.0)
        >>> strided_view(buffer, np.array([2, 3, 4])).base is buffer
        True
    """
    pattern = strided_pattern(idx)
    if pattern is None:
        return None
    base, steps = pattern
    row = buffer.strides[0]
    if idx.ndim == 1 and steps[0] in (0, 1) and (steps[0] == 1 or idx.size == 1):
        return buffer[base:base + idx.size]
    return as_strided(buffer[base:], shape=idx.shape + buffer.shape[1:],
                      strides=tuple(s * row for s in steps) + buffer.strides[1:])


def slot_target(slots: np.ndarray) -> slice | np.ndarray:
    """A slice when the (unique, sorted) slots are a contiguous range, else the array.

    Example:
        >>> slot_target(np.array([3, 4, 5])), slot_target(np.array([1, 3]))
        (slice(3, 6, None), array([1, 3]))
    """
    if slots.size and slots[-1] - slots[0] == slots.size - 1 and np.all(np.diff(slots) == 1):
        return slice(int(slots[0]), int(slots[-1]) + 1)
    return slots


class Access:
    """How a group reads some slots: a fixed view when regular, else a gather per call.

    ``broadcast`` adds a trailing axis, so shared numbers broadcast over a batch.
    """

    def __init__(self, buffer: np.ndarray, idx: np.ndarray, broadcast: bool) -> None:
        view = strided_view(buffer, idx)
        if view is not None and broadcast:
            view = view[..., None]
        self.view = view
        if view is None:
            if broadcast:
                self.get: Callable[[], np.ndarray] = lambda: buffer[idx][..., None]
            else:
                self.get = lambda: buffer[idx]
        else:
            self.get = lambda: view
