"""Saving and loading models: round trips, and every way a file can be wrong."""

import json
import pickle

import pytest

import autograd
import nn
import nn.registry
from nn import ModelFileError


@pytest.fixture
def saved(tmp_path):
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    return model, path


def edit(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


# -- round trips -----------------------------------------------------------------------
def test_round_trip_into_an_existing_model(saved):
    model, path = saved
    other = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=99)
    other.load(path)
    assert other.state_dict() == model.state_dict()
    assert [y.data for y in other([0.3, 0.7])] == [y.data for y in model([0.3, 0.7])]


def test_the_file_records_format_version_architecture_and_every_parameter(saved):
    model, path = saved
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule.nn" and document["version"] == 2
    assert document["architecture"] == {"type": "MLP", "nin": 2, "nouts": [3, 2],
                                        "activation": "sigmoid", "output_activation": "sigmoid"}
    assert document["parameters"] == model.state_dict()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


# One example per registered module type: the test below iterates nn.MODULES, so a new
# type registered anywhere fails it until it has an example here.
EXAMPLES = {
    "MLP": lambda: nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=1),
    "Layer": lambda: nn.Layer(3, 2, activation="tanh", seed=1),
    "Neuron": lambda: nn.Neuron(4, activation="elu", seed=1),
    "Perceptron": lambda: nn.Perceptron(2, init=0.5),
    "Maxout": lambda: nn.Maxout(2, 3, pieces=3, seed=1),
    "Sequential": lambda: nn.Sequential(nn.Maxout(2, 3, pieces=3, seed=1),
                                        nn.Layer(3, 1, activation="identity", seed=1)),
    "Elman": lambda: nn.Elman(2, 3, 1, seed=1),
    "Jordan": lambda: nn.Jordan(2, 3, 2, activation="prelu", output_activation="sigmoid", seed=1),
    "Autoencoder": lambda: nn.Autoencoder(4, [3, 2], output_activation="identity", seed=1),
    "RBM": lambda: nn.RBM(4, 3, weight_scale=1.0, seed=1),
    "Hopfield": lambda: _letters_hopfield(),
    "Competitive": lambda: nn.Competitive(3, 4, seed=1),
}
VARIANTS = [
    lambda: nn.MLP(3, [4, 2], activation=nn.Sigmoid(c=2.0), output_activation="leaky_relu", seed=1),
    lambda: nn.MLP(2, [3, 1], activation="prelu", output_activation="prelu", seed=1),
    lambda: nn.MLP(2, [3, 1], activation="soft_exponential", output_activation="soft_exponential", seed=1),
    lambda: nn.Sequential(nn.Sequential(nn.Layer(2, 2, activation="prelu", seed=2)), nn.Neuron(2, seed=3)),
]


def test_every_registered_module_type_has_an_example():
    missing = sorted(set(nn.MODULES) - set(EXAMPLES))
    assert not missing, f"add an example for {missing} to EXAMPLES in this file"
    assert all(type(EXAMPLES[name]()).__name__ == name for name in nn.MODULES)


@pytest.mark.parametrize("build", [EXAMPLES[name] for name in sorted(nn.MODULES)] + VARIANTS)
def test_parameters_fast_walk_equals_named_parameters_for_every_architecture(build):
    # Module.parameters() walks the tree without names (for speed); it must list the same
    # Values, in the same order, as the named walk that state_dict and the model file use.
    model = build()
    fast, named = model.parameters(), [p for _, p in model.named_parameters()]
    assert len(fast) == len(named) > 0 and all(a is b for a, b in zip(fast, named))


