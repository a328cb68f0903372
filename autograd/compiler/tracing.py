"""Compile a scalar function once, replay it over a whole batch with NumPy.

``autograd.compile(fn, example_inputs)`` calls ``fn`` once on ``Value`` inputs
(*tracing*), turns the graph it builds into a :class:`~autograd.tape.Tape` (one
instruction per node, printable as a three-address listing), groups the tape into a
vectorised :class:`~autograd.compile_program.Program`, and returns a
:class:`CompiledFunction` that runs forward and backward for a batch of inputs given
as NumPy arrays.

* Inputs vary per sample: each argument gets a batch dimension in front.
* Parameters (the leaf Values ``fn`` reads but was not given: a model's weights) are
  shared by every sample; their gradients are summed over the batch, the course's
  batch mode. Their current ``.data`` is read at every call (or pass ``params=`` an
  array, for a training loop that keeps them in NumPy).
* Constants (the plain numbers in ``fn``) are baked into the tape.
* The replay runs the op table's own rules on arrays (``op.forward(NUMPY_MATH, ...)``
  and ``op.local_grads(NUMPY_MATH, ...)``): no derivative is written twice.

**What a trace cannot see raises, it is not guessed.** The tape records operations,
not Python's control flow. While ``fn`` is traced, reading ``Value.data``, comparing
Values (``<``, ``>``...), ``float(v)``, ``if v:``, ``no_grad()`` and a float
``backward()`` raise :class:`~autograd.value.TracingError`: each would freeze the
example's branch or numbers into the tape for every later input. Write branches with
ops instead (``relu``, ``autograd.maximum``, ``step``). ``Value.detach()`` is
supported: it becomes a ``stop_gradient`` instruction (the value flows forward, no
gradient flows back), not a constant.

**Domain errors raise.** Where the eager engine raises (log of a non-positive
number, a division by zero, an overflowing exp), the tape raises a ``ValueError``
naming the op, the node and the sample, instead of returning NaN.

Example:
    >>> import numpy as np
    >>> import autograd
    >>> w, b = autograd.Parameter(2.0, "w"), autograd.Parameter(0.5, "b")
    >>> loss = autograd.compile(lambda x, y: (w * x + b - y) ** 2, (1.0, 0.0))
    >>> result = loss.value_and_grad(np.array([1.0, 2.0]), np.array([0.0, 1.0]))
    >>> result.outputs            # one loss per sample
    array([ 6.25, 12.25])
    >>> result.param_grads        # d(sum of losses)/dw, d/db: summed over the batch
    array([19., 12.])
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .compile_math import NUMPY_MATH, RAISE_ON_DOMAIN_ERRORS, NumpyMath, numpy_math
from .compile_program import BoundProgram, Program
from .context import tracing
from .tape import Tape, count
from .value import Value, as_value

__all__ = ["compile", "CompiledFunction", "TapeGradients", "NUMPY_MATH", "NumpyMath", "Tape", "Program"]

_CACHED_BATCH_SIZES = 8


class TapeGradients(NamedTuple):
    """What :meth:`CompiledFunction.value_and_grad` returns.

    Attributes:
        outputs: the function's outputs, shape ``(batch,) + output_shape``.
        param_grads: one gradient per parameter (ordered as ``compiled.params``),
            summed over the batch (each sample weighted by ``output_grad``).
        input_grads: with ``wrt_inputs=True``, one array per input shaped like it
            (per-sample gradients); else ``None``.
    """

    outputs: np.ndarray
    param_grads: np.ndarray
    input_grads: tuple[np.ndarray, ...] | None


class _Tracer:
    """Receives what ``Value.detach()`` cuts while a function is traced."""

    def __init__(self) -> None:
        self.cuts: dict[Value, Value] = {}

    def detached(self, source: Value, leaf: Value) -> None:
        self.cuts[leaf] = source


def compile(fn: Callable[..., Any], example_inputs: Sequence[Any],
            params: Sequence[Value] | None = None, *, dtype: Any = "float64") -> CompiledFunction:
    """Trace ``fn`` once on Value inputs and compile it into a batched NumPy tape.

    Args:
        fn: a function of ``Value`` arguments (numbers, or lists of them, as in the
            examples) returning a Value, a number, or a (nested) list of them.
        example_inputs: one example per argument of ``fn``: a number or a (nested)
            sequence/array of numbers. Only their shapes matter after tracing.
        params: the leaf Values whose gradients to return, in this order. ``None``:
            every leaf ``fn`` reads that is not an input or a constant, in order of
            first use. Other leaves ``fn`` reads are *frozen*: read at each call,
            no gradient.
        dtype: ``"float64"`` (default) or ``"float32"``.

    Returns:
        A :class:`CompiledFunction`; ``print(compiled.tape)`` shows its instructions.

    Raises:
        TracingError: ``fn`` read ``.data`` or compared Values while traced.
        TypeError: ``fn`` is not callable, or an example or output is not numeric.

    Example:
        >>> import numpy as np
        >>> import autograd
        >>> f = autograd.compile(lambda x: x[0] * x[1] + x[0].exp(), ([1.0, 2.0],))
        >>> f(np.array([[0.0, 5.0], [1.0, 1.0]]))
        array([1.        , 3.71828183])
    """
    if not callable(fn):
        raise TypeError(f"compile needs a function, got {type(fn).__name__}")
    if isinstance(example_inputs, (Value, numbers.Number, np.ndarray, str)) or not isinstance(
            example_inputs, Sequence):
        raise TypeError("example_inputs must be a tuple with one example per argument of fn, "
                        f"e.g. (x_row, y_row); got {type(example_inputs).__name__}")
    math = numpy_math(dtype)
    names = _argument_names(fn, len(example_inputs))
    shapes: list[tuple[int, ...]] = []
    leaves: list[Value] = []
    arguments = []
    for name, example in zip(names, example_inputs):
        data = _example_array(name, example)
        shapes.append(data.shape)
        made = [Value(float(x), _element_label(name, data.shape, i)) for i, x in enumerate(data.ravel())]
        leaves.extend(made)
        arguments.append(made[0] if data.shape == () else np.array(made, dtype=object).reshape(
            data.shape).tolist())
    if params is not None:
        params = _check_params(params, leaves)
    tracer = _Tracer()
    with tracing(tracer):
        result = fn(*arguments)
    outputs, output_shape = _flatten_outputs(result)
    tape = Tape.from_graph(outputs, output_shape, leaves, names, shapes, params, tracer.cuts)
    return CompiledFunction(tape, math)


class CompiledFunction:
    """A traced function, compiled: call it on batches of NumPy arrays.

    Attributes:
        tape: the instructions (``print(compiled.tape)``).
        program: how they run: grouped by level and op, layers as matrix products
            (``print(compiled.program)``).
        params: the parameter Values, in the order of ``param_grads``.
        dtype: the working precision.

    ``compiled(*batch)`` returns the outputs; :meth:`value_and_grad` also runs the
    backward pass. The compiled function reuses its buffers between calls, so one
    instance should not be called from two threads at once.
    """

    def __init__(self, tape: Tape, math: NumpyMath) -> None:
        self.tape = tape
        self.program = Program(tape)
        self.params: list[Value] = tape.params
        self.dtype = math.dtype
        self.input_names = tape.input_names
        self.input_shapes = tape.input_shapes
        self.output_shape = tape.output_shape
        self._bound: dict[int, BoundProgram] = {}
        self._input_rows = np.cumsum([0] + [int(np.prod(s)) for s in tape.input_shapes])

    def __repr__(self) -> str:
        inputs = ", ".join(f"{n}{list(s) if s else ''}" for n, s in zip(self.input_names, self.input_shapes))
        return (f"<CompiledFunction({inputs}) -> {list(self.output_shape) or 'scalar'}: "
                f"{count(len(self.tape), 'instruction')} in {count(len(self.program.groups), 'step')}, "
                f"{count(len(self.params), 'parameter')}, {self.dtype.name}>")

    # -- parameters ---------------------------------------------------------------
    def parameter_array(self) -> np.ndarray:
        """The parameters' current data as a new array (in ``params`` order).

        Example:
            >>> import autograd
            >>> w = autograd.Parameter(0.5)
            >>> autograd.compile(lambda x: w * x, (1.0,)).parameter_array()
            array([0.5])
        """
        return np.array([p._data for p in self.params], dtype=self.dtype)

    def set_parameters(self, values: Any) -> None:
        """Write an array of parameter values back into the parameter Values' ``.data``.

        Example:
            >>> import autograd
            >>> w = autograd.Parameter(0.5)
            >>> f = autograd.compile(lambda x: w * x, (1.0,)); f.set_parameters([2.0]); w.data
            2.0
        """
        values = self._check_param_array(values)
        for p, v in zip(self.params, values.tolist()):
            p.data = v

    def _check_param_array(self, values: Any) -> np.ndarray:
        array = np.asarray(values)
        if array.shape != (len(self.params),):
            raise ValueError(f"params must be an array of {len(self.params)} numbers (one per "
                             f"parameter), got shape {array.shape}")
        if array.dtype.kind not in "biuf":
            raise TypeError(f"params must be numbers, got dtype {array.dtype}")
        return array

    # -- running it ---------------------------------------------------------------
    def __call__(self, *inputs: Any, params: Any = None) -> np.ndarray:
        """The outputs for a batch: shape ``(batch,) + output_shape``.

        Example:
            >>> import numpy as np, autograd
            >>> square = autograd.compile(lambda x: x * x, (0.0,))
            >>> square(np.array([1.0, 2.0, 3.0]))
            array([1., 4., 9.])
        """
        with np.errstate(**RAISE_ON_DOMAIN_ERRORS):
            bound = self._load(inputs, params)
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
            bound = self._load(inputs, params)
            bound.forward()
            self._backward(bound, output_grad, wrt_inputs)
        outputs = self._shape_outputs(bound)
        batch = bound.batch_size
        param_grads = bound.GS[:len(self.params)].copy()
        input_grads = None
        if wrt_inputs:
            rows = self._input_rows
            input_grads = tuple(
                bound.GV[rows[i]:rows[i + 1]].T.reshape((batch,) + shape).copy()
                for i, shape in enumerate(self.input_shapes))
        return TapeGradients(outputs, param_grads, input_grads)

    def _backward(self, bound: BoundProgram, output_grad: Any, wrt_inputs: bool) -> None:
        """Check ``output_grad`` and run the backward pass with it as the outputs' seeds."""
        batch = bound.batch_size
        n_outputs = len(self.tape.outputs)
        if output_grad is None:
            seed: Any = 1.0
        elif isinstance(output_grad, numbers.Real) and not isinstance(output_grad, bool):
            seed = float(output_grad)
        else:
            given = np.asarray(output_grad, dtype=self.dtype)
            try:
                seed = np.broadcast_to(given, (batch,) + self.output_shape).reshape(batch, n_outputs)
            except ValueError:
                raise ValueError(f"output_grad of shape {given.shape} does not broadcast to the "
                                 f"outputs' shape {(batch,) + self.output_shape}") from None
        bound.backward(seed, wrt_inputs)

    def _shape_outputs(self, bound: BoundProgram) -> np.ndarray:
        return bound.outputs().reshape((bound.batch_size,) + self.output_shape)

    def _load(self, inputs: Sequence[Any], params: Any) -> BoundProgram:
        """Check the batch, and put it and the parameters into a bound program's buffers.

        Runs under the tape's errstate: a number too large for the dtype raises.
        """
        names, shapes = self.input_names, self.input_shapes
        if len(inputs) != len(names):
            raise TypeError(f"this compiled function takes {len(names)} batched input"
                            f"{'' if len(names) == 1 else 's'} ({', '.join(names) or 'none'}), "
                            f"got {len(inputs)}")
        arrays = []
        batch = None
        for name, shape, given in zip(names, shapes, inputs):
            array = given if isinstance(given, np.ndarray) else _as_number_array(name, given)
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
            if array.dtype.kind == "f" and _has_nan(array):
                row = int(np.argwhere(np.isnan(array))[0][0])
                raise ValueError(f"input {name!r} contains NaN (sample {row})")
            arrays.append(array)
        batch = 1 if batch is None else batch
        if batch == 0:
            raise ValueError("the batch is empty: give at least one sample")
        bound = self._bound.get(batch)
        if bound is None:
            if len(self._bound) >= _CACHED_BATCH_SIZES:
                self._bound.pop(next(iter(self._bound)))
            bound = self._bound[batch] = self.program.bind(batch, self.dtype)
        rows = self._input_rows
        in_place = self.program.in_place
        what = "the inputs"
        try:
            for i, array in enumerate(arrays):
                what = f"input {names[i]!r}"
                if i in in_place:  # read where it is, by the layers that use it
                    bound.arguments[i] = array.reshape(batch, -1).astype(self.dtype, copy=False)
                elif rows[i + 1] - rows[i] == 1:
                    bound.V[rows[i]] = array.reshape(batch)
                else:
                    bound.V[rows[i]:rows[i + 1]] = array.reshape(batch, -1).T
            what = "the parameters"
            n = len(self.params)
            if params is None:
                bound.S[:n] = [p._data for p in self.params]
            elif isinstance(params, np.ndarray) and params.shape == (n,) and params.dtype.kind == "f":
                bound.S[:n] = params
            else:
                bound.S[:n] = self._check_param_array(params)
            frozen = self.tape.frozen
            if frozen:
                bound.S[n:n + len(frozen)] = [f._data for f in frozen]
        except FloatingPointError:
            raise ValueError(f"{what}: a number too large for {self.dtype.name}") from None
        return bound


