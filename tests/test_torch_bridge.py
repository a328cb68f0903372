"""nn.to_torch and nn.from_torch: the same network in PyTorch, equal to 1e-12 in float64."""

from __future__ import annotations

import random
import subprocess
import sys
import zlib

import pytest

import nn
from autograd import Value
from nn.torch_bridge import TORCH_ACTIVATIONS

torch = pytest.importorskip("torch")  # the `torch` extra; CI installs torch==2.13.0

TOLERANCE = 1e-12


def seeded(name: str) -> random.Random:
    return random.Random(zlib.crc32(name.encode()))


def batch(name: str, n: int, nin: int, spread: float = 2.0) -> list[list[float]]:
    rng = seeded(name)
    return [[rng.uniform(-spread, spread) for _ in range(nin)] for _ in range(n)]


def chainrule_loss_and_grads(model: nn.Module, xs, targets) -> tuple[list[list[float]], float, list[float]]:
    """Outputs, the summed squared error / 2 and every parameter's gradient, eagerly."""
    model.zero_grad()
    outputs = [model(x) for x in xs]
    loss = sum(((y - t) ** 2 for out, target in zip(outputs, targets) for y, t in zip(out, target)),
               Value(0.0)) * 0.5
    loss.backward()
    return [[y.data for y in out] for out in outputs], loss.data, [p.grad for p in model.parameters()]


def torch_loss_and_grads(module, xs, targets) -> tuple[list[list[float]], float, list[float]]:
    """The same through torch, the gradients in chainrule's parameter order."""
    module.zero_grad()
    outputs = module(torch.tensor(xs, dtype=torch.float64))
    loss = ((outputs - torch.tensor(targets, dtype=torch.float64)) ** 2).sum() * 0.5
    loss.backward()
    return outputs.tolist(), loss.item(), chainrule_order(module, "grad")


def chainrule_order(module, what: str = "data") -> list[float]:
    """torch's parameters (or their gradients) listed as chainrule's parameters() lists them."""
    values: list[float] = []
    modules = list(module)
    linears = [i for i, m in enumerate(modules) if isinstance(m, torch.nn.Linear)]
    for i in linears:
        linear = modules[i]
        after = modules[i + 1] if i + 1 < len(modules) else None
        weight = getattr(linear.weight, what)
        bias = None if linear.bias is None else getattr(linear.bias, what)
        slopes = getattr(after.weight, what) if isinstance(after, torch.nn.PReLU) else None
        for j in range(linear.out_features):
            values += [*weight[j].tolist(), *([] if bias is None else [bias[j].item()])]
            if slopes is not None:
                values.append(slopes[j].item())
    return values


def assert_same_network(model: nn.Module, module, xs, targets) -> None:
    ours, theirs = chainrule_loss_and_grads(model, xs, targets), torch_loss_and_grads(module, xs, targets)
    for out_a, out_b in zip(ours[0], theirs[0]):
        assert out_a == pytest.approx(out_b, abs=TOLERANCE, rel=TOLERANCE)
    assert ours[1] == pytest.approx(theirs[1], abs=TOLERANCE, rel=TOLERANCE)
    assert len(ours[2]) == len(theirs[2])
    for grad_a, grad_b in zip(ours[2], theirs[2]):
        assert grad_a == pytest.approx(grad_b, abs=TOLERANCE, rel=TOLERANCE)


SIGMOID = {"activation": "sigmoid", "output_activation": "sigmoid"}
COURSE_NETS = {
    "exercise 1, every weight 1": lambda: nn.MLP(2, [3, 2], **SIGMOID, init=1.0),
    "exercise 1, seeded": lambda: nn.MLP(2, [3, 2], **SIGMOID, seed=0),
    "the 3-4-2 derivation": lambda: nn.MLP(3, [4, 2], **SIGMOID, seed=1),
    "moons MLP": lambda: nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=0),
    "digits MLP": lambda: nn.MLP(64, [32, 10], activation="tanh", output_activation="identity",
                                 init="xavier", seed=2),
}


@pytest.mark.parametrize("name", COURSE_NETS)
def test_course_nets_forward_and_gradients_equal(name):
    model = COURSE_NETS[name]()
    module = nn.to_torch(model)
    xs = batch(name, 8, model.nin)
    targets = batch(name + " targets", 8, model.nout, spread=1.0)
    assert_same_network(model, module, xs, targets)
    assert chainrule_order(module) == [p.data for p in model.parameters()]  # copied exactly


def test_course_exercise_1_output():
    module = nn.to_torch(COURSE_NETS["exercise 1, every weight 1"]())
    assert module(torch.tensor([[0.0, 1.0]], dtype=torch.float64)).tolist()[0] == pytest.approx(
        [0.9744787489988975] * 2, abs=TOLERANCE)