@pytest.mark.parametrize("build", [EXAMPLES[name] for name in sorted(nn.MODULES)] + VARIANTS)
def test_nn_load_rebuilds_every_registered_architecture(tmp_path, build):
    model = build()
    path = tmp_path / "m.json"
    model.save(path)
    loaded = nn.load(path)
    assert type(loaded) is type(model)
    assert loaded.config() == model.config() and loaded.state_dict() == model.state_dict()
    assert nn.registry.count_parameters(model.config()) == len(model.parameters())
    x = [0.25] * model.nin
    if isinstance(model, nn.Hopfield):  # a Hopfield net reads and recalls a state of -1/+1
        assert loaded(x := [1, -1] * (model.n // 2)) == model(x)
        return
    if isinstance(model, nn.Recurrent):  # a recurrent net reads a sequence, one output per step
        x = [x, [-0.5] * model.nin]
        assert [_flat(y) for y in loaded(x)] == [_flat(y) for y in model(x)]
        return
    assert _same_outputs(loaded(x), model(x))


def test_a_module_type_can_register_itself_and_round_trip(tmp_path):
    @nn.register_module
    class Offset(nn.Module):
        config_fields = ("n",)

        def __init__(self, n):
            self.n = n
            self.shift = [autograd.Parameter(0.0, f"s{i}") for i in range(n)]

        def forward(self, x):
            return [a + s for a, s in zip(x, self.shift)]

        def config(self):
            return {"type": "Offset", "n": self.n}

        @classmethod
        def from_config(cls, config):
            return cls(config["n"])

        @classmethod
        def parameter_count(cls, config):
            return config["n"]

    try:
        model = nn.Sequential(nn.Layer(2, 2, seed=0), Offset(2))
        model.layers[1].shift[1].data = 0.5
        model.save(tmp_path / "offset.json")
        assert nn.load(tmp_path / "offset.json").state_dict() == model.state_dict()
        with pytest.raises(ValueError, match="another module type named 'Layer'"):
            nn.register_module(type("Layer", (nn.Module,), {}))
    finally:
        del nn.MODULES["Offset"]


def _letters_hopfield():
    net = nn.Hopfield(6, at_zero="keep")
    net.store([[1, -1, 1, -1, 1, -1], [1, 1, 1, -1, -1, -1]])
    return net


def _flat(values):
    return [v.data for v in values]


def _same_outputs(a, b):
    a = a if isinstance(a, list) else [a]
    b = b if isinstance(b, list) else [b]
    return [v.data for v in a] == [v.data for v in b]


def test_a_trained_model_survives_the_round_trip(tmp_path):
    model = nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0)
    nn.fit(model, [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1], loss="bce", epochs=50, lr=1.0,
           seed=0, progress=False)
    model.save(tmp_path / "and.json")
    assert nn.load(tmp_path / "and.json").state_dict() == model.state_dict()  # floats exact via repr


def test_a_custom_activation_loads_into_a_model_but_cannot_be_rebuilt(tmp_path):
    def cube(x):
        return x ** 3

    model = nn.MLP(2, [2, 1], activation=cube, seed=0)
    model.save(tmp_path / "cube.json")
    other = nn.MLP(2, [2, 1], activation=cube, seed=1)
    other.load(tmp_path / "cube.json")
    assert other.state_dict() == model.state_dict()
    with pytest.raises(ModelFileError, match="custom callable"):
        nn.load(tmp_path / "cube.json")


# -- bad files: each names its problem and leaves the model unchanged --------------------
BAD_FILES = {
    "empty": (None, "", None, "the file is empty"),
    "truncated": (None, "TRUNCATE", None, "not valid JSON .*looks truncated"),
    "not json": (None, "weights: 1, 2, 3", None, "not valid JSON at line 1, column 1"),
    "binary pickle": (None, None, pickle.dumps({"a": 1}), "not UTF-8 text"),
    "a list": (None, "[1, 2, 3]", None, "expected a JSON object, found a list"),
    "wrong format": (lambda d: d.update(format="pytorch"), None, None, "not a chainrule model file"),
    "newer version": (lambda d: d.update(version=3), None, None,
                      "format version 3 is not supported \\(written by a newer chainrule\\)"),
    "version as text": (lambda d: d.update(version="1"), None, None, "'version' must be an integer"),
    "missing parameters": (lambda d: d.pop("parameters"), None, None, "missing field 'parameters'"),
    "extra field": (lambda d: d.update(comment="hi"), None, None, "unexpected field 'comment'"),
    "parameters as list": (lambda d: d.update(parameters=[1, 2]), None, None,
                           "'parameters' must be an object of names and numbers, found a list"),
    "string weight": (lambda d: d["parameters"].update({"layers.0.neurons.0.w.0": "0.5"}), None, None,
                      "parameter 'layers.0.neurons.0.w.0' must be a number, found a string"),
    "null weight": (lambda d: d["parameters"].update({"layers.0.neurons.0.b": None}), None, None,
                    "parameter 'layers.0.neurons.0.b' must be a number, found null"),
    "boolean weight": (lambda d: d["parameters"].update({"layers.0.neurons.0.b": True}), None, None,
                       "must be a number, found a boolean"),
    "missing weight": (lambda d: d["parameters"].pop("layers.1.neurons.1.w.2"), None, None,
                       "missing 1 parameter \\('layers.1.neurons.1.w.2'\\)"),
    "unknown weight": (lambda d: d["parameters"].update({"layers.2.neurons.0.b": 0.0}), None, None,
                       "unexpected 1 parameter \\('layers.2.neurons.0.b'\\)"),
    "other architecture": (lambda d: d["architecture"].update(nouts=[4, 2]), None, None,
                           "the file holds MLP.* but this model is MLP.*nouts\\[0\\]: file 4, model 3"),
    "other activation": (lambda d: d["architecture"].update(activation="tanh"), None, None,
                         "activation: file 'tanh', model 'sigmoid'"),
    "architecture not an object": (lambda d: d.update(architecture="MLP"), None, None,
                                   "'architecture' must be an object with a 'type'"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_bad_file_is_named_and_leaves_the_model_unchanged(saved, case):
    original, path = saved
    change, text, raw, message = BAD_FILES[case]
    if change is not None:
        edit(path, change)
    elif text == "TRUNCATE":
        full = path.read_text()
        path.write_text(full[: len(full) // 2])
    elif text is not None:
        path.write_text(text)
    else:
        path.write_bytes(raw)
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=5)
    before = model.state_dict()
    with pytest.raises(ModelFileError, match=message) as caught:
        model.load(path)
    assert str(path) in str(caught.value)
    assert model.state_dict() == before
    with pytest.raises(ModelFileError):
        nn.load(path) if case not in ("other architecture", "other activation") else _load_other(path)


def _load_other(path):
    # The file is self-consistent: nn.load rebuilds it; loading into the original shape fails.
    nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=0).load(path)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(saved, literal):
    _, path = saved
    text = path.read_text()
    name = '"layers.0.neurons.0.w.0": '
    start = text.index(name) + len(name)
    end = text.index(",", start)
    path.write_text(text[:start] + literal + text[end:])
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=5)
    before = model.state_dict()
    with pytest.raises(ModelFileError, match="finite"):
        model.load(path)
    assert model.state_dict() == before


def test_duplicate_keys_are_refused(saved):
    _, path = saved
    text = path.read_text().replace('"layers.0.neurons.0.w.1"', '"layers.0.neurons.0.w.0"', 1)
    path.write_text(text)
    with pytest.raises(ModelFileError, match="the key 'layers.0.neurons.0.w.0' appears twice"):
        nn.load(path)


def test_a_missing_file_and_a_directory(tmp_path):
    model = nn.Neuron(2, seed=0)
    with pytest.raises(FileNotFoundError, match="no model file at"):
        model.load(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="no model file at"):
        model.load(tmp_path / "nope.json")
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="is not a file"):
        model.load(tmp_path)


@pytest.mark.parametrize("architecture, message", [
    ({"type": "Transformer"}, "unknown model type 'Transformer'"),
    ({"type": "MLP", "nin": 2, "nouts": [3], "activation": "relu"}, "missing output_activation"),
    ({"type": "Neuron", "nin": 2, "activation": "relu", "eval": "x"}, "unexpected eval"),
    ({"type": "Neuron", "nin": -2, "activation": "relu"}, "nin must be a positive int"),
    ({"type": "Neuron", "nin": 2, "activation": "__import__('os')"}, "unknown activation"),
    ({"type": "Sequential", "layers": []}, "non-empty list"),
    ({"type": "Layer", "nin": 2, "nout": 3, "activation": "relu"},
     "declares 9 parameters but the file holds 0"),
    ({"type": "MLP", "nin": 2, "nouts": 3, "activation": "relu", "output_activation": "relu"},
     "nouts must be a non-empty list"),
])
def test_nn_load_refuses_architectures_it_cannot_build(tmp_path, architecture, message):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"format": "chainrule.nn", "version": 1, "architecture": architecture,
                                "parameters": {}}))
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)


