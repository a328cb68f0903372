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
  program (see :mod:`autograd._graphviz_backend`).

Everything is deterministic: nodes are named by their position in
:func:`autograd.topological_order`, so the same graph gives byte-identical DOT.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

import graphviz

from ._graphviz_backend import (BACKEND_ENVIRONMENT_VARIABLE, FORMATS, GraphvizNotFoundError,
                                choose_backend, layout)
from .engine import BackwardStep, backward_steps, topological_order
from .ops import FLOAT_MATH
from .value import Constant, Parameter, Value, parents_of

__all__ = ["draw", "render", "render_steps", "Graph", "GraphTooLargeError", "GraphvizNotFoundError",
           "choose_backend", "ROLE_COLOURS", "DEFAULT_MAX_NODES", "BACKEND_ENVIRONMENT_VARIABLE"]

Roots = Union[Value, Sequence[Value]]
NumberFormat = Union[str, Callable[[float], str]]

# Measured with pygraphviz's dot on MLP-like graphs (2 shared cores): 475 nodes take
# 0.5 s, 1,000 nodes 3 s, 1,450-1,650 nodes 9-21 s (scope clusters cost the most), and
# beyond 2,400 nodes 1.5-3 minutes: time grows about as the cube of the size. Above
# this limit a drawing is folded (collapse="auto") or refused with advice.
DEFAULT_MAX_NODES = 1500

ROLE_COLOURS = {
    "input": "#cfe3f7",         # blue: the data you feed in
    "parameter": "#fde2b8",     # orange: what a model learns
    "constant": "#e8e8e8",      # grey: plain numbers in an expression
    "intermediate": "#ffffff",  # white: results of ops
    "output": "#c9ecc9",        # green: what backward() starts from
}
ROLE_NAMES = {"input": "input", "parameter": "parameter", "constant": "constant",
              "intermediate": "intermediate", "output": "output"}
DATA_COLOUR = "#1b6b2a"
GRAD_COLOUR = "#b3261e"
LOCAL_GRAD_COLOUR = "#6a3d9a"
HIGHLIGHT_COLOUR = "#e8590c"
OP_FILL = "#f2f2f2"
SCOPE_FILL = "#f7f3e8"
UNKNOWN = "?"
COMMUTATIVE = frozenset({"add", "mul", "max", "min"})


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


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------
def draw(root: Roots, *, rankdir: str = "LR", number_format: NumberFormat = ".4g",
         local_grads: bool | None = None, collapse: str | None = "auto", step: int | None = None,
         fold_constants: bool = True, legend: bool = True,
         max_nodes: int | None = DEFAULT_MAX_NODES) -> Graph:
    """The computational graph behind ``root`` as a :class:`graphviz.Digraph`.

    Args:
        root: the output Value (or a list of outputs) whose graph to draw.
        rankdir: ``"LR"`` (left to right, the default) or ``"TB"`` (top to bottom).
        number_format: a format spec such as ``".4g"`` or ``".3f"``, or a function
            from float to str, for data, gradients and local gradients.
        local_grads: label each edge input -> op with d(op's result)/d(input). By
            default on once any gradient is nonzero (after a ``backward()``) and
            in ``step`` frames.
        collapse: fold every scope whose name's first word is this kind (``"neuron"``,
            ``"layer"``) into one box; ``None`` folds nothing and draws scopes as
            clusters; ``"auto"`` (default) folds only when the graph has more than
            ``max_nodes`` nodes, the innermost kind first.
        step: draw the backward pass after this many steps of
            :func:`autograd.backward_steps` (0 to the number of ops): gradients are
            taken from the steps, not from ``.grad``; the step's node is highlighted;
            gradients not computed yet show as ``?`` and partial sums as ``g + ?``.
        fold_constants: write a constant operand into its op's label (``+1``, ``1/x``)
            instead of drawing it as a box of its own.
        legend: add a box explaining the colours.
        max_nodes: the most nodes to lay out (``None``: no limit). ``.source`` works at
            any size; rendering a larger graph raises :class:`GraphTooLargeError`.

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
    roots = _as_roots(root)
    options = _Options.checked(rankdir=rankdir, number_format=number_format, local_grads=local_grads,
                               collapse=collapse, step=step, fold_constants=fold_constants,
                               legend=legend, max_nodes=max_nodes)
    steps = list(backward_steps(_single_root(roots, "step")) if step is not None else [])
    return _draw(roots, options, steps)


def render(root: Roots | Graph, path: str | os.PathLike[str], *, format: str | None = None,
           backend: str | None = None, **draw_options: Any) -> Path:
    """Draw ``root``'s graph (see :func:`draw`) and write it to ``path``; return the path.

    The format comes from ``format`` or the path's suffix: ``svg``, ``png``, ``pdf``,
    or ``dot``/``gv`` for the DOT text (which needs no Graphviz). ``root`` may also be
    a graph :func:`draw` returned. ``backend`` forces ``"pygraphviz"`` or ``"dot"``.

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
    if isinstance(root, Graph):
        if draw_options:
            raise TypeError(f"render got a drawn Graph and drawing options {sorted(draw_options)}: "
                            "pass the options to draw() instead")
        graph = root
    else:
        graph = draw(root, **draw_options)
    _write(graph, path, chosen, backend)
    return path


