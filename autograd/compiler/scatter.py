"""Scatter planning: where a group's gradient contributions go, decided once per program.

In the backward pass each group multiplies its upstream gradient by its local
gradients and sends the products to its operands' gradient slots. A
:class:`ScatterPlan`, made once in the order the backward pass runs, decides for
each such scatter whether its slots get their first contribution (then it assigns,
so most gradient buffers are never zeroed) and whether slots repeat (then it sums
them first with a sorted segment sum, ``np.add.reduceat``). Regular blocks of slots
are written through views, products straight into them (``out=``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .views import slot_target, strided_pattern, strided_view

__all__ = ["ScatterPlan", "Scatter", "batch_sum"]

Scatter = Callable[..., None]  # scatter(g, factor=None): send g * factor into the gradient slots


class ScatterPlan:
    """Static plan to send contributions of shape ``idx.shape (+ batch)`` into gradient slots.

    It knows which targets need a gradient at all (``needs``), and whether this is
    the first contribution each receives (``written``, updated here). If it is the
    first for all of them, the plan assigns (no zeroing needed); otherwise it adds,
    and the targets receiving their first contribution are marked in ``zero_first``
    to be zeroed when the backward pass starts. Repeated targets are summed first.
    """

    def __init__(self, idx: np.ndarray, reduce_batch: bool, needs: np.ndarray,
                 written: np.ndarray, zero_first: np.ndarray) -> None:
        self.idx, self.reduce_batch = idx, reduce_batch
        flat = idx.ravel()
        selected = np.flatnonzero(needs[flat])
        targets = flat[selected]
        unique, inverse = np.unique(targets, return_inverse=True)
        first = ~written[unique]
        written[unique] = True
        self.empty = selected.size == 0
        self.assign = bool(first.all())
        if not self.assign:
            zero_first[unique[first]] = True
        self.direct = (not self.empty and selected.size == flat.size and unique.size == flat.size
                       and strided_pattern(idx) is not None)
        self.assign_view: np.ndarray | None = None  # set by bind: where an assigning product may go
        if self.direct or self.empty:
            return
        self.starts: np.ndarray | None = None
        if unique.size != targets.size:  # repeated targets: sort, then sum each run
            self.selected = None if selected.size == flat.size else selected
            self.order: np.ndarray | None = np.argsort(inverse, kind="stable")
            self.starts = np.concatenate(([0], np.cumsum(np.bincount(inverse))[:-1]))
        else:  # put the contributions in the (sorted) order of `unique`
            positions = selected[np.argsort(targets, kind="stable")]
            self.selected = None if np.array_equal(positions, np.arange(flat.size)) else positions
            self.order = None
        self.targets = slot_target(unique)

    def bind(self, grads: np.ndarray, batch_shape: tuple[int, ...]) -> Scatter:
        """The closure ``scatter(g, factor=None)`` that sends ``g * factor`` into ``grads``.

        ``factor`` is a local gradient (an array or a number; None means 1). Where the
        targets are a regular block of slots the product is written straight into the
        gradient buffer (``out=``), so a step allocates no large temporary arrays.
        """
        if self.direct:
            return self._bind_direct(grads)
        return self._bind_gather(grads, batch_shape)

    def _bind_direct(self, grads: np.ndarray) -> Scatter:
        view = strided_view(grads, self.idx)
        assert view is not None
        self.assign_view = view if self.assign else None
        if self.reduce_batch:
            if self.assign:
                def scatter(g: Any, factor: Any = None) -> None:
                    view[...] = batch_sum(g, factor)
            else:
                def scatter(g: Any, factor: Any = None) -> None:
                    view[...] += batch_sum(g, factor)
        elif self.assign:
            def scatter(g: Any, factor: Any = None) -> None:
                if factor is None:
                    view[...] = g
                else:
                    np.multiply(g, factor, out=view)
        else:
            scratch = np.empty(view.shape, dtype=grads.dtype)

            def scatter(g: Any, factor: Any = None) -> None:
                if factor is None:
                    view[...] += g
                else:
                    np.multiply(g, factor, out=scratch)
                    view[...] += scratch
        return scatter

    def _bind_gather(self, grads: np.ndarray, batch_shape: tuple[int, ...]) -> Scatter:
        full = self.idx.shape + batch_shape
        flat = (self.idx.size,) + batch_shape
        selected, order, starts = self.selected, self.order, self.starts
        targets, assign, reduce_batch = self.targets, self.assign, self.reduce_batch

        def scatter(g: Any, factor: Any = None) -> None:
            if reduce_batch:
                c = batch_sum(g, factor)
            elif factor is None:
                c = g
            else:
                c = g * factor
            c = np.broadcast_to(c, full).reshape(flat)
            if selected is not None:
                c = c[selected]
            if order is not None and starts is not None:  # set together
                c = np.add.reduceat(c[order], starts, axis=0)
            if assign:
                grads[targets] = c
            else:
                grads[targets] += c
        return scatter


def batch_sum(g: np.ndarray, factor: Any) -> Any:
    """The sum over the batch (last axis) of ``g * factor``, without the product's temporary.

    Example:
        >>> batch_sum(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 1.0], [0.5, 0.5]]))
        array([3. , 3.5])
    """
    if factor is None:
        return np.add.reduce(g, axis=-1)
    if not isinstance(factor, np.ndarray):
        return np.add.reduce(g, axis=-1) * factor
    if factor.shape[-1] != g.shape[-1]:  # a shared local gradient: constant over the batch
        return np.add.reduce(g, axis=-1) * factor[..., 0]
    return np.einsum("...b,...b->...", g, factor)
