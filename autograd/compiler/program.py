"""The program layout: a tape's instructions grouped into vectorised steps.

A :class:`~autograd.compiler.tape.Tape` has one instruction per scalar node. Running
it one instruction at a time would cost a Python call per node, as the eager engine
does. :class:`Program` instead groups the instructions that can run together; each
group then runs as a few NumPy calls over every node of the group *and* every
sample of the batch (:mod:`.groups`, :mod:`.dot_groups`, run by :mod:`.run`):

* **levels**: an instruction's level is one more than its deepest operand's, so
  the instructions of one level never read each other;
* **groups**: instructions of one level with the same op, the same constant
  argument and the same pattern of batched/shared operands form one group; an index
  array per operand position gathers their operands, the op's forward rule runs
  once on the gathered arrays (``op.forward(NUMPY_MATH, xs, arg)``: the op table's
  own rule), and the results land in consecutive slots;
* **layers**: dot nodes, which the op table declares bilinear, run as matrix
  products when their weights are shared and their inputs the same batched vector;
* **backward**: groups run in reverse; each asks the op table for its local
  gradients (``op.local_grads(NUMPY_MATH, xs, out, arg)``), multiplies by the
  upstream gradient and scatters into its operands' gradient slots (planned once,
  :mod:`.scatter`). A parameter's contributions are summed over the batch.

Values live in two buffers: the batched one (one row of ``batch_size`` numbers per
slot: inputs and everything that depends on them) and the shared one (one number per
slot: parameters, frozen leaves, constants and what depends on them alone). A layer
that reads an argument of the function reads the caller's array in place.
"""

from __future__ import annotations

from itertools import chain, groupby, repeat
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np

from .dot_groups import ArgumentColumns, DotKey, LayerKey, LinearGroup
from .groups import Group, OpKey, StopKey
from .numpy_math import numpy_math
from .run import BoundProgram, SharedBuffers
from .tape import CONST, FROZEN, INPUT, PARAM, TEMP, Instruction, Ref, Tape, count
from .views import BATCHED, SHARED

__all__ = ["Program", "Place", "BATCHED", "SHARED"]

GroupKey = StopKey | OpKey | LayerKey | DotKey
Slots = tuple[int, ...] | np.ndarray  # an instruction's operand slots (an array: all leaves)
Buckets = dict[tuple[type, GroupKey, int], list[Instruction]]  # by key type, key and result space