def render_steps(root: Value, directory: str | os.PathLike[str], *, format: str = "svg",
                 backend: str | None = None, **draw_options: Any) -> list[Path]:
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
    root = _single_root(_as_roots(root), "render_steps")
    options = _Options.checked(step=0, **draw_options)
    steps = list(backward_steps(root))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in _frame_names(len(steps) + 1, chosen)]
    plan = _plan([root], options)
    for k, path in enumerate(paths):
        _write(_draw_plan(plan, options._replace(step=k), steps), path, chosen, backend)
    return paths


def _frame_names(count: int, suffix: str) -> list[str]:
    """step_000.svg, step_001.svg...: zero-padded so that they sort in order."""
    width = max(3, len(str(count - 1)))
    return [f"step_{k:0{width}d}.{suffix}" for k in range(count)]


# ---------------------------------------------------------------------------
# Checking the arguments
# ---------------------------------------------------------------------------
class _Options:
    """The checked options of one drawing (immutable; ``_replace`` makes a variant)."""

    __slots__ = ("rankdir", "number_format", "local_grads", "collapse", "step", "fold_constants",
                 "legend", "max_nodes", "format_number")

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _replace(self, **changes: Any) -> _Options:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return _Options(**values)

    @classmethod
    def checked(cls, *, rankdir: str = "LR", number_format: NumberFormat = ".4g",
                local_grads: bool | None = None, collapse: str | None = "auto",
                step: int | None = None, fold_constants: bool = True, legend: bool = True,
                max_nodes: int | None = DEFAULT_MAX_NODES) -> _Options:
        if rankdir not in ("LR", "TB"):
            raise ValueError(f"rankdir must be 'LR' or 'TB', got {rankdir!r}")
        for name, flag in (("local_grads", local_grads), ("fold_constants", fold_constants),
                           ("legend", legend)):
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if collapse is not None and (not isinstance(collapse, str) or not collapse.strip()):
            raise TypeError(f"collapse must be a scope kind such as 'neuron' or 'layer', 'auto' "
                            f"or None, got {collapse!r}")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise TypeError(f"step must be an int, got {type(step).__name__}")
        if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                      or max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
        return cls(rankdir=rankdir, number_format=number_format, local_grads=local_grads,
                   collapse=collapse, step=step, fold_constants=fold_constants, legend=legend,
                   max_nodes=max_nodes, format_number=_number_formatter(number_format))


def _number_formatter(number_format: NumberFormat) -> Callable[[float], str]:
    if callable(number_format):
        custom = number_format

        def format_custom(number: float) -> str:
            return str(custom(number + 0.0))  # + 0.0 turns -0.0 into 0.0

        return format_custom
    if not isinstance(number_format, str):
        raise TypeError(f"number_format must be a format spec such as '.4g' or a function, "
                        f"got {type(number_format).__name__}")
    try:
        format(1.5, number_format)
    except ValueError:
        raise ValueError(f"number_format {number_format!r} is not a float format spec "
                         "(try '.4g' or '.3f')") from None

    def format_spec(number: float) -> str:
        return format(number + 0.0, number_format)

    return format_spec


