"""Losses (docs/course.md, section 4): values, gradients, stability, and the L2 penalty."""

import math
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Value


def test_squared_error_is_half_the_sum_and_its_gradient_is_a_minus_y():
    a = [Value(0.2), Value(0.9)]
    e = nn.squared_error(a, [0.0, 1.0])
    assert e.data == pytest.approx(0.5 * (0.04 + 0.01))
    e.backward()
    assert [v.grad for v in a] == pytest.approx([0.2, -0.1])


def test_mse_is_the_mean_over_outputs():
    a = [Value(1.0), Value(3.0)]
    loss = nn.mse(a, [0.0, 1.0])
    assert loss.data == 2.5
    loss.backward()
    assert [v.grad for v in a] == [1.0, 2.0]


def test_bce_matches_the_courses_formula_and_derivative():
    for a_value, y in [(0.3, 1.0), (0.3, 0.0), (0.8, 0.25)]:
        a = Value(a_value)
        J = nn.binary_cross_entropy(a, y)
        assert J.data == pytest.approx(-(y * math.log(a_value) + (1 - y) * math.log(1 - a_value)))
        J.backward()
        assert a.grad == pytest.approx((a_value - y) / (a_value * (1 - a_value)))  # dJ/da


def test_bce_on_a_saturated_sigmoid_is_large_but_finite():
    z = Value(40.0)  # sigmoid(40) == 1.0 in floats
    assert z.sigmoid().data == 1.0
    assert nn.binary_cross_entropy(z.sigmoid(), 1.0).data == 0.0
    assert nn.binary_cross_entropy(z.sigmoid(), 0.0).data == pytest.approx(100.0)


@pytest.mark.parametrize("output", [-0.5, 1.5, 1.0 + 2 ** -52, -1e-300, 7.0])
def test_bce_refuses_outputs_that_are_not_probabilities_naming_the_fix(output):
    # PyTorch's BCELoss: "all elements of input should be between 0 and 1"; clamping trained on nonsense
    with pytest.raises(ValueError, match=r"binary_cross_entropy needs probabilities .*got "
                       r".*output_activation=\"sigmoid\".*loss=\"bce_logits\""):
        nn.binary_cross_entropy([Value(0.5), Value(output)], [1.0, 0.0])


XOR = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("compiled", [False, True])
def test_fit_with_bce_on_a_linear_last_layer_raises_in_both_engines_and_changes_nothing(compiled):
    pytest.importorskip("numpy")  # the compiled engine
    model = nn.MLP(2, [4, 1], activation="tanh", seed=3)  # linear last layer (the default)
    outputs = [row[0] for row in nn.predict(model, XOR[0])]
    assert not all(0.0 <= a <= 1.0 for a in outputs)  # this seed has an output outside [0, 1]
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"^binary_cross_entropy needs probabilities \(outputs between "
                       r"0 and 1\), got .*: end the model in a sigmoid"):
        nn.fit(model, *XOR, loss="bce", epochs=2, batch_size=None, progress=False, compiled=compiled)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match="needs probabilities"):
        nn.evaluate(model, *XOR, loss="bce")
    # The two ways out the message names both train.
    for fixed, loss in [(nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=3), "bce"),
                        (nn.MLP(2, [4, 1], activation="tanh", seed=3), "bce_logits")]:
        history = nn.fit(fixed, *XOR, loss=loss, epochs=2, batch_size=None, progress=False, compiled=compiled)
        assert history.engine == ("compiled" if compiled else "eager")
        assert all(math.isfinite(v) for v in history.loss)


def test_the_batch_steps_of_both_engines_refuse_bce_on_a_linear_output_alike():
    pytest.importorskip("numpy")
    from nn.compiled import CompiledLossAndGrad

    model = nn.MLP(2, [4, 1], activation="tanh", seed=3)
    rows, targets = XOR[0], [[y] for y in XOR[1]]
    messages = []
    for step in (nn.LossAndGrad(model, "bce"), CompiledLossAndGrad(model, "bce")):
        with pytest.raises(ValueError, match="needs probabilities") as raised:
            step(rows, targets)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert all(p.grad == 0.0 for p in model.parameters())  # the compiled step set no gradient either


