"""Compile a scalar function once, replay it over a whole batch with NumPy.

``autograd.compile(fn, example_inputs)`` calls ``fn`` once on ``Value`` inputs
(*tracing*), turns the graph it builds into a :class:`~autograd.compiler.tape.Tape` (one
instruction per node, printable as a three-address listing), groups the tape into a
vectorised :class:`~autograd.compiler.program.Program`, and returns a
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

from .batch import CheckedBatch
from .function import CompiledFunction, TapeGradients
from .numpy_math import NUMPY_MATH, NumpyMath
from .program import Program
from .tape import Tape
from .tracing import compile

__all__ = ["compile", "CompiledFunction", "TapeGradients", "CheckedBatch", "NUMPY_MATH", "NumpyMath", "Tape",
           "Program"]
