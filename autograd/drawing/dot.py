"""Writing the DOT text of a plan: value boxes, op ovals, scope boxes and clusters, edges.

Every piece of text that reaches DOT (labels, tooltips, titles) goes through
:func:`escape`, the one quoting function: a scope named ``'<a> URL="..."'`` stays
text, and characters that XML forbids never reach the SVG.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ..engine import BackwardStep
from ..ops import Op
from ..value import Value
from .folding import Plan, advice, box_name, op_name, role_of, value_name
from .gradients import Gradients
from .graph import Graph
from .options import (DATA_COLOUR, GRAD_COLOUR, HIGHLIGHT_COLOUR, LOCAL_GRAD_COLOUR, OP_FILL,
                      ROLE_COLOURS, SCOPE_FILL, Options)

__all__ = ["HtmlLabel", "escape", "quote", "attributes", "draw_plan", "graph_of"]

COMMUTATIVE = frozenset({"add", "mul", "max", "min"})
# Characters XML 1.0 forbids (C0 controls but tab and newline, lone surrogates, U+FFFE/F):
# Graphviz copies them into the SVG, which no browser then parses.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


class HtmlLabel(str):
    """Graphviz HTML-like label markup, built by this module from :func:`escape`-d text."""


def escape(text: str) -> str:
    r"""``text`` safe inside any DOT string or HTML-like label, and in the SVG made from it.

    Markup characters become entities (Graphviz keeps them as such in SVG and decodes
    them in PNG and PDF); characters XML forbids become U+FFFD.

    Example:
        >>> print(escape('<a href="x">&#xD800;\x07'))
        &lt;a href=&quot;x&quot;&gt;&amp;#xD800;�
    """
    return _NOT_XML.sub("\ufffd", text).translate(_ENTITIES)


def quote(text: str) -> str:
    r"""A DOT quoted string showing ``text`` literally (backslashes and newlines included).

    Example:
        >>> print(quote('a\\N "b"'))
        "a\\N &quot;b&quot;"
    """
    return '"' + escape(text).replace("\\", "\\\\").replace("\n", "\\n") + '"'


def attributes(pairs: list[tuple[str, str]]) -> str:
    """``name="value" ...`` for a node, an edge or a graph; HtmlLabel values as ``<...>``."""
    return " ".join(f"{name}=<{value}>" if isinstance(value, HtmlLabel) else f"{name}={quote(value)}"
                    for name, value in pairs)


def draw_plan(plan: Plan, options: Options, steps: list[BackwardStep]) -> Graph:
    """The :class:`Graph` of ``plan``, with the gradients of ``options.step`` (or ``.grad``)."""
    return graph_of(plan, options, Gradients(plan, options, steps))


def graph_of(plan: Plan, options: Options, gradients: Gradients) -> Graph:
    """The :class:`Graph` of ``plan`` showing ``gradients``' texts."""
    writer = Writer(plan, gradients, options)
    body = writer.lines()
    graph = Graph(name="chainrule")
    graph.body.extend(f"\t{kind} [{attributes(pairs)}]\n" for kind, pairs in (
        ("graph", _graph_attributes(options, plan, writer.legend_cells() if options.legend else [])),
        ("node", [("shape", "box"), ("style", "rounded,filled"), ("fontname", "Helvetica"),
                  ("fontsize", "11"), ("margin", "0.08,0.04")]),
        ("edge", [("fontname", "Helvetica"), ("fontsize", "9"), ("color", "#5f5f5f"),
                  ("arrowsize", "0.6")])))
    graph.body.extend(body)
    graph.node_count = plan.node_count()
    graph.edge_count = plan.edge_count()
    graph.layout_cost = plan.layout_cost()
    graph.max_nodes = options.max_nodes
    graph.advise = functools.partial(advice, plan, options)
    return graph


# Graphviz's global ranking (newrank) costs time that grows with the number of time steps:
# Elman(1, 2, 1) folded by neuron took 0.1 s over 3 steps (56 nodes), 0.7 s over 7 (108),
# 3.1 s over 11 (160), 15 s over 16 (225), where ranking cluster by cluster takes 0.2-0.6 s
# (2 shared cores); at load 2-4, Jordan(1, 4, 1) over 8 steps folded by layer (133 nodes) took
# 5.9 s, Elman(1, 4, 1) over 8 (145) 4.6 s, Jordan(1, 2, 1) over 8 (109) 2.2 s, Jordan(1, 4, 1)
# over 5 (91) 0.8 s. Larger drawings keep that ranking: still in order, less compact.
NEWRANK_MAX_NODES = 100


