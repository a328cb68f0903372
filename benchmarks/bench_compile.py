"""Compiled-tape benchmark: ``autograd.compile`` against PyTorch, micrograd and plain NumPy.

Usage, from the repository root (one command)::

    python benchmarks/bench_compile.py                 # about 4 minutes; --quick: 1 round, no micrograd
    python benchmarks/bench_compile.py --update-docs   # the same, and the docs' compile table rewritten

Every measurement runs in its own fresh ``python`` process, one engine per process,
with one thread for everyone: ``OMP/OPENBLAS/MKL_NUM_THREADS=1`` for NumPy and
``torch.set_num_threads(1)`` for PyTorch. Timings are the minimum over repeats, and
over 3 rounds in which the engines take turns (the least disturbed by other work on
the machine); the script prints a table with the machine, the versions and the
ratios, and whether each of issue 6's targets is met.
It always exits 0: a benchmark is not a test.

1. **micrograd's demo**: ``make_moons(100, noise=0.1)``, ``MLP(2, [16, 16, 1])`` with
   ReLU, max-margin loss + 1e-4 L2 over every parameter, 100 SGD steps with
   lr = 1.0 - 0.9 k / 100. chainrule: ``nn.MLP`` traced once by ``autograd.compile``,
   then 100 compiled steps on the full batch. PyTorch: ``nn.Linear`` layers, the batch
   as one tensor, ``optim.SGD``, at the same precision. micrograd: a few steps of its
   own demo code (``_tasks.micrograd_demo``: the same data as Python floats, no NumPy
   in its process), extrapolated to 100. Targets: 100 compiled steps <= 0.3x PyTorch's
   time; the whole compiled run (trace and compile included) >= 5,000x faster than
   micrograd's; trace + compile < 50 ms.
2. **digits**: scikit-learn's 1,797 8x8 digits, ``MLP(64, [64, 32, 10])``, ReLU,
   cross-entropy, one full-batch SGD step. Target: <= 1.5x PyTorch at the same precision.
3. **The course's NumPy example** (docs/course.md, section 4; its tasks in ``_tasks.py``):
   N = 64, D_in = 1000, H = 100 sigmoid units, D_out = 10, squared loss, lr 1e-4, 2,000
   steps: the compiled tape (its 100,000 parameters held in its own buffer,
   ``hold_parameters()``) against the
   course's own NumPy loop (written as the course writes it, without its per-step
   ``print``), from the same weights; the final losses must agree.
4. **Online training**: a 2-3-2 sigmoid net (the course's exercise size), squared loss,
   lr 0.5, 1,000 SGD steps of one sample each: the compiled function (a one-sample
   batch runs on its scalar replay) against the eager engine's hand-written loop.
   Target: no slower than eager; the final losses must agree to 1e-9.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"  # before NumPy loads, here and (inherited) in every worker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, load_average, module_available, run_worker, write_between_markers  # noqa: E402
from _tasks import course_chainrule, course_numpy, micrograd_demo, write_moons  # noqa: E402

SEED = 1337
MOONS_STEPS = 100
L2_ALPHA = 1e-4
COURSE_STEPS = 2000
ONLINE_EPOCHS = 250  # x 4 samples: 1,000 one-sample steps
ONLINE_LR = 0.5


# ---------------------------------------------------------------------------
# Worker side: one engine, one task, in a fresh process.
# ---------------------------------------------------------------------------
def moons_data() -> tuple[Any, Any]:
    import numpy as np
    from sklearn.datasets import make_moons

    np.random.seed(SEED)
    X, y = make_moons(n_samples=100, noise=0.1)
    return X, y * 2.0 - 1.0


def best_of(function: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def moons_chainrule(dtype: str, repeats: int) -> dict[str, Any]:
    import numpy as np

    start = time.perf_counter()
    import autograd
    import autograd.compiler  # loaded up front, so import time is not counted as compile time
    import nn
    imports = time.perf_counter() - start

    X, y = moons_data()
    model = nn.MLP(2, [16, 16, 1], activation="relu", output_activation="identity", seed=SEED)
    params = model.parameters()

    def loss(x: Any, label: Any) -> Any:
        score = model(x)[0]
        return (1 - label * score).relu() + L2_ALPHA * autograd.dot(params, params)

    gc.collect()  # the garbage of the setup is not the compiler's: collected before the clock starts
    start = time.perf_counter()
    step = autograd.compile(loss, (X[0], y[0]), params, dtype=dtype)
    compile_time = time.perf_counter() - start
    initial = step.parameter_array()
    X, y = X.astype(dtype), y.astype(dtype)

    def train() -> Any:
        theta = initial.copy()
        mean = 1.0 / len(X)
        for k in range(MOONS_STEPS):
            result = step.value_and_grad(X, y, params=theta, output_grad=mean)
            theta -= (1.0 - 0.9 * k / MOONS_STEPS) * result.param_grads
        return theta, result

    start = time.perf_counter()
    train()
    first_run = time.perf_counter() - start
    steps = best_of(train, repeats)
    theta, result = train()
    step.set_parameters(theta)
    scores = autograd.compile(lambda x: model(x)[0], (X[0],))(X)
    return {"trace_compile": compile_time, "first_run": first_run, "steps": steps,
            "whole_run": compile_time + first_run, "imports": imports,
            "final_loss": float(result.outputs.mean()), "accuracy": float(np.mean((scores > 0) == (y > 0))),
            "instructions": len(step.tape), "groups": len(step.program.groups)}


def moons_torch(dtype: str, repeats: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    X, y = moons_data()
    precision = {"float32": torch.float32, "float64": torch.float64}[dtype]
    Xt, yt = torch.tensor(X, dtype=precision), torch.tensor(y, dtype=precision)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                torch.nn.ReLU(), torch.nn.Linear(16, 1)).to(precision)
    initial = {k: v.clone() for k, v in model.state_dict().items()}

    def train() -> Any:
        model.load_state_dict(initial)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        for k in range(MOONS_STEPS):
            for group in optimizer.param_groups:
                group["lr"] = 1.0 - 0.9 * k / MOONS_STEPS
            scores = model(Xt)[:, 0]
            penalty = sum((p * p).sum() for p in model.parameters())
            loss = torch.relu(1 - yt * scores).mean() + L2_ALPHA * penalty
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss, scores

    train()
    steps = best_of(train, repeats)
    loss, scores = train()
    return {"steps": steps, "final_loss": float(loss.detach()),
            "accuracy": float(((scores > 0) == (yt > 0)).double().mean()), "version": torch.__version__}


def digits_data(dtype: str) -> tuple[Any, Any, Any]:
    import numpy as np
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.data / 16.0).astype(dtype)
    onehot = np.eye(10, dtype=dtype)[digits.target]
    return X, digits.target, onehot


def digits_chainrule(dtype: str, repeats: int) -> dict[str, Any]:

    import autograd
    import autograd.compiler  # loaded up front, so import time is not counted as compile time
    import nn

    X, labels, onehot = digits_data(dtype)
    model = nn.MLP(64, [64, 32, 10], activation="relu", output_activation="identity", seed=SEED)
    gc.collect()
    start = time.perf_counter()
    step = autograd.compile(lambda x, target: nn.cross_entropy(model(x), target), (X[0], onehot[0]),
                            model.parameters(), dtype=dtype)
    compile_time = time.perf_counter() - start
    theta = step.parameter_array()
    mean = 1.0 / len(X)

    def one_step() -> Any:
        nonlocal theta
        result = step.value_and_grad(X, onehot, params=theta, output_grad=mean)
        theta -= 0.5 * result.param_grads
        return result

    first = one_step()
    best = best_of(one_step, repeats)
    for _ in range(30):
        last = one_step()
    return {"trace_compile": compile_time, "step": best, "first_loss": float(first.outputs.mean()),
            "loss_after": float(last.outputs.mean()), "instructions": len(step.tape),
            "groups": len(step.program.groups)}


def digits_torch(dtype: str, repeats: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    X, labels, _ = digits_data(dtype)
    precision = {"float32": torch.float32, "float64": torch.float64}[dtype]
    Xt, yt = torch.tensor(X, dtype=precision), torch.tensor(labels)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 10)).to(precision)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

    def one_step() -> Any:
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    first = one_step()
    best = best_of(one_step, repeats)
    return {"step": best, "first_loss": float(first.detach())}


def online_data() -> tuple[list[list[float]], list[list[float]]]:
    """Four samples of a 2-input, 2-output task (XOR and its negation), trained one at a time."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]


