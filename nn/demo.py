"""``chainrule demo`` (or ``python -m nn demo``): the course's backprop, in the terminal.

It walks through the course's examples: the (x + y) z graph and the sigmoid neuron
with their gradients, then exercise 1 part 3 (one network learning XOR and AND),
and writes what it made to ``./chainrule-demo/``: the graphs as SVG, the loss curve
as PNG and the trained model as JSON.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

TRUTH_TABLE = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_AND = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]  # output 1: XOR, output 2: AND


def _say(text: str = "") -> None:
    print(text, flush=True)


def chain_rule_example(out: Path) -> list[Path]:
    """(x + y) z at x = -2, y = 5, z = -4: gradients printed, graph written."""
    from autograd import Value, render

    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    _say("1. f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4  (the course's first graph)")
    _say(f"   forward:  q = x + y = {q.data:g}, f = q z = {f.data:g}")
    _say(f"   backward: df/dz = q = {z.grad:g}, df/dq = z = {q.grad:g}, "
         f"df/dx = df/dq * dq/dx = {x.grad:g}, df/dy = {y.grad:g}")
    return [render(f, out / "chain_rule.svg")]


def sigmoid_neuron_example(out: Path) -> list[Path]:
    """The course's sigmoid neuron, from primitive gates and with one sigmoid gate."""
    from autograd import Value, render

    def inputs() -> list[Value]:
        return [Value(v, name) for v, name in
                ((2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2"))]

    w0, x0, w1, x1, w2 = gates = inputs()
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())  # *, +, *-1, exp, +1, 1/x
    f.label = "f"
    f.backward()
    s0, s1, s2, s3, s4 = one_gate = inputs()
    g = (s0 * s1 + s2 * s3 + s4).sigmoid()
    g.label = "f"
    g.backward()
    _say()
    _say("2. The sigmoid neuron f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2))")
    _say(f"   f = {f.data:.4f}; local gradient of the sigmoid gate (1 - f) f = {(1 - f.data) * f.data:.4f}")
    _say("   " + ", ".join(f"d{v.label} = {v.grad:+.4f}" for v in gates) + "   (primitive gates)")
    _say("   " + ", ".join(f"d{v.label} = {v.grad:+.4f}" for v in one_gate) + "   (one sigmoid gate)")
    return [render(f, out / "sigmoid_neuron_gates.svg"), render(g, out / "sigmoid_neuron.svg")]


def exercise_1_part_3(out: Path, seed: int = 0) -> list[Path]:
    """A 2-3-2 sigmoid network learns XOR (output 1) and AND (output 2)."""
    import nn

    _say()
    _say("3. Exercise 1, part 3: a 2-3-2 sigmoid network learns XOR and AND at once")
    _say("   binary cross-entropy, online mode, learning rate 0.25, up to 5000 epochs")
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=seed)
    start = time.perf_counter()

    def learned(epoch: int, history: nn.History) -> bool:
        return history.loss[-1] < 0.02

    history = nn.fit(model, TRUTH_TABLE, XOR_AND, loss="bce", lr=0.25, epochs=5000, batch_size=1,
                     seed=seed, callback=learned, progress=sys.stderr.isatty())  # a bar for a person only
    seconds = time.perf_counter() - start
    _say(f"   trained {history.epochs} epochs ({history.updates} updates) in {seconds:.1f} s, "
         f"final loss {history.loss[-1]:.4f}")
    _say("   x1 x2 | XOR  net  | AND  net")
    for x, target in zip(TRUTH_TABLE, XOR_AND):
        a_xor, a_and = (v.data for v in model(x))
        _say(f"    {x[0]:.0f}  {x[1]:.0f} |  {target[0]:.0f}  {a_xor:.3f} |  {target[1]:.0f}  {a_and:.3f}")

    model_path = out / "xor_and_model.json"
    nn.save(model, model_path)
    curve_path = out / "xor_and_loss.png"
    _plot_loss(history.loss, curve_path)
    return [curve_path, model_path]


def _plot_loss(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: the demo never opens a window
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    ax.plot(range(1, len(losses) + 1), losses)
    ax.set(xlabel="epoch", ylabel="mean binary cross-entropy", yscale="log",
           title="Exercise 1, part 3: XOR and AND")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def demo(out: str | Path = "chainrule-demo") -> int:
    """Run the course walk-through and write its files to ``out``; return 0.

    Example (tests/test_demo.py runs it):
        >>> demo("chainrule-demo")  # doctest: +SKIP
        0
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = chain_rule_example(out) + sigmoid_neuron_example(out) + exercise_1_part_3(out)
    _say()
    _say(f"Wrote {len(written)} files to {out.resolve()}/:")
    for path in written:
        _say(f"  {path.name}")
    _say("Open the .svg files in a browser to see each graph with its gradients.")
    return 0
