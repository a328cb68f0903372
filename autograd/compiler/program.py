"""The vectorised program: a tape's instructions grouped, then replayed on NumPy arrays.

A :class:`~autograd.tape.Tape` has one instruction per scalar node. Running it one
instruction at a time would cost a Python call per node, as the eager engine does.
:class:`Program` instead groups the instructions that can run together and runs
each group as a few NumPy calls over every node of the group *and* every sample of
the batch:

* **levels**: an instruction's level is one more than its deepest operand's, so
  the instructions of one level never read each other;
* **groups**: instructions of one level with the same op, the same constant
  argument and the same pattern of batched/shared operands form one group; an index
  array per operand position gathers their operands, the op's forward rule runs
  once on the gathered arrays (``op.forward(NUMPY_MATH, xs, arg)``: the op table's
  own rule), and the results land in consecutive slots;
* **layers**: dot nodes whose weights are shared (parameters) and whose inputs are
  the same batched vector are a layer, ``autograd.dot(w_row, x, b)`` for each
  neuron; they run as one matrix product, forward (``W @ X + b``) and backward
  (``dW = G X^T``, ``dX = W^T G``, ``db = sum G``): the dot op's local gradients
  (``d/dw_i = x_i``, ``d/dx_i = w_i``, ``d/db = 1``) summed over the batch by the
  product. Other dot groups (an L2 penalty ``dot(params, params)``) run as one
  stacked product and sum. Before using either, the program checks that the op
  table's dot rule still is that one (:func:`dot_rule_is_bilinear`);
* **backward**: groups run in reverse; each asks the op table for its local
  gradients (``op.local_grads(NUMPY_MATH, xs, out, arg)``), multiplies by the
  upstream gradient and scatters into its operands' gradient slots. A parameter's
  contributions are summed over the batch. A plan made once per program says, for
  each scatter, whether its slots get their first contribution (then it assigns,
  so most gradient buffers are never zeroed) and whether they repeat (then it sums
  them first with a sorted segment sum, ``np.add.reduceat``). Regular blocks of
  slots are written through views, products straight into them (``out=``).

Values live in two buffers: ``V`` (one row of ``batch_size`` numbers per batched
slot: inputs and everything that depends on them) and ``S`` (one number per shared
slot: parameters, frozen leaves, constants and what depends on them alone). A
layer that reads an argument of the function reads the caller's array in place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .compile_math import NumpyMath, numpy_math
from .ops import FLOAT_MATH, OPS, Op
from .tape import CONST, FROZEN, INPUT, PARAM, TEMP, Instruction, Ref, Tape

__all__ = ["Program", "BoundProgram", "dot_rule_is_bilinear", "BATCHED", "SHARED"]

BATCHED, SHARED = 0, 1
_SPACE_NAMES = {BATCHED: "batched", SHARED: "shared"}
_DOT = OPS["dot"]


@functools.lru_cache(maxsize=1)
def dot_rule_is_bilinear() -> bool:
    """Whether the op table's dot is ``sum w_i x_i (+ b)`` with local gradients ``x_i, w_i, 1``.

    The layer path runs dot groups as matrix products, which is that rule in matrix
    form; it reads the rule from the table here, so a changed rule turns the layer
    path off instead of silently diverging from the eager engine.

    Example:
        >>> dot_rule_is_bilinear()
        True
    """
    rng = np.random.default_rng(0)
    w0, w1, x0, x1, b = (rng.standard_normal(3) for _ in range(5))
    xs = [w0, w1, x0, x1, b]
    out = _DOT.forward(numpy_math(np.float64), xs, True)
    local = _DOT.local_grads(numpy_math(np.float64), xs, out, True)
    return (np.allclose(out, w0 * x0 + w1 * x1 + b, rtol=1e-14, atol=0.0) and len(local) == 5
            and local[0] is x0 and local[1] is x1 and local[2] is w0 and local[3] is w1
            and local[4] == 1.0)


# ---------------------------------------------------------------------------
# Index patterns: a group's slots as a view of a buffer when they are regular.
# ---------------------------------------------------------------------------
def _strides_of(idx: np.ndarray) -> tuple[int, tuple[int, ...]] | None:
    """``(base, steps)`` with ``idx[i, j, ...] == base + i*steps[0] + j*steps[1] + ...``, or None."""
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


def _view(buffer: np.ndarray, idx: np.ndarray) -> np.ndarray | None:
    """``buffer[idx]`` as a view (no copy) when idx is a strided pattern, else None."""
    pattern = _strides_of(idx)
    if pattern is None:
        return None
    base, steps = pattern
    row = buffer.strides[0]
    if idx.ndim == 1 and steps[0] in (0, 1) and (steps[0] == 1 or idx.size == 1):
        return buffer[base:base + idx.size]
    return as_strided(buffer[base:], shape=idx.shape + buffer.shape[1:],
                      strides=tuple(s * row for s in steps) + buffer.strides[1:])


def _target(slots: np.ndarray) -> slice | np.ndarray:
    """A slice when the (unique, sorted) slots are a contiguous range, else the array."""
    if slots.size and slots[-1] - slots[0] == slots.size - 1 and np.all(np.diff(slots) == 1):
        return slice(int(slots[0]), int(slots[-1]) + 1)
    return slots


class Access:
    """How a group reads some slots: a fixed view when regular, else a gather per call."""

    def __init__(self, buffer: np.ndarray, idx: np.ndarray, broadcast: bool) -> None:
        view = _view(buffer, idx)
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


# ---------------------------------------------------------------------------
# Scatters: where a group's gradient contributions go.
# ---------------------------------------------------------------------------
class ScatterPlan:
    """Static plan to send contributions of shape ``idx.shape (+ batch)`` into gradient slots.

    Made during backward planning, in the order the backward pass runs: it knows
    which targets need a gradient at all, and whether this is the first contribution
    each receives. If it is the first for all of them, the plan assigns (no zeroing
    needed); otherwise it adds, and the targets receiving their first contribution
    are zeroed when the backward pass starts (``zero_first``). Repeated targets are
    summed first, with a sorted segment sum.
    """

    def __init__(self, space: int, idx: np.ndarray, reduce_batch: bool, needs: np.ndarray,
                 written: np.ndarray, zero_first: np.ndarray) -> None:
        self.space, self.idx, self.reduce_batch = space, idx, reduce_batch
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
                       and _strides_of(idx) is not None)
        if self.direct or self.empty:
            return
        if unique.size != targets.size:  # repeated targets: sort, then sum each run
            self.selected = None if selected.size == flat.size else selected
            self.order: np.ndarray | None = np.argsort(inverse, kind="stable")
            counts = np.bincount(inverse)
            self.starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        else:  # put the contributions in the (sorted) order of `unique`
            positions = selected[np.argsort(targets, kind="stable")]
            self.selected = None if np.array_equal(positions, np.arange(flat.size)) else positions
            self.order = None
        self.targets = _target(unique)

    def bind(self, grads: np.ndarray, batch_shape: tuple[int, ...]) -> Callable[..., None]:
        """The closure ``scatter(g, factor=None)`` that sends ``g * factor`` into ``grads``.

        ``factor`` is a local gradient (an array or a number; None means 1). Where the
        targets are a regular block of slots the product is written straight into the
        gradient buffer (``out=``), so a step allocates no large temporary arrays.
        """
        reduce_batch = self.reduce_batch
        if self.direct:
            view = _view(grads, self.idx)
            assert view is not None
            self.assign_view = view if self.assign else None
            if reduce_batch:
                if self.assign:
                    def scatter(g: Any, factor: Any = None) -> None:
                        view[...] = _batch_sum(g, factor)
                else:
                    def scatter(g: Any, factor: Any = None) -> None:
                        view[...] += _batch_sum(g, factor)
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
        self.assign_view = None
        full = self.idx.shape + batch_shape
        flat = (self.idx.size,) + batch_shape
        selected, order, starts = self.selected, self.order, getattr(self, "starts", None)
        targets, assign = self.targets, self.assign

        def scatter(g: Any, factor: Any = None) -> None:
            if reduce_batch:
                c = _batch_sum(g, factor)
            elif factor is None:
                c = g
            else:
                c = g * factor
            c = np.broadcast_to(c, full).reshape(flat)
            if selected is not None:
                c = c[selected]
            if order is not None:
                c = np.add.reduceat(c[order], starts, axis=0)
            if assign:
                grads[targets] = c
            else:
                grads[targets] += c
        return scatter


def _batch_sum(g: np.ndarray, factor: Any) -> Any:
    """sum over the batch (last axis) of ``g * factor``, without the product's temporary."""
    if factor is None:
        return np.add.reduce(g, axis=-1)
    if not isinstance(factor, np.ndarray):
        return np.add.reduce(g, axis=-1) * factor
    if factor.shape[-1] != g.shape[-1]:  # a shared local gradient: constant over the batch
        return np.add.reduce(g, axis=-1) * factor[..., 0]
    return np.einsum("...b,...b->...", g, factor)


