"""nn benchmark: nn.fit on micrograd's demo, the digits, the course's NumPy example and exercise 1.

Usage, from the repository root::

    pip install ".[bench]"                             # micrograd 0.1.0 and scikit-learn
    python benchmarks/bench_nn.py                      # 5-10 minutes; --help for options
    python benchmarks/bench_nn.py --update-readme      # the same, and the README's nn table rewritten

Each engine runs in its own fresh ``python`` process (see :mod:`benchmarks._common`),
one after the other, and the parent prints the figures and their ratios. The script
always exits 0: it reports whether each target is met on this machine
under its current load, it does not assert.

1. **micrograd's demo** (``demo.ipynb``): ``make_moons(100, noise=0.1)`` after
   ``np.random.seed(1337)``, labels -1/+1, ``MLP(2, [16, 16, 1])`` with ReLU hidden
   layers and a linear output, the max-margin loss plus 1e-4 L2, 100 full-batch SGD
   steps with lr = 1.0 - 0.9 k / 100.

   * micrograd runs its own demo loop (its ``micrograd.nn.MLP``, its loss function,
     ``zero_grad``, ``backward``, the update) on the same data as Python floats, which
     the parent writes to a JSON file: its process imports neither NumPy nor
     scikit-learn (see ``_tasks.py``: they made its steps slower). A step takes seconds, so the worker
     times only the first ``--micrograd-steps`` steps and the parent **extrapolates**
     the mean step time to 100 steps (the output says so).
   * chainrule runs the whole 100 steps with ``nn.fit`` (the same data, the same
     schedule; the L2 term leaves biases out, as the course says) and reports the
     training accuracy of the final model: once on the eager scalar engine
     (``compiled=False``), and once with fit's defaults (``compiled="auto"``: the
     model and loss traced once into a NumPy tape).

   Targets: chainrule reaches 100% training accuracy; its whole run is at least 40x
   faster than micrograd's (extrapolated) 100 steps eagerly, 1,000x with the defaults.
2. **Where chainrule's time goes** in one demo step: building the forward graph,
   the backward pass (topological order and the chain-rule loop), the SGD update,
   and the cyclic garbage collector's share; plus the top functions of a cProfile run.
3. **scikit-learn's digits** (1,797 8x8 images, 10 classes): 75/25 stratified split,
   pixels / 16, ``MLP(64, [32, 10])`` with tanh and linear outputs, cross-entropy on
   the logits, SGD with momentum 0.9, lr 0.02, mini-batches of 16. Time per epoch and
   test accuracy after each epoch, eager and compiled. Target: test accuracy >= 95%.
4. **The course's NumPy example** (N 64, 1000-100-10, sigmoid hidden units, linear
   outputs, no biases, the sum of squares summed over the batch, lr 1e-4, full batch,
   2,000 steps) trained by ``nn.fit`` with its defaults, against ``autograd.compile``
   used directly and the course's own NumPy loop (both from ``bench_compile``), each in
   its own process. ``nn.fit``'s time is split into its loop and its one-time setup
   (data checks, trace and compile: ``fit`` with ``epochs=0``). Target: the loop within
   1.3x of both references, the same final loss.
5. **Exercise 1 online**: the 2-3-2 sigmoid net on XOR and AND (4 rows), bce, lr 0.25,
   ``batch_size=1``, 5,000 epochs: ``nn.fit``'s default against ``compiled=False`` (and
   ``compiled=True``). Target: the default no slower.

Parts 4 and 5 take the best of 5 and 3 rounds in which the engines take turns; part 4
also prints each round's ratio.

Every worker runs NumPy on one BLAS thread (set by ``bench_compile`` on import).
Timings are wall-clock and CPU time (``time.process_time``): on a shared machine the
CPU time is the steadier of the two; both ratios are printed.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, format_seconds, load_average, module_available, run_worker, write_between_markers

import bench_compile  # one BLAS thread for every worker, as in bench_compile
from _tasks import DEMO_STEPS, L2, SEED, course_fit, micrograd_demo, read_moons, write_moons

COURSE_STEPS = 2000
ONLINE_EPOCHS = 5000
ROUNDS = 3
# The course example's three engines take 2-3 s a run, and a load peak on the shared machine
# can cover all of one engine's runs in three rounds (a run gave 1.69x where the others gave
# 1.12x-1.27x): five rounds make that rarer, and each round's ratio is printed.
COURSE_ROUNDS = 5


# ---------------------------------------------------------------------------
# Worker side: one task, one engine, one fresh process.
# ---------------------------------------------------------------------------
def demo_model() -> Any:
    import nn

    return nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=SEED)


def demo_chainrule(mode: str, data_path: str) -> dict[str, Any]:
    """The whole demo with nn.fit: 100 full-batch steps, then the final training accuracy.

    ``mode`` "auto" leaves ``compiled`` at fit's default; "eager" and "compiled" force it."""
    import nn

    X, y = read_moons(data_path)  # the floats micrograd's worker trains on
    options = {} if mode == "auto" else {"compiled": mode == "compiled"}
    # fit imports the compiler on first use; imported here, before the clock, as micrograd's
    # modules are (and as bench_compile does), and timed on its own
    start = time.perf_counter()
    import nn.compiled
    imports = time.perf_counter() - start
    start, cpu_start = time.perf_counter(), time.process_time()
    model = demo_model()
    optimizer = nn.SGD(model, lr=nn.LinearDecay(1.0, 0.1, DEMO_STEPS))
    history = nn.fit(model, X, y, loss="hinge", optimizer=optimizer, epochs=DEMO_STEPS, batch_size=None,
                     l2=L2, progress=False, **options)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    final = nn.evaluate(model, X, y, loss="hinge")
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "updates": history.updates, "loss": history.loss,
            "accuracy": history.accuracy, "final_accuracy": final.accuracy, "final_loss": final.loss,
            "engine": history.engine, "imports": imports}


