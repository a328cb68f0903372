"""Draw a computational graph: values, ops, and the chain rule on the edges.

:func:`draw` turns the graph behind one (or several) output Values into a
:class:`graphviz.Digraph`: one box per value (its label, data and gradient), one
oval per op (the op table's label), and on each edge from an input to an op the
op's *local gradient* d(op's result)/d(input), taken from the op table. A value's
gradient times the local gradient on an edge is what flows back along that edge:
the "upstream gradient x local gradient" picture of the course, in numbers that
agree with ``.grad``.

* ``draw(f, step=k)`` shows the backward pass after ``k`` steps of
  :func:`autograd.backward_steps`; :func:`render_steps` writes every frame.
* ``draw(f, collapse="neuron")`` folds every ``autograd.scope`` whose name starts
  with ``neuron`` into one box; unfolded scopes are drawn as clusters.
* The DOT text (``draw(f).source``) needs no Graphviz; :func:`render`, Jupyter's
  inline display and ``Graph.pipe`` lay it out with pygraphviz or the ``dot``
  program (see :mod:`autograd.drawing.backends`).

Everything is deterministic: nodes are named by their position in
:func:`autograd.topological_order`, so the same graph gives byte-identical DOT.

The modules, in the order a drawing flows through them: ``options`` (checking the
arguments), ``folding`` (which nodes and scope boxes show), ``gradients`` (the
numbers), ``dot`` (the DOT text, and its one quoting function), ``graph`` (the
``Graph`` object) and ``backends`` (Graphviz), with ``api`` on top. The drawing
reads only the public properties of ``Value`` and never imports the compiler.
"""

from __future__ import annotations

from .api import draw, render, render_steps
from .explorer import Explorer, explore
from .backends import BACKEND_ENVIRONMENT_VARIABLE, GraphvizNotFoundError, choose_backend
from .graph import Graph, GraphTooLargeError
from .options import DEFAULT_MAX_NODES, ROLE_COLOURS, DrawOptions, FrameOptions

__all__ = ["draw", "render", "render_steps", "explore", "Explorer", "Graph", "GraphTooLargeError",
           "GraphvizNotFoundError", "choose_backend", "ROLE_COLOURS", "DEFAULT_MAX_NODES",
           "BACKEND_ENVIRONMENT_VARIABLE", "DrawOptions", "FrameOptions"]