@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
def test_every_supported_activation_round_trips_with_equal_gradients(activation):
    spec = {"leaky_relu": {"name": "leaky_relu", "slope": 0.2}, "elu": {"name": "elu", "alpha": 0.7}}
    model = nn.MLP(3, [5, 4, 2], activation=spec.get(activation, activation), output_activation=activation,
                   seed=zlib.crc32(activation.encode()))
    if activation == "prelu":  # distinct learnable slopes per neuron
        for k, neuron in enumerate(n for layer in model.layers for n in layer.neurons):
            neuron.activation.slope.data = 0.05 * (k + 1)
    module = nn.to_torch(model)
    xs = batch(activation, 6, 3, spread=3.0)
    assert_same_network(model, module, xs, batch(activation + " t", 6, 2))
    back = nn.from_torch(module)
    assert type(back) is nn.MLP and back.config() == model.config()
    assert back.state_dict() == model.state_dict()


def test_a_layer_and_a_mixed_sequential_convert_both_ways():
    layer = nn.Layer(2, 3, activation="tanh", seed=3)
    assert [type(m).__name__ for m in nn.to_torch(layer)] == ["Linear", "Tanh"]
    mixed = nn.Sequential(nn.Layer(2, 3, activation="relu", seed=4),
                          nn.Layer(3, 3, activation="tanh", seed=5),
                          nn.Layer(3, 1, activation="identity", seed=6))
    module = nn.to_torch(mixed)
    assert [type(m).__name__ for m in module] == ["Linear", "ReLU", "Linear", "Tanh", "Linear"]
    assert_same_network(mixed, module, batch("mixed", 5, 2), batch("mixed t", 5, 1))
    back = nn.from_torch(module)
    assert type(back) is nn.Sequential and back.state_dict() == mixed.state_dict()


def test_layers_without_bias_both_ways():
    model = nn.MLP(2, [3, 1], activation="tanh", bias=False, seed=7)
    module = nn.to_torch(model)
    assert [m.bias for m in module if isinstance(m, torch.nn.Linear)] == [None, None]
    assert_same_network(model, module, batch("no bias", 4, 2), batch("no bias t", 4, 1))
    back = nn.from_torch(module)
    assert type(back) is nn.MLP and back.state_dict() == model.state_dict()
    mixed = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    assert type(nn.from_torch(mixed)) is nn.Sequential


def test_the_copy_is_independent_and_float32_on_request():
    model = COURSE_NETS["moons MLP"]()
    before = model.state_dict()
    module = nn.to_torch(model)
    with torch.no_grad():
        module[0].weight.add_(1.0)
    assert model.state_dict() == before
    single = nn.to_torch(model, dtype=torch.float32)
    assert {p.dtype for p in single.parameters()} == {torch.float32}


def test_from_torch_accepts_pytorch_defaults_and_identity():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Softplus(), torch.nn.Identity(),
                                 torch.nn.Linear(4, 1), torch.nn.Identity())
    model = nn.from_torch(module.double())
    assert model.config()["activation"] == "softplus" and model.config()["output_activation"] == "identity"
    xs = torch.tensor(batch("defaults", 4, 2), dtype=torch.float64)
    expected = module(xs).detach().flatten().tolist()
    got = [model(x)[0].data for x in xs.tolist()]
    assert got == pytest.approx(expected, abs=1e-8)  # Softplus's default threshold 20: e^-20 apart
    leaky = nn.from_torch(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.LeakyReLU()))
    assert leaky.config()["output_activation"] == "leaky_relu"  # torch's default slope 0.01 is nn's too
    assert type(nn.from_torch(torch.nn.Linear(3, 2))) is nn.MLP


def test_same_training_in_both():
    """20 full-batch SGD steps on moons-like data: the same parameters at the end."""
    model = COURSE_NETS["moons MLP"]()
    module = nn.to_torch(model)
    xs = batch("training", 32, 2)
    targets = [[1.0 if x0 * x1 > 0 else -1.0] for x0, x1 in xs]
    optimizer = nn.SGD(model.parameters(), lr=0.01, momentum=0.9)
    torch_optimizer = torch.optim.SGD(module.parameters(), lr=0.01, momentum=0.9)
    for _ in range(20):
        chainrule_loss_and_grads(model, xs, targets)
        optimizer.step()
        torch_loss_and_grads(module, xs, targets)
        torch_optimizer.step()
    for a, b in zip([p.data for p in model.parameters()], chainrule_order(module)):
        assert a == pytest.approx(b, abs=1e-10)