def demo_step_parts(data_path: str) -> tuple[Any, list[Any], Any]:
    """The demo's step as the breakdown times it: ``build()`` (the forward graph of the whole batch's
    loss), the parameters, and an SGD optimizer over them."""
    import autograd
    import nn

    rows, y = read_moons(data_path)
    labels = [[t] for t in y]
    model = demo_model()
    weights = model.weights()

    def build() -> Any:
        losses = [nn.hinge(model(r), t) for r, t in zip(rows, labels)]
        return autograd.sum(losses) * (1.0 / len(losses)) + nn.l2_penalty(weights, L2)

    return build, model.parameters(), nn.SGD(model, lr=0.1)


def time_phases(build: Any, parameters: list[Any], optimizer: Any, steps: int,
                collect: bool) -> dict[str, float]:
    """CPU seconds of each phase of a demo step (mean of ``steps``), the cyclic GC on or off."""
    from autograd.engine import backpropagate, topological_order

    phases = {"forward": 0.0, "topological_order": 0.0, "backward_loop": 0.0, "update": 0.0, "release": 0.0}
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


def profile_steps(build: Any, parameters: list[Any], steps: int = 3) -> str:
    """The top functions, by own time, of a cProfile run of ``steps`` demo steps (forward + grad)."""
    import cProfile
    import io
    import pstats

    import autograd

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        autograd.grad(build(), parameters)
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    return text.getvalue()


def breakdown_chainrule(steps: int, data_path: str) -> dict[str, Any]:
    """Time the phases of a demo step, with and without the cyclic GC, and profile a few steps."""
    import autograd
    from autograd.engine import topological_order

    build, parameters, optimizer = demo_step_parts(data_path)
    with_gc = time_phases(build, parameters, optimizer, steps, collect=True)
    without_gc = time_phases(build, parameters, optimizer, steps, collect=False)
    edges = sum(len(autograd.value.parents_of(n)) for n in topological_order(build()))
    profile = profile_steps(build, parameters)
    return {"gc_on": with_gc, "gc_off": without_gc, "edges": edges, "profile": profile}


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


EXERCISE_X = [[0, 0], [0, 1], [1, 0], [1, 1]]
EXERCISE_Y = [[0, 0], [1, 0], [1, 0], [0, 1]]  # output 1 XOR, output 2 AND


def online_exercise(mode: str, epochs: int) -> dict[str, Any]:
    """The course's exercise 1 (part 3) online: 2-3-2 sigmoid net, bce, lr 0.25, batch_size=1."""
    import nn

    # imported before the clock in every mode, as in the demo: NumPy and the compiler load once a
    # process (150 ms here), which "auto" and True would pay, and the eager mode never loads
    start = time.perf_counter()
    import nn.compiled
    imports = time.perf_counter() - start
    options = {} if mode == "auto" else {"compiled": mode == "compiled"}
    model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=SEED)
    start = time.perf_counter()
    history = nn.fit(model, EXERCISE_X, EXERCISE_Y, loss="bce", lr=0.25, epochs=epochs, batch_size=1,
                     seed=SEED, progress=False, **options)
    return {"seconds": time.perf_counter() - start, "final_loss": history.loss[-1], "engine": history.engine,
            "updates": history.updates, "imports": imports}