def _as_roots(root: Any) -> list[Value]:
    if isinstance(root, Value):
        return [root]
    if isinstance(root, (str, bytes)) or not isinstance(root, Sequence):
        raise TypeError(f"draw needs a Value or a list of Values, got {type(root).__name__}")
    roots = list(root)
    if not roots:
        raise ValueError("draw needs at least one Value")
    for item in roots:
        if not isinstance(item, Value):
            raise TypeError(f"draw needs Values, got {type(item).__name__} in the list")
    return roots


def _single_root(roots: list[Value], what: str) -> Value:
    if len(roots) != 1:
        raise ValueError(f"{what} follows the backward pass of one output; got {len(roots)} outputs")
    return roots[0]


def _format_of(path: Path, format: str | None) -> str:
    chosen = (format or path.suffix.lstrip(".")).lower()
    if chosen == "gv":
        chosen = "dot"
    if chosen not in (*FORMATS, "dot"):
        where = f"format={format!r}" if format else f"the suffix of {str(path)!r}"
        raise ValueError(f"cannot tell the file format from {where}: use a .svg, .png, .pdf or "
                         ".dot path, or format='svg'|'png'|'pdf'|'dot'")
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


# ---------------------------------------------------------------------------
# Planning a drawing: which nodes show, where, with which numbers
# ---------------------------------------------------------------------------
def _role(node: Value, is_root: bool) -> str:
    if is_root:
        return "output"
    if node._op is not None:
        return "intermediate"
    if isinstance(node, Parameter):
        return "parameter"
    if isinstance(node, Constant):
        return "constant"
    return "input"


def _is_held_leaf(node: Value) -> bool:
    """A parameter or constant: drawn in the scope that uses it, wherever it was made."""
    return node._op is None and isinstance(node, (Parameter, Constant))


def _float(number: Any) -> float:
    """A gradient as a float (it is a Value inside ``grad(create_graph=True)``)."""
    return number._data if isinstance(number, Value) else float(number)


class _Scopes:
    """The scope instances of a graph, as a tree, and where each node sits in it.

    A scope *instance* is one call of a scoped block: nodes with the same scope path
    belong to the same instance when they are connected inside the scope or share an
    input that is not a parameter or constant (the same neuron applied to two samples
    gives two instances; its shared weights do not join them). Parameters and
    constants sit in the innermost instance that holds all of their uses.
    """

    def __init__(self, order: list[Value], index: dict[Value, int], consumers: list[list[int]]) -> None:
        self.names: list[str] = []              # instance -> its scope entry, e.g. "neuron 2"
        self.parent: list[int | None] = []      # instance -> enclosing instance
        self.calls: list[int] = []              # instance -> 1-based call number of its path
        self.call_count: dict[tuple[str, ...], int] = {}
        self.path_of_instance: list[tuple[str, ...]] = []
        self.home: list[int | None] = [None] * len(order)  # node -> innermost instance
        depth = max(len(node._scope or ()) for node in order)
        found: dict[tuple[int, int], int] = {}  # (level, union-find root) -> instance
        # Parameters and constants are placed after the others, by their uses: a weight
        # shared by two calls of a neuron must not join the two calls into one.
        visits = [i for i, node in enumerate(order) if not _is_held_leaf(node)]
        for level in range(depth):
            roots = self._connect(order, index, level)
            for i in visits:
                node = order[i]
                path = node._scope or ()
                if len(path) <= level:
                    continue
                key = (level, roots[i])
                instance = found.get(key)
                if instance is None:
                    instance = found[key] = len(self.names)
                    scope_path = path[:level + 1]
                    self.names.append(path[level])
                    self.parent.append(self.home[i] if level else None)
                    self.call_count[scope_path] = self.call_count.get(scope_path, 0) + 1
                    self.calls.append(self.call_count[scope_path])
                    self.path_of_instance.append(scope_path)
                self.home[i] = instance
        # A parameter or constant sits in the innermost instance that holds all of its
        # uses (a neuron's weights in the neuron), wherever it was made.
        for i, node in enumerate(order):
            if _is_held_leaf(node):
                homes = [self.home[c] for c in consumers[i]]
                if homes and None not in homes:
                    self.home[i] = self.common_ancestor(homes)

    @staticmethod
    def _connect(order: list[Value], index: dict[Value, int], level: int) -> list[int]:
        """Union-find over the nodes scoped at ``level``: each node's component root."""
        link = list(range(len(order)))
        shared: dict[tuple[int, tuple[str, ...]], int] = {}

        def find(i: int) -> int:
            top = i
            while link[top] != top:
                top = link[top]
            while link[i] != top:
                link[i], i = top, link[i]
            return top

        for i, node in enumerate(order):
            path = node._scope or ()
            if len(path) <= level:
                continue
            key = path[:level + 1]
            for parent in parents_of(node):
                if _is_held_leaf(parent):
                    continue
                p = index[parent]
                parent_path = parent._scope or ()
                if len(parent_path) > level and parent_path[:level + 1] == key:
                    link[find(i)] = find(p)
                else:  # nodes of one call share their inputs
                    first = shared.setdefault((p, key), i)
                    link[find(i)] = find(first)
        return [find(i) for i in range(len(order))]

    def ancestors(self, instance: int | None) -> list[int]:
        """``instance`` and the instances around it, innermost first."""
        chain = []
        while instance is not None:
            chain.append(instance)
            instance = self.parent[instance]
        return chain

    def common_ancestor(self, instances: list[int]) -> int | None:
        common = self.ancestors(instances[0])[::-1]
        for instance in instances[1:]:
            chain = self.ancestors(instance)[::-1]
            size = 0
            while size < min(len(common), len(chain)) and common[size] == chain[size]:
                size += 1
            common = common[:size]
        return common[-1] if common else None

    def kind(self, instance: int) -> str:
        return self.names[instance].split(maxsplit=1)[0]

    def title(self, instance: int) -> str:
        name = self.names[instance]
        if self.call_count[self.path_of_instance[instance]] > 1:
            return f"{name} (call {self.calls[instance]})"
        return name

    def kinds_innermost_first(self) -> list[str]:
        deepest: dict[str, int] = {}
        for instance in range(len(self.names)):
            depth = len(self.ancestors(instance))
            kind = self.kind(instance)
            deepest[kind] = max(depth, deepest.get(kind, 0))
        return sorted(deepest, key=lambda kind: (-deepest[kind], kind))


