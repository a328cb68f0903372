"""The run loop: a program's buffers for one batch size, and its forward and backward passes.

A :class:`BoundProgram` holds the value and gradient buffers of a
:class:`~autograd.compiler.program.Program` for one batch size, and the closures
each group bound to them (:meth:`~autograd.compiler.groups.Group.bind_forward`,
:meth:`~autograd.compiler.groups.Group.bind_backward`). Running it is a loop over
those closures; a floating-point error inside one is turned into a ``ValueError``
naming the op, the node and the sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..ops import FLOAT_MATH, Op
from ..errors import OverflowValueError, forward_error
from .groups import Group, PlannedScatter, Step
from .numpy_math import NumpyMath
from .scatter import ScatterPlan
from .tape import TEMP, Ref
from .views import BATCHED, SHARED, slot_target

if TYPE_CHECKING:
    from .program import Program

__all__ = ["BoundProgram", "BackwardPlan", "Seed", "BoundCache", "SharedBuffers"]

_ARITHMETIC_ERRORS = (FloatingPointError, ZeroDivisionError, OverflowError)


_NOT_GIVEN = np.empty((0, 0))  # an argument read in place before the first call gives it
SlotMasks = dict[int, np.ndarray]  # per space (BATCHED, SHARED), one bool per slot


class Seed(NamedTuple):
    """Output ``output``'s gradient seed goes to slot ``slot`` of ``space`` (assigned if ``first``)."""

    output: int
    space: int
    slot: int
    first: bool


class BackwardPlan(NamedTuple):
    """A backward pass, planned once per batch size and ``wrt_inputs``.

    ``first_batched`` seeds, in one assignment, the batched outputs whose slot no
    earlier output seeds: ``(output numbers, slots)``; ``seeds`` are the others.
    """

    first_batched: tuple[np.ndarray, np.ndarray]
    seeds: list[Seed]
    zeros: list[tuple[np.ndarray, Any]]  # (gradient buffer, rows) to zero before it runs
    steps: list[tuple[int, Step]]  # (group number, closure), in reverse group order


class SharedBuffers(NamedTuple):
    """The values and gradients of a program's shared slots, one number per slot.

    Shared slots (parameters, frozen leaves, constants and what depends on them
    alone) do not grow with the batch, so one pair serves every batch size of a
    compiled function: parameters kept there stay where they are whichever batch
    size runs (a fit's last, smaller batch included).
    """

    values: np.ndarray
    grads: np.ndarray

    @classmethod
    def allocate(cls, program: Program, dtype: Any) -> SharedBuffers:
        """Zeroed buffers for ``program``'s shared slots, its constants written in."""
        values = np.zeros(program.n_shared, dtype=dtype)
        constants = program.tape.constants
        values[program.const_start:program.const_start + len(constants)] = constants
        return cls(values, np.zeros(program.n_shared, dtype=dtype))


