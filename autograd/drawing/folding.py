"""Folding scopes into boxes: which values, ops and scope boxes a drawing shows, and where.

``autograd.scope`` records a path on every node made inside it (``("layer 1",
"neuron 2")``). :class:`Scopes` turns those paths into a tree of scope *instances*
(one per call), and :class:`Plan` decides what a drawing shows: every value and op,
or one box per folded instance of a kind (``collapse="neuron"``).
"""

from __future__ import annotations

from ..engine import topological_order
from ..value import Constant, Parameter, Value
from .cost import COST_PER_NODE, layout_cost
from .options import Options

__all__ = ["Plan", "Scopes", "make_plan", "choose_rankdir", "role_of", "advice", "value_name", "op_name",
           "box_name"]


def value_name(i: int) -> str:
    """The DOT name of node ``i``'s value box (``i`` is its place in topological order)."""
    return f"v{i}"


def op_name(i: int) -> str:
    """The DOT name of the oval of the op that made node ``i``."""
    return f"o{i}"


def box_name(instance: int) -> str:
    """The DOT name of a folded scope instance's box."""
    return f"s{instance}"


def role_of(node: Value, is_root: bool) -> str:
    if is_root:
        return "output"
    if node.op is not None:
        return "intermediate"
    if isinstance(node, Parameter):
        return "parameter"
    if isinstance(node, Constant):
        return "constant"
    return "input"


def is_held_leaf(node: Value) -> bool:
    """A parameter or constant: drawn in the scope that uses it, wherever it was made."""
    return node.op is None and isinstance(node, (Parameter, Constant))


class Scopes:
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
        depth = max(len(node.scope or ()) for node in order)
        found: dict[tuple[int, int], int] = {}  # (level, union-find root) -> instance
        # Parameters and constants are placed after the others, by their uses: a weight
        # shared by two calls of a neuron must not join the two calls into one.
        visits = [i for i, node in enumerate(order) if not is_held_leaf(node)]
        for level in range(depth):
            roots = self._connect(order, index, level)
            for i in visits:
                node = order[i]
                path = node.scope or ()
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
            if is_held_leaf(node):
                homes = [home for c in consumers[i] if (home := self.home[c]) is not None]
                if homes and len(homes) == len(consumers[i]):
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
            path = node.scope or ()
            if len(path) <= level:
                continue
            key = path[:level + 1]
            for parent in node.parents:
                if is_held_leaf(parent):
                    continue
                p = index[parent]
                parent_path = parent.scope or ()
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


