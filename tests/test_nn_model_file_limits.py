"""Hostile model files: each is refused with a ModelFileError, quickly, before anything is built."""

import json
import math
import os
import stat

import pytest

import nn
from autograd import Value
from nn import ModelFileError
from nn import serialization


def write(tmp_path, architecture, parameters=None, name="m.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "chainrule.nn", "version": 1, "architecture": architecture,
                                "parameters": parameters or {}}))
    return path


def mlp(nin, nouts, activation="relu"):
    return {"type": "MLP", "nin": nin, "nouts": nouts, "activation": activation,
            "output_activation": "identity"}


@pytest.mark.parametrize("architecture, declared", [
    (mlp(10 ** 9, [1]), 10 ** 9 + 1),
    (mlp(1, [100000, 100000]), 200000 + 100000 * 100001),
    (mlp(1, [1] * 1_000_000), 2_000_000),
    ({"type": "Maxout", "nin": 2, "nout": 1, "pieces": 10 ** 9}, 3 * 10 ** 9),
    ({"type": "Layer", "nin": 2 ** 53, "nout": 2 ** 53, "activation": "relu"}, 2 ** 53 * (2 ** 53 + 1)),
])
def test_a_huge_declared_model_is_refused_before_it_is_built(tmp_path, architecture, declared):
    path = write(tmp_path, architecture)
    with pytest.raises(ModelFileError, match=f"declares {declared} parameters but the file holds 0"):
        nn.load(path)


@pytest.mark.parametrize("depth", [250, 5000, 200_000])
def test_json_nested_deeply_is_refused(tmp_path, depth):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "chainrule.nn", "version": 1, "parameters": {}, "architecture": '
                    + "[" * depth + "]" * depth + "}")
    with pytest.raises(ModelFileError, match="nest"):
        nn.load(path)


def test_a_sequential_nested_250_deep_is_refused(tmp_path):
    architecture = {"type": "Neuron", "nin": 1, "activation": "relu"}
    for _ in range(250):
        architecture = {"type": "Sequential", "layers": [architecture]}
    path = write(tmp_path, architecture, {"w.0": 0.0, "b": 0.0})
    with pytest.raises(ModelFileError, match="nests more than 32 levels deep"):
        nn.load(path)
    shallow = {"type": "Neuron", "nin": 1, "activation": "relu"}
    for _ in range(10):
        shallow = {"type": "Sequential", "layers": [shallow]}
    prefix = "layers.0." * 10
    assert nn.load(write(tmp_path, shallow, {prefix + "w.0": 1.0, prefix + "b": 0.5}))([2.0]).data == 2.5


@pytest.mark.parametrize("text, message", [
    ('{"name": "leaky_relu", "slope": 1e999}',
     "activation.slope is inf: numbers in a model file must be finite"),
    ('{"name": "leaky_relu", "slope": -1e999}', "is -inf"),
    ('{"name": "sigmoid", "c": NaN}', "NaN is not a number a model file may hold"),
    ('{"name": "elu", "alpha": Infinity}', "Infinity is not a number"),
    ('{"name": "prelu", "slope": ' + "9" * 400 + "}", "an integer of 400 digits, beyond the limit"),
    ('{"name": "sigmoid", "c": "2"}', "bad architecture"),
])
def test_non_finite_and_huge_options_are_refused(tmp_path, text, message):
    path = tmp_path / "m.json"
    path.write_text('{"format": "chainrule.nn", "version": 1, "parameters": {"w.0": 0, "b": 0}, '
                    '"architecture": {"type": "Neuron", "nin": 1, "activation": ' + text + "}}")
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)
    with pytest.raises(ModelFileError):
        nn.Neuron(1, activation="relu").load(path)


def test_huge_integers_anywhere_are_refused(tmp_path):
    for architecture, parameters, message in [
        ({"type": "Neuron", "nin": 10 ** 400, "activation": "relu"}, {},
         "architecture.nin is an integer of 401 digits"),
        ({"type": "Neuron", "nin": 1, "activation": "relu"}, {"w.0": 10 ** 400, "b": 0},
         "'w.0' is an integer of"),
    ]:
        with pytest.raises(ModelFileError, match=message):
            nn.load(write(tmp_path, architecture, parameters))
    path = tmp_path / "digits.json"
    path.write_text('{"format": "chainrule.nn", "version": 1, "architecture": {"type": "Neuron", "nin": '
                    + "1" * 5000 + ', "activation": "relu"}, "parameters": {}}')
    with pytest.raises(ModelFileError, match="digits"):
        nn.load(path)