def _graph_attributes(options: Options, plan: Plan, legend: list[str]) -> list[tuple[str, str]]:
    pairs = [("rankdir", options.rankdir), ("nodesep", "0.25"), ("ranksep", "0.35"),
             ("fontname", "Helvetica"), ("fontsize", "10")]
    if plan.scopes is not None:
        # Graphviz's crossing minimisation shuffles a layer's neurons, folded or not (any order
        # of n neurons reading the same m inputs crosses as often): neuron 4, 5, 0, 13...;
        # rank=same chains inside the layer's cluster do not stop it. Almost no passes keep
        # the order the nodes, edges and clusters are declared in (tests/test_draw_orders.py).
        pairs.append(("mclimit", "0.01"))
    chained = plan.boxes_chained_in_a_cluster()  # a recurrent net folded by layer or neuron
    if chained and plan.node_count() <= NEWRANK_MAX_NODES:
        # One ranking of the whole graph rather than cluster by cluster: ranked alone, a time
        # step's cluster put step 1's layer 0 in step 0's rank (its inputs drawn after it),
        # x_t far from its step, and the per-step loss terms in reverse order.
        pairs.append(("newrank", "true"))
    elif plan.boxes and not chained:
        # A layer of folded neurons reads every output of the layer before: bundling
        # those n x m edges keeps them readable (labelled edges are never merged). Not
        # where a cluster holds boxes that feed each other (a time step's layers): edges
        # bundled through it left ranks of the cluster empty, and Graphviz printed
        # "degenerate concentrated rank" and drew the step out of order (with or without
        # newrank: notebook 10's net folded by layer, Elman(1, 3, 1) over 12 steps). The
        # price: Elman(1, 8, 1) over 5 steps folded by neuron, 933 edges, takes 7.5 s, not 1.9 s.
        pairs.append(("concentrate", "true"))

    # The note and the legend are the graph's label, outside the ranks: as a node, the
    # legend widened the first rank of every drawing by its own width.
    rows = [f"<tr><td align=\"left\">{escape(plan.note)}</td></tr>"] if plan.note else []
    if legend:
        rows.append('<tr><td align="left"><table border="0" cellborder="0" cellspacing="3" cellpadding="2">'
                    f'<tr>{"".join(legend)}</tr></table></td></tr>')
    if rows:
        table = f'<table border="0" cellspacing="0">{"".join(rows)}</table>'
        label = HtmlLabel(f'<font point-size="9">{table}</font>')
        pairs += [("label", label), ("labelloc", "t"), ("labeljust", "l")]
    return pairs