class BoundProgram:
    """A program's buffers for one batch size, with its forward and backward step closures.

    Attributes:
        batched_values, shared_values: the values, one row of ``batch_size`` numbers
            per batched slot, one number per shared slot (``values[space]`` too).
        batched_grads, shared_grads: the gradients, shaped alike (``grads[space]``).
            The shared pair is ``shared``'s (:class:`SharedBuffers`), given by the
            caller to every batch size, or made for this one.
        arguments: the caller's arrays of the arguments layers read in place.
    """

    def __init__(self, program: Program, batch_size: int, math: NumpyMath,
                 shared: SharedBuffers | None = None) -> None:
        self.program = program
        self.batch_size = batch_size
        self.math = math
        dtype = math.dtype
        self.batched_values = np.zeros((program.n_batched, batch_size), dtype=dtype)
        self.batched_grads = np.zeros((program.n_batched, batch_size), dtype=dtype)
        if shared is None:
            shared = SharedBuffers.allocate(program, dtype)
        self.shared_values, self.shared_grads = shared
        self.values = {BATCHED: self.batched_values, SHARED: self.shared_values}
        self.grads = {BATCHED: self.batched_grads, SHARED: self.shared_grads}
        self.saved: list[Any] = [None] * len(program.groups)  # what each group's backward reads
        # the caller's arrays (batch first) of the arguments read in place; set by every call
        self.arguments: list[np.ndarray] = [_NOT_GIVEN] * (len(program.argument_rows) - 1)
        self.forward_steps = [group.bind_forward(self, i) for i, group in enumerate(program.groups)]
        self._backward_plans: dict[bool, BackwardPlan] = {}

    @property
    def nbytes(self) -> int:
        """The size of the batch-sized value and gradient buffers (the shared pair is not counted:
        it is shared by every batch size)."""
        return self.batched_values.nbytes + self.batched_grads.nbytes

    def out_view(self, group: Group) -> np.ndarray:
        """The rows of a group's results."""
        return self.values[group.out_space][group.out_start:group.out_start + group.size]

    def grad_view(self, group: Group) -> np.ndarray:
        """The rows of the gradients of a group's results."""
        return self.grads[group.out_space][group.out_start:group.out_start + group.size]

    # -- forward -------------------------------------------------------------------
    def forward(self) -> None:
        """Run every group forward (inputs and parameters must be in the value buffers).

        Call it (and :meth:`backward`) under ``np.errstate(**RAISE_ON_DOMAIN_ERRORS)``:
        a domain error then raises a ValueError naming the op, node and sample.
        """
        done = 0
        try:
            for step in self.forward_steps:
                step()
                done += 1
        except _ARITHMETIC_ERRORS as error:
            raise _locate_error(self, done, error, backward=False) from None

    # -- backward ------------------------------------------------------------------
    def backward_plan(self, wrt_inputs: bool) -> BackwardPlan:
        """The backward pass's seeds, zeroing and steps (planned on first use)."""
        plan = self._backward_plans.get(wrt_inputs)
        if plan is None:
            plan = self._backward_plans[wrt_inputs] = self._plan_backward(wrt_inputs)
        return plan

    def _plan_backward(self, wrt_inputs: bool) -> BackwardPlan:
        program = self.program
        needs = program.needs_grad(wrt_inputs)
        written = {space: np.zeros_like(mask) for space, mask in needs.items()}
        zero_first = {space: np.zeros_like(mask) for space, mask in needs.items()}
        seeds: list[Seed] = []
        first_batched: list[Seed] = []
        for output, (space, slot) in enumerate(program.output_places):
            if needs[space][slot]:
                seed = Seed(output, space, slot, not written[space][slot])
                (first_batched if seed.first and space == BATCHED else seeds).append(seed)
                written[space][slot] = True
        steps: list[tuple[int, Step]] = []
        running: list[Group] = []
        for number in range(len(program.groups) - 1, -1, -1):
            group = program.groups[number]
            if not needs[group.out_space][group.out_start:group.out_start + group.size].any():
                continue
            step = group.bind_backward(self, number, self._planner(group, needs, written, zero_first))
            if step is not None:
                running.append(group)
                steps.append((number, step))
        zero = {space: (needs[space] & ~written[space]) | zero_first[space] for space in needs}
        for group in running:  # rows of members that need no gradient are still read
            rows = slice(group.out_start, group.out_start + group.size)
            zero[group.out_space][rows] |= ~written[group.out_space][rows]
        zeros = [(self.grads[space], slot_target(np.flatnonzero(mask)))
                 for space, mask in zero.items() if mask.any()]
        first = (np.array([seed.output for seed in first_batched], dtype=np.intp),
                 np.array([seed.slot for seed in first_batched], dtype=np.intp))
        return BackwardPlan(first, seeds, zeros, steps)

    def _planner(self, group: Group, needs: SlotMasks, written: SlotMasks, zero_first: SlotMasks) -> Any:
        """``plan(space, idx, reduce_batch=None)`` for one group (see :data:`.groups.Planner`)."""
        out_batched = group.out_space == BATCHED

        def plan(space: int, idx: np.ndarray, reduce_batch: bool | None = None) -> PlannedScatter | None:
            if reduce_batch is None:  # a batched group's contribution to a shared slot: sum it
                reduce_batch = out_batched and space == SHARED
            scatter_plan = ScatterPlan(idx, reduce_batch, needs[space], written[space], zero_first[space])
            if scatter_plan.empty:
                return None
            batch_shape = (self.batch_size,) if space == BATCHED else ()
            return PlannedScatter(scatter_plan, scatter_plan.bind(self.grads[space], batch_shape))
        return plan

    def backward(self, output_grad: np.ndarray | float, wrt_inputs: bool) -> None:
        """Seed the outputs with ``output_grad`` and run every group backward.

        ``output_grad`` is a (batch, n_outputs) array, or one number for every seed.
        Call it under ``np.errstate(**RAISE_ON_DOMAIN_ERRORS)``, as :meth:`forward`.
        """
        (first_outputs, first_slots), seeds, zeros, steps = self.backward_plan(wrt_inputs)
        for grads, rows in zeros:
            grads[rows] = 0.0
        # the batched outputs' seeds in one assignment: the course net's 11 in 3.7 us, 6.6 us
        # with a row assignment each (CPU time, of its ~1 ms step)
        if first_slots.size:
            self.batched_grads[first_slots] = (output_grad[:, first_outputs].T
                                               if isinstance(output_grad, np.ndarray) else output_grad)
        for output, space, slot, first in seeds:
            seed: float | np.ndarray
            if not isinstance(output_grad, np.ndarray):  # one number for every seed
                seed = output_grad * self.batch_size if space == SHARED else output_grad
            elif space == BATCHED:
                seed = output_grad[:, output]
            else:  # a shared output: its gradient is the sum of its seeds over the batch
                seed = output_grad[:, output].sum()
            if first:
                self.grads[space][slot] = seed
            else:
                self.grads[space][slot] += seed
        number = -1
        try:
            for number, step in steps:  # noqa: B007 - the handler below reports `number`
                step()
        except _ARITHMETIC_ERRORS as error:
            raise _locate_error(self, number, error, backward=True) from None

    # -- reading results -----------------------------------------------------------------
    def outputs(self) -> np.ndarray:
        """The outputs as a (batch, n_outputs) array (a copy).

        Gathered by one assignment per space: the course net's 12 outputs in 3.9 us, 6.8 us
        with a row assignment each (CPU time, of its ~1 ms step).
        """
        result = np.empty((self.batch_size, len(self.program.output_places)), dtype=self.math.dtype)
        for space, (columns, slots) in self.program.output_columns.items():
            result[:, columns] = self.values[space][slots].T
        return result

    def copy_arguments_in(self) -> None:
        """Copy the arguments read in place into the value buffer, to read operands by slot."""
        rows = self.program.argument_rows
        for argument in self.program.in_place:
            self.batched_values[rows[argument]:rows[argument + 1]] = self.arguments[argument].reshape(
                self.batch_size, -1).T


