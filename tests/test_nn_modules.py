"""Modules: parameters and their names, modes, initialisation, construction errors, reprs."""

import math
import random
import statistics
import threading

import pytest

import autograd
import nn
from autograd import Parameter, Value
from autograd.value import assign_data
from threads import run_in_threads


# -- parameters and names ------------------------------------------------------------
def test_named_parameters_are_dotted_stable_and_complete():
    model = nn.MLP(2, [3, 2], seed=0)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == 17 == len(set(names))
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b",
                         "layers.0.neurons.1.w.0"]
    assert "layers.0.neurons.2.w.1" in names and names[-1] == "layers.1.neurons.1.b"
    assert names == [name for name, _ in nn.MLP(2, [3, 2], seed=5).named_parameters()]
    assert all(isinstance(p, Parameter) for p in model.parameters())


def test_weights_and_biases_split_the_parameters():
    model = nn.MLP(3, [4, 2], seed=0)
    weights, biases = model.weights(), model.biases()
    assert len(weights) == 3 * 4 + 4 * 2 and len(biases) == 4 + 2
    assert {id(p) for p in weights} | {id(p) for p in biases} == {id(p) for p in model.parameters()}
    assert all(p.label == "b" for p in biases)
    assert all(p.label.startswith("w") for p in weights)


def test_learnable_activation_parameters_are_per_neuron_and_neither_weights_nor_biases():
    model = nn.MLP(2, [3, 1], activation="prelu", output_activation="identity", seed=0)
    names = [name for name, _ in model.named_parameters()]
    slopes = [n for n in names if n.endswith("activation.slope")]
    assert slopes == [f"layers.0.neurons.{j}.activation.slope" for j in range(3)]
    assert len({id(n.activation) for n in model.layers[0].neurons}) == 3
    assert len(model.parameters()) == len(model.weights()) + len(model.biases()) + 3


def test_a_shared_activation_instance_is_counted_once():
    shared = nn.PReLU()
    layer = nn.Layer(2, 3, activation=shared, seed=0)
    assert sum(1 for p in layer.parameters() if p is shared.slope) == 1
    assert len(layer.parameters()) == 3 * 3 + 1


