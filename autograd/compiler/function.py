"""Compiled functions: run a compiled tape on batches of NumPy arrays.

:func:`autograd.compile` returns a :class:`CompiledFunction`; calling it runs the
program forward over a batch, :meth:`CompiledFunction.value_and_grad` also runs it
backward. Inputs are checked (shapes, numbers, NaN) before anything runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..errors import NonFiniteError
from ..value import Value, assign_data
from .batch import CheckedBatch, checked_batch, has_nan
from .numpy_math import RAISE_ON_DOMAIN_ERRORS, FloatArray, NumpyMath
from .program import Program
from .run import BoundCache, BoundProgram
from .scalar import ScalarReplay, replay_is_faster
from .tape import Tape, count

__all__ = ["CompiledFunction", "TapeGradients"]

class TapeGradients(NamedTuple):
    """What :meth:`CompiledFunction.value_and_grad` returns.

    Attributes:
        outputs: the function's outputs, shape ``(batch,) + output_shape``.
        param_grads: one gradient per parameter (ordered as ``compiled.params``),
            summed over the batch (each sample weighted by ``output_grad``).
        input_grads: with ``wrt_inputs=True``, one array per input shaped like it
            (per-sample gradients); else ``None``.
    """

    outputs: FloatArray
    param_grads: FloatArray
    input_grads: tuple[FloatArray, ...] | None


class CompiledFunction:
    """A traced function, compiled: call it on batches of NumPy arrays.

    Attributes:
        tape: the instructions (``print(compiled.tape)``).
        program: how they run: grouped by level and op, layers as matrix products
            (``print(compiled.program)``).
        params: the parameter Values, in the order of ``param_grads``.
        dtype: the working precision.
        scalar_replay: for a small float64 tape, the :class:`~autograd.compiler.scalar.ScalarReplay`
            that runs a batch of one sample on Python floats - the op table's float
            rules, the eager engine's numbers - where NumPy would pay a call per group
            for arrays of one number (None: one sample runs on the program too).

    ``compiled(*batch)`` returns the outputs; :meth:`value_and_grad` also runs the
    backward pass. The compiled function reuses its buffers between calls, so one
    instance should not be called from two threads at once. It keeps buffers for
    the 4 most recently used batch sizes (fewer when they hold over 256 MB together):
    a training loop's batch size, its last partial batch and an evaluation size stay
    ready, and a function called with ever new sizes does not grow without bound.
    """

    def __init__(self, tape: Tape, math: NumpyMath) -> None:
        self.tape = tape
        self.program = Program(tape)
        self.params: list[Value] = tape.params
        self.dtype = math.dtype
        self.input_names = tape.input_names
        self.input_shapes = tape.input_shapes
        self.output_shape = tape.output_shape
        self._bound = BoundCache(self.program, self.dtype)
        n = len(self.params)
        # hold_parameters(): the parameters live in the tape's shared buffer, read in place
        self._held: FloatArray | None = None
        self._held_grads = self._bound.shared.grads[:n].view()
        self._held_grads.flags.writeable = False
        # one sample runs on floats where that is faster than NumPy on arrays of one number
        replays = self.dtype == np.float64 and replay_is_faster(tape, self.program)
        self.scalar_replay = ScalarReplay(tape) if replays else None
        self._input_rows = np.cumsum([0] + [int(np.prod(s)) for s in tape.input_shapes])

    def __repr__(self) -> str:
        inputs = ", ".join(f"{n}{list(s) if s else ''}" for n, s in zip(self.input_names, self.input_shapes))
        return (f"<CompiledFunction({inputs}) -> {list(self.output_shape) or 'scalar'}: "
                f"{count(len(self.tape), 'instruction')} in {count(len(self.program.groups), 'step')}, "
                f"{count(len(self.params), 'parameter')}, {self.dtype.name}>")

    # -- parameters ---------------------------------------------------------------
    def parameter_array(self, out: FloatArray | None = None) -> FloatArray:
        """The parameters' current data (in ``params`` order): a new array, or written into ``out``.

        While they are held (:meth:`hold_parameters`), the held values.

        A training loop can keep the parameters in this array while it trains: it
        passes the array as ``params=`` at every step, updates it in place, and writes
        it back into the parameter Values once, with :meth:`set_parameters` (no
        per-step conversion between Values and arrays). :meth:`hold_parameters` goes
        further: the array is the tape's own buffer, so no step copies it.

        Example:
            >>> import numpy as np, autograd
            >>> w, b = autograd.Parameter(0.5), autograd.Parameter(0.0)
            >>> f = autograd.compile(lambda x, y: (w * x + b - y) ** 2, (0.0, 0.0))
            >>> theta = f.parameter_array()
            >>> x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])  # y = 2x + 1
            >>> for _ in range(2000):
            ...     theta -= 0.05 * f.value_and_grad(x, y, params=theta, output_grad=1 / 3).param_grads
            >>> f.set_parameters(theta)
            >>> round(w.data, 6), round(b.data, 6)
            (2.0, 1.0)
        """
        current = self._held if self._held is not None else [p._data for p in self.params]
        if out is None:
            return np.array(current, dtype=self.dtype)
        if not isinstance(out, np.ndarray) or out.shape != (len(self.params),):
            raise ValueError(f"out must be an array of shape ({len(self.params)},), got "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        out[...] = current
        return out

    def set_parameters(self, values: Any) -> None:
        """Write an array of parameter values back into the parameter Values' ``.data``.

        Every value is checked (shape, numbers, no NaN) before any parameter changes.

        Example:
            >>> import autograd
            >>> w = autograd.Parameter(0.5)
            >>> f = autograd.compile(lambda x: w * x, (1.0,)); f.set_parameters([2.0]); w.data
            2.0
        """
        checked = self._check_param_array(values)  # every check first: a refusal changes nothing
        assign_data(self.params, checked.tolist())  # one tick of the data clock for them all
        if self._held is not None and checked is not self._held:
            self._held[...] = checked  # the held array follows the Values

    def hold_parameters(self) -> FloatArray:
        """Keep the parameters in the tape's own buffer while training; returns that buffer's view.

        The Values' numbers are copied in once; from then on every call reads the
        parameters in place from the returned array (not from the Values) and
        returns ``param_grads`` as a read-only view of the tape's gradient buffer,
        valid until the next call: a step copies no parameter-sized array. Update the
        array in place (``theta -= lr * grads``); :meth:`write_back` puts it into the
        Values, :meth:`release_parameters` too and makes calls read the Values again.
        While held, ``params=`` is refused. Holding again returns the same array.
        Calls do not search the held array for NaN (a pass over every parameter at
        every step): :meth:`write_back` refuses one, naming the parameter.

        Example:
            >>> import numpy as np, autograd
            >>> w, b = autograd.Parameter(0.5), autograd.Parameter(0.0)
            >>> f = autograd.compile(lambda x, y: (w * x + b - y) ** 2, (0.0, 0.0))
            >>> theta = f.hold_parameters()
            >>> x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 5.0, 7.0])  # y = 2x + 1
            >>> for _ in range(2000):
            ...     theta -= 0.05 * f.value_and_grad(x, y, output_grad=1 / 3).param_grads
            >>> f.release_parameters()
            >>> round(w.data, 6), round(b.data, 6)
            (2.0, 1.0)
        """
        if self._held is None:
            held = self._bound.shared.values[:len(self.params)]
            # the Values' floats straight into the buffer: the course net's 101,000 in 3.2 ms,
            # 7.5 ms through an array made from the list (NumPy inspects each item's type)
            held[...] = [p._data for p in self.params]
            self._refuse_nan_parameters(held)
            self._held = held
        return self._held

    def write_back(self) -> None:
        """Write the held parameters into the parameter Values (they stay held).

        Example:
            >>> import autograd
            >>> w = autograd.Parameter(0.5)
            >>> f = autograd.compile(lambda x: w * x, (1.0,)); f.hold_parameters()[0] = 3.0
            >>> f.write_back(); w.data
            3.0
        """
        if self._held is not None:
            self.set_parameters(self._held)

    def release_parameters(self, write_back: bool = True) -> None:
        """:meth:`write_back` (unless ``write_back=False``: the Values are already up to date),
        then read the parameter Values again at every call.

        Example:
            >>> import autograd
            >>> w = autograd.Parameter(0.5)
            >>> f = autograd.compile(lambda x: w * x, (1.0,)); theta = f.hold_parameters()
            >>> theta *= 4; f.release_parameters(); w.data, f.parameters_held
            (2.0, False)
        """
        if write_back:
            self.write_back()
        self._held = None

    @property
    def parameters_held(self) -> bool:
        """Whether :meth:`hold_parameters` keeps the parameters in the tape's buffer."""
        return self._held is not None

    def _check_param_array(self, values: Any) -> NDArray[Any]:
        """``values`` as an array of one number per parameter, none of them NaN."""
        try:
            array = np.asarray(values)
        except ValueError:
            raise ValueError(f"params must be an array of {len(self.params)} numbers, got a ragged "
                             "sequence") from None
        if array.shape != (len(self.params),):
            raise ValueError(f"params must be an array of {len(self.params)} numbers (one per "
                             f"parameter), got shape {array.shape}")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"params must be numbers, got dtype {array.dtype}")
        self._refuse_nan_parameters(array)
        return array

    def _refuse_nan_parameters(self, values: FloatArray, offset: int = 0) -> None:
        """A NaN parameter would make every output NaN: name the first one instead.

        ``values`` are the parameters and frozen leaves from number ``offset`` on."""
        if values.dtype.kind == "f" and values.size and has_nan(values):
            i = offset + int(np.flatnonzero(np.isnan(values))[0])
            leaves = [*self.params, *self.tape.frozen]
            what = "parameter" if i < len(self.params) else "frozen leaf"
            raise NonFiniteError(f"{what} {i if i < len(self.params) else i - len(self.params)} "
                                 f"({leaves[i].label or 'unlabelled'}) is NaN")

    # -- running it ---------------------------------------------------------------
    def __call__(self, *inputs: Any, params: Any = None) -> FloatArray:
        """The outputs for a batch: shape ``(batch,) + output_shape``.

        Example:
            >>> import numpy as np, autograd
            >>> square = autograd.compile(lambda x: x * x, (0.0,))
            >>> square(np.array([1.0, 2.0, 3.0]))
            array([1., 4., 9.])
        """
        with np.errstate(**RAISE_ON_DOMAIN_ERRORS):
            arrays, batch = self._check_inputs(inputs)
            if batch == 1 and self.scalar_replay is not None:
                result = self._replay(arrays, params, None, False)
                if result is not None:
                    return result.outputs
            bound = self._load(arrays, batch, params)
            bound.forward()
        return self._shape_outputs(bound)

    def value_and_grad(self, *inputs: Any, params: Any = None, output_grad: Any = None,
                       wrt_inputs: bool = False) -> TapeGradients:
        """Forward and backward over a batch: outputs, parameter gradients (summed), input gradients.

        Args:
            inputs: one array per argument of the traced function, each with a batch
                dimension in front: shape ``(batch,) + example shape``.
            params: parameter values to use instead of the Values' ``.data``
                (an array in ``compiled.params`` order).
            output_grad: the gradient to seed each output of each sample with
                (default 1: the gradient of the sum of all outputs). A number
                (``1 / batch`` gives the mean) or an array broadcastable to the outputs.
            wrt_inputs: also return d/d(input) for every sample.

        Example:
            >>> import numpy as np, autograd
            >>> w = autograd.Parameter(3.0)
            >>> f = autograd.compile(lambda x: w * x * x, (0.0,))
            >>> r = f.value_and_grad(np.array([1.0, 2.0]), output_grad=0.5, wrt_inputs=True)
            >>> r.param_grads, r.input_grads
            (array([2.5]), (array([3., 6.]),))
        """
        with np.errstate(**RAISE_ON_DOMAIN_ERRORS):  # once for the whole call
            arrays, batch = self._check_inputs(inputs)
            if batch == 1 and self.scalar_replay is not None:
                result = self._replay(arrays, params, self._seed(output_grad, 1), wrt_inputs)
                if result is not None:
                    return result
            bound = self._load(arrays, batch, params)
            bound.forward()
            bound.backward(self._seed(output_grad, batch), wrt_inputs)
        outputs = self._shape_outputs(bound)
        param_grads = self._held_grads if self._held is not None else self._held_grads.copy()
        input_grads = None
        if wrt_inputs:
            rows = self._input_rows
            input_grads = tuple(
                bound.batched_grads[rows[i]:rows[i + 1]].T.reshape((batch,) + shape).copy()
                for i, shape in enumerate(self.input_shapes))
        return TapeGradients(outputs, param_grads, input_grads)

    def _seed(self, output_grad: Any, batch: int) -> float | FloatArray:
        """``output_grad`` checked: one number for every seed, or a (batch, n_outputs) array."""
        n_outputs = len(self.tape.outputs)
        if output_grad is None:
            seed: float | FloatArray = 1.0
        elif isinstance(output_grad, numbers.Real) and not isinstance(output_grad, bool):
            seed = float(output_grad)
        elif (isinstance(output_grad, np.ndarray) and output_grad.dtype == self.dtype
              and output_grad.shape == (batch,) + self.output_shape):
            seed = output_grad.reshape(batch, n_outputs)  # a training loop's seeds: no broadcast needed
        else:
            given = np.asarray(output_grad, dtype=self.dtype)
            try:
                seed = np.broadcast_to(given, (batch,) + self.output_shape).reshape(batch, n_outputs)
            except ValueError:
                raise ValueError(f"output_grad of shape {given.shape} does not broadcast to the "
                                 f"outputs' shape {(batch,) + self.output_shape}") from None
        if not np.isfinite(seed).all():
            found = "NaN" if np.isnan(seed).any() else "inf"
            raise NonFiniteError(f"output_grad must be finite, got {found}")
        return seed

    def _replay(self, arrays: Sequence[FloatArray], params: Any, seed: float | FloatArray | None,
                wrt_inputs: bool) -> TapeGradients | None:
        """One sample on the scalar replay (None: it gave up; run the program for the error)."""
        assert self.scalar_replay is not None
        if self._held is not None:
            self._refuse_params_while_held(params)
            values = self._held.tolist()
        elif params is None:
            values = [p._data for p in self.params]
        else:
            values = self._check_param_array(params).tolist()
        values += [f._data for f in self.tape.frozen]
        if any(v != v for v in values):  # NaN
            self._refuse_nan_parameters(np.array(values))
        inputs = np.concatenate([a.reshape(-1) for a in arrays]).astype(np.float64).tolist() if arrays else []
        n_params, n_outputs = len(self.params), len(self.tape.outputs)
        seeds = None if seed is None else (
            [seed] * n_outputs if isinstance(seed, float) else seed.reshape(-1).tolist())
        found = self.scalar_replay.run(inputs, values[:n_params], values[n_params:], seeds, wrt_inputs)
        if found is None:
            return None
        outputs = np.array(found.outputs).reshape((1,) + self.output_shape)
        input_grads = None
        if found.input_grads is not None:
            rows = self._input_rows
            input_grads = tuple(np.array(found.input_grads[rows[i]:rows[i + 1]]).reshape((1,) + shape)
                                for i, shape in enumerate(self.input_shapes))
        param_grads = np.array(found.param_grads if found.param_grads is not None else [], dtype=np.float64)
        if self._held is not None:  # where a held call's gradients are, whichever path ran
            self._bound.shared.grads[:len(self.params)] = param_grads
            param_grads = self._held_grads
        return TapeGradients(outputs, param_grads, input_grads)

    def _shape_outputs(self, bound: BoundProgram) -> FloatArray:
        return bound.outputs().reshape((bound.batch_size,) + self.output_shape)

    def _load(self, arrays: Sequence[NDArray[Any]], batch: int, params: Any) -> BoundProgram:
        """Put a checked batch and the parameters into a bound program's buffers.

        Runs under the tape's errstate: a number too large for the dtype raises.
        """
        bound = self._bound.get(batch)
        what = "the inputs"
        try:
            rows = self._input_rows
            for i, array in enumerate(arrays):
                what = f"input {self.input_names[i]!r}"
                if i in self.program.in_place:  # read where it is, by the layers that use it
                    bound.arguments[i] = array.reshape(batch, -1).astype(self.dtype, copy=False)
                elif rows[i + 1] - rows[i] == 1:
                    bound.batched_values[rows[i]] = array.reshape(batch)
                else:
                    bound.batched_values[rows[i]:rows[i + 1]] = array.reshape(batch, -1).T
            what = "the parameters"
            self._write_parameters(bound.shared_values, params)
        except FloatingPointError:
            raise ValueError(f"{what}: a number too large for {self.dtype.name}") from None
        return bound

    def _refuse_params_while_held(self, params: Any) -> None:
        if params is not None:
            raise ValueError("the parameters are held in the tape's buffer (hold_parameters()): update "
                             "that array instead of passing params=, or release_parameters() first")

    def _write_parameters(self, shared_values: FloatArray, params: Any) -> None:
        n = len(self.params)
        if self._held is not None:  # already where the tape reads them
            self._refuse_params_while_held(params)
        elif params is None:
            shared_values[:n] = [p._data for p in self.params]
        elif isinstance(params, np.ndarray) and params.shape == (n,) and params.dtype.kind == "f":
            shared_values[:n] = params
        else:
            shared_values[:n] = self._check_param_array(params)
        frozen = self.tape.frozen
        if frozen:
            shared_values[n:n + len(frozen)] = [f._data for f in frozen]
        # the held array is searched for NaN when written back, not by every call (a pass
        # over 100,000 parameters at every step of the course's net)
        checked = slice(n if self._held is not None else 0, n + len(frozen))
        self._refuse_nan_parameters(shared_values[checked], offset=checked.start)

    def check_batch(self, *inputs: Any) -> CheckedBatch:
        """The inputs checked as a call checks them, once: give the result to later calls instead.

        Example:
            >>> import numpy as np, autograd
            >>> w = autograd.Parameter(3.0)
            >>> f = autograd.compile(lambda x: w * x, (0.0,))
            >>> batch = f.check_batch([1.0, 2.0])
            >>> batch.size, f.value_and_grad(batch).param_grads
            (2, array([3.]))
        """
        return checked_batch(self.input_names, self.input_shapes, inputs)

    def _check_inputs(self, inputs: Sequence[Any]) -> tuple[tuple[NDArray[Any], ...], int]:
        """The inputs as arrays of numbers with the traced shapes and one batch size, and that size."""
        checked = checked_batch(self.input_names, self.input_shapes, inputs)
        return checked.arrays, checked.size
