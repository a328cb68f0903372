"""What PyTorch users and the course's students reach for: batches, bias-free layers, linear
outputs, conventions at 0, loss names, typed calls."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd
import nn
from autograd import Value

ROOT = Path(__file__).resolve().parent.parent


# -- one sample per call ----------------------------------------------------------------------
@pytest.mark.parametrize("model", [nn.MLP(2, [3, 1], seed=0), nn.Layer(2, 3, seed=0), nn.Neuron(2, seed=0)])
def test_a_batch_passed_to_a_model_says_one_sample_per_call_and_names_predict(model):
    with pytest.raises(TypeError, match=r"takes one sample per call .*got a batch of 4 rows: use nn.predict"):
        model([[0, 0], [0, 1], [1, 0], [1, 1]])
    with pytest.raises(TypeError, match="one sample per call"):
        model([[0, 0], [0, 1]])


def test_a_numpy_batch_gets_the_same_message():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="one sample per call"):
        nn.MLP(2, [1], seed=0)(np.zeros((5, 2)))
    assert len(nn.MLP(2, [1], seed=0)(np.zeros(2))) == 1  # one row of a NumPy array is one sample


# -- a linear last layer by default -----------------------------------------------------------
def test_the_last_layer_is_linear_by_default():
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    assert model.config()["output_activation"] == "identity"
    assert [layer.neurons[0].activation.name for layer in model.layers] == ["relu", "relu", "identity"]
    out = model([-3.0, 5.0])[0]
    assert out.op.name == "dot"  # no activation node after the last sum
    same = nn.MLP(2, [3, 1], activation="tanh", output_activation=None, seed=0)
    assert same.config()["output_activation"] == "tanh"


def test_exercise_1_with_sigmoid_outputs_keeps_the_courses_numbers():
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    assert [y.data for y in model([0, 1])] == [0.9744787489988975, 0.9744787489988975]


# -- bias=False -------------------------------------------------------------------------------
def test_bias_false_means_no_bias_parameter_at_all():
    neuron = nn.Neuron(3, activation="identity", bias=False, init=1.0)
    assert [name for name, _ in neuron.named_parameters()] == ["w.0", "w.1", "w.2"]
    y = neuron([1.0, 2.0, 3.0])
    assert y.data == 6.0 and y.op.name == "dot" and len(y.parents) == 6  # w1..w3, x1..x3: no bias operand
    mlp = nn.MLP(3, [4, 2], bias=False, seed=0)
    assert len(mlp.parameters()) == 3 * 4 + 4 * 2 and mlp.biases() == []
    assert len(nn.Layer(2, 5, bias=False).parameters()) == 10
    assert "bias=False" in repr(mlp)
    with pytest.raises(TypeError, match="bias must be True or False"):
        nn.Layer(2, 2, bias=0)


def test_bias_free_gradients_match_central_differences():
    model = nn.MLP(2, [3, 1], activation="tanh", bias=False, seed=1)
    assert bool(nn.gradcheck(model, [[0.5, -1.0], [0.2, 0.3]], [[1.0], [0.0]], loss="mse"))


def test_from_weights_without_biases():
    layer = nn.Layer.from_weights([[1.0, 2.0], [3.0, 4.0]], None, activation="identity")
    assert [a.data for a in layer([1.0, 1.0])] == [3.0, 7.0] and layer.biases() == []
    mlp = nn.MLP.from_weights([[[1.0, -1.0], [2.0, 0.0]], [[1.0, 1.0]]], None, activation="relu")
    assert mlp([3.0, 1.0])[0].data == 8.0 and mlp.config()["bias"] is False
    assert nn.Neuron.from_weights([2.0], None, activation="identity")([3.0]).data == 6.0
    with pytest.raises(ValueError, match="one weight matrix and one bias vector per layer"):
        nn.MLP.from_weights([[[1.0]], [[1.0]]], [[0.0]])


def test_a_bias_free_perceptron_learns_a_line_through_the_origin():
    p = nn.Perceptron(2, bias=False)
    history = p.learn([[1, 1], [2, 1], [-1, -1], [-2, -1]], [1, 1, 0, 0], lr=1.0)
    assert history.converged and p.biases() == []


# -- conventions at 0 ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, at_zero, values", [
    ("step", 0.0, [0.0, 0.0, 1.0]), ("step", 1.0, [0.0, 1.0, 1.0]), ("step", 0.5, [0.0, 0.5, 1.0]),
    ("sign", 0.0, [-1.0, 0.0, 1.0]), ("sign", 1.0, [-1.0, 1.0, 1.0]), ("sign", -1.0, [-1.0, -1.0, 1.0]),
])
def test_step_and_sign_take_their_value_at_zero_as_an_option(name, at_zero, values):
    act = nn.resolve_activation({"name": name, "at_zero": at_zero})
    assert [act(Value(x)).data for x in (-2.0, 0.0, 3.0)] == values
    assert [getattr(Value(x), name)(at_zero).data for x in (-2.0, -0.0, 3.0)] == values
    x = Value(0.0)
    act(x).backward()
    assert x.grad == 0.0  # flat: the derivative lives in the op table, unchanged
    assert act.spec() == (name if at_zero == 0.0 else {"name": name, "at_zero": at_zero})


def test_the_value_at_zero_is_the_ops_argument_so_compiled_tapes_agree():
    np = pytest.importorskip("numpy")
    step = autograd.compile(lambda a: a.step(at_zero=0.5) + a.sign(at_zero=1.0), (0.3,), [])
    result = step.value_and_grad(np.array([-1.0, 0.0, 2.0]))
    assert result.outputs.tolist() == [-1.0, 1.5, 2.0]
    node = Value(0.0).sign(at_zero=1.0)
    assert node.op.label(node.arg) == "sign(1)"
    with pytest.raises(ValueError, match="at_zero must be a finite number"):
        Value(0.0).step(at_zero=math.inf)


def test_a_hopfield_style_sign_never_outputs_zero():
    layer = nn.Layer.from_weights([[1.0, -1.0]], [0.0], activation=nn.Sign(at_zero=1.0))
    assert layer([1.0, 1.0])[0].data == 1.0


# -- one default slope for leaky ReLU ---------------------------------------------------------------
def test_leaky_relu_has_one_default_slope_everywhere():
    assert nn.LeakyReLU().slope == 0.01
    assert nn.LeakyReLU()(Value(-2.0)).data == Value(-2.0).leaky_relu().data == -0.02
    assert nn.resolve_activation({"name": "leaky_relu", "slope": 0.1})(Value(-2.0)).data == -0.2


# -- losses --------------------------------------------------------------------------------------
def test_sum_squared_error_is_the_sum_without_one_half():
    a = [Value(0.2), Value(0.9)]
    c0 = nn.sum_squared_error(a, [0.0, 1.0])
    assert c0.data == pytest.approx(0.04 + 0.01)
    c0.backward()
    assert [v.grad for v in a] == pytest.approx([0.4, -0.2])  # 2 (a - y)
    assert nn.LOSSES["sse"] is nn.LOSSES["sum_squared_error"]
    assert nn.resolve_loss("sse").function is nn.sum_squared_error


def test_fit_with_reduction_sum_adds_the_per_sample_losses():
    X, Y = [[0.0, 1.0], [1.0, 0.0]], [[1.0], [0.0]]
    model = nn.MLP(2, [1], bias=False, init=0.5)
    history = nn.fit(model, X, Y, loss="sse", reduction="sum", lr=0.1, epochs=1, batch_size=None,
                     progress=False)
    assert history.loss[0] == pytest.approx((0.5 - 1.0) ** 2 + 0.5 ** 2)  # C0 summed over both samples


def test_every_loss_the_guide_names_exists():
    guide = (ROOT / "docs" / "guide" / "training.md").read_text(encoding="utf-8")
    section = guide.split("## Losses", 1)[1].split("\n## ", 1)[0]
    functions = re.findall(r"`nn\.(\w+)`", section)
    names = re.findall(r'`"(\w+)"`', section)
    assert len(functions) >= 8 and len(names) >= 7, section
    for name in functions:
        assert callable(getattr(nn, name)), name
    for name in names:
        assert name in nn.LOSSES, name


# -- typing -------------------------------------------------------------------------------------
def test_calling_a_model_is_typed_for_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text(
        "import nn\n"
        "model = nn.MLP(2, [3, 1], activation='relu')\n"
        "outputs = model([0.0, 1.0])\n"
        "reveal_type(outputs)\n"
        "reveal_type(nn.Neuron(2)([1.0, 2.0]).data)\n"
        "reveal_type(nn.Layer(2, 2)([1.0, 2.0]))\n"
        "text: str = model([0.0, 1.0])\n")
    config = tmp_path / "mypy.ini"  # chainrule's own modules only: the heavy stubs are skipped
    config.write_text("[mypy]\nstrict = True\nfollow_imports = silent\nincremental = False\n"
                      "[mypy-torch.*,numpy.*,matplotlib.*,tqdm.*,graphviz.*,sklearn.*]\n"
                      "follow_imports = skip\nfollow_imports_for_stubs = True\n")
    command = [sys.executable, "-m", "mypy", "--config-file", str(config), str(script)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    out = result.stdout
    assert out.count('Revealed type is "list[autograd.value.Value]"') == 2, out
    assert 'Revealed type is "float"' in out, out
    assert 'expression has type "list[Value]", variable has type "str"' in out


def test_the_courses_bias_free_numpy_example_trains_with_fit_as_its_own_loop():
    """N=64, 1000-100-10, sigmoid hidden, linear output, no biases, C0 summed over the batch,
    lr 1e-4: nn.fit follows the course's NumPy loop step for step (after 2,000 steps both end
    at 4.3485; 20 here, to keep the suite fast)."""
    np = pytest.importorskip("numpy")
    rng = np.random.RandomState(0)
    x, y = rng.randn(64, 1000), rng.randn(64, 10)
    w1, w2 = rng.randn(1000, 100), rng.randn(100, 10)
    model = nn.MLP.from_weights([w1.T.tolist(), w2.T.tolist()], None, activation="sigmoid")
    history = nn.fit(model, x, y, loss="sse", reduction="sum", batch_size=None, lr=1e-4, epochs=20,
                     progress=False)
    losses = []
    for _ in range(20):  # the course's loop
        h = 1 / (1 + np.exp(-x.dot(w1)))
        y_pred = h.dot(w2)
        losses.append(np.square(y_pred - y).sum())
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h.T.dot(grad_y_pred)
        grad_w1 = x.T.dot(grad_y_pred.dot(w2.T) * h * (1 - h))
        w1 -= 1e-4 * grad_w1
        w2 -= 1e-4 * grad_w2
    assert history.loss == pytest.approx(losses, rel=1e-9)
    trained = np.array([[n.w[i].data for n in model.layers[1].neurons] for i in range(100)])
    assert trained == pytest.approx(w2, rel=1e-9, abs=1e-12)