def test_zero_grad_clears_every_parameter():
    model = nn.MLP(2, [3, 1], seed=0)
    model([1.0, -1.0])[0].backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_train_and_eval_set_every_module():
    model = nn.MLP(2, [3, 1], activation="rrelu", output_activation="rrelu", seed=0)
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_layer_and_mlp_always_return_lists():
    assert isinstance(nn.Layer(2, 1, seed=0)([1.0, 2.0]), list)
    out = nn.MLP(2, [1], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert isinstance(nn.Neuron(2, seed=0)([1.0, 2.0]), Value)


def test_inputs_become_labelled_leaves_and_values_pass_through():
    x = Value(1.5, "mine")
    model = nn.MLP(2, [1], activation="identity", init=1.0)
    y = model([x, 2.0])[0]
    assert y.data == 1.5 + 2.0 + 1.0
    leaves = {n.label for n in autograd.topological_order(y) if n.is_leaf and not isinstance(n, Parameter)}
    assert leaves == {"mine", "x1"}
    y.backward()
    assert x.grad == 1.0


def test_each_neuron_sum_is_one_dot_node():
    model = nn.MLP(3, [4, 2], activation="tanh", output_activation="tanh", seed=0)
    y = model([0.1, 0.2, 0.3])[0]
    ops = [n.op.name for n in autograd.topological_order(y) if n.op is not None]
    assert ops.count("dot") == 4 + 1 and ops.count("tanh") == 4 + 1 and len(ops) == 10


def test_a_layer_reads_its_inputs_once_and_each_neuron_is_the_dot_of_its_own_operands():
    # Layer passes its inputs' floats to every neuron's sum (nn.weighted_sum's input_data):
    # each neuron's dot node must still hold exactly its own operands and their product.
    layer = nn.Layer(3, 2, activation="identity", seed=4)
    xs = [Value(0.5), Value(-1.25), Value(2.0)]
    outputs = layer(xs)
    for neuron, out in zip(layer.neurons, outputs):
        expected = autograd.dot(neuron.w, xs, bias=neuron.b)
        assert out.op.name == "dot" and out.parents == (*neuron.w, *xs, neuron.b)
        by_hand = sum((w.data * x.data for w, x in zip(neuron.w, xs)), 0.0) + neuron.b.data
        assert out.data == expected.data == by_hand
    weights = layer.neurons[1].w
    given = nn.layers.weighted_sum(weights, xs, None, [x.data for x in xs])
    assert given.parents == (*weights, *xs) and given.data == autograd.dot(weights, xs).data


def test_one_layer_used_by_two_threads_tags_each_threads_nodes_with_its_own_path():
    layer = nn.Layer(2, 3, activation="relu", seed=0)
    start = threading.Barrier(2, timeout=10)

    def worker(name: str) -> tuple[set[tuple[object, ...]], object]:
        start.wait()
        with autograd.scope(f"thread {name}"):
            scopes = [[out.scope for out in layer([1.0, -1.0])] for _ in range(200)]
        return set(map(tuple, scopes)), autograd.current_scope()

    results = run_in_threads(worker, "ab")
    assert results == {name: ({tuple((f"thread {name}", "layer", f"neuron {j}") for j in range(3))}, None)
                       for name in "ab"}


def test_scopes_without_an_mlp():
    assert nn.Neuron(2, seed=0)([1.0, 2.0]).scope == ("neuron",)
    assert nn.Layer(2, 2, seed=0)([1.0, 2.0])[1].scope == ("layer", "neuron 1")
    net = nn.Sequential(nn.Maxout(2, 3, seed=0), nn.Layer(3, 1, activation="identity", seed=0))
    y = net([1.0, 2.0])[0]
    assert y.scope == ("layer 1", "neuron 0")
    maxed = y.parents[3]
    assert maxed.op.name == "max" and maxed.scope == ("layer 0", "neuron 0")


def test_maxout_is_the_max_of_its_pieces():
    layer = nn.Maxout(2, 2, pieces=3, seed=1)
    x = [0.7, -1.3]
    for unit, y in zip(layer.units, layer(x)):
        pieces = [sum(w.data * xi for w, xi in zip(p.w, x)) + p.b.data for p in unit.pieces]
        assert y.data == pytest.approx(max(pieces))
    assert bool(autograd.gradcheck(lambda *ps: autograd.sum(layer(x)), layer.parameters()))


# -- initialisation ----------------------------------------------------------------------
def test_same_seed_same_model_and_a_random_generator_works_too():
    a, b, c = nn.MLP(2, [4, 3], seed=42), nn.MLP(2, [4, 3], seed=42), nn.MLP(2, [4, 3], seed=43)
    assert a.state_dict() == b.state_dict() != c.state_dict()
    d = nn.MLP(2, [4, 3], seed=random.Random(42))
    assert d.state_dict() == a.state_dict()


def test_uniform_init_is_in_the_courses_range_for_weights_and_biases():
    values = list(nn.MLP(5, [20, 10], seed=0).state_dict().values())
    assert all(-0.5 <= v <= 0.5 for v in values)
    assert min(values) < -0.4 and max(values) > 0.4


def test_xavier_bounds_and_zero_biases():
    layer = nn.Layer(30, 20, init="xavier", seed=0)
    limit = math.sqrt(6 / (30 + 20))
    assert all(abs(w.data) <= limit for w in layer.weights())
    assert max(abs(w.data) for w in layer.weights()) > 0.9 * limit
    assert all(b.data == 0.0 for b in layer.biases())
    assert nn.Layer(30, 20, init="glorot", seed=0).state_dict() == layer.state_dict()


def test_he_init_has_the_right_spread():
    layer = nn.Layer(50, 200, init="he", seed=0)
    weights = [w.data for w in layer.weights()]
    assert statistics.pstdev(weights) == pytest.approx(math.sqrt(2 / 50), rel=0.05)
    assert abs(statistics.fmean(weights)) < 0.01
    assert all(b.data == 0.0 for b in layer.biases())


def test_constant_and_custom_initializers():
    assert set(nn.MLP(2, [3, 2], init=1.0).state_dict().values()) == {1.0}
    values = nn.MLP(2, [3, 2], init=nn.init.Uniform(0.1, 0.2), seed=0).state_dict().values()
    assert all(0.1 <= v <= 0.2 for v in values)


@pytest.mark.parametrize("init, error, match", [
    ("gaussian", ValueError, "unknown init 'gaussian'"),
    (float("nan"), ValueError, "finite number"),
    (True, TypeError, "init must be"),
    ([1.0], TypeError, "init must be"),
])
def test_bad_init_is_named(init, error, match):
    with pytest.raises(error, match=match):
        nn.Neuron(2, init=init)


def test_bad_seed_is_refused():
    with pytest.raises(TypeError, match="seed must be an int"):
        nn.Neuron(2, seed="abc")
    with pytest.raises(ValueError, match="low <= high"):
        nn.init.Uniform(1.0, -1.0)


# -- construction and call errors --------------------------------------------------------
@pytest.mark.parametrize("build, match", [
    (lambda: nn.Neuron(0), "nin must be a positive int, got 0"),
    (lambda: nn.Layer(2, -1), "nout must be a positive int"),
    (lambda: nn.MLP(2, []), "nouts is empty"),
    (lambda: nn.MLP(2, [3, 0]), r"nouts\[1\] must be a positive int, got 0"),
    (lambda: nn.MLP(2.5, [3]), "nin must be a positive int"),
    (lambda: nn.MLP(2, [3], activation="swish", output_activation="swish"), "unknown activation 'swish'"),
    (lambda: nn.Maxout(2, 2, pieces=0), "pieces must be a positive int"),
])
def test_bad_shapes_and_names_raise_value_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_nouts_and_activation_types_raise_type_errors():
    with pytest.raises(TypeError, match="nouts must be a list"):
        nn.MLP(2, "34")
    with pytest.raises(TypeError, match="activation must be"):
        nn.Neuron(2, activation=3)


def test_wrong_number_of_inputs_is_named():
    with pytest.raises(ValueError, match="MLP takes 2 inputs, got 3"):
        nn.MLP(2, [3], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Neuron takes 1 input, got 2"):
        nn.Neuron(1, seed=0)([1.0, 2.0])
    with pytest.raises(TypeError, match="Layer takes a sequence of 2 inputs, got float"):
        nn.Layer(2, 3, seed=0)(1.0)
    with pytest.raises(TypeError, match="must be a real number"):
        nn.MLP(2, [3], seed=0)([1.0, "x"])


def test_from_weights_checks_shapes():
    with pytest.raises(ValueError, match="row 1 has 1 weights, row 0 has 2"):
        nn.Layer.from_weights([[1, 2], [3]], [0, 0])
    with pytest.raises(ValueError, match="needs 2 biases"):
        nn.Layer.from_weights([[1, 2], [3, 4]], [0])
    with pytest.raises(ValueError, match=r"weights\[1\] has 3 columns but layer 0 has 2 outputs"):
        nn.MLP.from_weights([[[1, 2], [3, 4]], [[1, 2, 3]]], [[0, 0], [0]])
    layer = nn.Layer.from_weights([[1, 2], [3, 4]], [5, 6], activation="identity")
    assert [y.data for y in layer([1, 1])] == [8.0, 13.0]
    assert nn.Neuron.from_weights([2.0], -1.0, activation="identity")([3.0]).data == 5.0


def test_load_state_dict_is_all_or_nothing():
    model = nn.MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    bad = dict(before, **{"layers.1.neurons.0.b": float("inf")})
    with pytest.raises(ValueError, match="'layers.1.neurons.0.b' must be finite"):
        model.load_state_dict(bad)
    with pytest.raises(TypeError, match="must be a number, got str"):
        model.load_state_dict(dict(before, **{"layers.0.neurons.0.w.0": "0.5"}))
    missing = dict(before)
    del missing["layers.0.neurons.1.w.1"]
    with pytest.raises(ValueError, match=r"missing 1 parameter \('layers.0.neurons.1.w.1'\)"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected 1 parameter"):
        model.load_state_dict(dict(before, extra=1.0))
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([1, 2, 3])
    assert model.state_dict() == before


# -- custom modules and display -------------------------------------------------------
def test_a_custom_module_finds_nested_parameters():
    class Net(nn.Module):
        def __init__(self):
            self.encoder = nn.Layer(2, 3, seed=0)
            self.heads = [nn.Neuron(3, seed=1), nn.Neuron(3, seed=2)]
            self.scale = Parameter(2.0, "scale")
            self._cache = nn.Layer(2, 2, seed=3)  # private: not walked

        def forward(self, x):
            h = self.encoder(x)
            return [self.scale * head(h) for head in self.heads]

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names[0] == "encoder.neurons.0.w.0" and "heads.1.b" in names and names[-1] == "scale"
    assert len(names) == 9 + 4 + 4 + 1
    assert len(net([1.0, 2.0])) == 2


def test_reprs_are_readable():
    assert repr(nn.Neuron(2, activation="relu", seed=0)) == "Neuron(nin=2, activation=relu)"
    assert repr(nn.Layer(2, 3, activation=nn.Sigmoid(c=2.0), seed=0)) == \
        "Layer(nin=2, nout=3, activation=sigmoid(c=2))"
    text = repr(nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=0))
    assert text.splitlines()[0] == ("MLP(nin=2, nouts=[16, 16, 1], activation=relu, "
                                    "output_activation=identity, parameters=337)")
    assert "(layers.2): Layer(nin=16, nout=1, activation=identity)" in text
    assert repr(nn.Maxout(2, 3, seed=0)) == "Maxout(nin=2, nout=3, pieces=2)"
    assert repr(nn.Sequential(nn.Maxout(2, 3, seed=0))) == \
        "Sequential()\n  (layers.0): Maxout(nin=2, nout=3, pieces=2)"


def test_activation_by_callable():
    def cube(x):
        return x ** 3

    model = nn.MLP(1, [1], output_activation=cube, init=1.0)
    assert model([1.0])[0].data == 8.0
    assert "activation=cube" in repr(model)


def test_a_neuron_sees_every_change_of_its_weights_between_samples():
    # A neuron reads its weights' floats once per change of the data, not once per sample:
    # every way a weight can change must show in the next output.
    neuron = nn.Neuron(2, activation="identity", init=1.0)  # 1 x0 + 1 x1 + 1
    layer = nn.Layer(2, 1, activation="identity", init=1.0)
    assert neuron([1.0, 2.0]).data == layer([1.0, 2.0])[0].data == 4.0
    neuron.w[0].data = 3.0
    layer.neurons[0].w[0].data = 3.0
    assert neuron([1.0, 2.0]).data == layer([1.0, 2.0])[0].data == 6.0
    assign_data(neuron.w, [0.5, 0.5])  # what a compiled run writes back
    assert neuron([1.0, 2.0]).data == 2.5
    neuron.w[1] = Parameter(-1.0)  # another Value in place, no data assigned
    layer.neurons[0].w = [Parameter(2.0), Parameter(2.0)]
    assert neuron([1.0, 2.0]).data == -0.5
    assert layer([1.0, 2.0])[0].data == 7.0
    y = neuron([1.0, 2.0])
    y.backward()
    nn.SGD(neuron.parameters(), lr=0.5).step()  # w0 0.5 - 0.5, w1 -1 - 1, b 1 - 0.5
    assert neuron([1.0, 2.0]).data == 0.0 * 1.0 + -2.0 * 2.0 + 0.5
