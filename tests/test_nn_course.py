"""The course's networks (docs/course.md, sections 2, 3 and 4), with its exact numbers."""

import math
import random

import pytest

import nn
from autograd import Value

TRUTH_TABLE = [[0, 0], [0, 1], [1, 0], [1, 1]]
XOR_AND = [[0, 0], [1, 0], [1, 0], [0, 1]]  # output 1 = XOR, output 2 = AND


def outputs(model, x):
    return [y.data for y in model(x)]


def within(model, X, Y, tolerance):
    return all(abs(o - t) < tolerance for x, y in zip(X, Y) for o, t in zip(nn.predict(model, [x])[0], y))


# -- section 2: exercise 1 ------------------------------------------------------------
def test_exercise_1_part_1_all_ones_network_gives_0_974():
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    assert outputs(model, [0, 1]) == [0.9744787489988975, 0.9744787489988975]
    hidden = [a.data for a in model.layers[0]([0, 1])]
    assert [round(a, 4) for a in hidden] == [0.8808, 0.8808, 0.8808]


def test_exercise_1_part_2_trains_0_1_to_0_1_with_bce_online():
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    history = nn.fit(model, [[0, 1]], [[0, 1]], loss="bce", lr=0.25, epochs=5000, batch_size=1,
                     progress=False, callback=lambda epoch, h: within(model, [[0, 1]], [[0, 1]], 0.05))
    assert history.epochs <= 5000 and history.stopped_early
    a, b = outputs(model, [0, 1])
    assert abs(a - 0) < 0.05 and abs(b - 1) < 0.05


def test_exercise_1_part_2_first_update_is_the_courses_delta_rule():
    # With BCE and a sigmoid output, dJ/dz = a - y at each output neuron (exercise 1 of the course).
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    a = 0.9744787489988975
    hidden = 0.8807970779778823
    nn.fit(model, [[0, 1]], [[0, 1]], loss="bce", lr=0.25, epochs=1, progress=False)
    w_out = model.layers[1].neurons[0].w[0].data
    assert w_out == pytest.approx(1.0 - 0.25 * (a - 0.0) * hidden, rel=1e-12)
    assert model.layers[1].neurons[1].b.data == pytest.approx(1.0 - 0.25 * (a - 1.0), rel=1e-12)


def _train_xor_and(seed):
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=seed)

    def converged(epoch, history):
        # Cheap first: every row within 0.1 needs a small loss; only then run the check.
        return history.loss[-1] < 0.25 and within(model, TRUTH_TABLE, XOR_AND, 0.1)

    history = nn.fit(model, TRUTH_TABLE, XOR_AND, loss="bce", lr=0.25, epochs=5000, batch_size=1,
                     seed=seed, progress=False, callback=converged)
    return model, history


def test_exercise_1_part_3_xor_and_and_from_a_seeded_random_start():
    model, history = _train_xor_and(seed=0)
    assert history.epochs <= 5000
    assert within(model, TRUTH_TABLE, XOR_AND, 0.1)
    predictions = nn.predict(model, TRUTH_TABLE)
    assert [round(p[0]) for p in predictions] == [0, 1, 1, 0]
    assert [round(p[1]) for p in predictions] == [0, 0, 0, 1]


def test_exercise_1_part_3_converges_for_at_least_18_of_20_seeds():
    results = [_train_xor_and(seed) for seed in range(20)]
    converged = [within(model, TRUTH_TABLE, XOR_AND, 0.1) for model, _ in results]
    assert sum(converged) >= 18, [h.epochs for _, h in results]


# -- section 3: perceptrons ------------------------------------------------------------
def test_xnor_from_step_units_with_the_courses_weights():
    xnor = nn.MLP.from_weights(
        weights=[[[0.2, 0.2], [-0.2, -0.2]], [[0.2, 0.2]]],
        biases=[[-0.3, 0.2], [-0.1]],
        activation="step", output_activation="step")
    hidden = [[a.data for a in xnor.layers[0](x)] for x in TRUTH_TABLE]
    assert [h[0] for h in hidden] == [0, 0, 0, 1]  # AND
    assert [h[1] for h in hidden] == [1, 0, 0, 0]  # NOR
    assert [outputs(xnor, x)[0] for x in TRUTH_TABLE] == [1.0, 0.0, 0.0, 1.0]


