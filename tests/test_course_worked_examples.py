"""The course's later worked examples (docs/course.md, section 7), checked against chainrule.

The notes derive these gradients by hand; here the hand derivation is written out in
NumPy, formula by formula, and must agree with what ``backward()`` computes.
"""

import math
import zlib

import numpy as np
import pytest

import autograd
import nn
from autograd import Value


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _layer_arrays(layer):
    weights = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])
    biases = np.array([neuron.b.data for neuron in layer.neurons])
    return weights, biases


def _layer_grads(layer):
    return (np.array([[w.grad for w in neuron.w] for neuron in layer.neurons]),
            np.array([neuron.b.grad for neuron in layer.neurons]))


def _samples(name, n, nin, nout):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return rng.uniform(-1, 1, (n, nin)), rng.uniform(0, 1, (n, nout))


def _derivation_3_4_2(W1, b1, W2, b2, X, Y):
    """The notes' chain rule, layer by layer, averaged over the n samples."""
    grads = [np.zeros_like(W1), np.zeros_like(b1), np.zeros_like(W2), np.zeros_like(b2)]
    for x, y in zip(X, Y):
        a1 = _sigmoid(W1 @ x + b1)
        a2 = _sigmoid(W2 @ a1 + b2)
        dC_da2 = 2 * (a2 - y)                  # dC0/da(L) = 2 (a(L) - y)
        dC_dz2 = a2 * (1 - a2) * dC_da2        # sigma'(z) = out (1 - out)
        dC_da1 = W2.T @ dC_dz2                 # summed over every output j that a_k feeds
        dC_dz1 = a1 * (1 - a1) * dC_da1
        for total, term in zip(grads, (np.outer(dC_dz1, x), dC_dz1, np.outer(dC_dz2, a1), dC_dz2)):
            total += term
    return [g / len(X) for g in grads]


def test_the_3_4_2_network_derivation_equals_backward():
    X, Y = _samples("3-4-2", n=6, nin=3, nout=2)
    model = nn.MLP(3, [4, 2], activation="sigmoid", output_activation="sigmoid", seed=zlib.crc32(b"3-4-2"))
    cost = autograd.sum([nn.sum_squared_error(model(x), y) for x, y in zip(X.tolist(), Y.tolist())]) / len(X)
    cost.backward()
    by_hand = _derivation_3_4_2(*_layer_arrays(model.layers[0]), *_layer_arrays(model.layers[1]), X, Y)
    by_autograd = [*_layer_grads(model.layers[0]), *_layer_grads(model.layers[1])]
    for hand, auto in zip(by_hand, by_autograd):
        np.testing.assert_allclose(auto, hand, rtol=1e-12, atol=1e-15)


def test_the_3_4_2_update_with_r_0_1_lowers_the_cost():
    X, Y = _samples("3-4-2 update", n=6, nin=3, nout=2)
    model = nn.MLP(3, [4, 2], activation="sigmoid", output_activation="sigmoid",
                   seed=zlib.crc32(b"3-4-2 update"))

    def cost():
        costs = [nn.sum_squared_error(model(x), y) for x, y in zip(X.tolist(), Y.tolist())]
        return autograd.sum(costs) / len(X)

    before = cost()
    before.backward()
    expected = [p.data - 0.1 * p.grad for p in model.parameters()]  # w1 = w0 - r dC/dw
    nn.SGD(model.parameters(), lr=0.1).step()
    assert [p.data for p in model.parameters()] == pytest.approx(expected, rel=1e-15)
    assert cost().data < before.data


def test_ejemplo_2_two_sigmoid_layers_and_a_linear_output_without_bias():
    # z2 = W1 x + b1, a2 = f(z2); z3 = W2 a2 + b2, a3 = f(z3); s = W3 a3 (no bias).
    X, Y = _samples("Ejemplo 2", n=4, nin=3, nout=1)
    hidden = [nn.Layer(3, 4, activation="sigmoid", seed=1), nn.Layer(4, 3, activation="sigmoid", seed=2)]
    output = nn.Layer(3, 1, activation="identity", bias=False, seed=3)  # s = W3 a3: no bias at all
    model = nn.Sequential(*hidden, output)
    assert len(model.parameters()) == (3 + 1) * 4 + (4 + 1) * 3 + 3 and output.biases() == []

    cost = autograd.sum([nn.sum_squared_error(model(x), y) for x, y in zip(X.tolist(), Y.tolist())])
    cost.backward()
    (W1, b1), (W2, b2) = (_layer_arrays(layer) for layer in hidden)
    w3 = np.array([w.data for w in output.neurons[0].w])
    expected = [np.zeros_like(g) for g in (W1, b1, W2, b2, w3)]
    for x, y in zip(X, Y):
        a2 = _sigmoid(W1 @ x + b1)
        a3 = _sigmoid(W2 @ a2 + b2)
        dC_ds = 2 * (w3 @ a3 - y[0])
        dC_dz3 = a3 * (1 - a3) * (w3 * dC_ds)
        dC_dz2 = a2 * (1 - a2) * (W2.T @ dC_dz3)
        for total, term in zip(expected, (np.outer(dC_dz2, x), dC_dz2, np.outer(dC_dz3, a2), dC_dz3,
                                          a3 * dC_ds)):
            total += term
    w3_grads = np.array([w.grad for w in output.neurons[0].w])
    got = [*_layer_grads(hidden[0]), *_layer_grads(hidden[1]), w3_grads]
    for hand, auto in zip(expected, got):
        np.testing.assert_allclose(auto, hand, rtol=1e-12, atol=1e-15)