# ---------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------
class Group:
    """Instructions of one level that run as one vectorised step."""

    kind = "op"
    op: Op | None = None
    arg: Any = None

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int) -> None:
        self.level = level
        self.members = members
        self.out_space = out_space
        self.out_start = out_start
        self.size = len(members)

    @property
    def out_slots(self) -> np.ndarray:
        return np.arange(self.out_start, self.out_start + self.size)

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        """(space, idx) of everything the group reads, for needs-grad analysis."""
        raise NotImplementedError


class OpGroup(Group):
    """Nodes of one op (unary, binary or n-ary), run through the op table."""

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 spaces: Sequence[int], idx: Sequence[np.ndarray]) -> None:
        super().__init__(level, members, out_space, out_start)
        self.op = members[0].op
        self.arg = members[0].arg
        self.spaces = list(spaces)  # per operand position
        self.idx = list(idx)  # per operand position: (k,) slots
        self.nary = self.op.arity is None
        self.local_kinds = self._probe_local_grads()

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        return list(zip(self.spaces, self.idx))

    # n-ary groups gather all batched positions at once, and all shared ones at once
    def segments(self) -> list[tuple[int, list[int]]]:
        found = []
        for space in (BATCHED, SHARED):
            positions = [j for j, s in enumerate(self.spaces) if s == space]
            if positions:
                found.append((space, positions))
        return found

    def _dummy_xs(self, math: NumpyMath) -> Any:
        batched = self.out_space == BATCHED
        shape = (1, 1) if batched else (1,)
        if not self.nary:
            return [np.full(shape, 0.5, dtype=math.dtype) for _ in self.spaces]
        segments = self.segments()
        if len(segments) == 1:
            return np.full((len(self.spaces),) + shape, 0.5, dtype=math.dtype)
        return [np.full(shape, 0.5, dtype=math.dtype) for _ in self.spaces]

    def _probe_local_grads(self) -> list[float | None]:
        """Which local gradients the op table returns as constants (float) or arrays (None).

        The op table's rules are straight-line code over the math namespace, so what
        is a Python number for one input is a Python number for every input.
        """
        math = numpy_math(np.float64)
        with np.errstate(all="ignore"):
            xs = self._dummy_xs(math)
            out = self.op.forward(math, xs, self.arg)
            local = self.op.local_grads(math, xs, out, self.arg)
        kinds: list[float | None] = []
        for entry in local:
            kinds.append(float(entry) if isinstance(entry, (int, float)) else None)
        if len(kinds) != len(self.spaces):
            raise RuntimeError(f"{self.op.name}: the op table gave {len(kinds)} local gradients "
                               f"for {len(self.spaces)} operands")
        return kinds

    def describe(self, tape: Tape) -> str:
        return self.op.name + (f"[{self.arg:g}]" if self.arg is not None and not self.nary else "")


