"""Op groups: instructions of one level that run as one vectorised step.

A group owns how it runs: :meth:`Group.bind_forward` and :meth:`Group.bind_backward`
return the closures a :class:`~autograd.compiler.run.BoundProgram` calls, bound to
that program's buffers. Elementwise and n-ary ops run through the op table
(:class:`OpGroup`), detached values are copied (:class:`StopGroup`); dot nodes, which
the op table declares bilinear, run as matrix products (:mod:`.dot_groups`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..ops import Op
from .numpy_math import NumpyMath, numpy_math
from .scatter import Scatter, ScatterPlan
from .tape import Instruction
from .views import BATCHED, SHARED, Access

if TYPE_CHECKING:
    from .run import BoundProgram

__all__ = ["Group", "OpGroup", "StopGroup", "OpKey", "StopKey", "PlannedScatter", "Planner", "Step"]

Step = Callable[[], None]


class PlannedScatter(NamedTuple):
    """A scatter's static plan and the closure that runs it."""

    plan: ScatterPlan
    scatter: Scatter


# plan(space, idx, reduce_batch=None): the scatter into those gradient slots, or None if
# none of them needs a gradient. reduce_batch None: sum over the batch when a batched
# group sends to shared slots.
Planner = Callable[..., PlannedScatter | None]


class Group:
    """Instructions of one level that run as one vectorised step.

    Attributes:
        level: one more than the deepest level the members read.
        members: the instructions, their results in consecutive slots from ``out_start``.
        out_space: ``BATCHED`` or ``SHARED``: where the results live.
        kind: what the program listing calls the step.
    """

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
    def title(self) -> str:
        """The step's name in the program listing."""
        return self.kind

    def detail(self) -> str:
        """What the listing adds after the targets (``= W[3x2] @ x + b`` for a layer)."""
        return ""

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        """(space, idx) of every operand a gradient flows back to, for needs-grad analysis."""
        raise NotImplementedError

    def reads(self) -> list[tuple[int, np.ndarray]]:
        """(space, idx) of every slot the forward step reads from the value buffers."""
        return self.operand_accesses()

    def bind_forward(self, bound: BoundProgram, number: int) -> Step:
        """The closure that computes the members' values into ``bound``'s buffers."""
        raise NotImplementedError

    def bind_backward(self, bound: BoundProgram, number: int, plan: Planner) -> Step | None:
        """The closure that sends the members' gradients to their operands (None: nothing to send)."""
        raise NotImplementedError


class StopKey(NamedTuple):
    """Bucket of stop_gradient instructions reading one space."""

    source_space: int

    def build(self, level: int, members: list[Instruction], space: int, start: int,
              slots: np.ndarray) -> Group:
        return StopGroup(level, members, space, start, self.source_space, slots[:, 0].copy())


class StopGroup(Group):
    """stop_gradient nodes (from ``Value.detach()`` while tracing): copy forward, no backward."""

    kind = "stop_gradient"

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 source_space: int, source_idx: np.ndarray) -> None:
        super().__init__(level, members, out_space, out_start)
        self.source_space, self.source_idx = source_space, source_idx

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        return []  # the gradient stops here

    def reads(self) -> list[tuple[int, np.ndarray]]:
        return [(self.source_space, self.source_idx)]

    def bind_forward(self, bound: BoundProgram, number: int) -> Step:
        out = bound.out_view(self)
        source = Access(bound.values[self.source_space], self.source_idx,
                        self.source_space == SHARED and self.out_space == BATCHED)

        def stop_forward() -> None:
            out[...] = source.get()
        return stop_forward

    def bind_backward(self, bound: BoundProgram, number: int, plan: Planner) -> Step | None:
        return None


class OpKey(NamedTuple):
    """Bucket of instructions of one op, constant argument and operand spaces."""

    op_name: str
    arg: Any
    spaces: tuple[int, ...]

    def build(self, level: int, members: list[Instruction], space: int, start: int,
              slots: np.ndarray) -> Group:
        return OpGroup(level, members, space, start, self.spaces,
                       [slots[:, j].copy() for j in range(len(self.spaces))])