def online_model() -> Any:
    import nn

    return nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", seed=SEED)


def online_eager(repeats: int) -> dict[str, Any]:
    import nn

    X, Y = online_data()

    def train() -> float:
        model = online_model()
        params = model.parameters()
        for _ in range(ONLINE_EPOCHS):
            for x, y in zip(X, Y):
                loss = nn.losses.squared_error(model(x), y)
                model.zero_grad()
                loss.backward()
                for p in params:
                    p.data -= ONLINE_LR * p.grad
        return loss.data

    return {"seconds": best_of(train, repeats), "final_loss": train()}


def online_chainrule(repeats: int) -> dict[str, Any]:
    import numpy as np

    import autograd
    import autograd.compiler  # loaded up front, as for the other tasks
    import nn

    X, Y = (np.array(a) for a in online_data())

    def train() -> float:
        model = online_model()
        step = autograd.compile(lambda x, y: nn.losses.squared_error(model(x), y), (X[0], Y[0]))
        theta = step.parameter_array()
        for _ in range(ONLINE_EPOCHS):
            for i in range(len(X)):
                result = step.value_and_grad(X[i:i + 1], Y[i:i + 1], params=theta)
                theta -= ONLINE_LR * result.param_grads
        step.set_parameters(theta)
        return float(result.outputs[0])

    return {"seconds": best_of(train, repeats), "final_loss": train()}