class Plan:
    """Which elements a drawing shows: value boxes, op ovals, folded scopes, and their places."""

    def __init__(self, order: list[Value], roots: list[Value], fold_constants: bool) -> None:
        self.order = order
        self.index = {node: i for i, node in enumerate(order)}
        self.root_set = set(roots)
        self.consumers: list[list[int]] = [[] for _ in order]  # distinct consumers, in order
        for i, node in enumerate(order):
            for parent in node.parents:
                p = self.index[parent]
                if not self.consumers[p] or self.consumers[p][-1] != i:  # x * x uses x once
                    self.consumers[p].append(i)
        # A constant used once, by a binary op whose other operand is not constant,
        # is written into that op's label.
        self.folded_constant: dict[int, int] = {}  # op node -> position of its constant operand
        if fold_constants:
            for i, node in enumerate(order):
                if node.op is None or node.op.arity != 2:
                    continue
                operands = node.parents
                constant = [type(p) is Constant and p not in self.root_set
                            and len(self.consumers[self.index[p]]) == 1 and operands[0] is not operands[1]
                            for p in operands]
                if constant.count(True) == 1:
                    self.folded_constant[i] = constant.index(True)
        self.hidden_constant = {self.index[order[i].parents[k]] for i, k in self.folded_constant.items()}
        self.scopes = Scopes(order, self.index, self.consumers) if any(n.scope for n in order) else None
        self.group: list[int | None] = [None] * len(order)  # node -> folded instance
        self.hidden: set[int] = set(self.hidden_constant)  # nodes drawn nowhere
        self.boxes: list[int] = []  # folded instances, in the order their computations run
        self.box_contents: dict[int, list[int]] = {}
        self.note = ""  # says so when scopes were folded automatically
        self.kind: str | None = None  # the scope kind folded into boxes

    def fold(self, kind: str | None) -> None:
        """Fold every scope instance of this kind (the outermost, when nested) into a box."""
        self.kind = kind
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
            self.box_contents[group][0] += node.op is not None
            self.box_contents[group][1] += isinstance(node, Parameter)
            leaves_group = self.order[i] in self.root_set or any(
                self.group[c] != group for c in self.consumers[i])
            if not leaves_group:
                self.hidden.add(i)

    def reading_order(self) -> list[int]:
        """Every node, each parameter and constant moved to just before its first use.

        The order to declare them in: still topological, but a neuron's weights come with
        the neuron rather than where the depth-first walk from the output met them (the
        output layer's first). Graphviz keeps the declared order, so the weights of a net
        reused over time steps or samples stand in the order the computation reads them.
        """
        declared = [False] * len(self.order)
        order = []
        for i, node in enumerate(self.order):
            if is_held_leaf(node) and self.consumers[i]:
                continue
            for parent in node.parents:
                p = self.index[parent]
                if is_held_leaf(parent) and not declared[p]:
                    declared[p] = True
                    order.append(p)
            order.append(i)
        return order

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
                count += 1 if node.op is None or self.group[i] is not None else 2
        return count

    def independent(self, nodes: list[int]) -> bool:
        """No node of ``nodes`` (indices into ``order``) depends on another."""
        wanted = set(nodes)
        lowest = min(nodes)
        seen: set[int] = set()
        for start in nodes:
            stack = [self.index[parent] for parent in self.order[start].parents]
            while stack:
                i = stack.pop()
                if i in wanted:
                    return False
                if i >= lowest and i not in seen:  # an ancestor comes before its descendants
                    seen.add(i)
                    stack.extend(self.index[parent] for parent in self.order[i].parents)
        return True

    def box_inputs(self) -> dict[int, list[int]]:
        """Each folded box's inputs from outside it, in the order its ops first read them."""
        inputs: dict[int, dict[int, None]] = {box: {} for box in self.boxes}
        for i, node in enumerate(self.order):
            group = self.group[i]
            if group is None or node.op is None:
                continue
            for parent in node.parents:
                p = self.index[parent]
                if self.group[p] != group and p not in self.hidden:
                    inputs[group][p] = None
        return {box: list(read) for box, read in inputs.items()}

    def boxes_chained_in_a_cluster(self) -> bool:
        """Some folded box reads another's result inside a cluster around both (a step's layers)."""
        if self.scopes is None:
            return False
        parent = self.scopes.parent
        for box, inputs in self.box_inputs().items():
            for p in inputs:
                feeder = self.group[p]
                if feeder is None:
                    continue
                reader_place, feeder_place = parent[box], parent[feeder]
                if reader_place is not None and feeder_place is not None \
                        and self.scopes.common_ancestor([reader_place, feeder_place]) is not None:
                    return True
        return False

    def edges(self) -> list[tuple[str, str]]:
        """The edges drawn, by DOT name: op inputs and results, each folded box's inputs and outputs."""
        edges: list[tuple[str, str]] = []
        for i, node in enumerate(self.order):
            if node.op is None or self.group[i] is not None:
                continue
            folded = self.folded_constant.get(i)
            edges.extend((value_name(self.index[parent]), op_name(i))
                         for position, parent in enumerate(node.parents) if position != folded)
            edges.append((op_name(i), value_name(i)))
        box_inputs = self.box_inputs()
        for i, group in enumerate(self.group):
            if group is not None and i not in self.hidden:
                edges.extend((value_name(p), box_name(group)) for p in box_inputs.pop(group, []))
                edges.append((box_name(group), value_name(i)))
        return edges

    def edge_count(self) -> int:
        return len(self.edges())

    def layout_cost(self) -> int:
        """Graphviz's work over this drawing, estimated (see :mod:`autograd.drawing.cost`)."""
        scopes = self.scopes
        if scopes is None:
            return layout_cost(self.edges(), lambda name: frozenset())
        around: dict[int | None, frozenset[int]] = {}

        def clusters_around(name: str) -> frozenset[int]:
            number = int(name[1:])
            place = scopes.parent[number] if name[0] == "s" else self.place(number)
            if place not in around:
                around[place] = frozenset(scopes.ancestors(place))
            return around[place]

        return layout_cost(self.edges(), clusters_around)

    def too_large(self, limit: int | None) -> bool:
        """Over ``limit`` nodes, ``EDGES_PER_NODE * limit`` edges or ``COST_PER_NODE * limit`` cost."""
        return limit is not None and (self.node_count() > limit or self.edge_count() > EDGES_PER_NODE * limit
                                      or self.layout_cost() > COST_PER_NODE * limit)