def test_bce_is_checked_on_outputs_and_not_on_raw_scores():
    nn.LOSSES["bce"].check_outputs([[0.0, 1.0], [0.25, 0.75]])
    with pytest.raises(ValueError, match="got -0.25"):
        nn.LOSSES["binary_cross_entropy"].check_outputs([[0.5, -0.25]])
    for name in set(nn.LOSSES) - {"bce", "binary_cross_entropy"}:
        nn.LOSSES[name].check_outputs([[-3.0, 5.0, 0.5]])  # scores, errors, margins: any number


@settings(max_examples=50, deadline=None)
@given(st.floats(-30, 30), st.sampled_from([0.0, 1.0, 0.3]))
def test_bce_with_logits_equals_bce_of_the_sigmoid(z, y):
    exact = max(z, 0.0) + math.log1p(math.exp(-abs(z))) - y * z  # softplus(z) - y z
    assert nn.binary_cross_entropy_with_logits(Value(z), y).data == pytest.approx(exact, rel=1e-12, abs=1e-15)
    # On probabilities, 1 - sigmoid(z) loses digits as z grows: the reason for the logits form.
    on_probabilities = nn.binary_cross_entropy(Value(z).sigmoid(), y).data
    assert on_probabilities == pytest.approx(exact, rel=1e-6 if abs(z) < 15 else 1e-3, abs=1e-9)


def test_bce_with_logits_is_stable_and_has_gradient_sigmoid_minus_y():
    assert nn.binary_cross_entropy_with_logits(Value(1000.0), 1.0).data == 0.0
    assert nn.binary_cross_entropy_with_logits(Value(1000.0), 0.0).data == 1000.0
    z = Value(0.7)
    nn.binary_cross_entropy_with_logits(z, 1.0).backward()
    assert z.grad == pytest.approx(1 / (1 + math.exp(-0.7)) - 1.0)


def test_cross_entropy_is_minus_log_softmax_and_stable():
    z = [Value(2.0), Value(1.0), Value(0.1)]
    loss = nn.cross_entropy(z, 0)
    p = [math.exp(v.data) for v in z]
    assert loss.data == pytest.approx(-math.log(p[0] / sum(p)))
    loss.backward()
    softmax = [q / sum(p) for q in p]
    assert [v.grad for v in z] == pytest.approx([softmax[0] - 1, softmax[1], softmax[2]])
    big = [Value(1000.0), Value(-1000.0)]
    assert nn.cross_entropy(big, 1).data == 2000.0


def test_cross_entropy_with_a_one_hot_target_equals_the_class_index():
    z = [Value(0.3), Value(-1.2), Value(2.2)]
    assert nn.cross_entropy(z, [0, 0, 1]).data == pytest.approx(nn.cross_entropy(z, 2).data)
    soft = nn.cross_entropy(z, [0.5, 0.0, 0.5]).data
    assert soft == pytest.approx(0.5 * nn.cross_entropy(z, 0).data + 0.5 * nn.cross_entropy(z, 2).data)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-10, 10), min_size=2, max_size=5), st.data())
def test_cross_entropy_gradient_matches_central_differences(zs, data):
    k = data.draw(st.integers(0, len(zs) - 1))
    assert bool(autograd.gradcheck(lambda *z: nn.cross_entropy(list(z), k), [Value(v) for v in zs]))


def test_hinge_is_micrograds_max_margin():
    assert nn.hinge(Value(0.3), 1.0).data == pytest.approx(0.7)
    assert nn.hinge(Value(0.3), -1.0).data == pytest.approx(1.3)
    assert nn.hinge(Value(-2.0), -1.0).data == 0.0
    s = Value(0.3)
    nn.hinge(s, -1.0).backward()
    assert s.grad == 1.0
    assert nn.hinge([Value(0.0), Value(0.0)], [1.0, -1.0]).data == 2.0


