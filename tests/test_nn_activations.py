"""Activations (docs/course.md, section 5): values, gradients against finite differences, modes."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value
from autograd.context import tracing

SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772

# One reference per activation class, keyed by its canonical name: the tests below iterate
# nn.ACTIVATIONS (aliases included), so a new activation without a reference fails them.
REFERENCE = {
    "identity": lambda x: x,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
    "relu": lambda x: max(0.0, x),
    "leaky_relu": lambda x: max(0.01 * x, x),
    "rrelu": lambda x: x if x > 0 else (1 / 8 + 1 / 3) / 2 * x,  # eval mode: the mean slope
    "elu": lambda x: x if x > 0 else math.exp(x) - 1,
    "selu": lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * (math.exp(x) - 1)),
    "softplus": lambda x: math.log(1 + math.exp(x)),
    "softsign": lambda x: x / (1 + abs(x)),
    "sin": math.sin,
    "sinc": lambda x: 1.0 if x == 0 else math.sin(x) / x,
    "step": lambda x: 1.0 if x > 0 else 0.0,
    "sign": lambda x: (x > 0) - (x < 0),
    "prelu": lambda x: x if x > 0 else 0.25 * x,
    "soft_exponential": lambda x: x,  # alpha starts at 0
}


def test_every_registered_activation_has_a_reference_and_a_name_that_resolves_to_it():
    for name, cls in nn.ACTIVATIONS.items():
        assert cls.name in REFERENCE, f"add a reference for {cls.name!r} to this file"
        assert type(nn.resolve_activation(name)) is cls


@pytest.mark.parametrize("name", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("x", [-2.5, -0.3, 0.0, 0.4, 3.0])
def test_named_activation_values(name, x):
    expected = REFERENCE[nn.ACTIVATIONS[name].name](x)
    act = nn.resolve_activation(name).eval()
    assert act(Value(x)).data == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(nn.ACTIVATIONS))
@settings(max_examples=25, deadline=None)
@given(x=st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3))
def test_activation_gradients_match_central_differences_away_from_kinks(name, x):
    act = nn.resolve_activation(name).eval()
    assert bool(autograd.gradcheck(lambda v: act(v), [Value(x)]))


def test_step_and_sign_have_zero_gradient():
    for name in ("step", "sign"):
        x = Value(0.7)
        nn.resolve_activation(name)(x).backward()
        assert x.grad == 0.0


def test_sigmoid_and_tanh_with_a_slope():
    assert nn.Sigmoid(c=3.0)(Value(0.5)).data == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert nn.Tanh(c=0.5)(Value(2.0)).data == pytest.approx(math.tanh(1.0))
    x = Value(0.2)
    nn.Sigmoid(c=3.0)(x).backward()
    s = 1 / (1 + math.exp(-0.6))
    assert x.grad == pytest.approx(3 * s * (1 - s))
    assert nn.resolve_activation({"name": "tanh", "c": 2.0}).c == 2.0


def test_prelu_learns_its_slope():
    act = nn.PReLU(slope=0.2)
    for x, slope_grad in [(-3.0, -3.0), (2.0, 0.0)]:
        act.slope.grad = 0.0
        y = act(Value(x))
        y.backward()
        assert act.slope.grad == slope_grad
    assert [p.label for p in act.parameters()] == ["slope"]


def test_rrelu_draws_slopes_in_training_and_uses_the_mean_in_eval():
    act = nn.RReLU(lower=0.1, upper=0.3, seed=0)
    slopes = {act(Value(-1.0)).data / -1.0 for _ in range(50)}
    assert len(slopes) == 50 and all(0.1 <= s <= 0.3 for s in slopes)
    assert act(Value(2.0)).data == 2.0
    act.eval()
    assert act(Value(-1.0)).data == pytest.approx(-0.2)
    again = nn.RReLU(lower=0.1, upper=0.3, seed=0)
    assert again(Value(-1.0)).data == nn.RReLU(lower=0.1, upper=0.3, seed=0)(Value(-1.0)).data
    with pytest.raises(ValueError, match="lower <= upper"):
        nn.RReLU(lower=0.5, upper=0.1)


def test_rrelu_in_a_seeded_model_is_reproducible():
    a = nn.MLP(2, [3, 1], activation="rrelu", output_activation="rrelu", seed=3)
    b = nn.MLP(2, [3, 1], activation="rrelu", output_activation="rrelu", seed=3)
    assert [a([-1.0, -2.0])[0].data for _ in range(5)] == [b([-1.0, -2.0])[0].data for _ in range(5)]


@pytest.mark.parametrize("alpha", [-0.5, -0.1, 0.0, 0.1, 0.7])
@pytest.mark.parametrize("x", [-0.5, 0.3, 1.2])
def test_soft_exponential_three_cases_values_and_gradients(alpha, x):
    if alpha < 0:
        expected = -math.log(1 - alpha * (x + alpha)) / alpha
    elif alpha == 0:
        expected = x
    else:
        expected = (math.exp(alpha * x) - 1) / alpha + alpha
    act = nn.SoftExponential(alpha=alpha)
    assert act(Value(x)).data == pytest.approx(expected, rel=1e-12)
    # The alpha passed in is act.alpha itself: gradcheck nudges it in place.
    assert bool(autograd.gradcheck(lambda v, alpha: act(v), [Value(x), act.alpha], eps=1e-7))


def test_soft_exponential_derivative_in_x_is_the_courses():
    for alpha, x in [(-0.4, 0.5), (0.0, 0.5), (0.6, 0.5)]:
        xv = Value(x)
        nn.SoftExponential(alpha)(xv).backward()
        expected = 1 / (1 - alpha * (x + alpha)) if alpha < 0 else math.exp(alpha * x)
        assert xv.grad == pytest.approx(expected, rel=1e-9)


def test_soft_exponential_alpha_can_leave_zero():
    act = nn.SoftExponential(alpha=0.0)
    act(Value(2.0)).backward()
    assert act.alpha.grad == pytest.approx(1 + 2.0 ** 2 / 2)


def test_softmax_is_stable_and_sums_to_one():
    probabilities = nn.softmax([Value(1000.0), Value(999.0), Value(-1000.0)])
    assert math.fsum(p.data for p in probabilities) == pytest.approx(1.0)
    assert probabilities[0].data == pytest.approx(1 / (1 + math.exp(-1)))
    assert probabilities[2].data == 0.0
    assert [p.data for p in nn.softmax([1.0, 1.0, 1.0, 1.0])] == pytest.approx([0.25] * 4)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=2, max_size=5), st.data())
def test_softmax_gradient_matches_central_differences(xs, data):
    k = data.draw(st.integers(0, len(xs) - 1))
    inputs = [Value(x) for x in xs]
    assert bool(autograd.gradcheck(lambda *v: nn.softmax(v)[k], inputs, atol=1e-6))


def test_log_softmax_matches_log_of_softmax():
    xs = [Value(0.5), Value(-1.0), Value(2.0)]
    assert [v.data for v in nn.log_softmax(xs)] == pytest.approx([math.log(p.data) for p in nn.softmax(xs)])


@pytest.mark.parametrize("name", sorted(set(nn.ACTIVATIONS) - {"rrelu"}))
def test_no_activation_reads_data_while_traced(name):
    act = nn.resolve_activation(name)
    with tracing(tracer=None):
        y = act(Value(0.5) * 1.0)
    assert isinstance(y, Value)


def test_a_model_loss_and_softmax_can_be_traced():
    model = nn.MLP(2, [3, 3], activation="prelu", output_activation="identity", seed=0)
    with tracing(tracer=None):
        logits = model([Value(0.5), Value(-0.5)])
        probabilities = nn.softmax(logits)
        loss = nn.cross_entropy(logits, [Value(0.0), Value(1.0), Value(0.0)])
        penalty = nn.l2_penalty(model, 1e-3)
        bce = nn.binary_cross_entropy(probabilities, [Value(0.0), Value(1.0), Value(0.0)])
    assert all(isinstance(v, Value) for v in [loss, penalty, bce, *probabilities])


def test_resolve_activation_errors():
    with pytest.raises(ValueError, match="custom callable"):
        nn.resolve_activation({"name": "callable", "function": "cube"})
    with pytest.raises(ValueError, match="bad options for activation 'relu'"):
        nn.resolve_activation({"name": "relu", "slope": 2})
    with pytest.raises(ValueError, match="needs a 'name'"):
        nn.resolve_activation({"c": 2})
    assert isinstance(nn.resolve_activation(nn.PReLU), nn.PReLU)
    assert nn.resolve_activation("LOGISTIC").name == "sigmoid"