REFUSED_BY_TO_TORCH = [
    (lambda: nn.MLP(2, [2, 1], activation="step", output_activation="step", seed=0), ValueError,
     "layer 0 uses the activation step"),
    (lambda: nn.MLP(2, [1], output_activation={"name": "sigmoid", "c": 2.0}, seed=0), ValueError,
     "sigmoid(c=2)"),
    (lambda: nn.MLP(2, [2, 1], activation="relu", output_activation="sin", seed=0), ValueError,
     "layer 1 uses the activation sin"),
    (lambda: nn.Maxout(2, 3, pieces=2, seed=0), TypeError, "got Maxout"),
    (lambda: nn.Neuron(2, seed=0), TypeError, "got Neuron"),
    (lambda: nn.Sequential(nn.Layer(2, 2, seed=0), nn.Maxout(2, 1, pieces=2, seed=0)), TypeError,
     "layer 1 is a Maxout"),
]


@pytest.mark.parametrize(("make", "error", "message"), REFUSED_BY_TO_TORCH)
def test_to_torch_refuses_what_torch_has_no_module_for(make, error, message):
    with pytest.raises(error, match="to_torch") as raised:
        nn.to_torch(make())
    assert message in str(raised.value)


def refused_by_from_torch():
    t = torch.nn
    return [
        (t.Sequential(t.Linear(2, 3), t.Dropout(0.2)), "module 1 is Dropout(p=0.2, inplace=False)"),
        (t.Sequential(t.Linear(2, 3), t.GELU()),
         "module 1 is GELU(approximate='none'), which chainrule does not"),
        (t.Sequential(t.Conv1d(1, 1, 2)), "module 0 is Conv1d(1, 1, kernel_size=(2,), stride=(1,))"),
        (t.Sequential(t.ReLU(), t.Linear(2, 3)), "module 0 (ReLU()) comes before the first Linear"),
        (t.Sequential(t.Linear(2, 3), t.ReLU(), t.Tanh()),
         "module 2 (Tanh()) comes after another activation"),
        (t.Sequential(t.Linear(2, 3), t.Linear(2, 1)),
         "module 1 takes 2 inputs but the layer before it gives 3"),
        (t.Sequential(t.Linear(2, 3), t.PReLU()), "use PReLU(num_parameters=3)"),
        (t.Sequential(t.Linear(2, 3), t.Softplus(beta=2.0)), "chainrule's softplus needs beta=1"),
        (t.Sequential(t.Linear(2, 3), t.Softplus(threshold=5.0)), "needs threshold>=20"),
        (t.Sequential(t.Linear(2, 3), t.Sequential(t.ReLU())), "module 1 is Sequential"),
        (t.Sequential(), "the Sequential has no Linear layer"),
        (t.ModuleList([t.Linear(2, 3)]), "from_torch takes a torch.nn.Sequential"),
        (t.Bilinear(2, 2, 1), "got Bilinear"),
    ]


def test_from_torch_refuses_anything_else_naming_it():
    for module, message in refused_by_from_torch():
        with pytest.raises((ValueError, TypeError)) as raised:
            nn.from_torch(module)
        assert message in str(raised.value), (module, str(raised.value))


def test_from_torch_refuses_non_finite_weights():
    module = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with torch.no_grad():
        module[0].weight[0, 1] = float("nan")
    with pytest.raises(ValueError, match="module 0 has a weight or bias that is NaN or infinite"):
        nn.from_torch(module)


def test_import_nn_does_not_import_torch():
    code = "import sys, nn; print('torch' in sys.modules); nn.to_torch; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["False", "False"]


# The losses a student moves to PyTorch with: the same values and gradients, and BCELoss's refusal.
LOSS_PAIRS = [
    (nn.binary_cross_entropy, lambda a, y: torch.nn.functional.binary_cross_entropy(a, y, reduction="sum"),
     [0.2, 0.9, 0.5, 1e-9], [0.0, 1.0, 0.3, 1.0]),
    (nn.binary_cross_entropy_with_logits,
     lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="sum"),
     [-0.4, 1.3, 35.0, -700.0], [0.0, 1.0, 0.25, 1.0]),
    (nn.mse, lambda a, y: torch.nn.functional.mse_loss(a, y), [0.5, -2.0, 3.25], [1.0, 0.0, 3.0]),
]


@pytest.mark.parametrize("ours, theirs, outputs, targets", LOSS_PAIRS,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_the_losses_equal_pytorchs_in_value_and_gradient(ours, theirs, outputs, targets):
    values = [Value(o) for o in outputs]
    loss = ours(values, targets)
    loss.backward()
    tensor = torch.tensor(outputs, dtype=torch.float64, requires_grad=True)
    reference = theirs(tensor, torch.tensor(targets, dtype=torch.float64))
    reference.backward()
    assert loss.data == pytest.approx(reference.item(), rel=TOLERANCE, abs=TOLERANCE)
    assert [v.grad for v in values] == pytest.approx(tensor.grad.tolist(), rel=1e-9, abs=TOLERANCE)


def test_bce_refuses_what_pytorchs_bce_refuses():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([1.5], dtype=torch.float64),
                                                 torch.tensor([1.0], dtype=torch.float64))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.binary_cross_entropy([Value(1.5)], [1.0])