def test_l2_penalty_leaves_biases_out():
    model = nn.MLP(2, [2, 1], init=2.0)  # 6 weights, 3 biases, all 2
    penalty = nn.l2_penalty(model, 0.1)
    assert penalty.data == pytest.approx(0.1 * 6 * 4)
    penalty.backward()
    assert all(w.grad == pytest.approx(0.1 * 2 * 2.0) for w in model.weights())
    assert all(b.grad == 0.0 for b in model.biases())
    assert nn.l2_penalty([Value(3.0)], 1.0).data == 9.0
    assert nn.l2_penalty([], 1.0).data == 0.0


def test_losses_check_their_arguments():
    with pytest.raises(ValueError, match="2 outputs but 1 target"):
        nn.mse([Value(1.0), Value(2.0)], [1.0])
    with pytest.raises(ValueError, match="class 3 is out of range for 3 logits"):
        nn.cross_entropy([Value(0.0)] * 3, 3)
    with pytest.raises(ValueError, match="3 logits but 2 target probabilities"):
        nn.cross_entropy([Value(0.0)] * 3, [0.5, 0.5])
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        nn.resolve_loss("l1")
    with pytest.raises(TypeError, match="loss must be"):
        nn.resolve_loss(3)


def test_resolve_loss_knows_names_and_functions():
    assert nn.resolve_loss("max_margin").name == "hinge"
    assert nn.resolve_loss(nn.cross_entropy).name == "cross_entropy"
    custom = nn.resolve_loss(lambda out, y: (out[0] - y[0]) ** 4)
    assert not custom.classifier


@pytest.mark.parametrize("loss, target, nout, message", [
    ("bce", [2.0], 1, "between 0 and 1"),
    ("hinge", [0.0], 1, "labels -1 or \\+1"),
    ("cross_entropy", 10, 10, "class index in 0..9"),
    ("cross_entropy", 1.5, 3, "integer class index"),
    ("cross_entropy", [0.5, 0.2, 0.2], 3, "sum to 1"),
    ("mse", [1.0, 2.0], 1, "2 values but the model has 1 output"),
    ("mse", ["a"], 1, "needs numbers"),
    ("mse", [float("inf")], 1, "must be finite"),
])
def test_loss_objects_reject_targets_that_do_not_fit(loss, target, nout, message):
    with pytest.raises(ValueError, match=message):
        nn.LOSSES[loss].check_target(target, nout)


def test_loss_objects_judge_correctness():
    assert nn.LOSSES["bce"].is_correct([0.7, 0.2], [1.0, 0.0])
    assert not nn.LOSSES["bce"].is_correct([0.7, 0.6], [1.0, 0.0])
    assert nn.LOSSES["bce_logits"].is_correct([2.0], [1.0])
    assert nn.LOSSES["hinge"].is_correct([-0.1], [-1.0])
    assert nn.LOSSES["cross_entropy"].is_correct([0.1, 3.0, 0.2], 1)
    assert nn.LOSSES["cross_entropy"].is_correct([0.1, 3.0, 0.2], [0.0, 1.0, 0.0])
    assert nn.LOSSES["mse"].is_correct([1.0], [1.0]) is None


# One reference per Loss in nn.LOSSES, keyed by its name: the tests iterate the registry
# (aliases included), so a new loss without a reference fails them.
def _bce(a, y):
    return -math.fsum(t * math.log(p) + (1 - t) * math.log(1 - p) for p, t in zip(a, y))


LOSS_REFERENCE = {
    "squared_error": ([0.2, 0.9], [0.0, 1.0],
                      lambda a, y: 0.5 * math.fsum((p - t) ** 2 for p, t in zip(a, y))),
    "sse": ([0.2, 0.9], [0.0, 1.0], lambda a, y: math.fsum((p - t) ** 2 for p, t in zip(a, y))),
    "mse": ([0.2, 0.9], [0.0, 1.0], lambda a, y: math.fsum((p - t) ** 2 for p, t in zip(a, y)) / len(a)),
    "bce": ([0.2, 0.9], [0.0, 1.0], _bce),
    "bce_logits": ([-0.4, 1.3], [0.0, 1.0],
                   lambda z, y: _bce([1 / (1 + math.exp(-v)) for v in z], y)),
    "cross_entropy": ([0.5, -1.0, 2.0], 2,
                      lambda z, k: math.log(math.fsum(math.exp(v) for v in z)) - z[k]),
    "hinge": ([0.3, -2.0], [1.0, -1.0], lambda s, y: math.fsum(max(0.0, 1 - t * v) for v, t in zip(s, y))),
}