class BoundCache:
    """The bound programs of the most recently used batch sizes, within a memory budget.

    A compiled function called with many batch sizes must not keep a set of buffers
    for each forever (8 sizes of 500,000 rows once held 4.2 GB). This keeps the
    ``sizes`` most recently used, and drops the least recently used sooner while
    the others hold more than ``budget`` bytes; the one just used always stays.

    Example:
        >>> import autograd
        >>> f = autograd.compile(lambda x: x * 2.0, (0.0,))
        >>> cache = BoundCache(f.program, "float64", sizes=2)
        >>> [cache.get(n).batch_size for n in (1, 2, 3)], sorted(cache.batch_sizes())
        ([1, 2, 3], [2, 3])
    """

    def __init__(self, program: Program, dtype: Any, sizes: int = 4, budget: int = 256 * 2**20) -> None:
        self.program, self.dtype, self.sizes, self.budget = program, dtype, sizes, budget
        self.shared = SharedBuffers.allocate(program, dtype)  # one pair for every batch size
        self._bound: dict[int, BoundProgram] = {}  # least recently used first

    def get(self, batch_size: int) -> BoundProgram:
        """The bound program for a batch size, made (and older ones dropped) if needed."""
        bound = self._bound.pop(batch_size, None)
        if bound is None:
            while len(self._bound) >= self.sizes:
                self._bound.pop(next(iter(self._bound)))
            bound = self.program.bind(batch_size, self.dtype, self.shared)
        self._bound[batch_size] = bound
        while len(self._bound) > 1 and sum(b.nbytes for b in self._bound.values()) > self.budget:
            self._bound.pop(next(iter(self._bound)))
        return bound

    def batch_sizes(self) -> list[int]:
        """The batch sizes whose buffers are kept, least recently used first."""
        return list(self._bound)


def _locate_error(bound: BoundProgram, number: int, error: Exception, backward: bool) -> ValueError:
    """A ValueError naming the op, the node and the sample where a group's maths failed."""
    program = bound.program
    group = program.groups[number]
    op = group.op
    bound.copy_arguments_in()
    where = "local gradient" if backward else "forward"
    if op is not None:
        found = _first_failing_sample(bound, group, op, backward)
        if found is not None:
            return found
    name = "stop_gradient" if op is None else op.name
    targets = program.tape.names([Ref(TEMP, ins.target) for ins in group.members])
    kind = OverflowValueError if "overflow" in str(error) else ValueError
    return kind(f"compiled tape, {where} of {name} at {targets}: {error}")


def _first_failing_sample(bound: BoundProgram, group: Group, op: Op, backward: bool) -> ValueError | None:
    """The group's members replayed on floats, sample by sample: the eager engine's error for the first
    that fails (None if none does: the error is the group's, e.g. an overflow in the products)."""
    program = bound.program
    where = "local gradient" if backward else "forward"
    for ins in group.members:
        operands = [np.broadcast_to(bound.values[space][slot], (bound.batch_size,))
                    for space, slot in map(program.place, ins.operands)]
        for sample in range(bound.batch_size):
            inputs = [float(column[sample]) for column in operands]
            try:
                out = op.forward(FLOAT_MATH, inputs, ins.arg)
                if backward:
                    op.local_grads(FLOAT_MATH, inputs, out, ins.arg)
                elif out != out:
                    raise ValueError("NaN")
            except (ArithmeticError, ValueError) as failure:
                described = forward_error(op, inputs, ins.arg, failure)  # the eager engine's words
                text = f"compiled tape, {where} of t{ins.target} (sample {sample}): {described}"
                return type(described)(text) if isinstance(described, ValueError) else ValueError(text)
    return None
