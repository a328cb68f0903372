"""nn benchmark: micrograd's demo reproduced with chainrule's nn, and the digits data set.

Usage, from the repository root::

    pip install ".[bench]"             # micrograd 0.1.0 and scikit-learn
    python benchmarks/bench_nn.py      # a few minutes; --help for options

Each engine runs in its own fresh ``python`` process (see :mod:`benchmarks._common`),
one after the other, and the parent prints the figures and their ratios. The script
always exits 0: it reports whether each target of issue 3 is met on this machine
under its current load, it does not assert.

1. **micrograd's demo** (``demo.ipynb``): ``make_moons(100, noise=0.1)`` after
   ``np.random.seed(1337)``, labels -1/+1, ``MLP(2, [16, 16, 1])`` with ReLU hidden
   layers and a linear output, the max-margin loss plus 1e-4 L2, 100 full-batch SGD
   steps with lr = 1.0 - 0.9 k / 100.

   * micrograd runs its own demo loop (its ``micrograd.nn.MLP``, its loss function,
     ``zero_grad``, ``backward``, the update). A step takes seconds, so the worker
     times only the first ``--micrograd-steps`` steps and the parent **extrapolates**
     the mean step time to 100 steps (the output says so).
   * chainrule runs the whole 100 steps with ``nn.fit`` (the same data, the same
     schedule; the L2 term leaves biases out, as the course says) and reports the
     training accuracy of the final model: once on the eager scalar engine, and once
     with ``compiled=True`` (the model and loss traced once into a NumPy tape).

   Targets: chainrule reaches 100% training accuracy, and its whole run is at least
   40x faster than micrograd's (extrapolated) 100 steps.
2. **Where chainrule's time goes** in one demo step: building the forward graph,
   the backward pass (topological order and the chain-rule loop), the SGD update,
   and the cyclic garbage collector's share; plus the top functions of a cProfile run.
3. **scikit-learn's digits** (1,797 8x8 images, 10 classes): 75/25 stratified split,
   pixels / 16, ``MLP(64, [32, 10])`` with tanh and linear outputs, cross-entropy on
   the logits, SGD with momentum 0.9, lr 0.02, mini-batches of 16. Time per epoch and
   test accuracy after each epoch, eager and compiled. Target: test accuracy >= 95%.

Timings are wall-clock and CPU time (``time.process_time``): on a shared machine the
CPU time is the steadier of the two; both ratios are printed.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, format_seconds, module_available, run_worker

SEED = 1337
DEMO_STEPS = 100
L2 = 1e-4


# ---------------------------------------------------------------------------
# Worker side: one task, one engine, one fresh process.
# ---------------------------------------------------------------------------
def moons() -> tuple[Any, Any]:
    """micrograd's demo data: 100 moons points, labels -1/+1."""
    import numpy as np
    from sklearn.datasets import make_moons

    np.random.seed(SEED)
    X, y = make_moons(n_samples=100, noise=0.1)
    return X, y * 2 - 1


def demo_micrograd(steps: int) -> dict[str, Any]:
    """micrograd's own demo loop, timed step by step (build, backward, update)."""
    import random

    import numpy as np
    from micrograd.engine import Value
    from micrograd.nn import MLP

    X, y = moons()
    random.seed(SEED)
    np.random.seed(SEED)
    model = MLP(2, [16, 16, 1])

    def loss() -> tuple[Any, float]:
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = L2 * sum(p * p for p in model.parameters())
        accuracy = [(yi > 0) == (si.data > 0) for yi, si in zip(y, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    seconds, cpu_seconds, losses, accuracies = [], [], [], []
    for k in range(steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        total_loss, accuracy = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        losses.append(total_loss.data)
        accuracies.append(accuracy)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "loss": losses, "accuracy": accuracies}


def demo_model() -> Any:
    import nn

    return nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=SEED)


def demo_chainrule(compiled: bool) -> dict[str, Any]:
    """The whole demo with nn.fit: 100 full-batch steps, then the final training accuracy."""
    import nn

    X, y = moons()
    start, cpu_start = time.perf_counter(), time.process_time()
    model = demo_model()
    optimizer = nn.SGD(model, lr=nn.LinearDecay(1.0, 0.1, DEMO_STEPS))
    history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=DEMO_STEPS, batch_size=None,
                     l2=L2, progress=False, compiled=compiled)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    final = nn.evaluate(model, X, y, loss="hinge")
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "updates": history.updates, "loss": history.loss,
            "accuracy": history.accuracy, "final_accuracy": final.accuracy, "final_loss": final.loss}


