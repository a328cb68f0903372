"""Engine benchmark: chainrule against micrograd 0.1.0 on the same graphs.

Usage, from the repository root::

    pip install ".[bench]"               # micrograd 0.1.0 (PyPI) and scikit-learn
    python benchmarks/bench_engine.py    # 1-2 minutes; --help for the knobs

Every measurement runs each engine in its own fresh ``python`` process with the
interpreter's default settings (cyclic GC on, default recursion limit), one after
the other, and the script prints the figures side by side with their ratio. It
checks issue 2's three requirements and says whether each is met; it always exits
0 (a benchmark is not a test: the figures depend on the machine and its load).

1. **micrograd's demo** (its ``demo.ipynb``): 100 moons points
   (``sklearn.datasets.make_moons(100, noise=0.1, random_state=1)``; a built-in
   generator of the same shape if scikit-learn is missing), ``MLP(2, [16, 16, 1])``
   with ReLU, a max-margin loss plus 1e-4 L2. Both engines build the *same* graph
   from binary ``+`` and ``*`` only (no fused nodes): micrograd uses its own
   ``micrograd.nn.MLP`` as shipped, chainrule a line-for-line copy of it over
   ``autograd.Value`` (same seed, so the same weights; the script checks that both
   losses agree). One step = build the loss, ``backward()``, and release the graph;
   the zeroing and the SGD update are not timed. The engines take turns over
   ``--rounds`` processes of ``--steps`` steps each (so a change in the machine's
   load hits both alike); the table shows the median and the minimum of the pooled
   steps. Requirement: chainrule at least 5x faster (median step).
   **The training step as users write it**: micrograd's demo loop as shipped (its
   ``MLP``, loss, ``zero_grad()``, ``backward()``, SGD update) against the same loop
   over chainrule's ``nn.MLP`` with ``nn.hinge`` and ``nn.l2_penalty`` (which leaves
   the biases out, as the course's L2 does). Both steps are timed whole, the graph's
   release included. Target (issue 13): chainrule at least 40x
   faster (median step; 60x the moonshot); the range is over the rounds.
2. **A 1,000,000-node chain** ``y = y + c``: chainrule runs forward and backward
   (and a 100,000-node chain, to show the time is linear); micrograd builds it but
   its recursive ``backward()`` raises ``RecursionError``. chainrule also runs
   ``y = y + 1.0`` a million times (a Constant node for each 1.0: 2,000,000 nodes)
   and a mixed chain of 250,000 links ``(y * 1.0000001 + 0.5).tanh() - 0.25`` (1,000,000
   op nodes). Target (issue 13): forward plus backward under 2 s each.
3. **Memory per node** with ``tracemalloc``: the bytes a built graph holds, divided
   by its number of nodes, for the demo's loss graph and a 100,000-node chain.
   Requirement: chainrule at most a third of micrograd.

The worker side of the script (``--worker TASK ENGINE ...``) is what runs in the
child processes; see :mod:`benchmarks._common`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (emit, format_bytes, format_seconds, median_and_min,
                     module_available, run_worker)

ENGINES = ("chainrule", "micrograd")
SEED = 1337  # micrograd's demo seeds random with 1337 before making the MLP
L2_ALPHA = 1e-4


# ---------------------------------------------------------------------------
# Worker side: runs inside a fresh process, one engine per process.
# ---------------------------------------------------------------------------
def load_engine(name: str) -> tuple[type, Callable[[int, list[int]], Any]]:
    """The engine's ``Value`` class and a ``make_mlp(nin, nouts)`` for it."""
    if name == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        return Value, MLP
    if name == "chainrule":
        from autograd import Value

        return Value, lambda nin, nouts: MicrogradStyleMLP(Value, nin, nouts)
    raise ValueError(f"unknown engine {name!r}; expected one of {ENGINES}")