def test_maximum_likelihood_of_four_predictions_and_its_cross_entropy():
    # The probabilities a model gives the four points' true classes.
    p = [0.2, 0.6, 0.7, 0.3]
    assert round(math.prod(p), 4) == 0.0252  # printed 0.025 in the notes
    logs = [Value(q).log() for q in p]
    cross_entropy = -autograd.sum(logs)
    assert cross_entropy.data == pytest.approx(-math.log(0.0252), rel=1e-12)
    assert round(cross_entropy.data, 4) == 3.6809
    # nn's binary cross-entropy sums over outputs: labels 1 with probabilities p.
    assert nn.binary_cross_entropy(p, [1, 1, 1, 1]).data == pytest.approx(cross_entropy.data, rel=1e-12)


def test_sigmoid_with_cross_entropy_has_gradient_minus_y_minus_yhat_times_x():
    x, y = [0.5, -1.5, 2.0], 1.0
    neuron = nn.Neuron.from_weights([0.3, -0.2, 0.1], 0.05, activation="sigmoid")
    y_hat = neuron(x)
    nn.binary_cross_entropy([y_hat], [y]).backward()
    assert [w.grad for w in neuron.w] == pytest.approx([-(y - y_hat.data) * xi for xi in x], rel=1e-12)
    assert neuron.b.grad == pytest.approx(-(y - y_hat.data), rel=1e-12)


def test_xor_is_the_and_of_or_and_nand():
    step_unit = lambda w, b: nn.Perceptron.from_weights(w, b, activation="step")
    OR, NAND, AND = step_unit([1, 1], -0.5), step_unit([-1, -1], 1.5), step_unit([1, 1], -1.5)
    table = [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert [OR.predict(x) for x in table] == [0, 1, 1, 1]
    assert [NAND.predict(x) for x in table] == [1, 1, 1, 0]
    assert [AND.predict([OR.predict(x), NAND.predict(x)]) for x in table] == [0, 1, 1, 0]


# Expressiveness: two opposite-facing soft thresholds make a ridge, two perpendicular ridges a bump.
K = 10.0  # steepness of the sigmoid units


def test_two_opposite_sigmoid_units_make_a_ridge():
    ridge = nn.MLP.from_weights([[[K, 0.0], [-K, 0.0]], [[1.0, 1.0]]], [[K, K], [-1.0]],
                                activation="sigmoid", output_activation="identity")
    height = lambda x1, x2: ridge([x1, x2])[0].data
    assert height(0.0, 0.0) > 0.99 and height(0.0, 5.0) == height(0.0, -5.0) == height(0.0, 0.0)
    assert height(3.0, 0.0) < 0.01 and height(-3.0, 0.0) < 0.01  # high only for |x1| < 1


def test_four_sigmoid_units_make_a_bump():
    bump = nn.MLP.from_weights(
        [[[K, 0.0], [-K, 0.0], [0.0, K], [0.0, -K]], [[5.0, 5.0, 5.0, 5.0]]],
        [[K, K, K, K], [-17.5]], activation="sigmoid", output_activation="sigmoid")  # on at 4 of 4
    peak = bump([0.0, 0.0])[0].data
    assert peak > 0.9
    for x in ([3.0, 0.0], [0.0, 3.0], [-3.0, 0.0], [0.0, -3.0], [3.0, 3.0]):
        assert bump(x)[0].data < 0.2 * peak  # one ridge alone is not enough: a bump, not a cross


def test_the_3_layer_forward_pass_code_is_an_mlp_3_4_4_1():
    # h1 = f(W1 x + b1) (4x1), h2 = f(W2 h1 + b2) (4x1), out = W3 h2 + b3 (1x1), f the sigmoid.
    model = nn.MLP(3, [4, 4, 1], activation="sigmoid", output_activation="identity",
                   seed=zlib.crc32(b"3-4-4-1"))
    (W1, b1), (W2, b2), (W3, b3) = (_layer_arrays(layer) for layer in model.layers)
    x = np.random.default_rng(zlib.crc32(b"3-4-4-1 x")).standard_normal(3)
    h1 = _sigmoid(W1 @ x + b1)
    h2 = _sigmoid(W2 @ h1 + b2)
    out = W3 @ h2 + b3
    assert [o.data for o in model(x.tolist())] == pytest.approx(out.tolist(), rel=1e-12)


def test_backpropagation_without_activations_is_the_deltas_recursion():
    # The lecture's simplified example (no activation function anywhere) on a 2-2-2-1 net:
    # delta(4) = y - a(4), delta(3) = W(3)^T delta(4), delta(2) = W(2)^T delta(3);
    # for J = 1/2 (y - a)^2, dJ/dW(l)_ij = -a(l)_j delta(l+1)_i, and -dJ/dx = W(1)^T delta(2).
    model = nn.MLP(2, [2, 2, 1], activation="identity", bias=False, seed=zlib.crc32(b"no activations"))
    W1, W2, W3 = (np.array([[w.data for w in n.w] for n in layer.neurons]) for layer in model.layers)
    x, y = np.array([0.6, -0.4]), 0.9
    inputs = [Value(xi) for xi in x]
    nn.squared_error(model(inputs), [y]).backward()

    a2 = W1 @ x
    a3 = W2 @ a2
    a4 = W3 @ a3
    delta4 = y - a4
    delta3 = W3.T @ delta4
    delta2 = W2.T @ delta3
    for layer, a, delta in zip(model.layers, (x, a2, a3), (delta2, delta3, delta4)):
        grads = np.array([[w.grad for w in n.w] for n in layer.neurons])
        np.testing.assert_allclose(grads, -np.outer(delta, a), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([-v.grad for v in inputs], W1.T @ delta2, rtol=1e-12, atol=1e-15)