def breakdown_chainrule(steps: int) -> dict[str, Any]:
    """Time the phases of a demo step, with and without the cyclic GC, and profile a few steps."""
    import cProfile
    import io
    import pstats

    import autograd
    import nn
    from autograd.engine import backpropagate, topological_order

    X, y = moons()
    rows = [list(map(float, r)) for r in X]
    labels = [[float(t)] for t in y]
    model = demo_model()
    parameters, weights = model.parameters(), model.weights()
    optimizer = nn.SGD(model, lr=0.1)

    def build() -> Any:
        losses = [nn.hinge(model(r), t) for r, t in zip(rows, labels)]
        return autograd.sum(losses) * (1.0 / len(losses)) + nn.l2_penalty(weights, L2)

    def measure(collect: bool) -> dict[str, float]:
        phases = {"forward": 0.0, "topological_order": 0.0, "backward_loop": 0.0, "update": 0.0,
                  "release": 0.0}
        was = gc.isenabled()
        (gc.enable if collect else gc.disable)()
        try:
            for _ in range(steps):
                t0 = time.process_time()
                total = build()
                t1 = time.process_time()
                order = topological_order(total)
                t2 = time.process_time()
                grads = backpropagate(total, [1.0])
                t3 = time.process_time()
                for p in parameters:
                    p.grad = grads.get(p, 0.0)
                optimizer.step()
                t4 = time.process_time()
                nodes = len(order)
                del total, order, grads
                t5 = time.process_time()
                phases["forward"] += t1 - t0
                phases["topological_order"] += t2 - t1
                # backpropagate sorts the graph itself: its loop alone is the rest.
                phases["backward_loop"] += (t3 - t2) - (t2 - t1)
                phases["update"] += t4 - t3
                phases["release"] += t5 - t4
        finally:
            (gc.enable if was else gc.disable)()
        result = {name: seconds / steps for name, seconds in phases.items()}
        result["step"] = sum(phases.values()) / steps  # the sort is timed once, inside the backward pass
        result["nodes"] = nodes
        return result

    with_gc = measure(collect=True)
    without_gc = measure(collect=False)
    edges = sum(len(autograd.value.parents_of(n)) for n in topological_order(build()))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        total = build()
        autograd.grad(total, parameters)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    return {"gc_on": with_gc, "gc_off": without_gc, "edges": edges, "profile": text.getvalue()}


def digits_chainrule(epochs: int, compiled: bool) -> dict[str, Any]:
    """MLP(64, [32, 10]) on scikit-learn's digits: seconds and test accuracy per epoch."""
    import nn
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(digits.data / 16.0, digits.target, test_size=0.25,
                                                        random_state=0, stratify=digits.target)
    model = nn.MLP(64, [32, 10], activation="tanh", output_activation="identity", init="xavier", seed=0)
    optimizer = nn.SGD(model, lr=0.02, momentum=0.9)
    seconds, test_accuracy, train_loss = [], [], []
    for epoch in range(epochs):
        start = time.perf_counter()
        history = nn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=optimizer, epochs=1,
                         batch_size=16, seed=epoch, progress=False, compiled=compiled)
        seconds.append(time.perf_counter() - start)
        train_loss.append(history.loss[-1])
        test_accuracy.append(nn.evaluate(model, X_test, y_test, loss="cross_entropy").accuracy)
    return {"seconds": seconds, "test_accuracy": test_accuracy, "train_loss": train_loss,
            "train_size": len(X_train), "test_size": len(X_test), "parameters": len(model.parameters())}


def worker(task: str, *args: str) -> None:
    if task == "demo-micrograd":
        emit(demo_micrograd(int(args[0])))
    elif task == "demo-chainrule":
        emit(demo_chainrule(compiled=args[0] == "compiled"))
    elif task == "breakdown":
        emit(breakdown_chainrule(int(args[0])))
    elif task == "digits":
        emit(digits_chainrule(int(args[0]), compiled=args[1] == "compiled"))
    else:
        raise SystemExit(f"unknown worker task {task!r}")