class _Plan:
    """Which elements a drawing shows: value boxes, op ovals, folded scopes, and their places."""

    def __init__(self, order: list[Value], roots: list[Value], fold_constants: bool) -> None:
        self.order = order
        self.index = {node: i for i, node in enumerate(order)}
        self.root_set = set(roots)
        self.consumers: list[list[int]] = [[] for _ in order]  # distinct consumers, in order
        for i, node in enumerate(order):
            for parent in parents_of(node):
                p = self.index[parent]
                if not self.consumers[p] or self.consumers[p][-1] != i:  # x * x uses x once
                    self.consumers[p].append(i)
        # A constant used once, by a binary op whose other operand is not constant,
        # is written into that op's label.
        self.folded_constant: dict[int, int] = {}  # op node -> position of its constant operand
        if fold_constants:
            for i, node in enumerate(order):
                if node._op is None or node._op.arity != 2:
                    continue
                operands = parents_of(node)
                constant = [type(p) is Constant and p not in self.root_set
                            and len(self.consumers[self.index[p]]) == 1 and operands[0] is not operands[1]
                            for p in operands]
                if constant.count(True) == 1:
                    self.folded_constant[i] = constant.index(True)
        self.hidden_constant = {self.index[parents_of(order[i])[k]] for i, k in self.folded_constant.items()}
        self.scopes = _Scopes(order, self.index, self.consumers) if any(n._scope for n in order) else None
        self.group: list[int | None] = [None] * len(order)  # node -> folded instance
        self.hidden: set[int] = set(self.hidden_constant)  # nodes drawn nowhere
        self.boxes: list[int] = []  # folded instances, in the order their computations run
        self.box_contents: dict[int, list[int]] = {}
        self.note = ""  # says so when scopes were folded automatically

    def fold(self, kind: str | None) -> None:
        """Fold every scope instance of this kind (the outermost, when nested) into a box."""
        self.group = [None] * len(self.order)
        self.hidden = set(self.hidden_constant)
        self.boxes = []
        if kind is None or self.scopes is None:
            return
        scopes = self.scopes
        for i in range(len(self.order)):
            matching = [s for s in scopes.ancestors(scopes.home[i]) if scopes.kind(s) == kind]
            if matching:
                self.group[i] = matching[-1]
        self.boxes = sorted({group for group in self.group if group is not None})
        self.box_contents = {box: [0, 0] for box in self.boxes}  # box -> [ops, parameters]
        for i, group in enumerate(self.group):
            if group is None:
                continue
            node = self.order[i]
            self.box_contents[group][0] += node._op is not None
            self.box_contents[group][1] += isinstance(node, Parameter)
            leaves_group = self.order[i] in self.root_set or any(
                self.group[c] != group for c in self.consumers[i])
            if not leaves_group:
                self.hidden.add(i)

    def place(self, i: int) -> int | None:
        """The scope instance whose cluster holds node ``i``'s box and oval."""
        if self.scopes is None:
            return None
        group = self.group[i]
        return self.scopes.home[i] if group is None else self.scopes.parent[group]

    def node_count(self) -> int:
        count = len(self.boxes)
        for i, node in enumerate(self.order):
            if i not in self.hidden:
                count += 1 if node._op is None or self.group[i] is not None else 2
        return count