def test_perceptron_trick_gives_the_notes_line_at_learning_rate_1():
    # The notes: (3, 4, -10) - (4, 5, 1) = (-1, -1, -11); the point is then on its side.
    line = nn.perceptron_trick((3, 4, -10), (4, 5), label=0, lr=1)
    assert line == (-1.0, -1.0, -11.0)
    w1, w2, b = line
    assert w1 * 4 + w2 * 5 + b == -20.0
    assert nn.perceptron_trick(line, (4, 5), label=0, lr=1) == line  # correct now: unchanged


def test_perceptron_trick_at_learning_rate_0_1_takes_a_tenth_of_the_step():
    line = nn.perceptron_trick((3, 4, -10), (4, 5), label=0, lr=0.1)
    assert line == pytest.approx((2.6, 3.5, -10.1))
    w1, w2, b = line
    assert w1 * 4 + w2 * 5 + b == pytest.approx(22 - 0.1 * 42)  # still on the wrong side


def test_perceptron_trick_adds_a_misclassified_positive_point_and_leaves_correct_ones():
    assert nn.perceptron_trick((1, 1, -10), (2, 3), label=1, lr=0.5) == (2.0, 2.5, -9.5)
    assert nn.perceptron_trick((1, 1, -10), (2, 3), label=0, lr=0.5) == (1.0, 1.0, -10.0)
    with pytest.raises(ValueError, match="coefficients"):
        nn.perceptron_trick((1, 1), (2, 3), label=0)
    with pytest.raises(ValueError, match="label"):
        nn.perceptron_trick((1, 1, 0), (2, 3), label=2)


