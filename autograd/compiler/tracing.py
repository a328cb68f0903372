"""Tracing: call a scalar function once on ``Value`` inputs and record its graph as a tape.

:func:`compile` is :func:`autograd.compile`; see the package's docstring
(:mod:`autograd.compiler`) for what a trace can and cannot see.
"""

from __future__ import annotations

import inspect
import numbers
from itertools import product
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..gc_pause import CyclicGcPaused
from ..context import tracing
from ..value import Value, as_value
from .batch import as_number_array
from .function import CompiledFunction
from .numpy_math import numpy_math
from .tape import Tape

__all__ = ["compile"]


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
        made = list(map(Value, data.ravel().tolist(), _element_labels(name, data.shape)))
        leaves.extend(made)
        arguments.append(made[0] if data.shape == () else np.array(made, dtype=object).reshape(
            data.shape).tolist())
    if params is not None:
        params = _check_params(params, leaves)
    tracer = _Tracer()
    with CyclicGcPaused():  # a graph, a tape and a program: acyclic, tens of thousands of objects
        with tracing(tracer):
            result = fn(*arguments)
        outputs, output_shape = _flatten_outputs(result)
        tape = Tape.from_graph(outputs, output_shape, leaves, names, shapes, params, tracer.cuts)
        return CompiledFunction(tape, math)


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


def _element_labels(name: str, shape: tuple[int, ...]) -> list[str]:
    """The labels of an argument's scalars in ravel order: ``x``, or ``x[0]``, ``x[1]``... ``x[1,2]``.

    (The course net's 1,000 inputs with their Values: 1.1 ms, 4.3 ms with ``np.unravel_index`` for each.)

    Example:
        >>> _element_labels("x", ()), _element_labels("m", (2, 2))
        (['x'], ['m[0,0]', 'm[0,1]', 'm[1,0]', 'm[1,1]'])
    """
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in product(*map(range, shape))]


def _plain(example: Any) -> Any:
    """An example with its Values replaced by their numbers."""
    if isinstance(example, Value):
        return example._data
    if isinstance(example, (list, tuple)):
        return [_plain(e) for e in example]
    return example


def _example_array(name: str, example: Any) -> np.ndarray:
    data = as_number_array(name, _plain(example))
    if data.dtype.kind not in "biuf":
        raise TypeError(f"example for {name!r} must be a number or numbers, got {data.dtype}")
    return data.astype(np.float64)


def _check_params(params: Sequence[Value], leaves: Sequence[Value]) -> list[Value]:
    params = list(params)
    # The common case checked in bulk (a model's 100,000 parameters in a few ms), the
    # culprit named by the loop below only when something is wrong.
    if (all(isinstance(p, Value) and p._op is None for p in params)
            and len(set(params)) == len(params) and set(leaves).isdisjoint(params)):
        return params
    inputs = set(leaves)
    seen: set[Value] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__}")
        if p._op is not None:
            raise ValueError(f"params[{i}] is not a leaf (it was computed by {p._op.name}); "
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
        return [as_value(float(result))], ()
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