# ---------------------------------------------------------------------------
# Gradients shown in a drawing: from .grad, or from the first k backward steps
# ---------------------------------------------------------------------------
class _Gradients:
    """What each node's grad cell and each edge's label say."""

    def __init__(self, plan: _Plan, options: _Options, steps: list[BackwardStep]) -> None:
        self.fmt = options.format_number
        order, index = plan.order, plan.index
        self.stepping = options.step is not None
        self.local: dict[int, Sequence[float]] = {}  # op node -> local gradients, per operand
        self.current: int | None = None  # the node whose step this frame shows
        self.current_op_done = False
        self.upstream: dict[int, float] = {}
        if not self.stepping:
            self.grad_text = [self.fmt(_float(node.grad)) for node in order]
            show = options.local_grads
            if show is None:
                show = any(_float(node.grad) != 0.0 for node in order)
            if show:
                for i, node in enumerate(order):
                    if node._op is not None and plan.group[i] is None:  # ops drawn, not folded
                        self.local[i] = _local_grads(node)
                        self.upstream[i] = _float(node.grad)
            return
        step = options.step
        assert step is not None
        if not 0 <= step <= len(steps):
            raise ValueError(f"step must be between 0 and {len(steps)} (the number of backward steps "
                             f"of this graph), got {step}")
        root = steps[0].node if steps else order[-1]
        known: dict[int, float] = {index[root]: 1.0 if not steps else _float(steps[0].upstream)}
        remaining = [len(c) for c in plan.consumers]
        for taken in steps[:step]:
            n = index[taken.node]
            if options.local_grads is not False:
                self.local[n] = tuple(_float(g) for g in taken.local_grads)
                self.upstream[n] = _float(taken.upstream)
            done: set[int] = set()
            for parent, accumulated in zip(taken.parents, taken.accumulated):
                p = index[parent]
                known[p] = _float(accumulated)
                if p not in done:
                    done.add(p)
                    remaining[p] -= 1
        self.current = index[steps[step - 1].node] if step else index[root]
        self.current_op_done = step > 0  # frame 0 shows the seed, before any op ran
        self.grad_text = []
        for i in range(len(order)):
            if i not in known:
                self.grad_text.append(UNKNOWN)
            elif remaining[i] > 0 and i != index[root]:
                self.grad_text.append(f"{self.fmt(known[i])} + {UNKNOWN}")
            else:
                self.grad_text.append(self.fmt(known[i]))


def _local_grads(node: Value) -> Sequence[float]:
    """d(node)/d(operand) for each operand, from the op table (as the backward pass does)."""
    op = node._op
    assert op is not None
    inputs = [parent._data for parent in parents_of(node)]
    try:
        return tuple(float(g) for g in op.local_grads(FLOAT_MATH, inputs, node._data, node._arg))
    except (ArithmeticError, ValueError):
        return tuple(float("nan") for _ in inputs)


# ---------------------------------------------------------------------------
# Writing the DOT text
# ---------------------------------------------------------------------------
def _draw(roots: list[Value], options: _Options, steps: list[BackwardStep]) -> Graph:
    return _draw_plan(_plan(roots, options), options, steps)