class Writer:
    """Turns a plan and its gradients into DOT lines, nodes first, then edges."""

    def __init__(self, plan: Plan, gradients: Gradients, options: Options) -> None:
        self.plan = plan
        self.gradients = gradients
        self.options = options
        self.fmt = options.format_number
        self.roles_drawn: dict[str, None] = {}
        # The same op looks the same: its attributes are built once per (op, arg, constant...).
        self.op_attributes: dict[tuple[Op | None, Any, int | None, str | None, bool], str] = {}

    # -- the whole text ---------------------------------------------------------
    def lines(self) -> list[str]:
        plan = self.plan
        by_place: dict[int | None, list[str]] = {None: []}
        current = self.gradients.current
        current_op = current if self.gradients.current_op_done else None
        current_box = plan.group[current_op] if current_op is not None else None
        for i in plan.reading_order():
            node = plan.order[i]
            if i in plan.hidden:
                continue
            place = plan.place(i)
            bucket = by_place.setdefault(place, [])
            bucket.append(self.value_line(i, node, highlight=current == i))
            if node.op is not None and plan.group[i] is None:
                bucket.append(self.op_line(i, node, highlight=current_op == i))
        for instance in plan.boxes:
            assert plan.scopes is not None
            by_place.setdefault(plan.scopes.parent[instance], []).append(
                self.box_line(instance, highlight=current_box == instance))
        for place, line in self.operand_orders():
            by_place.setdefault(place, []).append(line)
        body = self.clusters(by_place)
        body.extend(self.edge_lines())
        return body

    def operand_orders(self) -> list[tuple[int | None, str]]:
        """Invisible edges that keep leaves and results in order: w0, w1, ..., b; x0, x1; h0, h1, y.

        Graphviz otherwise reorders a rank to save crossings (a neuron drawn as w1, w0, b,
        w2); its ``ordering`` attribute is ignored inside clusters. A chain links the leaves
        that an n-ary op or a folded box reads from its own cluster (a rank=same subgraph
        must sit there), and the values a folded box sends out. In a folded network the
        leaves outside every cluster are chained instead by the ops and boxes that read
        them: an MLP's inputs all together, a recurrent net's x0[t], x1[t]... apart from
        other steps' (each near its step), and each neuron's weights, which every step reads.
        """
        plan = self.plan
        chains: dict[tuple[int, ...], int | None] = {}
        for place, operands in self.operand_lists():
            leaves = [p for p in dict.fromkeys(operands) if self._drawn_leaf(p, place)]
            if len(leaves) > 1 and (place is not None or not plan.boxes):  # boxes: by readers below
                chains[tuple(leaves)] = place
        for place, operands in self.results_read_together():
            chains[tuple(operands)] = place
        sent: dict[int, list[int]] = {}
        for i, group in enumerate(plan.group):
            if group is not None and i not in plan.hidden:
                sent.setdefault(group, []).append(i)
        chains.update((tuple(sends), plan.place(sends[0])) for sends in sent.values() if len(sends) > 1)
        if plan.boxes:
            by_readers: dict[frozenset[str], list[int]] = {}
            for i in plan.reading_order():
                if self._drawn_leaf(i, None):
                    readers = frozenset(self._drawn_as(c) for c in plan.consumers[i])
                    by_readers.setdefault(readers, []).append(i)
            chains.update((tuple(leaves), None) for leaves in by_readers.values() if len(leaves) > 1)
        orders = []
        for nodes, place in chains.items():
            # Laid out left to right, a cluster stacks a chain bottom to top, the root top to bottom.
            if self.options.rankdir == "LR" and place is not None:
                nodes = nodes[::-1]
            orders.append((place, f"\t{{rank=same; {' -> '.join(map(value_name, nodes))} [style=invis]}}\n"))
        return orders

    def results_read_together(self) -> list[tuple[int | None, list[int]]]:
        """The results (not leaves) that each n-ary op reads from its own cluster, in operand order.

        A sum of per-step loss terms: ``ordering=in`` does not order them (Graphviz 2.43
        drew step 2's term first, with or without it), and a recurrent net's terms come
        at different depths (a Jordan net's y_t also feeds step t+1), so only a rank=same
        chain keeps them in step order. Not where one operand depends on another: no
        rank holds both.
        """
        plan = self.plan
        reads = []
        for i, node in enumerate(plan.order):
            if node.op is None or node.op.arity is not None or plan.group[i] is not None:
                continue
            place = plan.place(i)
            results = [p for p in dict.fromkeys(plan.index[parent] for parent in node.parents)
                       if plan.order[p].op is not None and p not in plan.hidden and plan.place(p) == place]
            if len(results) > 1 and plan.independent(results):
                reads.append((place, results))
        return reads

    def operand_lists(self) -> list[tuple[int | None, list[int]]]:
        """Where each n-ary op and folded box is drawn, and the nodes it reads, in order."""
        plan = self.plan
        reads = [(plan.place(i), [plan.index[p] for p in node.parents]) for i, node in enumerate(plan.order)
                 if node.op is not None and node.op.arity is None and plan.group[i] is None]
        if plan.scopes is not None:
            reads += [(plan.scopes.parent[box], inputs) for box, inputs in plan.box_inputs().items()]
        return reads

    def _drawn_as(self, i: int) -> str:
        """The DOT name of what shows node ``i``'s op: its oval, or the box it is folded into."""
        group = self.plan.group[i]
        return op_name(i) if group is None else box_name(group)

    def _drawn_leaf(self, i: int, place: int | None) -> bool:
        """Node ``i`` is a leaf drawn as a box of its own in the cluster of ``place``."""
        plan = self.plan
        return (plan.order[i].op is None and i not in plan.hidden and plan.group[i] is None
                and plan.place(i) == place)

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
        if self.options.rankdir == "LR" and not self.plan.boxes:
            # With those few crossing passes a left-to-right drawing stacks sibling clusters
            # bottom to top: declared last to first, neuron 0 comes out on top.
            for siblings in children.values():
                siblings.reverse()
        # Depth-first over the (shallow) scope tree, with an explicit stack.
        stack: list[tuple[int, bool]] = [(instance, False) for instance in reversed(children.get(None, []))]
        while stack:
            instance, closing = stack.pop()
            indent = "\t" * len(scopes.ancestors(instance))
            if closing:
                body.append(f"{indent}}}\n")
                continue
            title = escape(scopes.title(instance))
            body.append(f"{indent}subgraph cluster_{instance} {{\n")
            pairs = [("label", HtmlLabel(f"<b>{title}</b>")), ("style", "rounded,filled"),
                     ("fillcolor", SCOPE_FILL), ("color", "#c8bfa6"), ("fontsize", "10")]
            body.append(f"{indent}\t{attributes(pairs)}\n")
            body.extend(indent + line for line in by_place.get(instance, []))
            stack.append((instance, True))
            stack.extend((child, False) for child in reversed(children.get(instance, [])))
        return body

    # -- nodes ------------------------------------------------------------------
    def value_line(self, i: int, node: Value, highlight: bool) -> str:
        plan = self.plan
        role = role_of(node, node in plan.root_set)
        self.roles_drawn[role] = None
        cells = []
        if node.label:
            cells.append(f"<b>{escape(node.label)}</b>")
        cells.append(f'<font color="{DATA_COLOUR}">data {escape(self.fmt(node.data))}</font>')
        cells.append(f'<font color="{GRAD_COLOUR}">grad {escape(self.gradients.grad_text[i])}</font>')
        if self.options.rankdir == "LR":  # a narrow stack keeps a left-to-right graph short
            rows = "".join(f"<tr><td>{cell}</td></tr>" for cell in cells)
        else:
            rows = "<tr>" + "<td>  </td>".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
        label = HtmlLabel(f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{rows}</table>')
        pairs = [("label", label), ("fillcolor", ROLE_COLOURS[role])]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        name = f" {node.label}" if node.label else ""
        pairs.append(("tooltip", f"{role}{name}"))
        return f"\t{value_name(i)} [{attributes(pairs)}]\n"

    def op_line(self, i: int, node: Value, highlight: bool) -> str:
        position = self.plan.folded_constant.get(i)
        constant = None if position is None else self.fmt(node.parents[position].data)
        key = (node.op, node.arg, position, constant, highlight)
        written = self.op_attributes.get(key)
        if written is None:
            written = self.op_attributes[key] = self._op_attributes(node, position, constant, highlight)
        return f"\t{op_name(i)} [{written}]\n"

    def _op_attributes(self, node: Value, position: int | None, constant: str | None,
                       highlight: bool) -> str:
        op = node.op
        assert op is not None
        text = op.label(node.arg)
        if position is not None:
            if position == 1 or op.name in COMMUTATIVE:  # the slides' gates: +1, *-1, 1/x
                text = f"{text}{constant}" if text[0] in "+-*/" else f"{text}(x, {constant})"
            else:
                text = f"{constant}{text}x" if text[0] in "+-*/" else f"{text}({constant}, x)"
        # ordering=in: a gate's operands stand in operand order (w0 x0 w1 x1, not w0 x0 x1 w1,
        # in the course's sigmoid neuron drawn left to right). Graphviz ignores it in clusters,
        # where operand_orders chains a neuron's weights instead.
        pairs = [("label", text), ("ordering", "in"), ("shape", "ellipse"), ("fillcolor", OP_FILL),
                 ("width", "0.3"), ("height", "0.3"), ("margin", "0.04,0.02"),
                 ("tooltip", f"{op.name}: local gradient {op.derivative}")]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        return attributes(pairs)

    def box_line(self, instance: int, highlight: bool) -> str:
        plan = self.plan
        assert plan.scopes is not None
        ops, parameters = plan.box_contents[instance]
        counts = f"{ops} ops" + (f", {parameters} parameters" if parameters else "")
        title = escape(plan.scopes.title(instance))
        pairs = [("label", HtmlLabel(f'<b>{title}</b><br/><font point-size="9">{counts}</font>')),
                 ("shape", "box3d"), ("fillcolor", SCOPE_FILL),
                 ("tooltip", " / ".join(plan.scopes.path_of_instance[instance]))]
        if highlight:
            pairs += [("color", HIGHLIGHT_COLOUR), ("penwidth", "2.5")]
        return f"\t{box_name(instance)} [{attributes(pairs)}]\n"

    def legend_cells(self) -> list[str]:
        """The legend's cells: the colours drawn, and how to read the numbers."""
        cells = [f'<td bgcolor="{ROLE_COLOURS[role]}" border="1">{role}</td>'
                 for role in ROLE_COLOURS if role in self.roles_drawn]
        if self.plan.boxes:
            cells.append(f'<td bgcolor="{SCOPE_FILL}" border="1">scope</td>')
        if self.gradients.local:
            cells.append(f'<td><font color="{LOCAL_GRAD_COLOUR}">local</font> = d(op)/d(input): '
                         'grad × local flows back</td>')
        if self.gradients.stepping:
            cells.append(f'<td><font color="{GRAD_COLOUR}">?</font>: not computed yet</td>')
        return cells

    # -- edges ------------------------------------------------------------------
    def edge_lines(self) -> list[str]:
        plan, gradients = self.plan, self.gradients
        lines = []
        current_op = gradients.current if gradients.current_op_done else None
        for i, node in enumerate(plan.order):
            if node.op is None or plan.group[i] is not None:
                continue
            parents = node.parents
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
                written = f" [{attributes(pairs)}]" if pairs else ""
                lines.append(f"\t{value_name(p)} -> {op_name(i)}{written}\n")
            lines.append(f"\t{op_name(i)} -> {value_name(i)}\n")
        box_inputs = plan.box_inputs()
        for i, group in enumerate(plan.group):
            if group is not None and i not in plan.hidden:
                box = box_name(group)
                lines.extend(f"\t{value_name(p)} -> {box}\n" for p in box_inputs.pop(group, []))
                lines.append(f"\t{box_name(group)} -> {value_name(i)}\n")
        return lines
