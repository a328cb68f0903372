"""The drawn graph: a :class:`graphviz.Digraph` that renders with chainrule's backend."""

from __future__ import annotations

import graphviz

from .backends import FORMATS, layout

__all__ = ["Graph", "GraphTooLargeError"]


class GraphTooLargeError(ValueError):
    """A drawing has more nodes than Graphviz lays out in reasonable time."""


class Graph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` of a chainrule graph that renders with chainrule's backend.

    It is an ordinary ``Digraph`` (``.source``, ``.body``, Jupyter display), except
    that ``pipe`` (behind Jupyter's inline image and ``render``) lays out with
    pygraphviz when it is installed, else with the ``dot`` program, and refuses a
    graph over ``max_nodes`` nodes with a message saying how to draw it instead.

    Example:
        >>> from autograd import Value, draw
        >>> graph = draw(Value(2.0, "x") * 3)
        >>> isinstance(graph, Graph), graph.node_count  # x, *3 and the product
        (True, 3)
    """

    node_count: int = 0  # nodes of the drawing (value boxes, ops, folded scopes)
    max_nodes: int | None = None
    too_large_advice: str = ""

    def __repr__(self) -> str:
        # No memory address: notebooks save this text, and it must not change between runs.
        return f"<autograd.Graph with {self.node_count} nodes>"

    def check_size(self) -> None:
        """Raise :class:`GraphTooLargeError` if Graphviz would take minutes over this graph.

        Example:
            >>> from autograd import Value, draw
            >>> draw(Value(1.0)).check_size()  # small: no error
        """
        if self.max_nodes is not None and self.node_count > self.max_nodes:
            raise GraphTooLargeError(
                f"this drawing has {self.node_count:,} nodes, over the limit of {self.max_nodes:,} "
                f"that Graphviz lays out in seconds (beyond it, minutes). {self.too_large_advice}")

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: bool | int | None = None,
             quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """The graph laid out by chainrule's backend (pygraphviz, else ``dot``), as bytes.

        With ``encoding`` the bytes are decoded to a str (graphviz's convention).
        Options that only the ``dot`` program understands go to graphviz's own ``pipe``.

        Example:
            >>> from autograd import Value, draw
            >>> draw(Value(1.0, "x")).pipe(format="svg", encoding="utf-8")[:5]
            '<?xml'
        """
        self.check_size()
        format = format or self.format
        if (renderer, formatter, neato_no_op) != (None, None, None) or engine not in (None, "dot") \
                or format not in FORMATS:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        data = layout(self.source, format)
        return data.decode(encoding) if encoding is not None else data