class MicrogradStyleMLP:
    """``micrograd.nn.MLP`` line for line, over any ``Value`` class.

    A neuron is ``sum((wi*xi for ...), b)`` (binary ``*`` and ``+``) then ``relu``,
    and the weights are drawn in micrograd's order, so with the same seed both
    engines get the same weights and build graphs of the same shape.
    """

    def __init__(self, value: type, nin: int, nouts: list[int]) -> None:
        sizes = [nin] + nouts
        self.layers = [[self._neuron(value, sizes[i]) for _ in range(sizes[i + 1])]
                       for i in range(len(nouts))]
        self.nonlinear = [i != len(nouts) - 1 for i in range(len(nouts))]

    @staticmethod
    def _neuron(value: type, nin: int) -> tuple[list, Any]:
        return [value(random.uniform(-1, 1)) for _ in range(nin)], value(0)

    def __call__(self, x: list) -> Any:
        for layer, nonlinear in zip(self.layers, self.nonlinear):
            out = []
            for w, b in layer:
                act = sum((wi * xi for wi, xi in zip(w, x)), b)
                out.append(act.relu() if nonlinear else act)
            x = out[0] if len(out) == 1 else out
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for w, b in layer for p in w + [b]]


def moons(n: int = 100) -> tuple[list[list[float]], list[float]]:
    """micrograd's demo data: two interleaved half circles, labels -1 and +1."""
    try:
        from sklearn.datasets import make_moons
    except ImportError:
        return _moons_without_sklearn(n)
    points, labels = make_moons(n_samples=n, noise=0.1, random_state=1)
    return points.tolist(), [float(2 * label - 1) for label in labels]


