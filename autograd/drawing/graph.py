"""The drawn graph: a :class:`graphviz.Digraph` that renders with chainrule's backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, overload

import graphviz

from .cost import COST_PER_NODE
from .folding import EDGES_PER_NODE
from .backends import FORMATS, GraphvizNotFoundError, layout, layout_formats

__all__ = ["Graph", "GraphTooLargeError"]


class GraphTooLargeError(ValueError):
    """A drawing has more nodes than Graphviz lays out in reasonable time.

    Example:
        >>> from autograd import Value, draw
        >>> y = Value(1.0)
        >>> for _ in range(5):
        ...     y = y * 2.0
        >>> try:
        ...     draw(y, max_nodes=5).check_size()
        ... except GraphTooLargeError as error:
        ...     print(str(error)[:40])
        this drawing has 11 nodes, over the limi
    """


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
    edge_count: int = 0
    layout_cost: int = 0  # Graphviz's work, estimated (autograd.drawing.cost)
    max_nodes: int | None = None
    advise: Callable[[], str] | None = None  # what to do instead, worked out only when needed

    def __repr__(self) -> str:
        # No memory address: notebooks save this text, and it must not change between runs.
        return f"<autograd.Graph with {self.node_count} nodes>"

    def check_size(self) -> None:
        """Raise :class:`GraphTooLargeError` if Graphviz would take minutes over this graph.

        Example:
            >>> from autograd import Value, draw
            >>> draw(Value(1.0)).check_size()  # small: no error
        """
        if self.max_nodes is None:
            return
        advice = self.advise() if self.advise is not None else ""
        if self.node_count > self.max_nodes:
            raise GraphTooLargeError(
                f"this drawing has {self.node_count:,} nodes, over the limit of {self.max_nodes:,} "
                f"that Graphviz lays out in seconds (beyond it, minutes). {advice}")
        edge_limit = int(EDGES_PER_NODE * self.max_nodes)
        if self.edge_count > edge_limit:
            raise GraphTooLargeError(
                f"this drawing has {self.edge_count:,} edges, over the limit of {edge_limit:,} "
                f"that Graphviz lays out in seconds (beyond it, minutes). {advice}")
        cost_limit = int(COST_PER_NODE * self.max_nodes)
        if self.layout_cost > cost_limit:
            raise GraphTooLargeError(
                f"this drawing's edges cross scope boxes and span ranks too much: its layout cost "
                f"{self.layout_cost:,} is over the limit of {cost_limit:,} that Graphviz lays out "
                f"in seconds (see autograd.drawing.cost). {advice}")

    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: None = ...) -> bytes: ...

    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: str) -> str: ...

    @overload
    def pipe(self, format: str | None = ..., renderer: str | None = ..., formatter: str | None = ...,
             neato_no_op: bool | int | None = ..., quiet: bool = ..., *, engine: str | None = ...,
             encoding: str | None) -> bytes | str: ...

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

    def render(self, filename: str | os.PathLike[str] | None = None,
               directory: str | os.PathLike[str] | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: bool | int | None = None,
               quiet: bool = False, quiet_view: bool = False, *,
               outfile: str | os.PathLike[str] | None = None, engine: str | None = None,
               raise_if_result_exists: bool = False, overwrite_source: bool = False) -> str:
        """Save the DOT source and the picture, as ``graphviz.Digraph.render`` does; the picture's path.

        The picture comes from chainrule's backend, like :meth:`pipe` and
        :func:`autograd.render`: no system ``dot`` is needed when pygraphviz is installed.

        Example:
            >>> import tempfile, pathlib
            >>> from autograd import Value, draw
            >>> folder = pathlib.Path(tempfile.mkdtemp())
            >>> pathlib.Path(draw(Value(1.0, "x")).render(folder / "x", format="png")).name
            'x.png'
        """
        format = format or (Path(outfile).suffix.lstrip(".") if outfile is not None else None) or self.format
        if (renderer, formatter, neato_no_op) != (None, None, None) or engine not in (None, "dot") \
                or format not in FORMATS:
            return super().render(filename, directory, view, cleanup, format, renderer, formatter,
                                  neato_no_op, quiet, quiet_view, outfile=outfile, engine=engine,
                                  raise_if_result_exists=raise_if_result_exists,
                                  overwrite_source=overwrite_source)
        if filename is None and outfile is not None:
            filename = Path(outfile).with_suffix(".gv")
        source_path = Path(self.save(filename, directory=directory))
        target = Path(outfile) if outfile is not None else Path(f"{source_path}.{format}")
        if raise_if_result_exists and target.exists():
            raise FileExistsError(f"{target} exists (raise_if_result_exists=True)")
        self.check_size()
        target.write_bytes(layout(self.source, format))
        if cleanup:
            source_path.unlink()
        if view:
            graphviz.view(target, quiet=quiet_view)
        return str(target)

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None, **_: Any) -> dict[str, Any]:
        """SVG for viewers that trust the notebook, and a PNG beside it for every other one.

        An untrusted JupyterLab, GitHub and nbconvert show the PNG; one layout makes both.
        Without Graphviz the text says how to get pictures instead of failing.
        """
        wanted = set(include) if include is not None else {"image/svg+xml", "image/png", "text/plain"}
        wanted -= set(exclude or ())
        bundle: dict[str, Any] = {"text/plain": repr(self)} if "text/plain" in wanted else {}
        formats = [format for mime, format in _PICTURES.items() if mime in wanted]
        if not formats:
            return bundle
        try:
            self.check_size()
            pictures = layout_formats(self.source, formats)
        except (GraphTooLargeError, GraphvizNotFoundError) as error:
            return {"text/plain": f"{self!r}: {error}"}
        for mime, format in _PICTURES.items():
            if format in pictures:
                bundle[mime] = pictures[format].decode("utf-8") if format == "svg" else pictures[format]
        return bundle


_PICTURES = {"image/svg+xml": "svg", "image/png": "png"}