def worker(task: str, args: list[str]) -> None:
    tasks = {
        "moons-chainrule": lambda: moons_chainrule(args[0], int(args[1])),
        "moons-torch": lambda: moons_torch(args[0], int(args[1])),
        "moons-micrograd": lambda: micrograd_demo(int(args[0]), args[1]),
        "digits-chainrule": lambda: digits_chainrule(args[0], int(args[1])),
        "digits-torch": lambda: digits_torch(args[0], int(args[1])),
        "course-numpy": lambda: course_numpy(int(args[0])),
        "course-chainrule": lambda: course_chainrule(int(args[0])),
        "online-eager": lambda: online_eager(int(args[0])),
        "online-chainrule": lambda: online_chainrule(int(args[0])),
    }
    emit(tasks[task]())


# ---------------------------------------------------------------------------
# Parent side: run the workers, print the table.
# ---------------------------------------------------------------------------
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def versions() -> str:
    import numpy

    parts = [f"Python {platform.python_version()}", f"NumPy {numpy.__version__}"]
    if module_available("torch"):
        import importlib.metadata

        parts.append(f"PyTorch {importlib.metadata.version('torch')}")
    if module_available("micrograd"):
        import importlib.metadata

        parts.append(f"micrograd {importlib.metadata.version('micrograd')}")
    return ", ".join(parts)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


