"""Drawing nn's networks: scopes from nn.Layer / nn.Neuron fold and cluster as promised."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

import autograd
import nn


@pytest.fixture(scope="module")
def mlp_loss() -> autograd.Value:
    """One forward and backward pass of MLP(2, [16, 16, 1]) (the issue's size target)."""
    model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="tanh", seed=0)
    (y,) = model([0.5, -1.0])
    loss = (y - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss


def boxes(source: str) -> list[str]:
    return re.findall(r'^\s*s\d+ \[label=<<b>(.*?)</b>', source, re.M)


def clusters(source: str) -> list[str]:
    return re.findall(r"subgraph cluster_\d+ \{\n\s*label=<<b>(.*?)</b>>", source)


def test_nn_scopes_follow_the_naming_contract(mlp_loss):
    scopes = {node.scope for node in autograd.topological_order(mlp_loss) if node.scope}
    assert ("layer 0", "neuron 15") in scopes and ("layer 2", "neuron 0") in scopes


def test_collapse_neuron(mlp_loss):
    graph = autograd.draw(mlp_loss, collapse="neuron")
    assert boxes(graph.source) == [f"neuron {j}" for j in range(16)] * 2 + ["neuron 0"]
    assert clusters(graph.source) == ["layer 0", "layer 1", "layer 2"]
    # 2 inputs, 33 neuron outputs, the loss's 2 values and 2 ops, 33 boxes
    assert graph.node_count == 2 + 33 + 2 + 2 + 33
    assert 'concentrate="true"' in graph.source


def test_collapse_layer(mlp_loss):
    graph = autograd.draw(mlp_loss, collapse="layer")
    assert boxes(graph.source) == ["layer 0", "layer 1", "layer 2"]
    assert "<b>layer 1</b><br/><font point-size=\"9\">32 ops, 272 parameters</font>" in graph.source
    assert clusters(graph.source) == []


def test_unfolded_graph_is_under_the_size_limit_and_clustered(mlp_loss):
    graph = autograd.draw(mlp_loss)
    assert boxes(graph.source) == []
    assert clusters(graph.source).count("layer 1") == 1 and len(clusters(graph.source)) == 3 + 33
    assert graph.node_count <= graph.max_nodes
    weights = sum(1 for node in autograd.topological_order(mlp_loss) if isinstance(node, autograd.Parameter))
    assert weights == 337 and graph.source.count('tooltip="parameter ') == 337


@pytest.mark.parametrize("collapse", ["neuron", None])
def test_mlp_graph_renders_to_svg(mlp_loss, collapse, tmp_path):
    path = autograd.render(mlp_loss, tmp_path / "mlp.svg", collapse=collapse)
    texts = {t.text for t in ElementTree.parse(path).iter("{http://www.w3.org/2000/svg}text")}
    assert "loss" in texts and "neuron 15" in texts and "layer 1" in texts


def test_step_frames_through_an_mlp(mlp_loss):
    steps = list(autograd.backward_steps(mlp_loss))
    last = autograd.draw(mlp_loss, step=len(steps), collapse="neuron", number_format=repr).source
    assert "grad ?" not in last
    grads = re.findall(r"<b>loss</b>.*?grad (.*?)</font>", last)
    assert grads == ["1.0"]


def test_folded_views_keep_the_inputs_in_index_order():
    model = nn.MLP(6, [4, 1], seed=0)
    (y,) = model([0.1 * i for i in range(6)])
    graph = autograd.draw((y - 1.0) ** 2, collapse="neuron")
    svg = ElementTree.fromstring(graph.pipe(format="svg"))
    svg_namespace = "{http://www.w3.org/2000/svg}"
    heights = {}
    for group in svg.iter(f"{svg_namespace}g"):
        texts = [(text.text, float(text.get("y"))) for text in group.iter(f"{svg_namespace}text")]
        if group.get("class") == "node" and texts and (texts[0][0] or "").startswith("x"):
            heights[texts[0][0]] = texts[0][1]
    assert sorted(heights, key=heights.get) == [f"x{i}" for i in range(6)]  # top to bottom


def test_a_graph_with_too_many_edges_is_refused_before_graphviz_spends_minutes():
    """4 samples through one MLP: every shared weight is drawn to 4 neuron boxes (measured: 67 s)."""
    model = nn.MLP(4, [16, 16, 1], seed=0)
    rows = [[0.1 * i, -0.2 * i, 0.3, 0.05 * i] for i in range(4)]
    loss = sum(((model(row)[0] - 1.0) ** 2 for row in rows), autograd.Value(0.0))
    graph = autograd.draw(loss)
    assert graph.node_count <= autograd.drawing.DEFAULT_MAX_NODES
    with pytest.raises(autograd.GraphTooLargeError, match=r"edges, over the limit of 1,280.*one sample"):
        graph.check_size()
    assert list(graph._repr_mimebundle_()) == ["text/plain"]  # advice, not minutes of layout
