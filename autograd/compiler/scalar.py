"""The scalar replay: a tape run one instruction at a time on Python floats, for one sample.

For a batch of one sample, the vectorised program pays a few NumPy calls per group
(about 10 us each, forward and backward) for arrays of one number; on a small
network that costs more than the arithmetic. :class:`ScalarReplay` runs the same
instructions through the op table's float rules instead (``op.forward(FLOAT_MATH,
...)``, ``op.local_grads(FLOAT_MATH, ...)``), as the eager engine does, without
making a ``Value`` per node.

It never decides an error itself: at the first exception, NaN or infinity it gives
up (returns None), and the caller runs the sample through the program, which raises
the tape's usual error naming the op, the node and the sample, or returns the
infinities an infinite input legitimately gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..ops import FLOAT_MATH, Op
from .tape import CONST, FROZEN, INPUT, PARAM, TEMP, Tape

if TYPE_CHECKING:
    from .program import Program

__all__ = ["ScalarReplay", "ScalarResult", "replay_is_faster"]

_FAILURES = (ArithmeticError, ValueError)


class _Step(NamedTuple):
    op: Op | None  # None: stop_gradient (copy forward, nothing back)
    arg: object
    operands: tuple[int, ...]  # slots read
    target: int  # slot written


class ScalarResult(NamedTuple):
    """One sample's outputs, parameter gradients and input gradients (None unless asked), as floats."""

    outputs: list[float]
    param_grads: list[float] | None
    input_grads: list[float] | None


class ScalarReplay:
    """A tape's instructions run on one list of floats: inputs, parameters, constants, temporaries.

    Example:
        >>> import autograd
        >>> w = autograd.Parameter(3.0)
        >>> f = autograd.compile(lambda x: (w * x).tanh(), (0.0,))
        >>> result = ScalarReplay(f.tape).run([0.5], [3.0], [], [1.0], wrt_inputs=True)
        >>> [round(v, 6) for v in result.outputs + result.param_grads + result.input_grads]
        [0.905148, 0.090353, 0.54212]
    """

    def __init__(self, tape: Tape) -> None:
        n_inputs, n_params = len(tape.input_labels), len(tape.params)
        start = {INPUT: 0, PARAM: n_inputs, FROZEN: n_inputs + n_params}
        start[CONST] = start[FROZEN] + len(tape.frozen)
        start[TEMP] = start[CONST] + len(tape.constants)
        self.n_inputs, self.n_params = n_inputs, n_params
        self.constants = list(tape.constants)
        self.n_slots = start[TEMP] + len(tape)
        self.steps = [_Step(ins.op, ins.arg, tuple(start[r.kind] + r.number for r in ins.operands),
                            start[TEMP] + ins.target) for ins in tape]
        self.outputs = [start[r.kind] + r.number for r in tape.outputs]
        self._backward_steps = {wrt: self._needing_grad(wrt) for wrt in (False, True)}

    def _needing_grad(self, wrt_inputs: bool) -> list[tuple[_Step, tuple[bool, ...]]]:
        """The steps a gradient flows through, last first, with which operands want it."""
        needs = [False] * self.n_slots
        needs[self.n_inputs:self.n_inputs + self.n_params] = [True] * self.n_params
        needs[:self.n_inputs] = [wrt_inputs] * self.n_inputs
        for step in self.steps:
            needs[step.target] = step.op is not None and any(needs[i] for i in step.operands)
        return [(step, tuple(needs[i] for i in step.operands))
                for step in reversed(self.steps) if needs[step.target]]

    def run(self, inputs: Sequence[float], params: Sequence[float], frozen: Sequence[float],
            seeds: Sequence[float] | None, wrt_inputs: bool = False) -> ScalarResult | None:
        """Forward (and backward, if ``seeds`` are given: one per output) for one sample.

        None when an op fails or a number is not finite: run the sample through the
        program then, for its error or its infinities.
        """
        values = [*inputs, *params, *frozen, *self.constants]
        values.extend([0.0] * len(self.steps))
        try:
            for op, arg, operands, target in self.steps:
                xs = [values[i] for i in operands]
                out = xs[0] if op is None else op.forward(FLOAT_MATH, xs, arg)
                if out - out != 0.0:  # NaN or an infinity
                    return None
                values[target] = out
            outputs = [values[i] for i in self.outputs]
            if seeds is None:
                return ScalarResult(outputs, None, None)
            grads = self._backward(values, seeds, wrt_inputs)
        except _FAILURES:
            return None
        param_grads = grads[self.n_inputs:self.n_inputs + self.n_params]
        input_grads = grads[:self.n_inputs] if wrt_inputs else None
        for g in param_grads + (input_grads or []):
            if g - g != 0.0:
                return None
        return ScalarResult(outputs, param_grads, input_grads)

    def _backward(self, values: list[float], seeds: Sequence[float], wrt_inputs: bool) -> list[float]:
        grads = [0.0] * self.n_slots
        for slot, seed in zip(self.outputs, seeds):
            grads[slot] += seed
        for (op, arg, operands, target), wanted in self._backward_steps[wrt_inputs]:
            assert op is not None  # a stop_gradient step never needs a gradient
            g = grads[target]
            xs = [values[i] for i in operands]
            local = op.local_grads(FLOAT_MATH, xs, values[target], arg)
            for slot, want, d in zip(operands, wanted, local):
                if want:
                    grads[slot] += g * d
        return grads


def replay_is_faster(tape: Tape, program: Program) -> bool:
    """Whether one sample runs faster on the scalar replay than on the program (a cost model).

    Measured for one sample's forward and backward (2 shared cores; the course's
    2-3-2, 2-16-16-1, 64-64-32-10 and 1000-100-10 nets): the replay costs about
    0.5 us per operand and 4 us per instruction, the program about 35 us per group
    and 60 us per call. So the course's small exercise nets replay (2-3-2: 97 us
    against 296 us), a 16-unit MLP already runs faster on the program.

    Example:
        >>> import autograd
        >>> w = autograd.Parameter(3.0)
        >>> f = autograd.compile(lambda x: (w * x).tanh(), (0.0,))
        >>> replay_is_faster(f.tape, f.program)
        True

    Decided from the tape, before any replay is built (building one for the course's
    1000-100-10 net, which never replays, took a fifth of a second).
    """
    budget = 35.0 * len(program.groups) + 60.0
    if 4.0 * len(tape) >= budget:
        return False
    operands = sum(len(ins.operands) for ins in tape.instructions)
    return 0.5 * operands + 4.0 * len(tape) < budget
