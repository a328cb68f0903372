"""A user's script, as a student would write it: CI checks it with ``mypy --strict``.

It uses the public API the way the documentation does (Values, gradients, drawing,
compiling, networks, training, model files), so a change that makes a public name
invisible to type checkers, or types it wrongly, fails CI. tests/test_typing.py also
runs it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import autograd
import nn
from autograd import Value


def chain_rule() -> tuple[float, float, float]:
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    return x.grad, y.grad, z.grad


def second_derivative(at: float) -> float:
    x = Value(at, "x")
    (dy,) = autograd.grad(x ** 3, [x], create_graph=True)
    (d2y,) = autograd.grad(dy, [x])
    return float(d2y)


def draw_and_explore(folder: Path) -> list[Path]:
    w, x, b = Value(2.0, "w"), Value(-1.0, "x"), Value(0.5, "b")
    out = (w * x + b).tanh()
    out.backward()
    graph = autograd.draw(out, rankdir="TB", number_format=".3f")
    source: str = graph.source
    assert source.startswith("digraph")
    picture = autograd.render(out, folder / "neuron.dot")
    page = autograd.explore(out).save(folder / "neuron.html")
    return [Path(picture), Path(page)]


def train_xor(folder: Path) -> list[list[float]]:
    inputs = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    targets = [[0.0], [1.0], [1.0], [0.0]]
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    optimizer = nn.SGD(model, lr=0.5, momentum=0.9)
    for _ in range(200):
        losses = [nn.binary_cross_entropy(model(x), y) for x, y in zip(inputs, targets)]
        loss = autograd.sum(losses) / len(losses)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    history = nn.fit(model, inputs, targets, loss="bce", lr=0.5, epochs=20, batch_size=None,
                     progress=False)
    assert history.loss[-1] < history.loss[0] + 1.0
    path = folder / "xor.json"
    model.save(path)
    return nn.predict(nn.load(path), inputs)


def compiled_step() -> float:
    model = nn.MLP(2, [3, 1], activation="relu", seed=0)
    params = model.parameters()

    def loss(x: list[Value], label: Value) -> Value:
        return (1 - label * model(x)[0]).relu()

    step = autograd.compile(loss, ([0.5, -0.5], 1.0), params)
    result = step.value_and_grad([[0.5, -0.5], [1.0, 1.0]], [1.0, -1.0])
    return float(result.outputs.sum())


def main() -> int:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print("gradients", chain_rule())
        print("d2/dx2 x^3 at 2 =", second_derivative(2.0))
        print("wrote", [path.name for path in draw_and_explore(folder)])
        print("xor", [round(row[0]) for row in train_xor(folder)])
        print("compiled loss", compiled_step())
    return 0


if __name__ == "__main__":
    sys.exit(main())