class OpGroup(Group):
    """Nodes of one op (unary, binary or n-ary), run through the op table's own rules."""

    def __init__(self, level: int, members: list[Instruction], out_space: int, out_start: int,
                 spaces: Sequence[int], idx: Sequence[np.ndarray]) -> None:
        super().__init__(level, members, out_space, out_start)
        op = members[0].op
        if op is None:
            raise TypeError("an OpGroup runs an op: stop_gradient nodes form a StopGroup")
        self.op: Op = op
        self.arg = members[0].arg
        self.spaces = list(spaces)  # per operand position
        self.idx = list(idx)  # per operand position: (k,) slots
        self.nary = self.op.arity is None
        self.local_kinds = self._probe_local_grads()

    @property
    def title(self) -> str:
        arg_text = self.op.format_arg(self.arg)
        return f"{self.op.name}[{arg_text}]" if arg_text else self.op.name

    def operand_accesses(self) -> list[tuple[int, np.ndarray]]:
        return list(zip(self.spaces, self.idx))

    def segments(self) -> list[tuple[int, list[int]]]:
        """n-ary groups gather all batched positions at once, and all shared ones at once."""
        found = []
        for space in (BATCHED, SHARED):
            positions = [j for j, s in enumerate(self.spaces) if s == space]
            if positions:
                found.append((space, positions))
        return found

    def _dummy_xs(self, math: NumpyMath) -> Any:
        shape = (1, 1) if self.out_space == BATCHED else (1,)
        if self.nary and len(self.segments()) == 1:
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
        kinds = [float(entry) if isinstance(entry, (int, float)) else None for entry in local]
        if len(kinds) != len(self.spaces):
            raise RuntimeError(f"{self.op.name}: the op table gave {len(kinds)} local gradients "
                               f"for {len(self.spaces)} operands")
        return kinds

    # -- forward ---------------------------------------------------------------------
    def _gatherer(self, bound: BoundProgram) -> tuple[list[Access], Callable[[], Any]]:
        """The accesses to the operands, and a function returning them as the op's ``xs``."""
        broadcast = self.out_space == BATCHED
        if not self.nary:
            accesses = [Access(bound.values[space], idx, broadcast and space == SHARED)
                        for space, idx in zip(self.spaces, self.idx)]
            return accesses, lambda: [access.get() for access in accesses]
        segments = self.segments()
        accesses = [Access(bound.values[space], np.stack([self.idx[j] for j in positions]),
                           broadcast and space == SHARED) for space, positions in segments]
        if len(accesses) == 1:
            return accesses, accesses[0].get
        where = [(0, 0)] * len(self.spaces)  # operand j is row i of segment s
        for s, (_, positions) in enumerate(segments):
            for i, j in enumerate(positions):
                where[j] = (s, i)

        def gather() -> Any:
            parts = [access.get() for access in accesses]
            return [parts[s][i] for s, i in where]
        return accesses, gather

    def bind_forward(self, bound: BoundProgram, number: int) -> Step:
        op, arg, math, saved = self.op, self.arg, bound.math, bound.saved
        out = bound.out_view(self)
        accesses, gather = self._gatherer(bound)
        if all(access.view is not None for access in accesses):  # the operands sit in fixed views
            fixed = saved[number] = gather()

            def op_forward_fixed() -> None:
                out[...] = op.forward(math, fixed, arg)
            return op_forward_fixed

        def op_forward() -> None:
            xs = saved[number] = gather()
            out[...] = op.forward(math, xs, arg)
        return op_forward

    # -- backward --------------------------------------------------------------------
    def bind_backward(self, bound: BoundProgram, number: int, plan: Planner) -> Step | None:
        actions = self._nary_actions(bound, plan) if self.nary else self._actions(plan)
        if not actions:
            return None
        op, arg, math, saved = self.op, self.arg, bound.math, bound.saved
        out, upstream = bound.out_view(self), bound.grad_view(self)
        needs_local = any(action.needs_local for action in actions)

        def op_backward() -> None:
            local = op.local_grads(math, saved[number], out, arg) if needs_local else None
            for action in actions:
                action.run(upstream, local)
        return op_backward

    def _actions(self, plan: Planner) -> list[_Send]:
        actions: list[_Send] = []
        for j, (space, idx) in enumerate(zip(self.spaces, self.idx)):
            if self.local_kinds[j] == 0.0:  # a flat op (step, sign): nothing flows back
                continue
            planned = plan(space, idx)
            if planned is not None:
                actions.append(_Send(planned.scatter, j, self.local_kinds[j]))
        return actions

    def _nary_actions(self, bound: BoundProgram, plan: Planner) -> list[_SendStacked]:
        kinds = self.local_kinds
        actions = []
        for space, positions in self.segments():
            if all(kinds[j] == 0.0 for j in positions):
                continue
            planned = plan(space, np.stack([self.idx[j] for j in positions]))
            if planned is None:
                continue
            constant = {kinds[j] for j in positions}
            if len(constant) == 1 and None not in constant:
                actions.append(_SendStacked(planned.scatter, None, constant.pop()))
            else:
                shape = bound.grad_view(self).shape
                fill = {j: np.broadcast_to(bound.math.dtype.type(kinds[j]), shape)
                        for j in positions if kinds[j] is not None}
                actions.append(_SendStacked(planned.scatter, positions, fill))
        return actions


class _Send(NamedTuple):
    """Operand position ``j``'s share: upstream x its local gradient (``kind``: a constant, or None)."""

    scatter: Scatter
    j: int
    kind: float | None

    @property
    def needs_local(self) -> bool:
        return self.kind is None

    def run(self, g: np.ndarray, local: Any) -> None:
        if self.kind is None:
            self.scatter(g, local[self.j])
        elif self.kind == 1.0:
            self.scatter(g)
        else:
            self.scatter(g, self.kind)


class _SendStacked(NamedTuple):
    """An n-ary group's segment: one constant for every position, or the stacked local gradients."""

    scatter: Scatter
    positions: list[int] | None  # None: every position's local gradient is `constant`
    constant: Any  # a number, or {position: broadcast constant} for the constant positions

    @property
    def needs_local(self) -> bool:
        return self.positions is not None

    def run(self, g: np.ndarray, local: Any) -> None:
        if self.positions is None:
            self.scatter(g, None if self.constant == 1.0 else self.constant)
            return
        fill = self.constant
        self.scatter(g, np.stack([fill[j] if j in fill else np.broadcast_to(local[j], g.shape)
                                  for j in self.positions]))
