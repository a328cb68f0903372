"""How long Graphviz's dot will take over a drawing, estimated before laying it out.

Node and edge counts do not predict it. What dot spends its time on (``dot -v``) is the
network simplex that places nodes along the ranks: it works on every node, every
*virtual* node (one per rank an edge passes), and every cluster boundary an edge
crosses. Elman(1, 8, 1) unrolled over 5 steps and drawn unfolded, 306 nodes and 1,013
edges, gave it 17,867 nodes to place (26.6 s of 27 s): its 445 edges from the shared
weights into the steps' neuron clusters run a long way and cross 3 to 4 boundaries
each. An MLP(2, [16, 16, 1]) on one sample, 476 nodes, laid out in 0.46 s.

So the cost of a drawing is summed over its edges: the cluster boundaries each crosses,
plus the ranks it spans (long edges between boxes outside every cluster cost more than
those entering clusters, where dot routes them past the cluster as a whole). Ranks are
estimated as dot makes them: longest paths, each leaf just above its first reader.

Measured (pygraphviz's dot, SVG, 2 cores shared with 3 other jobs, load 2-4; a ">" time
was stopped there), cost = crossings + spans outside clusters / 3 + spans into them / 8:

    net (unrolled: x steps)    fold     nodes  crossings  cost   seconds
    MLP(2, [16, 16, 1]) x 1    none       476      1,154  1,248    0.46
    MLP(2, [8, 8, 1]) x 4      none       402      2,128  2,261    2.25
    MLP(2, [16, 16, 1]) x 2    neuron     486      1,828  2,001    1.40
    MLP(2, [16, 16, 1]) x 2    none       614      3,656  3,845    6.01
    MLP(2, [16, 16, 1]) x 4    neuron     634      3,656  4,005   11.26
    Elman(1, 2, 1) x 12        none       221        868  1,388    0.79
    Elman(1, 4, 1) x 5         none       162        990  1,202    3.31
    Elman(1, 4, 1) x 8         neuron     173      1,056  1,356    2.39
    Elman(1, 4, 1) x 8         none       237      1,632  2,162    8.85
    Elman(1, 4, 1) x 12        step       185          0  1,506    2.82
    Elman(1, 4, 1) x 12        none       337      2,488  3,662   11.32
    Elman(1, 8, 1) x 5         layer      183        519    832    0.49
    Elman(1, 8, 1) x 5         step       170          0    787    1.14
    Elman(1, 8, 1) x 5         neuron     226      2,084  2,437    6.53
    Elman(1, 8, 1) x 5         none       306      3,230  3,822   > 12
    Elman(1, 8, 1) x 8         layer      237        840  1,616    0.71
    Elman(1, 8, 1) x 8         step       221          0  1,982    4.05
    Elman(1, 8, 1) x 12        step       289          0  4,415   > 12
    Jordan(1, 4, 1) x 12       none       322      1,252  2,319    1.24
    Jordan(1, 8, 1) x 8        none       366      1,608  2,459    4.14
    Jordan(1, 8, 1) x 12       layer      253        442  1,727    0.69
    Jordan(1, 8, 1) x 12       none       530      2,432  4,351    7.15

Of 120 drawings measured (MLPs 4-16 wide on 1-4 samples, Elman and Jordan nets 2-8
wide over 3-12 steps, each unfolded and folded by neuron, layer and step), none with a
cost up to 1,500 took more than 3.5 s; every one over 5 s cost more than 2,000.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["layout_cost", "estimated_ranks", "COST_PER_NODE"]

# The cost allowed per node of max_nodes: 1,500 for the default 800 nodes (see above).
COST_PER_NODE = 1.875
_SPAN_OUTSIDE = 3  # ranks of a long edge between boxes outside every cluster, per unit of cost
_SPAN_INTO_CLUSTERS = 8  # ranks of a long edge into or out of a cluster, per unit of cost

Edge = tuple[str, str]


def estimated_ranks(edges: Sequence[Edge]) -> dict[str, int]:
    """The rank dot gives each node: its longest path from a leaf; a leaf just above its first reader.

    Example:
        >>> estimated_ranks([("a", "b"), ("b", "c"), ("w", "c")])
        {'a': 0, 'b': 1, 'c': 2, 'w': 1}
    """
    readers: dict[str, list[str]] = {}
    waiting: dict[str, int] = {}  # node -> edges into it not yet ranked
    for tail, head in edges:
        readers.setdefault(tail, []).append(head)
        waiting.setdefault(tail, 0)
        waiting[head] = waiting.get(head, 0) + 1
    rank = dict.fromkeys(waiting, 0)
    leaves = [node for node, count in waiting.items() if count == 0]
    ready = list(leaves)
    while ready:
        node = ready.pop()
        for head in readers.get(node, []):
            rank[head] = max(rank[head], rank[node] + 1)
            waiting[head] -= 1
            if waiting[head] == 0:
                ready.append(head)
    for leaf in leaves:  # dot shortens a leaf's edges by placing it late
        rank[leaf] = min(rank[head] for head in readers[leaf]) - 1
    return rank


def layout_cost(edges: Sequence[Edge], clusters_around: Callable[[str], frozenset[int]]) -> int:
    """The estimated cost of laying out these edges: boundaries crossed plus weighted rank spans.

    ``clusters_around(node)`` is the set of clusters that hold ``node`` (nested ones too).

    Example:
        >>> inside = {"w": frozenset(), "x": frozenset({0}), "y": frozenset({0, 1})}
        >>> layout_cost([("w", "x"), ("x", "y")], inside.__getitem__)  # 2 boundaries crossed
        2
    """
    rank = estimated_ranks(edges)
    crossings = 0
    span_outside = span_into = 0
    for tail, head in edges:
        around_tail, around_head = clusters_around(tail), clusters_around(head)
        crossings += len(around_tail ^ around_head)
        span = rank[head] - rank[tail]
        if around_tail or around_head:
            span_into += span
        else:
            span_outside += span
    return crossings + span_outside // _SPAN_OUTSIDE + span_into // _SPAN_INTO_CLUSTERS