@pytest.mark.parametrize("gate, labels", [
    ("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("NAND", [1, 1, 1, 0]), ("NOR", [1, 0, 0, 0])])
def test_perceptron_rule_learns_the_linearly_separable_gates(gate, labels):
    p = nn.Perceptron(2)
    history = p.learn(TRUTH_TABLE, labels, lr=0.1, epochs=100)
    assert history.converged and history.errors[-1] == 0
    assert [p.predict(x) for x in TRUTH_TABLE] == labels


def test_perceptron_rule_learns_not_and_majority():
    not_gate = nn.Perceptron(1)
    assert not_gate.learn([[0], [1]], [1, 0]).converged
    assert [not_gate.predict([x]) for x in (0, 1)] == [1.0, 0.0]
    rows = [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    majority = [int(sum(r) >= 2) for r in rows]
    p = nn.Perceptron(3)
    assert p.learn(rows, majority, lr=0.1, epochs=100).converged
    assert [p.predict(r) for r in rows] == majority


def test_perceptron_rule_converges_on_a_random_linearly_separable_set():
    rng = random.Random(7)
    points = [[rng.uniform(-5, 5), rng.uniform(-5, 5)] for _ in range(60)]
    points = [p for p in points if abs(2 * p[0] - 3 * p[1] + 1) > 0.5]  # a margin
    labels = [int(2 * x - 3 * y + 1 > 0) for x, y in points]
    p = nn.Perceptron(2)
    history = p.learn(points, labels, lr=0.1, epochs=1000)
    assert history.converged
    assert [p.predict(x) for x in points] == labels


@pytest.mark.parametrize("lr, line", [(1.0, [-1.0, -1.0, -11.0]), (0.1, [2.6, 3.5, -10.1])])
def test_perceptron_rule_update_is_the_perceptron_trick(lr, line):
    p = nn.Perceptron.from_weights([3.0, 4.0], -10.0, activation="step")
    p.learn([[4, 5]], [0], lr=lr, epochs=1)
    assert [w.data for w in p.w] + [p.b.data] == pytest.approx(line)


def test_a_single_perceptron_cannot_learn_xor():
    p = nn.Perceptron(2)
    history = p.learn(TRUTH_TABLE, [0, 1, 1, 0], lr=0.1, epochs=200)
    assert not history.converged and min(history.errors) >= 1


@pytest.mark.parametrize("compiled", [False, True])
def test_sigmoid_unit_with_summed_squared_error_deltas_is_the_lectures_batch_loop(compiled):
    # The lectures' single-layer exercise: delta = (y - a) a (1 - a), the deltas of the whole
    # set summed into one update per epoch, weights from U(-1, 1), eta = 0.1.
    rng = random.Random(15)
    points = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(15)]
    labels = [float(2 * x1 - x2 + 0.2 > 0) for x1, x2 in points]
    unit = nn.Neuron(2, activation="sigmoid", init=nn.init.Uniform(-1, 1), seed=3)
    weights = [p.data for p in unit.parameters()]  # w0, w1, b
    for _ in range(50):
        step = [0.0, 0.0, 0.0]
        for (x1, x2), y in zip(points, labels):
            a = 1 / (1 + math.exp(-(weights[0] * x1 + weights[1] * x2 + weights[2])))
            delta = (y - a) * a * (1 - a)
            step = [s + 0.1 * delta * x for s, x in zip(step, (x1, x2, 1.0))]
        weights = [w + s for w, s in zip(weights, step)]
    history = nn.fit(unit, points, labels, loss="squared_error", reduction="sum", batch_size=None,
                     lr=0.1, epochs=50, progress=False, compiled=compiled)
    assert history.engine == ("compiled" if compiled else "eager")
    assert [p.data for p in unit.parameters()] == pytest.approx(weights, abs=1e-12)


def test_sign_perceptron_takes_plus_minus_one_labels():
    p = nn.Perceptron(2, activation="sign")
    assert p.learn(TRUTH_TABLE, [-1, 1, 1, 1], lr=0.1).converged
    assert [p.predict(x) for x in TRUTH_TABLE] == [-1.0, 1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="Y row 0 is 0: a sign perceptron needs labels -1 or 1"):
        p.learn(TRUTH_TABLE, [0, 1, 1, 1])
    with pytest.raises(ValueError, match="'step' or 'sign'"):
        nn.Perceptron(2, activation="sigmoid")


# -- section 4: the vanishing-gradient worked example ----------------------------------
def test_vanishing_gradient_worked_example():
    # x = [0.1, 0.3], input->hidden weights [0.4, -0.2], hidden->output 0.1, no biases,
    # target 1, lr 0.5: the notes' figures, to the digits they print.
    model = nn.MLP.from_weights([[[0.4, -0.2]], [[0.1]]], [[0.0], [0.0]], activation="sigmoid",
                                output_activation="sigmoid")
    h = model.layers[0]([0.1, 0.3])[0]
    y = model([0.1, 0.3])[0]
    assert round(h.data, 4) == 0.4950 and round(y.data, 4) == 0.5124
    loss = nn.squared_error(y, 1.0)
    loss.backward()
    w_out = model.layers[1].neurons[0].w[0]
    w_in = model.layers[0].neurons[0].w
    delta_out = (1.0 - y.data) * y.data * (1 - y.data)
    assert round(delta_out, 4) == 0.1218
    assert round(-0.5 * w_out.grad, 4) == 0.0302  # the update lr * delta_out * h
    delta_hidden = -w_in[0].grad / 0.1  # dE/dw = -delta_hidden * x0
    assert round(delta_hidden, 6) == 0.003046
    assert [round(-0.5 * w.grad, 6) for w in w_in] == [0.000152, 0.000457]
    assert [round(-0.5 * w.grad, 5) for w in w_in] == [0.00015, 0.00046]  # the notes truncate: 0.00045


def test_scope_of_every_node_names_its_layer_and_neuron():
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    y = model([0.0, 1.0])[1]
    assert y.scope == ("layer 1", "neuron 1")
    z = y.parents[0]
    assert z.op.name == "dot" and z.scope == ("layer 1", "neuron 1")
    assert len(z.parents) == 3 + 3 + 1  # w1..w3, x1..x3, b
    hidden = z.parents[3:6]
    assert [a.scope for a in hidden] == [("layer 0", f"neuron {j}") for j in range(3)]
    assert isinstance(z.parents[0], Value)