def worker(task: str, *args: str) -> None:
    if task == "demo-micrograd":
        emit(micrograd_demo(int(args[0]), args[1]))
    elif task == "demo-chainrule":
        emit(demo_chainrule(args[0], args[1]))
    elif task == "breakdown":
        emit(breakdown_chainrule(int(args[0]), args[1]))
    elif task == "digits":
        emit(digits_chainrule(int(args[0]), compiled=args[1] == "compiled"))
    elif task == "course-fit":
        emit(course_fit(int(args[0])))
    elif task == "online":
        emit(online_exercise(args[0], int(args[1])))
    else:
        raise SystemExit(f"unknown worker task {task!r}")


# ---------------------------------------------------------------------------
# Parent side: run the workers and print the report.
# ---------------------------------------------------------------------------
def report_demo(micrograd_steps: int, rows: list[tuple[str, str, str, str]], data: str) -> None:
    print("1. micrograd's demo: make_moons(100, noise=0.1), MLP(2, [16, 16, 1]) ReLU, max-margin + 1e-4 L2,")
    print("   100 SGD steps, lr = 1.0 - 0.9 k/100 (each engine in its own fresh process)")
    runs = {mode: run_worker(__file__, "demo-chainrule", mode, data) for mode in ("eager", "auto")}
    for mode, run in runs.items():
        label = "nn.fit(compiled=False)" if mode == "eager" else "nn.fit (defaults)"
        print(f"   chainrule {label + ', 100 steps:':<34}{format_seconds(run['seconds'])} wall, "
              f"{format_seconds(run['cpu_seconds'])} CPU "
              f"({format_seconds(run['seconds'] / DEMO_STEPS)} a step); final training accuracy "
              f"{run['final_accuracy']:.0%}, loss {run['final_loss']:.4f}; importing the compiler "
              f"before: {format_seconds(run['imports'])}")
    if not module_available("micrograd"):
        print("   micrograd is not installed (pip install micrograd==0.1.0): no ratio")
        return
    micrograd = run_worker(__file__, "demo-micrograd", str(micrograd_steps), data)
    wall, cpu = micrograd["seconds"], micrograd["cpu_seconds"]
    print(f"   micrograd, first {len(wall)} steps (wall):  " + ", ".join(format_seconds(s) for s in wall))
    wall_estimate = sum(wall) / len(wall) * DEMO_STEPS
    cpu_estimate = sum(cpu) / len(cpu) * DEMO_STEPS
    print(f"   micrograd, 100 steps EXTRAPOLATED:   {format_seconds(wall_estimate)} wall, "
          f"{format_seconds(cpu_estimate)} CPU (mean of the {len(wall)} measured steps x 100; "
          "not run to the end)")
    for mode, run in runs.items():
        wall_ratio = wall_estimate / run["seconds"]
        cpu_ratio = cpu_estimate / run["cpu_seconds"]
        target = 40 if mode == "eager" else 1000
        accurate = run["final_accuracy"] == 1.0
        verdict = "met" if min(wall_ratio, cpu_ratio) >= target and accurate else "NOT met"
        print(f"   speed-up, {mode + ':':<10}{wall_ratio:8.1f}x wall-clock, {cpu_ratio:8.1f}x CPU time "
              f"(target >= {target:,}x with 100% training accuracy: {verdict})")
        label = "eager (`compiled=False`)" if mode == "eager" else f"defaults (engine {run['engine']})"
        rows.append((f"nn.fit {label}, micrograd's demo, 100 steps ({run['final_accuracy']:.0%} accuracy)",
                     format_seconds(run["seconds"]), f"micrograd ~{format_seconds(wall_estimate)} "
                     f"({len(wall)} steps x {DEMO_STEPS // len(wall)})", f"**{wall_ratio:,.0f}x** faster"))


def report_breakdown(steps: int, data: str) -> None:
    print(f"\n2. Where a chainrule demo step goes (CPU time, mean of {steps} steps, in a fresh process)")
    result = run_worker(__file__, "breakdown", str(steps), data)
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