def test_activations_refuse_non_finite_options():
    for build in [lambda: nn.LeakyReLU(slope=float("inf")), lambda: nn.Sigmoid(c=float("nan")),
                  lambda: nn.PReLU(slope=1e999), lambda: nn.ELU(alpha=-float("inf")),
                  lambda: nn.SoftExponential(alpha=float("nan")), lambda: nn.RReLU(upper=10 ** 400)]:
        with pytest.raises(ValueError, match="must be a finite number"):
            build()


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
@pytest.mark.parametrize("special", ["/proc/self/mem", "/dev/zero", "/dev/null", "/proc/self/status"])
def test_special_files_are_refused(special):
    with pytest.raises(ModelFileError):
        nn.load(special)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        nn.load(fifo)


def test_an_oversized_or_unreadable_file_is_refused(tmp_path, monkeypatch):
    model = nn.MLP(2, [3, 1], seed=0)
    model.save(tmp_path / "m.json")
    monkeypatch.setattr(serialization, "MAX_FILE_BYTES", 100)
    with pytest.raises(ModelFileError, match="larger than"):
        nn.load(tmp_path / "m.json")
    monkeypatch.undo()
    if os.geteuid() != 0:  # root reads anything
        (tmp_path / "m.json").chmod(0)
        with pytest.raises(ModelFileError, match="cannot open it"):
            nn.load(tmp_path / "m.json")


def test_too_many_parameters_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_PARAMETERS", 10)
    nn.MLP(2, [3, 1], seed=0).save(tmp_path / "m.json")
    with pytest.raises(ModelFileError, match="holds 13 parameters, more than the limit of 10"):
        nn.load(tmp_path / "m.json")


def test_a_failed_load_leaves_the_model_unchanged(tmp_path):
    model = nn.MLP(2, [3, 1], activation="prelu", seed=0)
    before = model.state_dict()
    path = write(tmp_path, model.config(), {**before, "layers.1.neurons.0.b": 10 ** 400})
    with pytest.raises(ModelFileError):
        model.load(path)
    assert model.state_dict() == before


# -- saving ---------------------------------------------------------------------------------
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_save_gives_the_file_the_usual_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        nn.Neuron(2, seed=0).save(tmp_path / "n.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.json").stat().st_mode) == mode


@pytest.mark.parametrize("name", ["model.pt", "model", "model.pkl", "model.json.bak"])
def test_save_refuses_a_name_that_is_not_json(tmp_path, name):
    with pytest.raises(ValueError, match="chainrule writes models as JSON: name the file"):
        nn.Neuron(2, seed=0).save(tmp_path / name)
    with pytest.raises(ValueError, match="writes models as JSON"):
        nn.save(nn.Neuron(2, seed=0), tmp_path / name)
    assert list(tmp_path.iterdir()) == []
    nn.Neuron(2, seed=0).save(tmp_path / "model.JSON")  # any case of the suffix


def test_save_names_a_non_finite_parameter_and_writes_nothing(tmp_path):
    model = nn.MLP(2, [2, 1], seed=0)
    model.layers[1].neurons[0].w[1].data = float("inf")
    with pytest.raises(ValueError, match="cannot save parameter 'layers.1.neurons.0.w.1': it is inf"):
        model.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_soft_exponential_refuses_x_outside_its_domain():
    act = nn.SoftExponential(alpha=-0.5)
    assert act(Value(-1.4)).data == pytest.approx(2 * math.log(1 + 0.5 * (-1.4 - 0.5)))
    with pytest.raises(ValueError, match=r"soft_exponential\(alpha=-0.5\) is defined only for x > -1.5"):
        act(Value(-1.5))
    assert nn.SoftExponential(alpha=0.5)(Value(-1e4)).data == pytest.approx(-2 + 0.5)