def make_plan(roots: list[Value], options: Options) -> Plan:
    """What to show, folded as ``options.collapse`` says (the same for every step frame)."""
    plan = Plan(topological_order(roots), roots, options.fold_constants)
    if options.collapse != "auto":
        kinds = plan.scopes.kinds_innermost_first() if plan.scopes is not None else []
        if options.collapse is not None and options.collapse not in kinds:
            present = f"its scope kinds are {', '.join(map(repr, kinds))}" if kinds else "it has no scopes"
            raise ValueError(f"collapse={options.collapse!r} matches no scope of this graph: {present} "
                             "(a scope's kind is the first word of its name)")
        plan.fold(options.collapse)
        return plan
    plan.fold(None)  # "auto": fold only what the size limit asks for
    limit = options.max_nodes
    if plan.too_large(limit) and plan.scopes is not None:
        full = plan.node_count()
        for kind in plan.scopes.kinds_innermost_first():
            plan.fold(kind)
            if not plan.too_large(limit):
                break
        plan.note = (f"{plan.node_count():,} of {full:,} nodes drawn: scopes folded automatically "
                     f"(draw(..., collapse=None, max_nodes=None) draws all of them)")
    return plan


# Edges cost Graphviz more than nodes: a folded MLP on 4 samples (674 nodes, 2,980 edges, each
# shared weight drawn to 4 boxes) took 67 s; 917 nodes with 1,546 edges 4.5 s. So a drawing
# is also too large above this many edges per allowed node (800 nodes: 1,280 edges).
EDGES_PER_NODE = 1.6

# A notebook column is about 1,000 px: 720 pt at 96 dpi leaves room for the margins.
COLUMN_POINTS = 720
_CHAR_POINTS = 6.3  # Helvetica 11 pt, an average character (measured on value boxes)
_RANK_GAP = 25 + 30  # ranksep, plus room for an edge's "local ..." label


def choose_rankdir(plan: Plan, options: Options) -> str:
    """``LR`` when the graph fits a notebook column that way, else the narrower direction.

    Widths are estimated from the texts (a layout would take as long as the drawing):
    left to right, the ranks (longest paths) stand side by side; top to bottom, the
    widest rank's boxes do. A long chain such as the primitive-gate sigmoid neuron goes
    top to bottom; short and wide graphs, and folded networks, stay left to right.
    """
    if options.rankdir != "auto":
        return options.rankdir
    if plan.boxes:
        return "LR"
    fmt = options.format_number
    rank = [0] * len(plan.order)
    widths: dict[int, list[float]] = {}
    for i, node in enumerate(plan.order):
        if node.op is not None:
            rank[i] = 2 + max((rank[plan.index[p]] for p in node.parents), default=0)
            widths.setdefault(rank[i] - 1, []).append(_CHAR_POINTS * len(node.op.label(node.arg)) + 16)
        if i not in plan.hidden:
            longest = max(len(node.label), len(fmt(node.data)) + 5, 10)
            widths.setdefault(rank[i], []).append(_CHAR_POINTS * longest + 16)
    across = sum(max(column) for column in widths.values()) + _RANK_GAP * (len(widths) - 1)
    down = max(sum(column) + 18 * (len(column) - 1) for column in widths.values())
    return "LR" if across <= COLUMN_POINTS or across <= down else "TB"


def advice(plan: Plan, options: Options) -> str:
    """Ways to draw a graph over the limit that do work: only the folds that bring it under."""
    limit = options.max_nodes
    kinds = plan.scopes.kinds_innermost_first() if plan.scopes is not None else []
    folded = plan.kind
    counts: dict[str, tuple[int, int, int, bool]] = {}
    for kind in kinds:
        plan.fold(kind)
        counts[kind] = (plan.node_count(), plan.edge_count(), plan.layout_cost(), plan.too_large(limit))
    plan.fold(folded)
    fitting = [kind for kind in kinds if not counts[kind][3]]
    ways = [f"fold its scopes with draw(..., collapse={kind!r}) ({counts[kind][0]:,} nodes)"
            for kind in fitting]
    if kinds and not fitting:
        ways.append("folding is not enough (" + ", ".join(
            f"collapse={kind!r} leaves {counts[kind][0]:,} nodes, {counts[kind][1]:,} edges "
            f"and a layout cost of {counts[kind][2]:,}" for kind in kinds) + ")")
    ways.append("draw a smaller graph (fewer inputs, one sample)")
    ways.append("get the DOT text with draw(...).source")
    ways.append("pass max_nodes=None to wait for Graphviz anyway")
    return "Instead: " + "; ".join(ways) + "."
