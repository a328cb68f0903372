"""Stable orders in the laid-out picture: w0, w1, ..., b inside a neuron; x0, x1, ... and
neuron 0, 1, ... in folded views; every op's operands in operand order.

Positions are read from the SVG that the drawing's own backend lays out, so these tests
see what a user sees (Graphviz reorders a rank to save crossings unless told not to).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

import autograd
import nn
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