def report_digits(epochs: int, rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\n3. scikit-learn digits: MLP(64, [32, 10]) tanh, cross-entropy, SGD momentum 0.9, lr 0.02, "
          f"batches of 16, {epochs} epochs")
    if not module_available("sklearn"):
        print("   scikit-learn is not installed: skipped")
        return
    means = {}
    for mode in ("eager", "compiled"):
        result = run_worker(__file__, "digits", str(epochs), mode)
        print(f"   {mode}: {result['train_size']} training / {result['test_size']} test images, "
              f"{result['parameters']} parameters")
        for epoch, (seconds, accuracy, loss) in enumerate(zip(result["seconds"], result["test_accuracy"],
                                                              result["train_loss"])):
            print(f"   epoch {epoch + 1:>2}: {format_seconds(seconds):>8}, training loss {loss:.4f}, "
                  f"test accuracy {accuracy:.1%}")
        mean = means[mode] = sum(result["seconds"]) / len(result["seconds"])
        final = result["test_accuracy"][-1]
        print(f"   {mode}: mean {format_seconds(mean)} an epoch; final test accuracy {final:.1%} "
              f"(target >= 95%: {'met' if final >= 0.95 else 'NOT met'})")
    rows.append((f"nn.fit, digits `MLP(64, [32, 10])`, one epoch, batches of 16 ({final:.1%} test accuracy)",
                 f"tape {format_seconds(means['compiled'])}", f"eager {format_seconds(means['eager'])}",
                 f"{means['eager'] / means['compiled']:.0f}x faster"))


def alternate(tasks: list[tuple[str, ...]], rounds: int = ROUNDS) -> list[list[dict[str, Any]]]:
    """Run the workers in turn, ``rounds`` times: each worker's runs, round by round.

    Taking turns spreads whatever else the shared machine is doing over every engine."""
    runs: list[list[dict[str, Any]]] = [[] for _ in tasks]
    for _ in range(rounds):
        for found, (script, *args) in zip(runs, tasks):
            found.append(run_worker(script, *args))
    return runs