class Place(NamedTuple):
    """Where an operand lives: its buffer (``BATCHED`` or ``SHARED``) and its slot there."""

    space: int
    slot: int


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
        self.n_inputs = len(tape.input_labels)
        self.n_params = len(tape.params)
        self.n_frozen = len(tape.frozen)
        self.const_start = self.n_params + self.n_frozen
        self._leaf_places = {INPUT: Place(BATCHED, 0), PARAM: Place(SHARED, 0),
                             FROZEN: Place(SHARED, self.n_params), CONST: Place(SHARED, self.const_start)}
        self._leaf_space = {kind: place.space for kind, place in self._leaf_places.items()}
        self._leaf_start = {kind: place.slot for kind, place in self._leaf_places.items()}
        self._temp_places = [Place(BATCHED, 0)] * len(tape)  # set as groups are laid out
        self._operand_slots: dict[int, Slots] = {}  # per instruction, until its group is made
        self._leaf_operands: dict[int, tuple[str, ...]] = {}  # their kinds, until placed
        self._next_slot = {BATCHED: self.n_inputs, SHARED: self.const_start + len(tape.constants)}
        self.groups: list[Group] = []
        for level, instructions in self._levels():
            for (_, key, space), members in self._buckets(instructions).items():
                self.groups.append(self._lay_out(key, level, space, members))
        self.n_batched = self._next_slot[BATCHED]
        self.n_shared = self._next_slot[SHARED]
        self.output_places = [self.place(r) for r in tape.outputs]
        self.output_columns = self._output_columns()
        self.argument_rows = np.cumsum([0] + [int(np.prod(s)) for s in tape.input_shapes])
        self.in_place = self._arguments_read_in_place()

    def _output_columns(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Per space holding outputs: which outputs (columns of the results) are read from which slots."""
        found: dict[int, tuple[list[int], list[int]]] = {}
        for output, (space, slot) in enumerate(self.output_places):
            columns, slots = found.setdefault(space, ([], []))
            columns.append(output)
            slots.append(slot)
        return {space: (np.array(columns, dtype=np.intp), np.array(slots, dtype=np.intp))
                for space, (columns, slots) in found.items()}

    def place(self, ref: Ref) -> Place:
        """Where an operand lives (a temporary's place is known once its group is laid out)."""
        return Place(*self._where(ref))

    def _where(self, ref: Ref) -> tuple[int, int]:
        # place() as a plain tuple: called once per operand (100,000 for the course's
        # 1000-100-10 net), where making a Place each time doubled the layout's time
        if ref.kind == TEMP:
            return self._temp_places[ref.number]
        space, start = self._leaf_places[ref.kind]
        return space, start + ref.number

    def _places(self, ins: Instruction) -> tuple[tuple[int, ...], Slots]:
        """The spaces and slots of an instruction's operands.

        Operands that are all leaves (a layer's dot: 1,000 weights, 1,000 inputs) come in
        runs of one kind (the weights, then the inputs): each run is placed at once, and
        the slots made by NumPy, not by a Python call or an int object each. For the
        course's 1000-100-10 net (202,000 such operands) a call of _where each added 55-65
        ms to the layout; mapped in C with a dict lookup and an int object each (and the
        group's array made from those ints), the whole layout took 54 ms, by runs 41 ms
        (CPU time, best of 7).
        """
        kinds = self._leaf_operands.pop(ins.target, None)
        if kinds is None:  # some operand is a temporary
            spaces, slots = zip(*map(self._where, ins.operands))
            return spaces, slots
        runs = [(kind, len(list(run))) for kind, run in groupby(kinds)]
        spaces = tuple(chain.from_iterable(repeat(self._leaf_space[kind], n) for kind, n in runs))
        run_starts = np.array([self._leaf_start[kind] for kind, _ in runs], np.int64)
        starts = np.repeat(run_starts, [n for _, n in runs])
        numbers = np.fromiter(map(itemgetter(1), ins.operands), np.int64, len(kinds))
        return spaces, starts + numbers

    def _levels(self) -> list[tuple[int, list[Instruction]]]:
        """The instructions by level, lowest first."""
        level = [0] * len(self.tape)
        by_level: dict[int, list[Instruction]] = {}
        for ins in self.tape.instructions:
            kinds = tuple(map(itemgetter(0), ins.operands))
            deepest = 0
            if TEMP in kinds:  # leaves are level 0: a layer's 2,000 leaf operands are not read one by one
                deepest = max(level[n] for k, n in ins.operands if k == TEMP)
            else:  # kept for _places
                self._leaf_operands[ins.target] = kinds
            level[ins.target] = deepest + 1
            by_level.setdefault(deepest + 1, []).append(ins)
        return sorted(by_level.items())

    def _buckets(self, instructions: list[Instruction]) -> Buckets:
        """One level's instructions by the group they can share (and the space of its results)."""
        buckets: Buckets = {}
        for ins in instructions:
            spaces, slots = self._places(ins)
            self._operand_slots[ins.target] = slots
            key = self._key(ins, spaces)
            space = BATCHED if BATCHED in spaces else SHARED
            buckets.setdefault((type(key), key, space), []).append(ins)
        return buckets

    @staticmethod
    def _key(ins: Instruction, spaces: tuple[int, ...]) -> GroupKey:
        """What an instruction must share with others to run in one group with them."""
        if ins.op is None:
            return StopKey(spaces[0])
        split = ins.op.bilinear
        if split is not None:  # trusted: the op table declares the op bilinear
            weights, inputs, bias = split(spaces, ins.arg)
            shared_weights = set(weights) == {SHARED} and bias in (None, SHARED)
            if shared_weights and set(inputs) == {BATCHED}:
                _, operand_inputs, _ = split(ins.operands, ins.arg)
                return LayerKey(bias is not None, tuple(operand_inputs))
            if len(set(weights)) == 1 and len(set(inputs)) == 1:
                return DotKey(bias is not None, len(weights), weights[0], inputs[0], bias)
        return OpKey(ins.op.name, ins.arg, spaces)

    def _lay_out(self, key: GroupKey, level: int, space: int, members: list[Instruction]) -> Group:
        """Give a bucket's results consecutive slots in ``space``, and make its group."""
        members = sorted(members, key=lambda ins: self._where(ins.operands[0]))
        start = self._next_slot[space]
        self._next_slot[space] += len(members)
        slots = np.array([self._operand_slots.pop(ins.target) for ins in members], dtype=np.int64)
        for offset, ins in enumerate(members):
            self._temp_places[ins.target] = Place(space, start + offset)
        return key.build(level, members, space, start, slots)

    def _arguments_read_in_place(self) -> set[int]:
        """Arguments only layers read, as runs of their columns: no copy into the buffer needed.

        A layer computes ``W @ X`` with ``X`` the argument's columns, transposed: BLAS
        reads the caller's (batch, n) array as it is, where copying it into the
        row-per-slot buffer would transpose it element by element every call.
        """
        rows = self.argument_rows
        argument_of = np.searchsorted(rows, np.arange(self.n_inputs), side="right") - 1
        candidates = set(range(len(rows) - 1))
        for group in self.groups:
            if isinstance(group, LinearGroup) and self._reads_one_run(group, argument_of):
                continue
            for space, idx in group.reads():
                if space == BATCHED:
                    slots = np.asarray(idx).ravel()
                    candidates -= set(argument_of[slots[slots < self.n_inputs]].tolist())
        candidates -= {int(argument_of[slot]) for space, slot in self.output_places
                       if space == BATCHED and slot < self.n_inputs}
        for group in self.groups:
            if isinstance(group, LinearGroup) and group.x_idx[-1] < self.n_inputs:
                argument = int(argument_of[int(group.x_idx[0])])
                if argument in candidates:
                    start = int(group.x_idx[0]) - int(rows[argument])
                    group.x_source = ArgumentColumns(argument, start, start + group.x_idx.size)
        return candidates

    def _reads_one_run(self, group: LinearGroup, argument_of: np.ndarray) -> bool:
        """Whether a layer's inputs are consecutive columns of one argument."""
        x = group.x_idx
        first = int(x[0])
        return bool(x[-1] < self.n_inputs and np.array_equal(x, np.arange(first, first + x.size))
                    and argument_of[first] == argument_of[x[-1]])

    # -- reading it ---------------------------------------------------------------
    def __str__(self) -> str:
        tape = self.tape
        products = sum(1 for g in self.groups if g.kind == "linear")
        lines = [f"# program: {count(len(self.groups), 'step')} ({count(products, 'matrix product')}) "
                 f"for {count(len(tape), 'instruction')}; "
                 f"{self.n_batched} batched rows, {self.n_shared} shared slots"]
        for group in self.groups:
            targets = tape.names([Ref(TEMP, ins.target) for ins in group.members])
            shared = "" if group.out_space == BATCHED else "  (shared)"
            lines.append(f"level {group.level:<2} {group.title:<14} {count(group.size, 'node'):<8} "
                         f"{targets}{group.detail()}{shared}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Program: {count(len(self.groups), 'step')} for {count(len(self.tape), 'instruction')}>"

    def bind(self, batch_size: int, dtype: Any, shared: SharedBuffers | None = None) -> BoundProgram:
        """Buffers and step closures for one batch size and dtype (cached by the caller);
        ``shared``: the shared slots' buffers to use (made for this batch size if None)."""
        return BoundProgram(self, batch_size, numpy_math(dtype), shared)

    # -- which slots need a gradient -----------------------------------------------
    def needs_grad(self, wrt_inputs: bool) -> dict[int, np.ndarray]:
        """Per space and slot, whether d(outputs)/d(slot) is wanted or lies on the way to a wanted one."""
        needs = {BATCHED: np.zeros(self.n_batched, dtype=bool), SHARED: np.zeros(self.n_shared, dtype=bool)}
        needs[BATCHED][:self.n_inputs] = wrt_inputs
        needs[SHARED][:self.n_params] = True
        for group in self.groups:
            member_needs = np.zeros(group.size, dtype=bool)
            for space, idx in group.operand_accesses():
                wanted = needs[space][idx]
                member_needs |= wanted if wanted.ndim == 1 else wanted.any(axis=1)
            needs[group.out_space][group.out_start:group.out_start + group.size] = member_needs
        return needs

