"""The public functions: :func:`draw`, :func:`render` and :func:`render_steps`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine import backward_steps
from ..value import Value
from .backends import FORMATS, layout
from .dot import draw_plan
from .explorer import explore
from .folding import choose_rankdir, make_plan
from .graph import Graph
from .options import (DEFAULT_MAX_NODES, DrawOptions, FrameOptions, NumberFormat, Options, Roots, as_roots,
                      single_root)

if TYPE_CHECKING:  # typing.Unpack types **kwargs from Python 3.12; the annotations are never evaluated
    from typing_extensions import Unpack

__all__ = ["draw", "render", "render_steps"]


# ---------------------------------------------------------------------------
def draw(root: Roots, *, rankdir: str = "auto", number_format: NumberFormat = ".4g",
         local_grads: bool | None = None, collapse: str | None = "auto", step: int | None = None,
         fold_constants: bool = True, legend: bool = True,
         max_nodes: int | None = DEFAULT_MAX_NODES) -> Graph:
    """The computational graph behind ``root`` as a :class:`graphviz.Digraph`.

    Args:
        root: the output Value (or a list of outputs) whose graph to draw.
        rankdir: ``"LR"`` (left to right), ``"TB"`` (top to bottom) or ``"auto"`` (the
            default): left to right when that fits a notebook column, else the narrower one.
        number_format: a format spec such as ``".4g"`` or ``".3f"``, or a function
            from float to str, for data, gradients and local gradients.
        local_grads: label each edge input -> op with d(op's result)/d(input). By
            default on once any gradient is nonzero (after a ``backward()``) and
            in ``step`` frames.
        collapse: fold every scope whose name's first word is this kind (``"neuron"``,
            ``"layer"``) into one box; ``None`` folds nothing and draws scopes as
            clusters; ``"auto"`` (default) folds only a graph over the size limits
            (``max_nodes`` nodes, or Graphviz's work as estimated by
            :mod:`autograd.drawing.cost`), the innermost kind that fits first.
        step: draw the backward pass after this many steps of
            :func:`autograd.backward_steps` (0 to the number of ops): gradients are
            taken from the steps, not from ``.grad``; the step's node is highlighted;
            gradients not computed yet show as ``?`` and partial sums as ``g + ?``.
        fold_constants: write a constant operand into its op's label (``+1``, ``1/x``)
            instead of drawing it as a box of its own.
        legend: add a box explaining the colours.
        max_nodes: the most nodes to lay out (``None``: no limit); the limits on edges
            and on the estimated layout cost scale with it. ``.source`` works at any
            size; rendering a larger graph raises :class:`GraphTooLargeError`.

    Example:
        >>> from autograd import Value, draw
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> f = (x + y) * z
        >>> f.backward()
        >>> graph = draw(f)  # in Jupyter, the graph displays itself
        >>> for line in graph.source.splitlines():
        ...     if "->" in line:
        ...         print(line.split(" fontcolor")[0].strip())
        v0 -> o2 [label="local 1"
        v1 -> o2 [label="local 1"
        o2 -> v2
        v2 -> o4 [label="local -4"
        v3 -> o4 [label="local 3"
        o4 -> v4
    """
    roots = as_roots(root)
    options = Options.checked(rankdir=rankdir, number_format=number_format, local_grads=local_grads,
                               collapse=collapse, step=step, fold_constants=fold_constants,
                               legend=legend, max_nodes=max_nodes)
    steps = list(backward_steps(single_root(roots, "step")) if step is not None else [])
    plan = make_plan(roots, options)
    return draw_plan(plan, options.replace(rankdir=choose_rankdir(plan, options)), steps)


def render(root: Roots | Graph, path: str | os.PathLike[str], *, format: str | None = None,
           backend: str | None = None, **draw_options: Unpack[DrawOptions]) -> Path:
    """Draw ``root``'s graph (see :func:`draw`) and write it to ``path``; return the path.

    The format comes from ``format`` or the path's suffix: ``svg``, ``png``, ``pdf``,
    or ``dot``/``gv`` for the DOT text (which needs no Graphviz), or ``html`` for the
    interactive page of :func:`autograd.explore` (``mode="forward"`` among the options
    steps through the forward pass). ``root`` may also be a graph :func:`draw`
    returned. ``backend`` forces ``"pygraphviz"`` or ``"dot"``.

    Example:
        >>> import tempfile, pathlib
        >>> from autograd import Value, render
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> f = (x + y) * z; f.backward()
        >>> path = render(f, pathlib.Path(tempfile.mkdtemp()) / "graph.svg")
        >>> path.name, path.read_text().startswith("<?xml")
        ('graph.svg', True)
    """
    path = Path(path)
    chosen = _format_of(path, format)
    options: dict[str, Any] = dict(draw_options)  # explore and draw each refuse what they do not take
    if chosen == "html":
        if isinstance(root, Graph):
            raise TypeError("an explorer page steps through a pass, so render needs the Value, "
                            "not a drawn Graph: render(f, 'graph.html')")
        page_root = single_root(as_roots(root), "an explorer page")
        return explore(page_root, backend=backend, **options).save(path)
    if isinstance(root, Graph):
        if options:
            raise TypeError(f"render got a drawn Graph and drawing options {sorted(options)}: "
                            "pass the options to draw() instead")
        graph = root
    else:
        graph = draw(root, **options)
    _write(graph, path, chosen, backend)
    return path


def render_steps(root: Value, directory: str | os.PathLike[str], *, format: str = "svg",
                 backend: str | None = None, **draw_options: Unpack[FrameOptions]) -> list[Path]:
    """Write one picture per step of the backward pass: ``step_000.svg``, ``step_001.svg``...

    Frame ``k`` is ``draw(root, step=k)``: frame 0 is the output's seed gradient,
    the last frame has every gradient. The directory is created if needed. Returns
    the paths in order.

    Example:
        >>> import tempfile
        >>> from autograd import Value, render_steps
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> paths = render_steps((x + y) * z, tempfile.mkdtemp())
        >>> [p.name for p in paths]
        ['step_000.svg', 'step_001.svg', 'step_002.svg']
    """
    if "step" in draw_options:
        raise TypeError("render_steps draws every step; use render(root, path, step=k) for one")
    chosen = _format_of(Path(f"frame.{format}"), format)
    root = single_root(as_roots(root), "render_steps")
    given: dict[str, Any] = dict(draw_options)  # Options.checked refuses mode, as draw does
    options = Options.checked(step=0, **given)
    steps = list(backward_steps(root))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in _frame_names(len(steps) + 1, chosen)]
    plan = make_plan([root], options)
    options = options.replace(rankdir=choose_rankdir(plan, options))  # one direction for every frame
    for k, path in enumerate(paths):
        _write(draw_plan(plan, options.replace(step=k), steps), path, chosen, backend)
    return paths


def _frame_names(count: int, suffix: str) -> list[str]:
    """step_000.svg, step_001.svg...: zero-padded so that they sort in order."""
    width = max(3, len(str(count - 1)))
    return [f"step_{k:0{width}d}.{suffix}" for k in range(count)]


def _format_of(path: Path, format: str | None) -> str:
    chosen = (format or path.suffix.lstrip(".")).lower()
    if chosen == "gv":
        chosen = "dot"
    if chosen not in (*FORMATS, "dot", "html"):
        where = f"format={format!r}" if format else f"the suffix of {str(path)!r}"
        raise ValueError(f"cannot tell the file format from {where}: use a .svg, .png, .pdf, .html "
                         "or .dot path, or format='svg'|'png'|'pdf'|'html'|'dot'")
    return chosen


def _write(graph: Graph, path: Path, format: str, backend: str | None) -> None:
    if format == "dot":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(graph.source, encoding="utf-8")
        return
    graph.check_size()
    data = layout(graph.source, format, backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