def fastest(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run with the smallest ``key``."""
    return min(runs, key=lambda run: run[key])


def report_course(steps: int, rows: list[tuple[str, str, str, str]]) -> None:
    print("\n4. The course's NumPy example through nn.fit: N 64, 1000-100-10 sigmoid, no biases, sse summed, "
          f"lr 1e-4, full batch, {steps} steps, best of {COURSE_ROUNDS} alternating rounds")
    fits, directs, loops = alternate([(__file__, "course-fit", str(steps)),
                                      (bench_compile.__file__, "course-chainrule", str(steps)),
                                      (bench_compile.__file__, "course-numpy", str(steps))], COURSE_ROUNDS)
    fit, direct, loop = fastest(fits, "whole"), fastest(directs, "seconds"), fastest(loops, "seconds")
    print("   nn.fit whole / the NumPy loop, round by round (wall-clock): "
          + ", ".join(f"{f['whole'] / n['seconds']:.2f}x" for f, n in zip(fits, loops)))
    fit_loop = fit["whole"] - fit["setup"]
    direct_whole = direct["seconds"] + direct["trace_compile"]
    print(f"   nn.fit (defaults: engine {fit['engine']}): {format_seconds(fit['whole'])} whole, of which "
          f"{format_seconds(fit['setup'])} checks + trace + compile (fit with epochs=0); final loss "
          f"{fit['final_loss']:.4f}, {fit['parameters']:,} parameters")
    print(f"   autograd.compile used directly: {format_seconds(direct_whole)} whole, "
          f"{format_seconds(direct['seconds'])} the loop; final loss {direct['final_loss']:.4f}")
    print(f"   the course's NumPy loop: {format_seconds(loop['seconds'])}; "
          f"final loss {loop['final_loss']:.4f}")
    wall = {"fit loop": fit_loop, "fit whole": fit["whole"], "direct loop": direct["seconds"],
            "direct whole": direct_whole, "NumPy": loop["seconds"]}
    cpu = {"fit loop": fit["whole_cpu"] - fit["setup_cpu"], "fit whole": fit["whole_cpu"],
           "direct loop": direct["cpu_seconds"], "NumPy": loop["cpu_seconds"],
           "direct whole": direct["cpu_seconds"] + direct["trace_compile_cpu"]}
    pairs = [("loop vs autograd.compile's loop", "fit loop", "direct loop"),
             ("whole vs autograd.compile whole", "fit whole", "direct whole"),
             ("loop vs the NumPy loop", "fit loop", "NumPy"),
             ("whole vs the NumPy loop", "fit whole", "NumPy")]
    walls = []
    for label, mine, reference in pairs:
        walls.append(wall[mine] / wall[reference])
        cpu_ratio = cpu[mine] / cpu[reference]
        verdict = {2: "met", 1: "met by " + ("wall-clock" if walls[-1] <= 1.3 else "CPU time") + " only",
                   0: "NOT met"}[(walls[-1] <= 1.3) + (cpu_ratio <= 1.3)]
        print(f"   nn.fit {label + ':':<34}{walls[-1]:5.2f}x wall-clock, {cpu_ratio:5.2f}x CPU time "
              f"(target <= 1.3x: {verdict})")
    times = f"{format_seconds(fit_loop)} + {format_seconds(fit['setup'])} trace"
    references = (f"autograd.compile {format_seconds(direct['seconds'])}, "
                  f"NumPy {format_seconds(loop['seconds'])}")
    rows.append((f"nn.fit defaults, the course's NumPy example, {steps} steps, no biases (loss "
                 f"{fit['final_loss']:.4f})", times, references,
                 f"{walls[0]:.2f}x / {walls[2]:.2f}x (with the trace: {walls[1]:.2f}x / {walls[3]:.2f}x)"))


def report_online(epochs: int, rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\n5. Exercise 1 online: 2-3-2 sigmoid net, XOR and AND of 4 rows, bce, lr 0.25, batch_size=1, "
          f"{epochs} epochs ({4 * epochs:,} updates), best of {ROUNDS} alternating rounds")
    modes = ("eager", "auto", "compiled")
    found = alternate([(__file__, "online", mode, str(epochs)) for mode in modes])
    runs = {mode: fastest(mode_runs, "seconds") for mode, mode_runs in zip(modes, found)}
    for mode, run in runs.items():
        print(f"   nn.fit compiled={mode!r:<11} {format_seconds(run['seconds'])} (engine {run['engine']}, "
              f"final loss {run['final_loss']:.6f}; importing the compiler before: "
              f"{format_seconds(run['imports'])})")
    ratio = runs["auto"]["seconds"] / runs["eager"]["seconds"]
    taped = runs["compiled"]["seconds"] / runs["eager"]["seconds"]
    verdict = "met" if ratio <= 1.05 else "NOT met"
    print(f"   default / eager: {ratio:.2f}x (target <= 1, 5% noise allowed: {verdict}); "
          f"forced tape / eager: {taped:.2f}x")
    rows.append((f"nn.fit defaults, exercise 1 online ({epochs:,} epochs of 4 rows, batch 1)",
                 format_seconds(runs["auto"]["seconds"]), f"eager {format_seconds(runs['eager']['seconds'])}",
                 f"{ratio:.2f}x (tape forced: {taped:.2f}x)"))


README_START = "<!-- nn benchmark table: regenerate with `python benchmarks/bench_nn.py --update-readme` -->"
README_END = "<!-- end of the nn benchmark table -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--micrograd-steps", type=int, default=5,
                        help="micrograd steps to time before extrapolating to 100 (default 5)")
    parser.add_argument("--breakdown-steps", type=int, default=5, help="steps timed per phase (default 5)")
    parser.add_argument("--digits-epochs", type=int, default=8, help="epochs on digits (default 8)")
    parser.add_argument("--course-steps", type=int, default=COURSE_STEPS, help="steps of the course's "
                        f"NumPy example (default {COURSE_STEPS})")
    parser.add_argument("--online-epochs", type=int, default=ONLINE_EPOCHS,
                        help=f"epochs of exercise 1 online (default {ONLINE_EPOCHS})")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["demo", "breakdown", "digits", "course", "online"],
                        help="leave a part out (repeatable)")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the measured table into README.md (between its markers)")
    args = parser.parse_args(argv)
    print(f"chainrule nn benchmark - Python {platform.python_version()}, {platform.machine()}, "
          f"load average {load_average()}")
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:  # the demo's data as floats, for every engine's worker
        data = Path(folder) / "moons.json"
        if not {"demo", "breakdown"}.issubset(args.skip):
            write_moons(data)
        if "demo" not in args.skip:
            report_demo(args.micrograd_steps, rows, str(data))
        if "breakdown" not in args.skip:
            report_breakdown(args.breakdown_steps, str(data))
    if "digits" not in args.skip:
        report_digits(args.digits_epochs, rows)
    if "course" not in args.skip:
        report_course(args.course_steps, rows)
    if "online" not in args.skip:
        report_online(args.online_epochs, rows)
    table = markdown_table(rows)
    print("\n" + table)
    if args.update_readme:
        write_between_markers(README_START, README_END, table)
    return 0


def markdown_table(rows: list[tuple[str, str, str, str]]) -> str:
    """The rows as the README's table, with the machine and the date of the run."""
    lines = [f"Measured {time.strftime('%Y-%m-%d')} by `python benchmarks/bench_nn.py --update-readme`, "
             f"each engine in its own process (Python {platform.python_version()}, one BLAS thread, "
             f"load average {load_average()}).", "",
             "| benchmark | chainrule | reference | ratio |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:])
    else:
        sys.exit(main())