# ---------------------------------------------------------------------------
# Parent side: run the workers and print the report.
# ---------------------------------------------------------------------------
def report_demo(micrograd_steps: int) -> None:
    print("1. micrograd's demo: make_moons(100, noise=0.1), MLP(2, [16, 16, 1]) ReLU, max-margin + 1e-4 L2,")
    print("   100 SGD steps, lr = 1.0 - 0.9 k/100 (each engine in its own fresh process)")
    runs = {mode: run_worker(__file__, "demo-chainrule", mode) for mode in ("eager", "compiled")}
    for mode, run in runs.items():
        label = "nn.fit" if mode == "eager" else "nn.fit(compiled=True)"
        print(f"   chainrule {label + ', 100 steps:':<34}{format_seconds(run['seconds'])} wall, "
              f"{format_seconds(run['cpu_seconds'])} CPU "
              f"({format_seconds(run['seconds'] / DEMO_STEPS)} a step); final training accuracy "
              f"{run['final_accuracy']:.0%}, loss {run['final_loss']:.4f}")
    chainrule = runs["eager"]
    if not module_available("micrograd"):
        print("   micrograd is not installed (pip install micrograd==0.1.0): no ratio")
        return
    micrograd = run_worker(__file__, "demo-micrograd", str(micrograd_steps))
    wall, cpu = micrograd["seconds"], micrograd["cpu_seconds"]
    print(f"   micrograd, first {len(wall)} steps (wall):  " + ", ".join(format_seconds(s) for s in wall))
    wall_estimate = sum(wall) / len(wall) * DEMO_STEPS
    cpu_estimate = sum(cpu) / len(cpu) * DEMO_STEPS
    print(f"   micrograd, 100 steps EXTRAPOLATED:   {format_seconds(wall_estimate)} wall, "
          f"{format_seconds(cpu_estimate)} CPU (mean of the {len(wall)} measured steps x 100; "
          "not run to the end)")
    same_start = abs(micrograd["loss"][0] - chainrule["loss"][0]) < 1e-9
    print(f"   first-step loss: micrograd {micrograd['loss'][0]:.6f}, chainrule {chainrule['loss'][0]:.6f}"
          + ("" if same_start else " (different initial weights: each library draws its own)"))
    for mode, run in runs.items():
        wall_ratio = wall_estimate / run["seconds"]
        cpu_ratio = cpu_estimate / run["cpu_seconds"]
        accurate = run["final_accuracy"] == 1.0
        verdict = "met" if min(wall_ratio, cpu_ratio) >= 40 and accurate else "NOT met"
        print(f"   speed-up, {mode + ':':<10}{wall_ratio:8.1f}x wall-clock, {cpu_ratio:8.1f}x CPU time "
              f"(target >= 40x with 100% training accuracy: {verdict})")


def report_breakdown(steps: int) -> None:
    print(f"\n2. Where a chainrule demo step goes (CPU time, mean of {steps} steps, in a fresh process)")
    result = run_worker(__file__, "breakdown", str(steps))
    on, off = result["gc_on"], result["gc_off"]
    print(f"   graph: {on['nodes']} nodes, {result['edges']} edges (operand links) per step")
    print(f"   {'phase':<22}{'GC on':>12}{'GC off':>12}")
    for phase in ("forward", "topological_order", "backward_loop", "update", "release", "step"):
        print(f"   {phase:<22}{format_seconds(on[phase]):>12}{format_seconds(off[phase]):>12}")
    print("   (nn.fit pauses the cyclic GC while a batch's graph is alive: the graph has no cycles)")
    print("   cProfile of 3 steps (forward + autograd.grad), by own time:")
    lines = result["profile"].strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    for line in lines[start:]:
        print("     " + line.replace(str(Path(__file__).resolve().parent.parent) + "/", ""))


def report_digits(epochs: int) -> None:
    print(f"\n3. scikit-learn digits: MLP(64, [32, 10]) tanh, cross-entropy, SGD momentum 0.9, lr 0.02, "
          f"batches of 16, {epochs} epochs")
    if not module_available("sklearn"):
        print("   scikit-learn is not installed: skipped")
        return
    for mode in ("eager", "compiled"):
        result = run_worker(__file__, "digits", str(epochs), mode)
        print(f"   {mode}: {result['train_size']} training / {result['test_size']} test images, "
              f"{result['parameters']} parameters")
        for epoch, (seconds, accuracy, loss) in enumerate(zip(result["seconds"], result["test_accuracy"],
                                                              result["train_loss"])):
            print(f"   epoch {epoch + 1:>2}: {format_seconds(seconds):>8}, training loss {loss:.4f}, "
                  f"test accuracy {accuracy:.1%}")
        mean = sum(result["seconds"]) / len(result["seconds"])
        final = result["test_accuracy"][-1]
        print(f"   {mode}: mean {format_seconds(mean)} an epoch; final test accuracy {final:.1%} "
              f"(target >= 95%: {'met' if final >= 0.95 else 'NOT met'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--micrograd-steps", type=int, default=5,
                        help="micrograd steps to time before extrapolating to 100 (default 5)")
    parser.add_argument("--breakdown-steps", type=int, default=5, help="steps timed per phase (default 5)")
    parser.add_argument("--digits-epochs", type=int, default=8, help="epochs on digits (default 8)")
    parser.add_argument("--skip", action="append", default=[], choices=["demo", "breakdown", "digits"],
                        help="leave a part out (repeatable)")
    args = parser.parse_args(argv)
    print(f"chainrule nn benchmark - Python {platform.python_version()}, {platform.machine()}, "
          f"load average {_load_average()}")
    if "demo" not in args.skip:
        report_demo(args.micrograd_steps)
    if "breakdown" not in args.skip:
        report_breakdown(args.breakdown_steps)
    if "digits" not in args.skip:
        report_digits(args.digits_epochs)
    return 0


def _load_average() -> str:
    try:
        import os

        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "unknown"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:])
    else:
        sys.exit(main())