def _plan(roots: list[Value], options: _Options) -> _Plan:
    """What to show, folded as ``options.collapse`` says (the same for every step frame)."""
    plan = _Plan(topological_order(roots), roots, options.fold_constants)
    if options.collapse != "auto":
        kinds = plan.scopes.kinds_innermost_first() if plan.scopes is not None else []
        if options.collapse is not None and options.collapse not in kinds:
            present = f"its scope kinds are {', '.join(map(repr, kinds))}" if kinds else "it has no scopes"
            raise ValueError(f"collapse={options.collapse!r} matches no scope of this graph: {present} "
                             "(a scope's kind is the first word of its name)")
        plan.fold(options.collapse)
        return plan
    plan.fold(None)
    limit = options.max_nodes
    if limit is not None and plan.node_count() > limit and plan.scopes is not None:
        full = plan.node_count()
        for kind in plan.scopes.kinds_innermost_first():
            plan.fold(kind)
            if plan.node_count() <= limit:
                break
        plan.note = (f"{plan.node_count():,} of {full:,} nodes drawn: scopes folded automatically "
                     f"(draw(..., collapse=None, max_nodes=None) draws all of them)")
    return plan


def _draw_plan(plan: _Plan, options: _Options, steps: list[BackwardStep]) -> Graph:
    gradients = _Gradients(plan, options, steps)
    graph = Graph(name="chainrule", graph_attr=_graph_attributes(options, plan),
                  node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                             "fontsize": "11", "margin": "0.08,0.04"},
                  edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#5f5f5f",
                             "arrowsize": "0.6"})
    writer = _Writer(plan, gradients, options)
    graph.body.extend(writer.lines())
    graph.node_count = plan.node_count()
    graph.max_nodes = options.max_nodes
    graph.too_large_advice = _advice(plan, options)
    return graph


def _graph_attributes(options: _Options, plan: _Plan) -> dict[str, str]:
    attributes = {"rankdir": options.rankdir, "nodesep": "0.25", "ranksep": "0.35",
                  "fontname": "Helvetica", "fontsize": "10"}
    if plan.boxes:
        # A layer of folded neurons reads every output of the layer before: bundling
        # those n x m edges keeps them readable (labelled edges are never merged).
        attributes["concentrate"] = "true"
    if plan.note:
        attributes.update(label=plan.note, labelloc="t", labeljust="l")
    return attributes


def _advice(plan: _Plan, options: _Options) -> str:
    kinds = plan.scopes.kinds_innermost_first() if plan.scopes is not None else []
    ways = []
    if kinds:
        ways.append("fold its scopes with draw(..., " + " or ".join(f"collapse={k!r}" for k in kinds) + ")")
    ways.append("draw a smaller graph (fewer inputs, one sample)")
    ways.append("get the DOT text with draw(...).source")
    ways.append("pass max_nodes=None to wait for Graphviz anyway")
    return "Instead: " + "; ".join(ways) + "."


def _quote(text: str) -> str:
    if "\\" in text or '"' in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _attributes(pairs: list[tuple[str, str]]) -> str:
    return " ".join(f"{name}={value if value.startswith('<') else _quote(value)}" for name, value in pairs)