def test_save_needs_a_module(tmp_path):
    with pytest.raises(TypeError, match="save needs an nn.Module"):
        nn.save({"w": 1.0}, tmp_path / "x.json")


def test_a_version_1_file_keeps_its_leaky_relu_slope_of_0_1(tmp_path):
    """Version 1 wrote the then-default slope 0.1 as a bare name; the default is now 0.01."""
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"format": "chainrule.nn", "version": 1,
                                "architecture": {"type": "MLP", "nin": 1, "nouts": [1, 1],
                                                 "activation": "leaky_relu",
                                                 "output_activation": {"name": "LEAKY_RELU", "slope": 0.3}},
                                "parameters": {"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0,
                                               "layers.1.neurons.0.w.0": 1.0, "layers.1.neurons.0.b": 0.0}}))
    model = nn.load(path)
    assert model.layers[0].neurons[0].activation.slope == 0.1
    assert model.layers[1].neurons[0].activation.slope == 0.3
    assert model([-1.0])[0].data == pytest.approx(-0.1 * 0.3)
    same = nn.MLP(1, [1, 1], activation=nn.LeakyReLU(0.1), output_activation=nn.LeakyReLU(0.3))
    same.load(path)
    assert same.state_dict() == model.state_dict()


@pytest.mark.parametrize("build", [
    lambda: nn.Neuron(3, activation="relu", bias=False, seed=0),
    lambda: nn.Layer(2, 3, activation="tanh", bias=False, seed=0),
    lambda: nn.MLP(2, [3, 1], activation="relu", bias=False, seed=0),
    lambda: nn.Perceptron(2, bias=False, init=0.5),
])
def test_bias_free_modules_round_trip(tmp_path, build):
    model = build()
    assert model.biases() == [] and model.config()["bias"] is False
    model.save(tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    assert loaded.config() == model.config() and loaded.state_dict() == model.state_dict()
    with_biases = nn.registry.build_module({k: v for k, v in model.config().items() if k != "bias"})
    with pytest.raises(ModelFileError, match="bias: file False, model None"):
        with_biases.load(tmp_path / "m.json")
