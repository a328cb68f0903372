"""chainrule's autograd: a scalar engine with a visible computational graph.

A :class:`Value` holds one float and remembers the op that made it and its
parents; ``backward()`` applies the chain rule from the output back to every
node ("upstream gradient x local gradient"). Each op's forward rule and local
gradient are written once, in :mod:`autograd.ops`.

Example:
    >>> from autograd import Value
    >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    >>> f = (x + y) * z
    >>> f.backward()
    >>> f.data, x.grad, y.grad, z.grad
    (-12.0, -4.0, -4.0, 3.0)

Note: the HIPS ``autograd`` package uses the same import name; install
chainrule in its own virtual environment.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _install_check  # noqa: F401  (first: refuses a folder mixed with HIPS autograd)
from .context import current_scope, enable_grad, is_grad_enabled, no_grad, scope
from .engine import BackwardStep, backward_steps, backpropagate, grad, topological_order
from .errors import NonFiniteError, OverflowValueError, StaleGraphError, TracingError
from .gradcheck import GradcheckError, GradcheckResult, gradcheck, numerical_grad
from .functions import dot, logsumexp, maximum, minimum
from .functions import sum as sum  # autograd.sum; kept out of __all__ (see below)
from .ops import OPS, Op
from .value import Constant, Parameter, Value, as_value

__version__ = "0.2.0.dev0"  # the only place; pyproject.toml reads it

__all__ = [
    "Value", "Parameter", "Constant", "as_value", "dot", "logsumexp", "maximum",
    "minimum", "grad", "backward_steps", "BackwardStep", "backpropagate", "topological_order",
    "no_grad", "enable_grad", "is_grad_enabled", "scope", "current_scope", "gradcheck",
    "GradcheckResult", "GradcheckError", "numerical_grad", "OPS", "Op", "TracingError",
    "OverflowValueError", "NonFiniteError", "StaleGraphError", "draw", "render", "render_steps",
    "Graph", "GraphTooLargeError", "explore", "Explorer", "__version__",
]
# `sum` and `compile` are left out of __all__ so that `from autograd import *`
# never shadows Python's builtins; use autograd.sum and autograd.compile.

if TYPE_CHECKING:  # the lazy names below, typed for mypy and IDEs; never run, so NumPy stays unloaded
    from .compiler import compile as compile
    from .drawing import (Explorer, Graph, GraphTooLargeError, draw, explore, render,
                          render_steps)

# Rendering and compilation build on the core; they load on first use so that
# `import autograd` stays light and never needs graphviz or NumPy.
_LAZY = {"draw": "drawing", "render": "drawing", "render_steps": "drawing", "Graph": "drawing",
         "GraphTooLargeError": "drawing", "explore": "drawing", "Explorer": "drawing",
         "compile": "compiler"}


if not TYPE_CHECKING:  # hidden from type checkers, so that a misspelt autograd.drw is an error

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            module = importlib.import_module(f".{_LAZY[name]}", __name__)
            return getattr(module, name)
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")