class _Writer:
    """Turns a plan and its gradients into DOT lines, nodes first, then edges."""

    def __init__(self, plan: _Plan, gradients: _Gradients, options: _Options) -> None:
        self.plan = plan
        self.gradients = gradients
        self.options = options
        self.fmt = options.format_number
        self.roles_drawn: dict[str, None] = {}
        self.op_attributes: dict[tuple, str] = {}  # the same op looks the same: built once

    # -- names ------------------------------------------------------------------
    @staticmethod
    def value_name(i: int) -> str:
        return f"v{i}"

    @staticmethod
    def op_name(i: int) -> str:
        return f"o{i}"

    @staticmethod
    def box_name(instance: int) -> str:
        return f"s{instance}"

    def source_of(self, p: int) -> str:
        """The element an edge from node ``p`` leaves: its box, or its folded scope."""
        return self.value_name(p)

    # -- the whole text ---------------------------------------------------------
    def lines(self) -> list[str]:
        plan = self.plan
        by_place: dict[int | None, list[str]] = {None: []}
        current = self.gradients.current
        current_op = current if self.gradients.current_op_done else None
        current_box = plan.group[current_op] if current_op is not None else None
        for i, node in enumerate(plan.order):
            if i in plan.hidden:
                continue
            place = plan.place(i)
            bucket = by_place.setdefault(place, [])
            bucket.append(self.value_line(i, node, highlight=current == i))
            if node._op is not None and plan.group[i] is None:
                bucket.append(self.op_line(i, node, highlight=current_op == i))
        for instance in plan.boxes:
            assert plan.scopes is not None
            by_place.setdefault(plan.scopes.parent[instance], []).append(
                self.box_line(instance, highlight=current_box == instance))
        body = self.clusters(by_place)
        body.extend(self.edge_lines())
        if self.options.legend:
            body.append(self.legend_line())
        return body

    def clusters(self, by_place: dict[int | None, list[str]]) -> list[str]:
        """Nested ``subgraph cluster_N`` blocks for the scope instances that hold something."""
        scopes = self.plan.scopes
        body = list(by_place.pop(None))
        if scopes is None or not by_place:
            return body
        children: dict[int | None, list[int]] = {}
        needed: set[int] = set()
        for place in by_place:
            for instance in scopes.ancestors(place):
                needed.add(instance)
        for instance in sorted(needed):
            children.setdefault(scopes.parent[instance], []).append(instance)
        # Depth-first over the (shallow) scope tree, with an explicit stack.
        stack: list[tuple[int, bool]] = [(instance, False) for instance in reversed(children.get(None, []))]
        while stack:
            instance, closing = stack.pop()
            indent = "\t" * len(scopes.ancestors(instance))
            if closing:
                body.append(f"{indent}}}\n")
                continue
            title = html.escape(scopes.title(instance))
            body.append(f"{indent}subgraph cluster_{instance} {{\n")
            body.append(f'{indent}\tlabel=<<b>{title}</b>> style="rounded,filled" '
                        f'fillcolor="{SCOPE_FILL}" color="#c8bfa6" fontsize=10\n')
            body.extend(indent + line for line in by_place.get(instance, []))
            stack.append((instance, True))
            stack.extend((child, False) for child in reversed(children.get(instance, [])))
        return body

    # -- nodes ------------------------------------------------------------------
    def value_line(self, i: int, node: Value, highlight: bool) -> str:
        plan = self.plan
        role = _role(node, node in plan.root_set)
        self.roles_drawn[role] = None
        cells = []
        if node.label:
            cells.append(f"<b>{html.escape(node.label)}</b>")
        cells.append(f'<font color="{DATA_COLOUR}">data {html.escape(self.fmt(node._data))}</font>')
        cells.append(f'<font color="{GRAD_COLOUR}">grad {html.escape(self.gradients.grad_text[i])}</font>')
        if self.options.rankdir == "LR":  # a narrow stack keeps a left-to-right graph short
            rows = "".join(f"<tr><td>{cell}</td></tr>" for cell in cells)
        else:
            rows = "<tr>" + "<td>  </td>".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
        label = f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{rows}</table>>'
        pairs = [("label", label), ("fillcolor", ROLE_COLOURS[role])]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        name = f" {node.label}" if node.label else ""
        pairs.append(("tooltip", f"{ROLE_NAMES[role]}{name}"))
        return f"\t{self.value_name(i)} [{_attributes(pairs)}]\n"

    def op_line(self, i: int, node: Value, highlight: bool) -> str:
        position = self.plan.folded_constant.get(i)
        constant = None if position is None else self.fmt(parents_of(node)[position]._data)
        key = (node._op, node._arg, position, constant, highlight)
        attributes = self.op_attributes.get(key)
        if attributes is None:
            attributes = self.op_attributes[key] = self._op_attributes(node, position, constant, highlight)
        return f"\t{self.op_name(i)} [{attributes}]\n"

    def _op_attributes(self, node: Value, position: int | None, constant: str | None,
                       highlight: bool) -> str:
        op = node._op
        assert op is not None
        text = op.label(node._arg)
        if position is not None:
            if position == 1 or op.name in COMMUTATIVE:  # the slides' gates: +1, *-1, 1/x
                text = f"{text}{constant}" if text[0] in "+-*/" else f"{text}(x, {constant})"
            else:
                text = f"{constant}{text}x" if text[0] in "+-*/" else f"{text}({constant}, x)"
        pairs = [("label", text), ("shape", "ellipse"), ("fillcolor", OP_FILL), ("width", "0.3"),
                 ("height", "0.3"), ("margin", "0.04,0.02"),
                 ("tooltip", f"{op.name}: local gradient {op.derivative}")]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        return _attributes(pairs)

    def box_line(self, instance: int, highlight: bool) -> str:
        plan = self.plan
        assert plan.scopes is not None
        ops, parameters = plan.box_contents[instance]
        counts = f"{ops} ops" + (f", {parameters} parameters" if parameters else "")
        title = html.escape(plan.scopes.title(instance))
        pairs = [("label", f"<<b>{title}</b><br/><font point-size=\"9\">{counts}</font>>"),
                 ("shape", "box3d"), ("fillcolor", SCOPE_FILL),
                 ("tooltip", " / ".join(plan.scopes.path_of_instance[instance]))]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        return f"\t{self.box_name(instance)} [{_attributes(pairs)}]\n"

    def legend_line(self) -> str:
        cells = [f'<td bgcolor="{ROLE_COLOURS[role]}" border="1">{ROLE_NAMES[role]}</td>'
                 for role in ROLE_COLOURS if role in self.roles_drawn]
        cells.append(f'<td bgcolor="{SCOPE_FILL}" border="1">scope</td>' if self.plan.boxes else "")
        if self.gradients.local:
            cells.append(f'<td><font color="{LOCAL_GRAD_COLOUR}">local</font> = d(op)/d(input): '
                         'grad × local flows back</td>')
        if self.gradients.stepping:
            cells.append(f'<td><font color="{GRAD_COLOUR}">?</font>: not computed yet</td>')
        table = ('<<table border="0" cellborder="0" cellspacing="3" cellpadding="2"><tr>'
                 + "".join(cells) + "</tr></table>>")
        return (f"\tlegend [label={table} shape=plain style=\"\" fontsize=9 tooltip=\"legend\"]\n")

    # -- edges ------------------------------------------------------------------
    def edge_lines(self) -> list[str]:
        plan, gradients = self.plan, self.gradients
        lines = []
        box_inputs: dict[int, dict[str, None]] = {}
        current_op = gradients.current if gradients.current_op_done else None
        for i, node in enumerate(plan.order):
            if node._op is None:
                continue
            group = plan.group[i]
            parents = parents_of(node)
            if group is not None:
                inputs = box_inputs.setdefault(group, {})
                for parent in parents:
                    p = plan.index[parent]
                    if plan.group[p] != group and p not in plan.hidden:
                        inputs[self.value_name(p)] = None
                continue
            folded = plan.folded_constant.get(i)
            local = gradients.local.get(i)
            for position, parent in enumerate(parents):
                if position == folded:
                    continue
                p = plan.index[parent]
                pairs: list[tuple[str, str]] = []
                if local is not None:
                    upstream = gradients.upstream[i]
                    local_text, upstream_text = self.fmt(local[position]), self.fmt(upstream)
                    flow_text = self.fmt(upstream * local[position])
                    product = f"{upstream_text} × {local_text} = {flow_text}"
                    pairs.append(("label", product if current_op == i else f"local {local_text}"))
                    pairs.append(("fontcolor", LOCAL_GRAD_COLOUR))
                    pairs.append(("tooltip", f"upstream {upstream_text} × local {local_text} = "
                                             f"{flow_text} flows back"))
                    if current_op == i:
                        pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2")]
                attributes = f" [{_attributes(pairs)}]" if pairs else ""
                lines.append(f"\t{self.value_name(p)} -> {self.op_name(i)}{attributes}\n")
            lines.append(f"\t{self.op_name(i)} -> {self.value_name(i)}\n")
        for i, group in enumerate(plan.group):
            if group is not None and i not in plan.hidden:
                inputs = box_inputs.pop(group, None)
                if inputs is not None:
                    box = self.box_name(group)
                    lines.extend(f"\t{source} -> {box}\n" for source in inputs)
                lines.append(f"\t{self.box_name(group)} -> {self.value_name(i)}\n")
        return lines