def _moons_without_sklearn(n: int) -> tuple[list[list[float]], list[float]]:
    import math

    rng = random.Random(1)
    points, labels = [], []
    for i in range(n):
        upper = i < n // 2
        t = math.pi * (i % (n // 2)) / (n // 2 - 1)
        x, y = (math.cos(t), math.sin(t)) if upper else (1 - math.cos(t), 0.5 - math.sin(t))
        points.append([x + rng.gauss(0, 0.1), y + rng.gauss(0, 0.1)])
        labels.append(-1.0 if upper else 1.0)
    return points, labels


def demo_loss(value: type, model: Any, points: list, labels: list) -> Any:
    """micrograd's demo loss: SVM max-margin loss plus 1e-4 L2, built from + and * only."""
    inputs = [list(map(value, row)) for row in points]
    scores = list(map(model, inputs))
    losses = [(1 + -label * score).relu() for label, score in zip(labels, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = L2_ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def count_nodes(root: Any) -> int:
    """The nodes of either engine's graph (an explicit stack: chains are deep)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        parents = node._prev if hasattr(node, "_prev") else node.parents
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def chain(value: type, length: int, kind: str = "value") -> tuple[Any, Any, Any]:
    """``y = y + c`` repeated: ``length`` add nodes in a row, plus the leaves x and c.

    ``kind`` "constant" adds the number 1.0 instead of c (a Constant node each time);
    "mixed" makes ``length // 4`` links of mul, add, tanh and sub (``length`` op nodes).
    """
    x, c = value(1.0), value(1e-6)
    y = x
    if kind == "mixed":
        for _ in range(length // 4):
            y = (y * 1.0000001 + 0.5).tanh() - 0.25
    elif kind == "constant":
        for _ in range(length):
            y = y + 1.0
    else:
        for _ in range(length):
            y = y + c
    return x, c, y


def worker_demo(engine: str, steps: int, data: Path) -> dict[str, Any]:
    value, make_mlp = load_engine(engine)
    points, labels = json.loads(data.read_text())
    random.seed(SEED)
    model = make_mlp(2, [16, 16, 1])
    forward, backward, total, first_loss, nodes = [], [], [], None, 0
    for k in range(steps + 1):  # step 0 warms up and is not counted
        start = time.perf_counter()
        loss = demo_loss(value, model, points, labels)
        built = time.perf_counter()
        loss.backward()
        done = time.perf_counter()
        loss_data = float(loss.data)
        if k == 0:
            first_loss, nodes = loss_data, count_nodes(loss)
        del loss  # releasing the graph is part of a step's cost
        released = time.perf_counter()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad  # micrograd's demo learning rate
            p.grad = 0.0
        if k:
            forward.append(built - start)
            backward.append(done - built)
            total.append(released - start)
    return {"engine": engine, "step": total, "forward": forward, "backward": backward,
            "first_loss": first_loss, "last_loss": loss_data, "nodes": nodes}


def worker_training(engine: str, steps: int, data: Path) -> dict[str, Any]:
    """micrograd's demo training step as written with each library: seconds per step."""
    points, labels = json.loads(data.read_text())
    random.seed(SEED)
    if engine == "micrograd":
        from micrograd.engine import Value
        from micrograd.nn import MLP

        model: Any = MLP(2, [16, 16, 1])

        def demo_loss() -> Any:  # micrograd's demo.ipynb
            scores = [model(list(map(Value, row))) for row in points]
            losses = [(1 + -label * score).relu() for label, score in zip(labels, scores)]
            return sum(losses) * (1.0 / len(losses)) + L2_ALPHA * sum(p * p for p in model.parameters())
    else:
        import nn

        model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=SEED)

        def demo_loss() -> Any:  # the same with nn's hinge loss and L2 penalty (on the weights)
            scores = [model(row)[0] for row in points]
            return nn.hinge(scores, labels) * (1.0 / len(scores)) + nn.l2_penalty(model, L2_ALPHA)
    parameters = model.parameters()
    seconds, cpu_seconds = [], []
    for k in range(steps + 1):  # step 0 warms up and is not counted
        start, cpu_start = time.perf_counter(), time.process_time()
        loss = demo_loss()
        model.zero_grad()
        loss.backward()
        for p in parameters:
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        del loss
        if k:
            seconds.append(time.perf_counter() - start)
            cpu_seconds.append(time.process_time() - cpu_start)
    return {"engine": engine, "step": seconds, "cpu": cpu_seconds}


def worker_chain(engine: str, length: int, data: Path, kind: str = "value") -> dict[str, Any]:
    value, _ = load_engine(engine)
    start = time.perf_counter()
    x, c, y = chain(value, length, kind)
    built = time.perf_counter()
    result: dict[str, Any] = {"engine": engine, "length": length, "forward": built - start,
                              "recursion_limit": sys.getrecursionlimit()}
    try:
        y.backward()
    except RecursionError as error:
        result["error"] = f"RecursionError: {error}"
        return result
    result["backward"] = time.perf_counter() - built
    result["grads_exact"] = kind != "value" or (x.grad == 1.0 and abs(c.grad - length) < 1e-9 * length)
    return result


def worker_memory(engine: str, chain_length: int, data: Path) -> dict[str, Any]:
    import tracemalloc

    value, make_mlp = load_engine(engine)
    points, labels = json.loads(data.read_text())
    random.seed(SEED)
    model = make_mlp(2, [16, 16, 1])
    builds = {"demo": lambda: demo_loss(value, model, points, labels),
              "chain": lambda: chain(value, chain_length)[2]}
    result: dict[str, Any] = {"engine": engine}
    for name, build in builds.items():
        tracemalloc.start()
        root = build()
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        nodes = count_nodes(root)
        result[name] = {"bytes": held, "nodes": nodes, "per_node": held / nodes}
        del root
    return result


WORKERS: dict[str, Callable[[str, int, Path], dict[str, Any]]] = {
    "demo": worker_demo, "training": worker_training, "chain": worker_chain, "memory": worker_memory,
    "chain-constant": lambda engine, length, data: worker_chain(engine, length, data, "constant"),
    "chain-mixed": lambda engine, length, data: worker_chain(engine, length, data, "mixed")}


# ---------------------------------------------------------------------------
# Parent side: runs the workers and prints the table.
# ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed demo steps per process (default 5)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="demo processes per engine, alternating engines (default 3)")
    parser.add_argument("--training-steps", type=int, nargs=2, default=(20, 3), metavar=("OURS", "THEIRS"),
                        help="timed training steps per process, chainrule and micrograd (default 20 3)")
    parser.add_argument("--chain", type=int, default=1_000_000, help="length of the long chain")
    parser.add_argument("--worker", nargs=4, metavar=("TASK", "ENGINE", "SIZE", "DATA"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        task, engine, size, data = args.worker
        emit(WORKERS[task](engine, int(size), Path(data)))
        return 0

    if not module_available("micrograd"):
        print("micrograd is not installed: from the repository root run\n"
              '    pip install ".[bench]"\n'
              "(micrograd 0.1.0 from PyPI, and scikit-learn for the moons data).")
        return 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"chainrule vs micrograd 0.1.0 - Python {platform.python_version()} on "
          f"{platform.machine()}, each engine in its own process, GC on, load average {load}\n")
    demo, training, chains, linear, memory = measure(args)
    report_demo(demo)
    report_training(training)
    report_chain(chains, linear)
    report_memory(memory)
    return 0


def measure(args: argparse.Namespace) -> tuple[Any, ...]:
    """Run every worker, each in its own process: demo, training, chains and memory results."""
    script = Path(__file__).resolve()
    short_chain = max(1, args.chain // 10)
    # The data is made here and handed to the workers in a file: importing
    # scikit-learn in a worker would add ~80,000 objects for its cyclic GC to scan
    # on every full collection, a cost that belongs to neither engine.
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "moons.json"
        data.write_text(json.dumps(moons()))

        def run(task: str, engine: str, size: int) -> dict[str, Any]:
            return run_worker(script, task, engine, str(size), str(data))

        # Alternate the engines over several rounds and pool the steps, so a change
        # in the machine's load affects both engines alike.
        demo: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for engine in ENGINES:
                result = run("demo", engine, args.steps)
                pooled = demo.setdefault(engine, result)
                if pooled is not result:
                    for part in ("step", "forward", "backward"):
                        pooled[part] += result[part]
        training: dict[str, list[dict[str, list[float]]]] = {engine: [] for engine in ENGINES}
        for _ in range(args.rounds):
            for engine, steps in zip(ENGINES, args.training_steps):
                training[engine].append(run("training", engine, steps))
        chains = {e: run("chain", e, args.chain) for e in ENGINES}
        for kind in ("constant", "mixed"):
            chains[kind] = run(f"chain-{kind}", "chainrule", args.chain)
        linear = run("chain", "chainrule", short_chain)
        memory = {e: run("memory", e, short_chain) for e in ENGINES}
    return demo, training, chains, linear, memory


def _row(name: str, ours: str, theirs: str, ratio: str) -> None:
    print(f"  {name:<30} {ours:>14} {theirs:>16}   {ratio}")


def report_demo(demo: dict[str, dict]) -> None:
    ours, theirs = demo["chainrule"], demo["micrograd"]
    same = abs(ours["first_loss"] - theirs["first_loss"]) <= 1e-9 * abs(theirs["first_loss"])
    print(f"1. micrograd's demo step (MLP(2, [16, 16, 1]), 100 moons, max-margin + L2), "
          f"{len(ours['step'])} steps per engine")
    print(f"   graph: {ours['nodes']} nodes (chainrule), {theirs['nodes']} (micrograd); "
          f"first loss {ours['first_loss']:.12f} vs {theirs['first_loss']:.12f}: "
          f"{'the same graph' if same else 'GRAPHS DIFFER'}")
    _row("", "chainrule", "micrograd", "speed-up")
    for part in ("step", "forward", "backward"):
        for stat, index in (("median", 0), ("min", 1)):
            a, b = median_and_min(ours[part])[index], median_and_min(theirs[part])[index]
            _row(f"{part} ({stat})", format_seconds(a), format_seconds(b), f"{b / a:.1f}x")
    speedup = median_and_min(theirs["step"])[0] / median_and_min(ours["step"])[0]
    print(f"   requirement: forward + backward >= 5x faster (median step): "
          f"{'met' if speedup >= 5 else 'NOT met'} ({speedup:.1f}x)\n")


def report_training(training: dict[str, list[dict[str, list[float]]]]) -> None:
    ours, theirs = training["chainrule"], training["micrograd"]
    print(f"   the training step as users write it (micrograd's demo loop; nn.MLP, nn.hinge and "
          f"nn.l2_penalty for chainrule), {len(ours)} rounds of {len(ours[0]['step'])} and "
          f"{len(theirs[0]['step'])} steps")
    _row("", "chainrule", "micrograd", "speed-up")
    speedups = {}
    for clock, name in (("step", "wall"), ("cpu", "CPU")):
        pooled = [median_and_min([s for run in runs for s in run[clock]]) for runs in (ours, theirs)]
        for stat, index in (("median", 0), ("min", 1)):
            a, b = pooled[0][index], pooled[1][index]
            _row(f"step, {name} ({stat})", format_seconds(a), format_seconds(b), f"{b / a:.1f}x")
        per_round = [median_and_min(b[clock])[0] / median_and_min(a[clock])[0] for a, b in zip(ours, theirs)]
        speedups[name] = (pooled[1][0] / pooled[0][0], min(per_round), max(per_round))
    wall = speedups["wall"][0]
    figures = "; ".join(f"{name} {speedup:.1f}x (rounds {low:.1f}x to {high:.1f}x)"
                        for name, (speedup, low, high) in speedups.items())
    print(f"   target: >= 40x (moonshot 60x), median step: {'met' if wall >= 40 else 'NOT met'}: {figures}\n")


def report_chain(chains: dict[str, dict], linear: dict) -> None:
    ours, theirs = chains["chainrule"], chains["micrograd"]
    length = ours["length"]
    print(f"2. a chain of {length:,} nodes (y = y + c), default recursion limit "
          f"{ours['recursion_limit']}")
    _row("", "chainrule", "micrograd", "")
    _row("forward", format_seconds(ours["forward"]), format_seconds(theirs["forward"]), "")
    _row("backward", format_seconds(ours["backward"]) if "backward" in ours else ours.get("error", "")[:14],
         "RecursionError" if "error" in theirs else format_seconds(theirs["backward"]), "")
    per_node_long = (ours["forward"] + ours["backward"]) / length
    per_node_short = (linear["forward"] + linear["backward"]) / linear["length"]
    _row(f"per node at {length:,}", format_seconds(per_node_long), "", "")
    _row(f"per node at {linear['length']:,}", format_seconds(per_node_short), "", "")
    met = "backward" in ours and ours["grads_exact"] and "error" in theirs
    print(f"   requirement: chainrule runs it (exact gradients: {ours.get('grads_exact')}), micrograd "
          f"raises RecursionError: {'met' if met else 'NOT met'}")
    if "error" in theirs:
        print(f"   micrograd: {theirs['error'][:100]}")
    for kind, text in (("chainrule", "y = y + c"), ("constant", "y = y + 1.0 (2x the nodes)"),
                       ("mixed", "(y * k + 0.5).tanh() - 0.25")):
        run = chains[kind]
        seconds = run["forward"] + run["backward"]
        print(f"   chainrule, {text}: {format_seconds(run['forward'])} + {format_seconds(run['backward'])} = "
              f"{format_seconds(seconds)}; target < 2 s: {'met' if seconds < 2 else 'NOT met'}")
    print()


def report_memory(memory: dict[str, dict]) -> None:
    print("3. memory held by a built graph, per node (tracemalloc)")
    _row("", "chainrule", "micrograd", "chainrule/micrograd")
    worst = 0.0
    for graph, name in (("demo", "demo loss graph"), ("chain", "chain")):
        ours, theirs = memory["chainrule"][graph], memory["micrograd"][graph]
        ratio = ours["per_node"] / theirs["per_node"]
        worst = max(worst, ratio)
        _row(f"{name} ({ours['nodes']:,} nodes)", format_bytes(ours["per_node"]),
             format_bytes(theirs["per_node"]), f"{ratio:.2f}")
    print(f"   requirement: at most 1/3 of micrograd's: {'met' if worst <= 1 / 3 else 'NOT met'} "
          f"(worst {worst:.2f})")


if __name__ == "__main__":
    sys.exit(main())