@pytest.mark.parametrize("name", sorted(nn.LOSSES))
def test_every_registered_loss_matches_its_reference_value_and_gradient(name):
    loss = nn.LOSSES[name]
    assert loss.name in LOSS_REFERENCE, f"add a reference for the loss {loss.name!r} to this file"
    outputs, target, reference = LOSS_REFERENCE[loss.name]
    assert nn.resolve_loss(name) is loss
    value = loss([Value(o) for o in outputs], target).data
    assert value == pytest.approx(reference(outputs, target), rel=1e-12)
    assert bool(autograd.gradcheck(lambda *a: loss(list(a), target), [Value(o) for o in outputs]))


@pytest.mark.parametrize("name", sorted(name for name, loss in nn.LOSSES.items() if loss.classifier))
def test_count_correct_counts_what_is_correct_says_row_by_row(name):
    # the compiled fit's accuracy (count_correct on arrays) must equal the eager fit's (is_correct per row)
    loss = nn.LOSSES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    outputs = np.round(rng.standard_normal((200, 3)), 1)  # rounded: ties and values on the cut
    if name == "cross_entropy":
        indices = rng.integers(0, 3, 200)
        cases = [(indices.tolist(), np.eye(3)[indices]), (np.eye(3)[indices].tolist(), np.eye(3)[indices])]
    elif loss.target_rule == "sign":
        labels = rng.choice([-1.0, 1.0], (200, 3))
        cases = [(labels.tolist(), labels)]
    else:
        outputs = np.round(rng.uniform(0, 1, (200, 3)), 1)
        labels = rng.choice([0.0, 1.0], (200, 3))
        cases = [(labels.tolist(), labels)]
    for targets, target_array in cases:
        expected = sum(bool(loss.is_correct(row, target)) for row, target in zip(outputs.tolist(), targets))
        assert loss.count_correct(outputs, target_array) == expected
    single = nn.LOSSES[name]  # one output, scalar targets given as a flat array
    if name != "cross_entropy":
        column, flat = outputs[:, :1], cases[0][1][:, 0]
        expected = sum(bool(single.is_correct(row, [t])) for row, t in zip(column.tolist(), flat.tolist()))
        assert single.count_correct(column, flat) == expected


def test_count_correct_of_a_loss_with_its_own_rule_applies_that_rule():
    class Strict(nn.Loss):
        def is_correct(self, outputs, target):
            return all(o == t for o, t in zip(outputs, target))

    strict = Strict("strict", nn.mse, classifier=True)
    assert strict.count_correct(np.array([[1.0], [0.5]]), np.array([[1.0], [1.0]])) == 1


def test_counts_arrays_only_when_count_correct_is_as_specific_as_is_correct():
    class OwnRule(nn.Loss):
        def is_correct(self, outputs, target):
            return outputs[0] > 0 and target == 1

    class OwnRuleAndCount(OwnRule):
        def count_correct(self, outputs, targets):
            return int(((outputs[:, 0] > 0) & (np.asarray(targets) == 1)).sum())

    assert all(loss.counts_arrays for loss in nn.LOSSES.values())
    own = OwnRule("own", nn.mse, classifier=True)
    assert not own.counts_arrays and OwnRuleAndCount("both", nn.mse, classifier=True).counts_arrays
    # row by row on the targets as is_correct takes them (here plain ints, not rows)
    assert own.count_correct(np.array([[0.5], [0.5], [-1.0]]), [1, 0, 1]) == 1