class Report:
    """The table's rows and the targets' verdicts, filled part by part; runs the workers in turns."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.verdicts: list[str] = []

    def check(self, label: str, ok: bool) -> str:
        """Record whether a target is met; the table's cell for it."""
        self.verdicts.append(f"{'met    ' if ok else 'NOT met'}  {label}")
        return "yes" if ok else "NO"

    def alternate(self, tasks: list[tuple[str, ...]], key: str) -> list[dict[str, Any]]:
        """Run the workers in turn, ``rounds`` times, and keep each one's best run (smallest ``key``).

        Taking turns spreads whatever else the machine is doing over every engine."""
        runs: list[list[dict[str, Any]]] = [[] for _ in tasks]
        for _ in range(self.rounds):
            for i, task in enumerate(tasks):
                runs[i].append(run_worker(Path(__file__), *task))
        return [min(r, key=lambda run: run[key]) for r in runs]


def report_moons(report: Report, repeats: str, have_torch: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """1. micrograd's demo against PyTorch, both precisions; the compiled runs and PyTorch's (float64)."""
    moons, torch_moons = {}, {}
    for d in ("float32", "float64"):
        tasks = [("moons-chainrule", d, repeats)] + ([("moons-torch", d, repeats)] if have_torch else [])
        found = report.alternate(tasks, "steps")
        moons[d] = found[0]
        if have_torch:
            torch_moons[d] = found[1]
            ratio = moons[d]["steps"] / torch_moons[d]["steps"]
            report.rows.append((f"moons: 100 SGD steps ({d})", ms(moons[d]["steps"]),
                                ms(torch_moons[d]["steps"]), f"{ratio:.2f}x",
                                report.check(f"moons {d}: 100 compiled steps <= 0.3x PyTorch ({ratio:.2f}x)",
                                             ratio <= 0.3)))
    compile_ms = min(moons["float64"]["trace_compile"], moons["float32"]["trace_compile"])
    report.rows.append(("moons: trace + compile", ms(compile_ms), "", "",
                        report.check(f"moons: trace + compile < 50 ms ({compile_ms * 1e3:.1f} ms)",
                                     compile_ms < 0.05)))
    return moons["float64"], torch_moons.get("float64", {})


def report_micrograd(report: Report, micrograd_steps: int, whole: float) -> None:
    """The whole compiled demo run against micrograd's steps, extrapolated to 100."""
    with tempfile.TemporaryDirectory() as folder:  # floats: micrograd's worker imports no NumPy
        data = Path(folder) / "moons.json"
        write_moons(data)
        micro = run_worker(Path(__file__), "moons-micrograd", str(micrograd_steps), str(data))
    micro_run = sum(micro["seconds"]) / len(micro["seconds"]) * MOONS_STEPS
    speedup = micro_run / whole
    verdict = report.check(f"moons: whole compiled run >= 5,000x faster than micrograd ({speedup:,.0f}x)",
                           speedup >= 5000)
    report.rows.append(("moons: whole run vs micrograd (extrapolated)", ms(whole),
                        f"{micro_run:.0f} s (micrograd)", f"{speedup:,.0f}x faster", verdict))


def report_digits(report: Report, repeats: str, have_torch: bool) -> dict[str, Any]:
    """2. One full-batch step on the digits against PyTorch, both precisions; the float64 run."""
    digits = {}
    for d in ("float32", "float64"):
        tasks = [("digits-chainrule", d, repeats)] + ([("digits-torch", d, repeats)] if have_torch else [])
        found = report.alternate(tasks, "step")
        digits[d] = found[0]
        if have_torch:
            ratio = digits[d]["step"] / found[1]["step"]
            verdict = report.check(f"digits {d}: one step <= 1.5x PyTorch ({ratio:.2f}x)", ratio <= 1.5)
            report.rows.append((f"digits: one full-batch step ({d})", ms(digits[d]["step"]),
                                ms(found[1]["step"]), f"{ratio:.2f}x", verdict))
    report.rows.append(("digits: trace + compile", ms(digits["float64"]["trace_compile"]), "", "", ""))
    return digits["float64"]


def report_course(report: Report, steps: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """3. The course's NumPy example: the compiled tape against the course's loop; both runs."""
    course, loop = report.alternate([("course-chainrule", steps), ("course-numpy", steps)], "seconds")
    ratio = course["seconds"] / loop["seconds"]
    agree = abs(course["final_loss"] - loop["final_loss"]) <= 1e-9 * max(1.0, abs(loop["final_loss"]))
    report.rows.append((f"course NumPy example: {steps} steps", ms(course["seconds"]),
                        f"{ms(loop['seconds'])} (NumPy loop)", f"{ratio:.2f}x",
                        "same loss" if agree else "LOSS DIFFERS"))
    report.rows.append(("course NumPy example: trace + compile", ms(course["trace_compile"]), "", "",
                        f"{course['instructions']} instructions"))
    return course, loop


def report_online(report: Report, repeats: str) -> None:
    """4. Online training, one sample per step, where NumPy has nothing to vectorise."""
    online, eager = report.alternate([("online-chainrule", repeats), ("online-eager", repeats)], "seconds")
    ratio = online["seconds"] / eager["seconds"]
    same = abs(online["final_loss"] - eager["final_loss"]) <= 1e-9
    report.rows.append((f"online 2-3-2: {4 * ONLINE_EPOCHS} one-sample steps", ms(online["seconds"]),
                        f"{ms(eager['seconds'])} (eager)", f"{ratio:.2f}x",
                        report.check("online: a one-sample compiled step no slower than eager", ratio <= 1.0)
                        + ("" if same else ", LOSS DIFFERS")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, micrograd skipped")
    parser.add_argument("--micrograd-steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="turns each engine takes (best kept)")
    parser.add_argument("--update-docs", action="store_true",
                        help="write the measured table into docs/benchmarks.md (between its markers)")
    options, rest = parser.parse_known_args()
    if rest[:1] == ["--worker"]:
        worker(rest[1], rest[2:])
        return
    repeats = "3" if options.quick else "7"
    report = Report(1 if options.quick else options.rounds)
    have_torch = module_available("torch")
    print(f"machine:  {machine()}\nversions: {versions()}\nthreads:  1 (NumPy and PyTorch)\n", flush=True)
    moons, torch_moons = report_moons(report, repeats, have_torch)
    if not options.quick and module_available("micrograd"):
        report_micrograd(report, options.micrograd_steps, moons["whole_run"])
    digits = report_digits(report, repeats, have_torch)
    course, loop = report_course(report, "400" if options.quick else str(COURSE_STEPS))
    report_online(report, repeats)
    table = markdown_table(report.rows)
    print(table + "\n")
    print(f"moons: trained accuracy {moons['accuracy']:.2f} (compiled, float64)"
          + (f", {torch_moons['accuracy']:.2f} (PyTorch)" if have_torch else "")
          + f"; {moons['instructions']} instructions in {moons['groups']} steps")
    print(f"digits: {digits['instructions']} instructions in {digits['groups']} steps; "
          f"loss {digits['first_loss']:.3f} -> {digits['loss_after']:.3f}")
    print(f"course: final loss {course['final_loss']:.6g} (compiled) vs "
          f"{loop['final_loss']:.6g} (NumPy loop)")
    print()
    print("\n".join(report.verdicts))
    if options.update_docs:
        write_between_markers(DOCS_START, DOCS_END, f"Measured {time.strftime('%Y-%m-%d')} by `python "
                              f"benchmarks/bench_compile.py --update-docs` ({machine()}; {versions()}; one "
                              f"thread; best of {report.rounds} alternating rounds; load average "
                              f"{load_average()}).\n\n{table}")


DOCS_START = ("<!-- compile benchmark table: regenerate with `python benchmarks/bench_compile.py "
              "--update-docs` -->")
DOCS_END = "<!-- end of the compile benchmark table -->"


def markdown_table(rows: list[tuple[str, str, str, str, str]]) -> str:
    """The rows as a Markdown table, columns padded to line up in a terminal too."""
    header = ("benchmark", "chainrule compiled", "reference", "ratio", "target met")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
