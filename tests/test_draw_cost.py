"""The automatic fold keeps Graphviz's estimated work under the limit measured to take seconds.

No timing asserts: the estimate (autograd.drawing.cost, with its measurements) and the fold
chosen are asserted, and the chosen picture still reads in time order.
"""

from __future__ import annotations

import pytest

import autograd
import nn
from autograd.drawing.cost import COST_PER_NODE, estimated_ranks, layout_cost
from autograd.drawing.folding import make_plan
from autograd.drawing.options import DEFAULT_MAX_NODES, Options
from test_draw_orders import Picture

LIMIT = COST_PER_NODE * DEFAULT_MAX_NODES


def mlp_loss(width: int, samples: int) -> autograd.Value:
    model = nn.MLP(2, [width, width, 1], seed=0)
    loss = sum(((model([0.5 * k, -1.0])[0] - 1.0) ** 2 for k in range(samples)), autograd.Value(0.0))
    loss.backward()
    return loss


def recurrent_loss(kind: type[nn.Recurrent], hidden: int, steps: int) -> autograd.Value:
    net = kind(1, hidden, 1, seed=0)
    loss = nn.sequence_loss(net([[0.1 * t] for t in range(steps)]), [[0.0]] * steps, "mse")
    loss.backward()
    return loss


def costs(loss: autograd.Value) -> dict[str | None, int]:
    """Each fold's estimated layout cost (None: unfolded)."""
    plan = make_plan([loss], Options.checked(collapse=None))
    kinds = plan.scopes.kinds_innermost_first() if plan.scopes is not None else []
    found = {}
    for kind in [None, *kinds]:
        plan.fold(kind)
        found[kind] = plan.layout_cost()
    return found


# (net, the fold the automatic choice makes): measured times in autograd/drawing/cost.py
GRID = [
    ("MLP(2, [16, 16, 1]) x 1", lambda: mlp_loss(16, 1), None),      # cost 1,248: 0.46 s
    ("MLP(2, [8, 8, 1]) x 4", lambda: mlp_loss(8, 4), "neuron"),     # unfolded 2,261: 2.25 s
    ("MLP(2, [16, 16, 1]) x 2", lambda: mlp_loss(16, 2), "layer"),   # unfolded 3,845: 6.0 s
    ("Elman(1, 2, 1) x 3", lambda: recurrent_loss(nn.Elman, 2, 3), None),
    ("Elman(1, 4, 1) x 8", lambda: recurrent_loss(nn.Elman, 4, 8), "neuron"),  # unfolded 8.9 s
    ("Elman(1, 8, 1) x 5", lambda: recurrent_loss(nn.Elman, 8, 5), "layer"),   # unfolded 19 s
    ("Jordan(1, 8, 1) x 8", lambda: recurrent_loss(nn.Jordan, 8, 8), "layer"),
]


@pytest.mark.parametrize("make, chosen", [case[1:] for case in GRID], ids=[case[0] for case in GRID])
def test_the_automatic_fold_is_the_most_detailed_one_under_the_cost_limit(make, chosen):
    loss = make()
    plan = make_plan([loss], Options.checked())
    assert plan.kind == chosen
    assert plan.layout_cost() <= LIMIT
    graph = autograd.draw(loss)
    assert graph.layout_cost == plan.layout_cost()
    kinds = list(costs(loss))  # unfolded first, then the innermost kinds
    for kind in kinds[:kinds.index(chosen)]:  # every more detailed drawing is over a limit
        plan.fold(kind)
        assert plan.too_large(DEFAULT_MAX_NODES), kind
    graph.check_size()  # no refusal


def test_elman_8_hidden_over_5_steps_is_drawn_folded_by_layer_in_time_order(capfd):
    """The net that took 19 s unfolded: now folded by layer (0.5 s), each step's layer in order."""
    steps = 5
    loss = recurrent_loss(nn.Elman, 8, steps)
    graph = autograd.draw(loss)
    assert "scopes folded automatically" in graph.source
    picture = Picture(graph)
    first = [picture.box[f"step {t} / layer 0"] for t in range(steps)]
    assert sorted(first, key=picture.along_rank) == first
    outputs = [picture.box[f"step {t} / layer 1"] for t in range(steps)]
    assert sorted(outputs, key=picture.along_rank) == outputs
    assert capfd.readouterr().err == ""


def test_the_refusal_names_only_folds_under_the_cost_limit():
    loss = recurrent_loss(nn.Elman, 8, 5)
    by_fold = costs(loss)
    assert by_fold[None] > by_fold["neuron"] > LIMIT >= by_fold["layer"]
    over = r"layout cost [\d,]+ is over the limit of 1,500"
    with pytest.raises(autograd.GraphTooLargeError, match=over) as refused:
        autograd.draw(loss, collapse=None).check_size()
    advice = str(refused.value)
    assert "collapse='layer')" in advice and "collapse='step')" in advice
    assert "collapse='neuron')" not in advice


def test_a_net_too_long_for_every_fold_is_refused_not_drawn_for_minutes():
    """Elman(1, 8, 1) over 12 steps: folded by step it still took over 12 s."""
    loss = recurrent_loss(nn.Elman, 8, 12)
    with pytest.raises(autograd.GraphTooLargeError, match="folding is not enough") as refused:
        autograd.draw(loss).check_size()
    assert "collapse='step' leaves 289 nodes, 1,367 edges and a layout cost of 4,415" in str(refused.value)


def test_the_cost_counts_boundaries_crossed_and_long_edges():
    # A leaf read by the first and the last of a chain of 9: it sits above the first reader.
    chain = [(f"n{k}", f"n{k + 1}") for k in range(8)]
    edges = [*chain, ("w", "n0"), ("w", "n8")]
    ranks = estimated_ranks(edges)
    assert ranks["w"] == ranks["n0"] - 1 and ranks["n8"] - ranks["w"] == 9
    outside = layout_cost(edges, lambda name: frozenset())
    assert outside == (8 + 1 + 9) // 3
    in_a_cluster = layout_cost(edges, lambda name: frozenset({0}) if name.startswith("n") else frozenset())
    assert in_a_cluster == 2 + (8 + 1 + 9) // 8  # w's 2 edges cross the cluster's boundary


def test_the_explorer_page_takes_the_same_automatic_fold(capfd):
    """explore() lays out the complete graph once, with draw()'s automatic fold (1.6 s, not 19 s)."""
    loss = recurrent_loss(nn.Elman, 8, 5)
    page = autograd.explore(loss).html
    assert "scopes folded automatically" in page
    assert "step 4 / layer 0" in page and "step 4 / layer 0 / neuron 0" not in page
    assert capfd.readouterr().err == ""
