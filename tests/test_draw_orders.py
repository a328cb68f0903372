"""Stable orders in the laid-out picture: w0, w1, ..., b inside a neuron; x0, x1, ... and
neuron 0, 1, ... in folded views; every op's operands in operand order; an unrolled
recurrent net's time steps in time order, whichever scope it is folded by.

Positions are read from the SVG that the drawing's own backend lays out, so these tests
see what a user sees (Graphviz reorders a rank to save crossings unless told not to).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

import autograd
import nn
from autograd.drawing.dot import NEWRANK_MAX_NODES
from course_graphs import sigmoid_neuron

SVG = "{http://www.w3.org/2000/svg}"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class Picture:
    """Where each node of a drawing sits once laid out, and how its boxes are labelled."""

    def __init__(self, graph: autograd.Graph) -> None:
        self.source = graph.source
        self.direction = re.search(r'rankdir="(\w+)"', self.source).group(1)
        self.centre: dict[str, tuple[float, float]] = {}
        self.label: dict[str, str] = {}
        self.cluster: dict[str, str | None] = {}  # node -> the innermost cluster declaring it
        self.parent_cluster: dict[str, str | None] = {}  # cluster -> the cluster around it
        clusters: list[str | None] = [None]
        for line in self.source.splitlines():
            opened = re.match(r"\s*subgraph (cluster_\d+) \{", line)
            if opened:
                self.parent_cluster[opened.group(1)] = clusters[-1]
                clusters.append(opened.group(1))
            elif line.strip() == "}":
                clusters.pop()
            elif declared := re.match(r"\s*(\w+) \[", line):
                self.cluster[declared.group(1)] = clusters[-1]
        for group in ElementTree.fromstring(graph.pipe(format="svg")).iter(f"{SVG}g"):
            title = group.find(f"{SVG}title")
            if group.get("class") != "node" or title is None:
                continue
            xs, ys = [], []
            for shape in group.iter():
                if shape.tag in (f"{SVG}polygon", f"{SVG}path"):
                    numbers = [float(n) for n in _NUMBER.findall(shape.get("points") or shape.get("d"))]
                    xs += numbers[0::2]
                    ys += numbers[1::2]
                elif shape.tag == f"{SVG}ellipse":
                    xs.append(float(shape.get("cx")))
                    ys.append(float(shape.get("cy")))
            self.centre[title.text] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
            bold = re.search(rf"^\s*{re.escape(title.text)} \[label=<.*?<b>(.*?)</b>", self.source, re.M)
            if bold:
                self.label[title.text] = bold.group(1)
        # A folded box's tooltip is its scope path: "step 0 / layer 0 / neuron 1".
        boxes = re.findall(r'^\s*(s\d+) \[.*tooltip="([^"]*)"', self.source, re.M)
        self.box = {path: node for node, path in boxes}

    def along_rank(self, node: str) -> float:
        """The coordinate that orders a rank: left to right (TB), top to bottom (LR)."""
        x, y = self.centre[node]
        return x if self.direction == "TB" else y

    def rank(self, node: str) -> int:
        x, y = self.centre[node]
        return round(y if self.direction == "TB" else x)

    def named(self, label: str) -> list[str]:
        """The nodes whose box is labelled ``label`` (a name or a scope's title)."""
        return [node for node, text in self.label.items() if text == label]

    def in_reading_order(self, nodes: list[str]) -> list[str]:
        return sorted(nodes, key=lambda node: (self.rank(node), self.along_rank(node)))

    def results(self, box: str) -> list[str]:
        """The values a folded box sends out, in the order the drawing declares them."""
        return re.findall(rf"^\s*{box} -> (v\d+)$", self.source, re.M)

    def operands(self) -> dict[str, list[str]]:
        """Each op oval's drawn operands, in operand order (the order of their edges)."""
        operands: dict[str, list[str]] = {}
        for tail, head in re.findall(r"^\s*(v\d+) -> (o\d+)", self.source, re.M):
            operands.setdefault(head, []).append(tail)
        return operands


def assert_operands_in_order(picture: Picture) -> None:
    """Every op's operands that share a rank and a cluster stand in operand order along the rank.

    (A cluster is laid out as a block: a neuron's weights inside it, its inputs outside.)
    """
    for op, operands in picture.operands().items():
        by_rank: dict[tuple[int, str | None], list[str]] = {}
        for operand in dict.fromkeys(operands):
            by_rank.setdefault((picture.rank(operand), picture.cluster[operand]), []).append(operand)
        for same_rank in by_rank.values():
            assert sorted(same_rank, key=picture.along_rank) == same_rank, (op, same_rank)


def one_sample_loss(sizes: list[int]) -> autograd.Value:
    model = nn.MLP(2, sizes, seed=0)
    outputs = model([0.5, -1.0])
    loss = sum(((output - 1.0) ** 2 for output in outputs), autograd.Value(0.0))
    loss.label = "loss"
    loss.backward()
    return loss


@pytest.fixture(scope="module")
def small_loss() -> autograd.Value:
    return one_sample_loss([3, 2])


@pytest.fixture(scope="module")
def issue_loss() -> autograd.Value:
    """The issue's size target: MLP(2, [16, 16, 1]) on one sample."""
    return one_sample_loss([16, 16, 1])


@pytest.mark.parametrize("rankdir", ["auto", "LR", "TB"])
def test_the_course_sigmoid_neuron_reads_w0_x0_w1_x1_then_the_bias(rankdir):
    f, _ = sigmoid_neuron()
    picture = Picture(autograd.draw(f, rankdir=rankdir))
    leaves = [node for name in ("w0", "x0", "w1", "x1", "w2") for node in picture.named(name)]
    assert picture.in_reading_order(leaves) == leaves
    assert_operands_in_order(picture)


@pytest.mark.parametrize("rankdir", ["auto", "LR", "TB"])
def test_the_sigmoid_neuron_as_one_dot_gate_reads_its_operands_in_order(rankdir):
    """Notebook 02's dot(ws, xs, bias): w0, w1, x0, x1, then the bias (it was drawn reversed)."""
    _, leaves = sigmoid_neuron()
    w0, x0, w1, x1, w2 = leaves.values()
    f = autograd.dot([w0, w1], [x0, x1], bias=w2).sigmoid()
    f.backward()
    picture = Picture(autograd.draw(f, rankdir=rankdir))
    operands = [picture.named(name)[0] for name in ("w0", "w1", "x0", "x1", "w2")]
    assert sorted(operands, key=picture.along_rank) == operands
    assert_operands_in_order(picture)


@pytest.mark.parametrize("rankdir", ["auto", "LR", "TB"])
def test_an_unfolded_nn_neuron_shows_its_weights_in_index_order(rankdir):
    neuron = nn.Neuron(5, seed=0)
    y = neuron([0.1, -0.2, 0.3, -0.4, 0.5])
    y.backward()
    picture = Picture(autograd.draw(y, rankdir=rankdir))
    weights = [picture.named(name)[0] for name in ("w0", "w1", "w2", "w3", "w4", "b")]
    assert sorted(weights, key=picture.along_rank) == weights
    assert_operands_in_order(picture)


def test_each_neuron_of_an_unfolded_mlp_shows_w0_w1_b(small_loss):
    picture = Picture(autograd.draw(small_loss, collapse=None))
    neurons = [operands for operands in picture.operands().values() if picture.label.get(operands[0]) == "w0"]
    assert len(neurons) == 3 + 2
    for operands in neurons:
        weights = [v for v in operands if picture.label.get(v, "").startswith(("w", "b"))]
        expected = [f"w{k}" for k in range(len(weights) - 1)] + ["b"]
        assert [picture.label[v] for v in sorted(weights, key=picture.along_rank)] == expected
    assert_operands_in_order(picture)


def neurons_of_each_layer(picture: Picture) -> list[list[str]]:
    """The folded neuron boxes, layer by layer, as ``draw`` declares them (layer 0 first)."""
    boxes = sorted((node for node in picture.label if node.startswith("s")), key=lambda node: int(node[1:]))
    layers: list[list[str]] = []
    for box in boxes:
        if picture.label[box] == "neuron 0":
            layers.append([])
        layers[-1].append(box)
    return layers


@pytest.mark.parametrize("fixture", ["small_loss", "issue_loss"])
def test_folded_by_neuron_the_inputs_and_each_layers_neurons_stand_in_index_order(fixture, request):
    picture = Picture(autograd.draw(request.getfixturevalue(fixture), collapse="neuron"))
    inputs = [picture.named(name)[0] for name in ("x0", "x1")]
    assert sorted(inputs, key=picture.along_rank) == inputs
    for layer in neurons_of_each_layer(picture):
        assert [picture.label[box] for box in sorted(layer, key=picture.along_rank)] == \
            [f"neuron {j}" for j in range(len(layer))]
        assert len({picture.rank(box) for box in layer}) == 1


@pytest.mark.parametrize("fixture", ["small_loss", "issue_loss"])
def test_folded_by_layer_the_inputs_stand_in_index_order_and_the_layers_in_sequence(fixture, request):
    picture = Picture(autograd.draw(request.getfixturevalue(fixture), collapse="layer"))
    inputs = [picture.named(name)[0] for name in ("x0", "x1")]
    assert sorted(inputs, key=picture.along_rank) == inputs
    layers = [nodes[0] for k in range(3) if (nodes := picture.named(f"layer {k}"))]
    assert len(layers) >= 2 and sorted(layers, key=picture.rank) == layers
    for layer in layers:  # each layer's outputs h0, h1, ... in index order
        assert sorted(picture.results(layer), key=picture.along_rank) == picture.results(layer)


def neuron_clusters_of_each_layer(graph: autograd.Graph) -> list[list[str]]:
    """The unfolded neurons' cluster titles, layer by layer, in reading order."""
    picture = Picture(graph)
    corner: dict[str, float] = {}
    title: dict[str, str] = {}
    svg = ElementTree.fromstring(graph.pipe(format="svg"))
    for group in svg.iter(f"{SVG}g"):
        if group.get("class") == "cluster":
            name = group.find(f"{SVG}title").text
            title[name] = next(group.iter(f"{SVG}text")).text
            numbers = [float(n) for shape in group.iter() if shape.tag in (f"{SVG}polygon", f"{SVG}path")
                       for n in _NUMBER.findall(shape.get("points") or shape.get("d"))]
            corner[name] = min(numbers[0::2]) if picture.direction == "TB" else min(numbers[1::2])
    layers: dict[str, list[str]] = {}
    for cluster, parent in picture.parent_cluster.items():
        if title[cluster].startswith("neuron"):
            layers.setdefault(parent, []).append(cluster)
    return [[title[cluster] for cluster in sorted(layers[layer], key=corner.get)]
            for layer in sorted(layers, key=title.get)]


@pytest.mark.parametrize("rankdir", ["auto", "TB"])
def test_an_unfolded_mlp_shows_each_layers_neurons_in_index_order(small_loss, rankdir):
    assert neuron_clusters_of_each_layer(autograd.draw(small_loss, collapse=None, rankdir=rankdir)) == [
        ["neuron 0", "neuron 1", "neuron 2"], ["neuron 0", "neuron 1"]]


def test_equal_neurons_still_stand_in_index_order():
    """All weights 1: every order of a layer crosses as often, and Graphviz drew neuron 0, 2, 1."""
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    loss = nn.binary_cross_entropy(model([0, 1]), [0, 1])
    loss.backward()
    assert neuron_clusters_of_each_layer(autograd.draw(loss)) == [
        ["neuron 0", "neuron 1", "neuron 2"], ["neuron 0", "neuron 1"]]


# -- unrolled recurrent nets (notebook 10) ---------------------------------------------------

class Unrolled:
    """Notebook 10's Elman net (1 input, 2 hidden, 1 output) over 3 steps, its loss, and the DOT
    name of every Value (``v`` and its place in topological order, as ``draw`` names them)."""

    def __init__(self, net: nn.Recurrent, sequence: list[list[float]], targets: list[list[float]]) -> None:
        self.net = net
        self.run = net.unroll(sequence)
        self.loss = nn.sequence_loss(self.run.outputs, targets, "mse")
        self.loss.backward()
        self.name = {node: f"v{i}" for i, node in enumerate(autograd.topological_order(self.loss))}
        self.steps = range(len(sequence))

    def weights(self, layer: nn.Layer) -> list[list[str]]:
        """Each neuron's weights w0, w1, ..., b, as drawn."""
        return [[self.name[p] for p in neuron.parameters()] for neuron in layer.neurons]

    def inputs(self, picture: Picture, t: int) -> list[str]:
        return [picture.named(f"x{k}[{t}]")[0] for k in range(self.net.nin)]


@pytest.fixture(scope="module")
def elman() -> Unrolled:
    return Unrolled(nn.Elman(1, 2, 1, seed=0), [[0.5], [0.1], [-0.3]], [[0.1], [-0.3], [0.2]])


@pytest.fixture(scope="module")
def jordan() -> Unrolled:
    return Unrolled(nn.Jordan(1, 2, 1, seed=0), [[0.5], [0.1], [-0.3]], [[0.1], [-0.3], [0.2]])


def loss_terms(unrolled: Unrolled) -> list[str]:
    """The per-step loss terms that the loss sums, step 0's first, by DOT name."""
    total, _ = unrolled.loss.parents  # the mean: sum(terms) * (1 / steps)
    assert total.op.name == "sum" and len(total.parents) == len(unrolled.steps)
    return [unrolled.name[term] for term in total.parents]


def assert_stand_in_order(picture: Picture, nodes: list[str]) -> None:
    """``nodes`` share a rank and stand along it in this order (top to bottom, left to right)."""
    assert sorted(nodes, key=picture.along_rank) == nodes
    assert len({picture.rank(node) for node in nodes}) == 1, nodes


def assert_steps_in_time_order(picture: Picture, unrolled: Unrolled, first_boxes: list[str],
                               staircase: bool = True) -> None:
    """Step t+1 after step t (below it too, when steps are clusters: each step, or with
    ``staircase=False`` the last step below the first); x_t after step t-1's box and before
    step t's."""
    assert sorted(first_boxes, key=picture.rank) == first_boxes
    assert len({picture.rank(box) for box in first_boxes}) == len(first_boxes)
    if "step" not in picture.label[first_boxes[0]]:  # boxes inside step clusters
        if staircase:
            assert sorted(first_boxes, key=picture.along_rank) == first_boxes
        else:
            assert picture.along_rank(first_boxes[0]) < picture.along_rank(first_boxes[-1])
    for t in unrolled.steps:
        inputs = unrolled.inputs(picture, t)
        if len(inputs) > 1:
            assert_stand_in_order(picture, inputs)
        assert picture.rank(inputs[0]) < picture.rank(first_boxes[t])
        assert t == 0 or picture.rank(inputs[0]) > picture.rank(first_boxes[t - 1])


def test_an_unrolled_elman_net_folded_by_step_reads_in_time_order(elman):
    picture = Picture(autograd.draw(elman.loss, collapse="step"))
    boxes = [picture.box[f"step {t}"] for t in elman.steps]
    assert_steps_in_time_order(picture, elman, boxes)
    for t, box in enumerate(boxes[:-1]):  # each step sends h0, h1 (to the next step) and y
        sent = [elman.name[v] for v in elman.run.hidden[t] + elman.run.outputs[t]]
        assert picture.results(box) == sent
        assert_stand_in_order(picture, sent)
    assert picture.results(boxes[-1]) == [elman.name[elman.run.outputs[-1][0]]]  # the last sends only y
    # The weights every step reads: the hidden neurons' w0, w1, w2, b, then the output neuron's.
    shared = [name for layer in (elman.net.hidden, elman.net.output) for neuron in elman.weights(layer)
              for name in neuron]
    assert_stand_in_order(picture, shared)
    assert_operands_in_order(picture)  # the loss sums step 0's term, step 1's, step 2's


def test_an_unrolled_elman_net_folded_by_neuron_reads_in_time_order(elman):
    picture = Picture(autograd.draw(elman.loss, collapse="neuron"))
    for t in elman.steps:  # each step's hidden neurons in index order, and their results
        hidden = [picture.box[f"step {t} / layer 0 / neuron {j}"] for j in range(2)]
        assert_stand_in_order(picture, hidden)
        assert_stand_in_order(picture, [elman.name[h] for h in elman.run.hidden[t]])
    assert_steps_in_time_order(picture, elman, [picture.box[f"step {t} / layer 0 / neuron 0"]
                                                for t in elman.steps])
    assert sorted(picture.named("c0") + picture.named("c1"), key=picture.along_rank) == \
        picture.named("c0") + picture.named("c1")
    hidden_weights = elman.weights(elman.net.hidden)
    for neuron in [*hidden_weights, *elman.weights(elman.net.output)]:
        assert_stand_in_order(picture, neuron)
    assert sorted(hidden_weights, key=lambda neuron: picture.along_rank(neuron[0])) == hidden_weights
    outputs = [picture.box[f"step {t} / layer 1 / neuron 0"] for t in elman.steps]
    assert sorted(outputs, key=picture.along_rank) == outputs
    assert_operands_in_order(picture)  # the loss sums step 0's term, step 1's, step 2's


def test_an_unrolled_elman_net_folded_by_layer_keeps_each_steps_hidden_state_in_order(elman, capfd):
    picture = Picture(autograd.draw(elman.loss, collapse="layer"))
    boxes = [picture.box[f"step {t} / layer 0"] for t in elman.steps]
    assert_steps_in_time_order(picture, elman, boxes)
    for t, box in enumerate(boxes):
        assert picture.results(box) == [elman.name[h] for h in elman.run.hidden[t]]
        assert_stand_in_order(picture, picture.results(box))
    # Bundled edges through a step's cluster made Graphviz warn "degenerate concentrated rank".
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("fixture", ["elman", "jordan"])
@pytest.mark.parametrize("collapse", [None, "step", "layer", "neuron"])
def test_an_unrolled_nets_loss_terms_stand_in_step_order(fixture, collapse, request, capfd):
    """Step 0's term first (leftmost, or on top left to right), all in one rank before the sum.

    A Jordan net's came out step 2's first unfolded and folded by layer or neuron (each
    term a rank apart: y_t also feeds step t+1), step 0, 2, 1 folded by step; an Elman
    net's step 2's first unfolded (``ordering=in`` on the sum changed nothing).
    """
    unrolled = request.getfixturevalue(fixture)
    picture = Picture(autograd.draw(unrolled.loss, collapse=collapse))
    assert_stand_in_order(picture, loss_terms(unrolled))
    if collapse is not None:  # unfolded, x0[0] stands before the weights that every step reads
        assert_operands_in_order(picture)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("net", [nn.Elman(2, 3, 1, seed=0), nn.Jordan(2, 3, 1, seed=0)],
                         ids=["Elman", "Jordan"])
@pytest.mark.parametrize("collapse", ["step", "layer", "neuron"])
def test_longer_unrolled_nets_fold_in_time_order_without_graphviz_warnings(net, collapse, capfd):
    unrolled = Unrolled(net, [[0.5, 1.0], [0.1, -1.0], [-0.3, 0.2], [0.4, 0.0]],
                        [[0.1], [-0.3], [0.2], [0.0]])
    picture = Picture(autograd.draw(unrolled.loss, collapse=collapse))
    first = {"step": "step {t}", "layer": "step {t} / layer 0", "neuron": "step {t} / layer 0 / neuron 0"}
    # A Jordan net's loss terms, one rank apart (y_t also feeds step t+1), are pulled into one
    # ordered rank after the last step: the long edges from the first steps' terms then leave
    # step 1 level with step 0 (18 pt above it), the later steps still descend.
    assert_steps_in_time_order(picture, unrolled, [picture.box[first[collapse].format(t=t)]
                                                   for t in unrolled.steps],
                               staircase=isinstance(net, nn.Elman))
    if collapse == "neuron":
        for t in unrolled.steps:
            neurons = [picture.box[f"step {t} / layer 0 / neuron {j}"] for j in range(3)]
            assert_stand_in_order(picture, neurons)
    assert_stand_in_order(picture, loss_terms(unrolled))
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("collapse", ["layer", "neuron"])
def test_a_long_unrolled_net_skips_the_slow_global_ranking_and_stays_in_time_order(collapse, capfd):
    """Over NEWRANK_MAX_NODES nodes Graphviz's global ranking took 3-15 s: the steps then stack
    top to bottom, each with its neurons in index order (and folded by layer, this net's edges
    bundled through the steps once made Graphviz warn "degenerate concentrated rank")."""
    steps = 12
    unrolled = Unrolled(nn.Elman(1, 3, 1, seed=0), [[0.1 * t] for t in range(steps)], [[0.0]] * steps)
    graph = autograd.draw(unrolled.loss, collapse=collapse)
    assert graph.node_count > NEWRANK_MAX_NODES and "newrank" not in graph.source
    picture = Picture(graph)
    first = [picture.box[f"step {t} / layer 0" + (" / neuron 0" if collapse == "neuron" else "")]
             for t in unrolled.steps]
    assert sorted(first, key=picture.along_rank) == first
    if collapse == "neuron":
        for t in unrolled.steps:
            neurons = [picture.box[f"step {t} / layer 0 / neuron {j}"] for j in range(3)]
            assert_stand_in_order(picture, neurons)
    assert capfd.readouterr().err == ""
