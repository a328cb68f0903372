"""A student's script with the mistakes students make: ``mypy --strict`` must catch every one.

Each line that ends in ``# expect: CODE`` must get exactly that mypy error code, and no
other line may get one (tests/test_typing.py checks both). Like user_script.py, it is
checked as a user would check it, so a public name that types as ``Any`` (and lets
``autograd.drw`` through, as the lazily loaded names once did) fails the test. The
mistakes sit in functions that nothing calls: importing the file (pytest's doctest
collection does) runs none of them. The package check (``files`` in pyproject.toml)
leaves this file out.
"""

from __future__ import annotations

import autograd
import nn
from autograd import Value


def drawing(out: Value) -> None:
    autograd.drw(out)  # expect: attr-defined
    autograd.draw(out, stepp=3)  # expect: call-arg
    autograd.draw(out, rankdir="TB", numberformat=".3f")  # expect: call-arg
    autograd.explore(out, mod="forward")  # expect: call-arg
    autograd.render(out, "graph.svg", format="png", rankdir="TB")  # (right)
    autograd.render(out, "graph.svg", colapse="neuron")  # expect: call-arg
    autograd.render(out, "graph.html", mode="forward", collapse="neuron")  # (right)


def values() -> None:
    x = Value(2.0, "x")
    Value([1.0, 2.0])  # expect: arg-type
    out = (x * x).tanh()
    out.backwards()  # expect: attr-defined
    print(out.data())  # expect: operator
    print(out.item() + 1.0)  # (right: item() is PyTorch's habit, and it exists)


def models() -> None:
    nn.MLP(2, [16], activaton="relu")  # expect: call-arg
    model = nn.MLP(2, [16, 1], activation="relu")
    model(0.5)  # expect: arg-type
    print(model([0.0, 1.0]).data)  # expect: attr-defined
    print(model([0.0, 1.0])[0].data)  # (right: a model returns a list, one Value per output)
    nn.Neuron(2)([1.0, 2.0]).backward()  # (right: a Neuron returns one Value)
    nn.SGD(model.parameters, lr=0.1)  # expect: arg-type
    nn.Adam(model, lr=0.01, beta1=0.9)  # expect: call-arg
    nn.save(model)  # expect: call-arg


def training() -> None:
    model = nn.MLP(2, [4, 1], activation="tanh", seed=0)
    inputs, targets = [[0.0, 0.0], [1.0, 1.0]], [[0.0], [1.0]]
    nn.fit(model, inputs, targets, los="mse")  # expect: call-arg
    nn.fit(model, inputs, targets, lr="0.1")  # expect: arg-type
    nn.fit(model, inputs, targets, batch_size=0.5)  # expect: arg-type
    optimizer = nn.SGD(model, lr=0.1)
    loss = nn.mse(model(inputs[0]), targets[0])
    optimizer.step(loss)  # expect: call-arg
    loss.backward()
    optimizer.step()  # (right)
    history = nn.fit(model, inputs, targets, progress=False)
    print(history.losses[-1])  # expect: attr-defined
    print(history.loss[-1])  # (right)


def compiling() -> None:
    def loss(x: list[Value]) -> Value:
        return autograd.dot(x, x)

    autograd.compile(loss, ([1.0, 2.0],), dtyp="float32")  # expect: call-arg
