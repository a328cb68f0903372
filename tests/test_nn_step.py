"""The batch step shared by eager and compiled training, the data checks, and nn's import layout."""

from __future__ import annotations

import ast
import random
import zlib
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.checks import check_data, check_inputs
from nn.compiled import CompiledLossAndGrad
from nn.step import BatchStep, LossAndGrad, output_list

NN = Path(nn.__file__).resolve().parent


def seeded(name: str) -> random.Random:
    return random.Random(zlib.crc32(name.encode()))


def random_batch(rng: random.Random, nin: int, nout: int, count: int):
    xs = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(count)]
    ys = [[float(rng.random() < 0.5) for _ in range(nout)] for _ in range(count)]
    return xs, ys


@pytest.mark.parametrize("reduction, l2", [("mean", 0.0), ("mean", 0.01), ("sum", 0.003)])
def test_the_same_per_sample_losses_give_bit_identical_batch_losses(reduction, l2):
    """40 random models, 17 samples: the eager graph's total is the shared rule's total, bit for bit."""
    rng = seeded(f"batch-loss-{reduction}-{l2}")
    for trial in range(40):
        model = nn.MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", seed=trial)
        xs, ys = random_batch(rng, 3, 2, 17)
        eager = LossAndGrad(model, "bce", l2=l2, reduction=reduction)
        losses = [eager.loss(output_list(model(x)), y).data for x, y in zip(xs, ys)]
        penalty = nn.l2_penalty(model.weights(), l2).data if l2 else 0.0
        assert eager(xs, ys).loss == eager.batch_loss(losses, penalty)

        compiled = CompiledLossAndGrad(model, "bce", l2=l2, reduction=reduction)
        compiled_loss = compiled(xs, ys).loss
        tape = compiled.compiled.value_and_grad(np.array(xs), np.array(ys))
        tape_losses = tape.outputs[:, 0].tolist()
        assert compiled_loss == compiled.batch_loss(tape_losses, float(tape.outputs[0, 1]))
        if tape_losses == losses:  # where the engines agree per sample, they agree on the batch
            assert compiled_loss == eager(xs, ys).loss


def test_batch_loss_is_the_mean_or_the_sum_plus_the_penalty():
    model = nn.Neuron(1, seed=0)
    mean = LossAndGrad(model, "mse").batch_loss([1.0, 2.0, 4.0], penalty=9.0)
    assert mean == 7.0 * (1.0 / 3.0)  # times 1/n, as the graph does
    assert LossAndGrad(model, "mse", l2=0.5).batch_loss([1.0, 2.0], penalty=0.25) == 1.75
    assert LossAndGrad(model, "mse", reduction="sum").batch_loss([1.0, 2.0], penalty=5.0) == 3.0
    assert LossAndGrad(model, "mse").batch_loss([-0.5], penalty=0.0) == -0.5


def test_both_steps_share_the_base_class():
    model = nn.MLP(2, [2], seed=0)
    assert isinstance(LossAndGrad(model, "mse"), BatchStep)
    assert isinstance(CompiledLossAndGrad(model, "mse"), BatchStep)
    assert nn.BatchStep is BatchStep and nn.check_inputs is check_inputs and nn.check_data is check_data
    with pytest.raises(NotImplementedError):
        BatchStep(model, "mse")([[0.0, 0.0]], [[0.0, 0.0]])


@pytest.mark.parametrize("X, Y, where, kind", [
    ({"a": [0, 1], "b": [1, 0]}, [0, 1], "X", "a dict"),
    ([{0: 1.0, 1: 0.0}, [1, 0]], [0, 1], "X row 0", "a dict"),
    ([[0, 1], {1.0, 0.5}], [0, 1], "X row 1", "a set"),
    ([[0, 1], [1, 0]], {0, 1}, "Y", "a set"),
    ([[0, 1], [1, 0]], [[0.0], {"y": 1.0}], "Y row 1", "a dict"),
    ([[0, 1], [1, 0]], [0, frozenset([1])], "Y row 1", "a set"),
])
def test_rows_given_as_dicts_or_sets_are_refused(X, Y, where, kind):
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(TypeError, match=f"^{where} is {kind} .*lists, tuples or arrays"):
        nn.fit(model, X, Y, loss="mse", epochs=1, progress=False)
    assert model.state_dict() == before


def test_the_perceptron_uses_the_public_data_checks():
    with pytest.raises(TypeError, match="X row 0 is a dict"):
        nn.Perceptron(2).learn([{"x": 0, "y": 1}], [1])
    with pytest.raises(ValueError, match="X row 1, column 0 is nan"):
        nn.Perceptron(2).learn([[0, 1], [float("nan"), 1]], [1, 0])


def imports_of(path: Path) -> set[str]:
    """The nn modules a module imports (at any depth of the file: function-level imports count)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nn."):
            names.add(node.module.split(".")[1])
    return names


TRAINING = ("train", "compiled", "step", "checks", "optim", "perceptron", "recurrent")


@pytest.mark.parametrize("module", TRAINING)
def test_training_modules_are_in_no_import_circle(module):
    """Among the training modules (the model-file circle through nn.module is another issue's)."""
    graph = {name: imports_of(NN / f"{name}.py") & set(TRAINING) for name in TRAINING}
    seen, stack = set(), list(graph[module])
    while stack:
        name = stack.pop()
        assert name != module, f"nn.{module} imports itself through nn.{name}"
        if name not in seen and name in graph:
            seen.add(name)
            stack.extend(graph[name])


def test_no_nn_module_reaches_a_private_name_of_train():
    for path in NN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("train", "nn.train"):
                assert not any(alias.name.startswith("_") for alias in node.names), path