class LinearGroup(Group):
    """Dot nodes with shared weights and the same batched inputs: one matrix product."""

    kind = "linear"
    op = _DOT

    def __init__(self, level: int, members: list[Instruction], out_start: int, w_idx: np.ndarray,
                 x_idx: np.ndarray, b_idx: np.ndarray | None) -> None:
        super().__init__(level, members, BATCHED, out_start)
        self.w_idx, self.x_idx, self.b_idx = w_idx, x_idx, b_idx
        self.arg = b_idx is not None
        # (argument, first column, end column) when x is a run of one argument's columns
        # that the program reads in place from the caller's array (see Program.in_place)
        self.x_source: tuple[int, int, int] | None = None

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        found = [(SHARED, self.w_idx), (BATCHED, np.broadcast_to(self.x_idx, self.w_idx.shape))]
        if self.b_idx is not None:
            found.append((SHARED, self.b_idx))
        return found

    def describe(self, tape: Tape) -> str:
        k, n = self.w_idx.shape
        return f"W[{k}x{n}] @ x" + (" + b" if self.b_idx is not None else "")


class DotGroup(Group):
    """Dot nodes of any other shape: ``sum_i w_i x_i (+ b)`` over stacked operands, no Python loop.

    The op table's dot forward loops over the operands in Python, one NumPy call per
    product; over hundreds of operands (an L2 penalty ``dot(params, params)``) that
    loop would dominate a step. Like :class:`LinearGroup`, this is the table's
    bilinear rule (checked by :func:`dot_rule_is_bilinear`) in array form.
    """

    kind = "dot"
    op = _DOT

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 w_space: int, w_idx: np.ndarray, x_space: int, x_idx: np.ndarray,
                 b_space: int | None, b_idx: np.ndarray | None) -> None:
        super().__init__(level, members, out_space, out_start)
        self.w_space, self.w_idx = w_space, w_idx  # (n, k)
        self.x_space, self.x_idx = x_space, x_idx  # (n, k)
        self.b_space, self.b_idx = b_space, b_idx  # (k,)
        self.arg = b_idx is not None

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        found = [(self.w_space, self.w_idx.T), (self.x_space, self.x_idx.T)]
        if self.b_idx is not None:
            found.append((self.b_space, self.b_idx))
        return found

    def describe(self, tape: Tape) -> str:
        return f"sum of {self.w_idx.shape[0]} products" + (" + b" if self.b_idx is not None else "")


class StopGroup(Group):
    """stop_gradient nodes (from ``Value.detach()`` while tracing): copy forward, no backward."""

    kind = "stop_gradient"

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 src_space: int, src_idx: np.ndarray) -> None:
        super().__init__(level, members, out_space, out_start)
        self.src_space, self.src_idx = src_space, src_idx

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        return []  # the gradient stops here

    def describe(self, tape: Tape) -> str:
        return "stop_gradient"