def _has_nan(array: np.ndarray) -> bool:
    """Whether any entry is NaN: x . x is NaN exactly then (squares never cancel), in one BLAS call."""
    flat = array.reshape(-1)
    try:
        return bool(np.isnan(np.dot(flat, flat)))
    except FloatingPointError:  # the squares overflowed (the tape's errstate raises): look closer
        return bool(np.isnan(array).any())


# ---------------------------------------------------------------------------
# Tracing helpers
# ---------------------------------------------------------------------------
def _argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for i in range(count):
        if i < len(parameters) and parameters[i].kind in (
                inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            names.append(parameters[i].name)
        else:
            names.append(f"arg{i}")
    return names


def _element_label(name: str, shape: tuple[int, ...], flat_index: int) -> str:
    if shape == ():
        return name
    return f"{name}[{','.join(str(i) for i in np.unravel_index(flat_index, shape))}]"


def _plain(example: Any) -> Any:
    """An example with its Values replaced by their numbers."""
    if isinstance(example, Value):
        return example._data
    if isinstance(example, (list, tuple)):
        return [_plain(e) for e in example]
    return example


def _as_number_array(name: str, given: Any) -> np.ndarray:
    try:
        array = np.asarray(given)
    except ValueError:
        raise ValueError(f"input {name!r} is ragged: every row must have the same length") from None
    if array.dtype == object:
        raise TypeError(f"input {name!r} must be an array of numbers, got {type(given).__name__} "
                        "holding non-numbers (or rows of different lengths)")
    return array


def _example_array(name: str, example: Any) -> np.ndarray:
    data = _as_number_array(name, _plain(example))
    if data.dtype.kind not in "biuf":
        raise TypeError(f"example for {name!r} must be a number or numbers, got {data.dtype}")
    return data.astype(np.float64)


def _check_params(params: Sequence[Value], leaves: Sequence[Value]) -> list[Value]:
    params = list(params)
    inputs = set(leaves)
    seen: set[Value] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}")
        if not p.is_leaf:
            raise ValueError(f"params[{i}] is not a leaf (it was computed by {p.op.name}); "
                             "gradients are returned for leaf Values")
        if p in seen:
            raise ValueError(f"params[{i}] appears twice in params")
        if p in inputs:
            raise ValueError(f"params[{i}] is an input")
        seen.add(p)
    return params


def _flatten_outputs(result: Any) -> tuple[list[Value], tuple[int, ...]]:
    """The traced function's result as a flat list of Values, and its shape."""
    if isinstance(result, Value):
        return [result], ()
    if isinstance(result, numbers.Real) and not isinstance(result, bool):
        return [as_value(result)], ()
    if isinstance(result, np.ndarray) and result.dtype == object:
        result = result.tolist()
    if isinstance(result, (list, tuple)):
        if not result:
            raise ValueError("the traced function returned an empty list: nothing to compile")
        parts = [_flatten_outputs(r) for r in result]
        shape = parts[0][1]
        if any(p[1] != shape for p in parts):
            raise ValueError("the traced function returned a ragged nested list; outputs must be "
                             "a Value or a rectangular (nested) list of Values")
        return [v for p in parts for v in p[0]], (len(parts),) + shape
    raise TypeError("the traced function must return a Value, a number or a (nested) list of "
                    f"them, got {type(result).__name__}")