# ---------------------------------------------------------------------------
# The program
# ---------------------------------------------------------------------------
class Program:
    """A tape grouped into vectorised steps; :meth:`bind` prepares buffers for a batch size.

    Example:
        >>> import autograd
        >>> w = [autograd.Parameter(0.5), autograd.Parameter(-1.0)]
        >>> f = autograd.compile(lambda x: autograd.dot(w, x).relu(), ([1.0, 2.0],))
        >>> print(f.program)
        # program: 2 steps (1 matrix product) for 2 instructions; 4 batched rows, 2 shared slots
        level 1  linear         1 node   t0 = W[1x2] @ x
        level 2  relu           1 node   t1
    """

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        n_inputs = len(tape.input_labels)
        self.n_params = len(tape.params)
        self.n_frozen = len(tape.frozen)
        self.const_start = self.n_params + self.n_frozen
        self.n_inputs = n_inputs
        use_layers = dot_rule_is_bilinear()

        # where each operand lives: (space, slot); temporaries get theirs as groups are laid out
        leaf_place = {INPUT: (BATCHED, 0), PARAM: (SHARED, 0), FROZEN: (SHARED, self.n_params),
                      CONST: (SHARED, self.const_start)}
        temp_space = [0] * len(tape)
        temp_slot = [0] * len(tape)

        def place(ref: Ref) -> tuple[int, int]:
            if ref.kind == TEMP:
                return temp_space[ref.index], temp_slot[ref.index]
            space, start = leaf_place[ref.kind]
            return space, start + ref.index

        level = [0] * len(tape)
        by_level: dict[int, list[Instruction]] = {}
        for ins in tape.instructions:
            deepest = max((level[r.index] for r in ins.operands if r.kind == TEMP), default=0)
            level[ins.target] = deepest + 1
            by_level.setdefault(deepest + 1, []).append(ins)

        next_slot = {BATCHED: n_inputs, SHARED: self.const_start + len(tape.constants)}
        self.groups: list[Group] = []
        operand_slots: dict[int, list[int]] = {}
        for lvl in sorted(by_level):
            buckets: dict[tuple, list[Instruction]] = {}
            for ins in by_level[lvl]:
                places = [place(r) for r in ins.operands]
                spaces = tuple([p[0] for p in places])
                operand_slots[ins.target] = [p[1] for p in places]
                batched = BATCHED in spaces
                if ins.op is None:
                    key: tuple = ("stop", spaces)
                elif ins.op is _DOT and use_layers and batched and self._is_layer_node(ins, spaces):
                    n = len(ins.operands) // 2
                    key = ("linear", bool(ins.arg), ins.operands[n:2 * n])
                elif ins.op is _DOT and use_layers and self._is_uniform_dot(spaces):
                    n = len(ins.operands) // 2
                    key = ("dot", bool(ins.arg), n, spaces[0], spaces[n], spaces[2 * n:])
                else:
                    key = ("op", ins.op.name, ins.arg, spaces)
                buckets.setdefault(key, []).append(ins)
            for key, members in buckets.items():
                members = sorted(members, key=lambda ins: place(ins.operands[0]))
                space = BATCHED if BATCHED in (place(r)[0] for r in members[0].operands) else SHARED
                start = next_slot[space]
                next_slot[space] += len(members)
                for offset, ins in enumerate(members):
                    temp_space[ins.target] = space
                    temp_slot[ins.target] = start + offset
                slots = np.array([operand_slots.pop(ins.target) for ins in members], dtype=np.int64)
                self.groups.append(self._make_group(key, lvl, members, space, start, slots))
        self.n_batched = next_slot[BATCHED]
        self.n_shared = next_slot[SHARED]
        self.output_places = [place(r) for r in tape.outputs]
        self.temp_places = (np.array(temp_space, dtype=np.int8), np.array(temp_slot, dtype=np.int64))
        self.argument_rows = np.cumsum([0] + [int(np.prod(s)) for s in tape.input_shapes])
        self.in_place = self._arguments_read_in_place()

    def _arguments_read_in_place(self) -> set[int]:
        """Arguments only layers read, as runs of their columns: no copy into ``V`` needed.

        A layer computes ``W @ X`` with ``X`` the argument's columns, transposed: BLAS
        reads the caller's (batch, n) array as it is, where copying it into the
        row-per-slot buffer would transpose it element by element every call.
        """
        rows = self.argument_rows
        argument_of = np.searchsorted(rows, np.arange(self.n_inputs), side="right") - 1
        candidates = set(range(len(rows) - 1))
        for group in self.groups:
            if isinstance(group, LinearGroup):
                x = group.x_idx
                first = int(x[0])
                if x[-1] < self.n_inputs and np.array_equal(x, np.arange(first, first + x.size)) \
                        and argument_of[first] == argument_of[x[-1]]:
                    continue
                reads = [(BATCHED, x)]
            elif isinstance(group, StopGroup):
                reads = [(group.src_space, group.src_idx)]
            else:
                reads = group.operand_accesses()
            for space, idx in reads:
                if space == BATCHED:
                    slots = np.asarray(idx).ravel()
                    candidates -= set(argument_of[slots[slots < self.n_inputs]].tolist())
        for space, slot in self.output_places:
            if space == BATCHED and slot < self.n_inputs:
                candidates.discard(int(argument_of[slot]))
        for group in self.groups:
            if isinstance(group, LinearGroup) and group.x_idx[-1] < self.n_inputs:
                argument = int(argument_of[int(group.x_idx[0])])
                if argument in candidates:
                    start = int(group.x_idx[0]) - int(rows[argument])
                    group.x_source = (argument, start, start + group.x_idx.size)
        return candidates

    @staticmethod
    def _is_layer_node(ins: Instruction, spaces: Sequence[int]) -> bool:
        n = len(ins.operands) // 2
        weights, inputs, bias = spaces[:n], spaces[n:2 * n], spaces[2 * n:]
        return (all(s == SHARED for s in weights) and all(s == BATCHED for s in inputs)
                and all(s == SHARED for s in bias))

    @staticmethod
    def _is_uniform_dot(spaces: Sequence[int]) -> bool:
        n = len(spaces) // 2
        return len(set(spaces[:n])) == 1 and len(set(spaces[n:2 * n])) == 1

    @staticmethod
    def _make_group(key: tuple, level: int, members: list[Instruction], space: int, start: int,
                    slots: np.ndarray) -> Group:
        """The group for one bucket; ``slots[i, j]`` is member i's operand j's slot."""
        if key[0] == "stop":
            return StopGroup(level, members, space, start, key[1][0], slots[:, 0].copy())
        if key[0] == "linear":
            n = len(members[0].operands) // 2
            bias = slots[:, 2 * n].copy() if key[1] else None
            return LinearGroup(level, members, start, np.ascontiguousarray(slots[:, :n]),
                               slots[0, n:2 * n].copy(), bias)
        if key[0] == "dot":
            n = key[2]
            has_bias = key[1]
            return DotGroup(level, members, space, start, key[3], np.ascontiguousarray(slots[:, :n].T),
                            key[4], np.ascontiguousarray(slots[:, n:2 * n].T),
                            key[5][0] if has_bias else None, slots[:, 2 * n].copy() if has_bias else None)
        spaces = key[3]
        return OpGroup(level, members, space, start, spaces,
                       [slots[:, j].copy() for j in range(len(spaces))])

    # -- reading it ---------------------------------------------------------------
    def __str__(self) -> str:
        tape = self.tape
        products = sum(1 for g in self.groups if g.kind == "linear")
        lines = [f"# program: {len(self.groups)} steps ({products} matrix product"
                 f"{'' if products == 1 else 's'}) for {len(tape)} instructions; "
                 f"{self.n_batched} batched rows, {self.n_shared} shared slots"]
        for group in self.groups:
            targets = tape.names([Ref(TEMP, ins.target) for ins in group.members])
            what = group.kind if group.kind != "op" else group.op.name
            if group.kind == "op" and group.arg is not None and group.op.arity is not None:
                what += f"[{group.arg:g}]"
            nodes = f"{group.size} node" + ("" if group.size == 1 else "s")
            shared = "" if group.out_space == BATCHED else "  (shared)"
            detail = f" = {group.describe(tape)}" if group.kind == "linear" else ""
            lines.append(f"level {group.level:<2} {what:<14} {nodes:<8} {targets}{detail}{shared}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Program: {len(self.groups)} steps for {len(self.tape)} instructions>"

    def bind(self, batch_size: int, dtype: Any) -> BoundProgram:
        """Buffers and step closures for one batch size and dtype (cached by the caller)."""
        return BoundProgram(self, batch_size, numpy_math(dtype))

    # -- which slots need a gradient -----------------------------------------------
    def needs_grad(self, wrt_inputs: bool) -> tuple[np.ndarray, np.ndarray]:
        """Per slot, whether d(outputs)/d(slot) is wanted or lies on the way to a wanted one."""
        needs_b = np.zeros(self.n_batched, dtype=bool)
        needs_s = np.zeros(self.n_shared, dtype=bool)
        needs_b[:self.n_inputs] = wrt_inputs
        needs_s[:self.n_params] = True
        needs = {BATCHED: needs_b, SHARED: needs_s}
        for group in self.groups:
            member_needs = np.zeros(group.size, dtype=bool)
            for space, idx in group.operand_accesses():
                wanted = needs[space][idx]
                member_needs |= wanted if wanted.ndim == 1 else wanted.any(axis=1)
            needs[group.out_space][group.out_start:group.out_start + group.size] = member_needs
        return needs_b, needs_s


class BoundProgram:
    """A program's buffers for one batch size, with its forward and backward step closures."""

    def __init__(self, program: Program, batch_size: int, math: NumpyMath) -> None:
        self.program = program
        self.batch_size = batch_size
        self.math = math
        dtype = math.dtype
        self.V = np.zeros((program.n_batched, batch_size), dtype=dtype)
        self.S = np.zeros(program.n_shared, dtype=dtype)
        self.GV = np.zeros((program.n_batched, batch_size), dtype=dtype)
        self.GS = np.zeros(program.n_shared, dtype=dtype)
        constants = program.tape.constants
        self.S[program.const_start:program.const_start + len(constants)] = constants
        self.buffers = {BATCHED: self.V, SHARED: self.S}
        self.grad_buffers = {BATCHED: self.GV, SHARED: self.GS}
        self.saved: list[Any] = [None] * len(program.groups)
        # the caller's arrays (batch first) of the arguments read in place; set per call
        self.arguments: list[np.ndarray | None] = [None] * (len(program.argument_rows) - 1)
        self.forward_steps = [self._bind_forward(i, g) for i, g in enumerate(program.groups)]
        self._backward: dict[bool, tuple] = {}

    # -- forward -------------------------------------------------------------------
    def out_view(self, group: Group) -> np.ndarray:
        return self.buffers[group.out_space][group.out_start:group.out_start + group.size]

    def grad_view(self, group: Group) -> np.ndarray:
        return self.grad_buffers[group.out_space][group.out_start:group.out_start + group.size]

    def _bind_forward(self, number: int, group: Group) -> Callable[[], None]:
        out = self.out_view(group)
        saved = self.saved
        if isinstance(group, StopGroup):
            source = Access(self.buffers[group.src_space], group.src_idx,
                            group.src_space == SHARED and group.out_space == BATCHED)

            def stop_forward() -> None:
                out[...] = source.get()
            return stop_forward
        if isinstance(group, LinearGroup):
            weights = Access(self.S, group.w_idx, False)
            inputs = Access(self.V, group.x_idx, False)
            bias = None if group.b_idx is None else Access(self.S, group.b_idx, True)
            if group.x_source is not None:
                arguments = self.arguments
                argument, first, end = group.x_source

                def read_inputs() -> np.ndarray:
                    return arguments[argument][:, first:end].T
            else:
                read_inputs = inputs.get

            # BLAS takes a strided weight matrix (a neuron's w then b, then the next
            # neuron's), but NumPy's matmul is faster on a contiguous copy of it
            flags = None if weights.view is None else weights.view.flags
            contiguous = flags is not None and not (flags.c_contiguous or flags.f_contiguous)

            def linear_forward() -> None:
                w, x = weights.get(), read_inputs()
                if contiguous:
                    w = np.ascontiguousarray(w)
                saved[number] = (w, x)
                np.matmul(w, x, out=out)
                if bias is not None:
                    np.add(out, bias.get(), out=out)
            return linear_forward
        if isinstance(group, DotGroup):
            broadcast = group.out_space == BATCHED
            weights = Access(self.buffers[group.w_space], group.w_idx, broadcast and group.w_space == SHARED)
            inputs = Access(self.buffers[group.x_space], group.x_idx, broadcast and group.x_space == SHARED)
            bias = None if group.b_idx is None else Access(
                self.buffers[group.b_space], group.b_idx, broadcast and group.b_space == SHARED)

            # w x has the output's shape unless both are shared and only the bias is batched
            full = not broadcast or BATCHED in (group.w_space, group.x_space)

            def dot_forward() -> None:
                w, x = weights.get(), inputs.get()
                saved[number] = (w, x)
                if full:
                    np.add.reduce(w * x, axis=0, out=out)
                    if bias is not None:
                        np.add(out, bias.get(), out=out)
                else:
                    np.add(np.add.reduce(w * x, axis=0), bias.get(), out=out)
            return dot_forward
        assert isinstance(group, OpGroup)
        op, arg, math = group.op, group.arg, self.math
        broadcast = group.out_space == BATCHED
        if group.nary:
            segments = group.segments()
            accesses = []
            for space, positions in segments:
                idx = np.stack([group.idx[j] for j in positions])
                accesses.append(Access(self.buffers[space], idx, broadcast and space == SHARED))
            if len(accesses) == 1:
                only = accesses[0]

                def gather() -> Any:
                    return only.get()
            else:
                where = [None] * len(group.spaces)
                for s, (_, positions) in enumerate(segments):
                    for i, j in enumerate(positions):
                        where[j] = (s, i)

                def gather() -> Any:
                    parts = [a.get() for a in accesses]
                    return [parts[s][i] for s, i in where]
        else:
            accesses = [Access(self.buffers[space], idx, broadcast and space == SHARED)
                        for space, idx in zip(group.spaces, group.idx)]
            if len(accesses) == 1:
                only = accesses[0]

                def gather() -> Any:
                    return [only.get()]
            else:
                first, second = accesses

                def gather() -> Any:
                    return [first.get(), second.get()]

        if all(a.view is not None for a in accesses):  # the operands sit in fixed views
            fixed = saved[number] = gather()

            def op_forward_fixed() -> None:
                out[...] = op.forward(math, fixed, arg)
            return op_forward_fixed

        def op_forward() -> None:
            xs = gather()
            saved[number] = xs
            out[...] = op.forward(math, xs, arg)
        return op_forward

    def forward(self) -> None:
        """Run every group forward (inputs and parameters must be in V and S).

        Call it (and :meth:`backward`) under ``np.errstate(**RAISE_ON_DOMAIN_ERRORS)``:
        a domain error then raises a ValueError naming the op, node and sample.
        """
        done = 0
        try:
            for step in self.forward_steps:
                step()
                done += 1
        except (FloatingPointError, ZeroDivisionError, OverflowError) as error:
            raise _locate_error(self, done, error, backward=False) from None

    # -- backward ------------------------------------------------------------------
    def backward_plan(self, wrt_inputs: bool) -> tuple:
        plan = self._backward.get(wrt_inputs)
        if plan is None:
            plan = self._backward[wrt_inputs] = self._plan_backward(wrt_inputs)
        return plan

    def _plan_backward(self, wrt_inputs: bool) -> tuple:
        program = self.program
        needs_b, needs_s = program.needs_grad(wrt_inputs)
        needs = {BATCHED: needs_b, SHARED: needs_s}
        written = {BATCHED: np.zeros_like(needs_b), SHARED: np.zeros_like(needs_s)}
        zero_first = {BATCHED: np.zeros_like(needs_b), SHARED: np.zeros_like(needs_s)}
        seeds = []
        for o, (space, slot) in enumerate(program.output_places):
            if needs[space][slot]:
                seeds.append((o, space, slot, not written[space][slot]))
                written[space][slot] = True
        steps: list[tuple[int, Callable[[], None]]] = []
        running: list[Group] = []
        for number in range(len(program.groups) - 1, -1, -1):
            group = program.groups[number]
            outs = needs[group.out_space][group.out_start:group.out_start + group.size]
            if isinstance(group, StopGroup) or not outs.any():
                continue
            step = self._bind_backward(number, group, needs, written, zero_first)
            if step is not None:
                running.append(group)
                steps.append((number, step))
        zero = {space: (needs[space] & ~written[space]) | zero_first[space] for space in (BATCHED, SHARED)}
        for group in running:  # rows of members that need no gradient are still read
            rows = slice(group.out_start, group.out_start + group.size)
            zero[group.out_space][rows] |= ~written[group.out_space][rows]
        zeros = [(self.grad_buffers[space], _target(np.flatnonzero(mask)))
                 for space, mask in zero.items() if mask.any()]
        return seeds, zeros, steps

    def _bind_backward(self, number: int, group: Group, needs: dict, written: dict,
                       zero_first: dict) -> Callable | None:
        batch_shape = (self.batch_size,)
        out_batched = group.out_space == BATCHED

        def plan(space: int, idx: np.ndarray, reduce_batch: bool | None = None,
                 ) -> tuple[ScatterPlan, Callable] | None:
            if reduce_batch is None:  # a batched group's contribution to a shared slot: sum it
                reduce_batch = out_batched and space == SHARED
            scatter_plan = ScatterPlan(space, idx, reduce_batch, needs[space], written[space],
                                       zero_first[space])
            if scatter_plan.empty:
                return None
            return scatter_plan, scatter_plan.bind(self.grad_buffers[space],
                                                   batch_shape if space == BATCHED else ())

        upstream = self.grad_view(group)
        saved = self.saved
        if isinstance(group, LinearGroup):
            return self._bind_linear_backward(number, group, plan, upstream)
        if isinstance(group, DotGroup):
            to_weights = plan(group.w_space, group.w_idx)
            to_inputs = plan(group.x_space, group.x_idx)
            to_bias = None if group.b_idx is None else plan(group.b_space, group.b_idx)
            if to_weights is None and to_inputs is None and to_bias is None:
                return None

            def dot_backward() -> None:
                g = upstream
                w, x = saved[number]
                if to_weights is not None:  # d/dw_i = x_i
                    to_weights[1](g, x)
                if to_inputs is not None:  # d/dx_i = w_i
                    to_inputs[1](g, w)
                if to_bias is not None:  # d/db = 1
                    to_bias[1](g)
            return dot_backward
        assert isinstance(group, OpGroup)
        op, arg, math, out = group.op, group.arg, self.math, self.out_view(group)
        kinds = group.local_kinds
        if group.nary:
            actions = []
            for space, positions in group.segments():
                if all(kinds[j] == 0.0 for j in positions):
                    continue
                idx = np.stack([group.idx[j] for j in positions])
                planned = plan(space, idx)
                if planned is None:
                    continue
                constant = {kinds[j] for j in positions}
                if len(constant) == 1 and None not in constant:
                    actions.append((None, constant.pop(), planned[1]))
                else:
                    shape = upstream.shape
                    fill = {j: np.broadcast_to(math.dtype.type(kinds[j]), shape)
                            for j in positions if kinds[j] is not None}
                    actions.append((positions, fill, planned[1]))
            if not actions:
                return None
            needs_local = any(a[0] is not None for a in actions)

            def nary_backward() -> None:
                g = upstream
                local = op.local_grads(math, saved[number], out, arg) if needs_local else None
                for positions, c, scatter in actions:
                    if positions is None:
                        scatter(g, None if c == 1.0 else c)
                    else:
                        scatter(g, np.stack([c[j] if j in c else np.broadcast_to(local[j], g.shape)
                                             for j in positions]))
            return nary_backward
        actions = []
        for j, (space, idx) in enumerate(zip(group.spaces, group.idx)):
            if kinds[j] == 0.0:  # a flat op (step, sign): nothing flows back
                continue
            planned = plan(space, idx)
            if planned is None:
                continue
            actions.append((j, kinds[j], planned[1]))
        if not actions:
            return None
        needs_local = any(kind is None for _, kind, _ in actions)

        def op_backward() -> None:
            g = upstream
            local = op.local_grads(math, saved[number], out, arg) if needs_local else None
            for j, kind, scatter in actions:
                if kind is None:
                    scatter(g, local[j])
                elif kind == 1.0:
                    scatter(g)
                else:
                    scatter(g, kind)
        return op_backward

    def _bind_linear_backward(self, number: int, group: LinearGroup, plan: Callable,
                              upstream: np.ndarray) -> Callable | None:
        saved = self.saved
        # planned in the order the closure runs them: first contributions are assigned
        to_weights = plan(SHARED, group.w_idx, reduce_batch=False)  # G X^T sums the batch already
        to_bias = None if group.b_idx is None else plan(SHARED, group.b_idx)
        to_inputs = plan(BATCHED, group.x_idx)
        if to_weights is None and to_inputs is None and to_bias is None:
            return None
        weight_view = None if to_weights is None else to_weights[0].assign_view
        input_view = None if to_inputs is None else to_inputs[0].assign_view

        def linear_backward() -> None:
            g = upstream
            w, x = saved[number]
            if weight_view is not None:  # dW = G X^T, straight into the gradient buffer
                np.matmul(g, x.T, out=weight_view)
            elif to_weights is not None:
                to_weights[1](g @ x.T)
            if to_bias is not None:
                to_bias[1](g)  # the plan sums it over the batch
            if input_view is not None:  # dX = W^T G
                np.matmul(w.T, g, out=input_view)
            elif to_inputs is not None:
                to_inputs[1](w.T @ g)
        return linear_backward

    def backward(self, output_grad: np.ndarray | float, wrt_inputs: bool) -> None:
        """Seed the outputs with ``output_grad`` and run every group backward.

        ``output_grad`` is a (batch, n_outputs) array, or one number for every seed.
        Call it under ``np.errstate(**RAISE_ON_DOMAIN_ERRORS)``, as :meth:`forward`.
        """
        seeds, zeros, steps = self.backward_plan(wrt_inputs)
        for grads, rows in zeros:
            grads[rows] = 0.0
        GV, GS = self.GV, self.GS
        same = not isinstance(output_grad, np.ndarray)
        for o, space, slot, first in seeds:
            if space == BATCHED:
                seed = output_grad if same else output_grad[:, o]
                if first:
                    GV[slot] = seed
                else:
                    GV[slot] += seed
            else:  # a shared output: its gradient is the sum of its seeds over the batch
                total = output_grad * self.batch_size if same else output_grad[:, o].sum()
                if first:
                    GS[slot] = total
                else:
                    GS[slot] += total
        number = -1
        try:
            for number, step in steps:  # noqa: B007 - the handler below reports `number`
                step()
        except (FloatingPointError, ZeroDivisionError, OverflowError) as error:
            raise _locate_error(self, number, error, backward=True) from None

    # -- reading results -----------------------------------------------------------------
    def outputs(self) -> np.ndarray:
        """The outputs as a (batch, n_outputs) array (a copy)."""
        result = np.empty((self.batch_size, len(self.program.output_places)), dtype=self.math.dtype)
        for o, (space, slot) in enumerate(self.program.output_places):
            result[:, o] = self.buffers[space][slot]
        return result


def _locate_error(bound: BoundProgram, number: int, error: Exception, backward: bool) -> ValueError:
    """A ValueError naming the op, the node and the sample where a group's maths failed."""
    from .value import OverflowValueError, _forward_error

    program = bound.program
    group = program.groups[number]
    op = group.op
    rows = program.argument_rows
    for argument in program.in_place:  # copy them in, to read operands by slot below
        bound.V[rows[argument]:rows[argument + 1]] = bound.arguments[argument].reshape(
            bound.batch_size, -1).T
    where = "local gradient" if backward else "forward"
    tape = program.tape
    values = {BATCHED: bound.V, SHARED: bound.S}
    place_space, place_slot = program.temp_places
    for ins in group.members:
        operands = []
        for ref in ins.operands:
            if ref.kind == TEMP:
                space, slot = int(place_space[ref.index]), int(place_slot[ref.index])
            else:
                space, slot = {INPUT: (BATCHED, ref.index), PARAM: (SHARED, ref.index),
                               FROZEN: (SHARED, program.n_params + ref.index),
                               CONST: (SHARED, program.const_start + ref.index)}[ref.kind]
            row = values[space][slot]
            operands.append(np.broadcast_to(row, (bound.batch_size,)))
        for sample in range(bound.batch_size):
            inputs = [float(column[sample]) for column in operands]
            if op is None:
                continue
            try:
                out = op.forward(FLOAT_MATH, inputs, ins.arg)
                if backward:
                    op.local_grads(FLOAT_MATH, inputs, out, ins.arg)
                elif out != out:
                    raise ValueError("NaN")
            except (ArithmeticError, ValueError) as failure:
                described = _forward_error(op, inputs, ins.arg, failure)
                text = f"compiled tape, {where} of t{ins.target} (sample {sample}): {described}"
                if isinstance(described, OverflowValueError):
                    return OverflowValueError(text)
                return ValueError(text)
    name = "stop_gradient" if op is None else op.name
    targets = tape.names([Ref(TEMP, ins.target) for ins in group.members])
    kind = OverflowValueError if "overflow" in str(error) else ValueError
    return kind(f"compiled tape, {where} of {name} at {targets}: {error}")
