"""Worker tasks that ``bench_compile.py`` and ``bench_nn.py`` both run: written once, here.

* **micrograd's demo** (``demo.ipynb``), run by micrograd itself: the moons data reach
  the worker as Python floats in a JSON file written by the parent
  (:func:`write_moons`), so that micrograd's process never imports NumPy or
  scikit-learn. Imported, they slowed its steps: the cyclic collector scans their
  objects too (micrograd's graphs are cyclic garbage: each node's ``_backward``
  closure holds the node), and NumPy scalars make each of its float operations
  slower; measured on this project's 2-core machine, micrograd's first step took
  0.95 s with the demo's NumPy arrays and 0.70 s with floats from JSON.
* **the course's NumPy example** (N 64, 1000-100-10 sigmoid, no biases, squared loss,
  lr 1e-4, full batch): the course's own NumPy loop, ``autograd.compile`` used
  directly, and ``nn.fit`` with its defaults.

Every task returns a dict for :func:`_common.emit`; timings are taken after the data
and the imports are ready.
"""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path
from typing import Any

SEED = 1337
L2 = 1e-4
DEMO_STEPS = 100


# ---------------------------------------------------------------------------
# micrograd's demo
# ---------------------------------------------------------------------------
def write_moons(path: Path) -> None:
    """The demo's data (``make_moons(100, noise=0.1)`` after ``np.random.seed(1337)``, labels
    -1.0/+1.0) as JSON lists of floats, for workers that should not import NumPy."""
    import numpy as np
    from sklearn.datasets import make_moons

    np.random.seed(SEED)
    X, y = make_moons(n_samples=100, noise=0.1)
    path.write_text(json.dumps([X.tolist(), (y * 2.0 - 1.0).tolist()]), encoding="utf-8")


def read_moons(path: str) -> tuple[list[list[float]], list[float]]:
    """The data :func:`write_moons` wrote: rows of two floats, labels -1.0/+1.0."""
    X, y = json.loads(Path(path).read_text(encoding="utf-8"))
    return X, y


def micrograd_demo(steps: int, data_path: str) -> dict[str, Any]:
    """micrograd's own demo loop (its MLP, loss, ``zero_grad``, ``backward``, update), step by step.

    Wall and CPU seconds of each of the first ``steps`` steps, with the loss and the
    training accuracy before each update."""
    import random

    from micrograd.engine import Value
    from micrograd.nn import MLP

    X, y = read_moons(data_path)
    random.seed(SEED)
    model = MLP(2, [16, 16, 1])
    seconds, cpu_seconds, losses, accuracies = [], [], [], []
    for k in range(steps):
        start, cpu_start = time.perf_counter(), time.process_time()
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(scores))
        total = data_loss + L2 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / DEMO_STEPS
        for p in model.parameters():
            p.data -= lr * p.grad
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        losses.append(total.data)
        accuracies.append(sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y))
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "loss": losses, "accuracy": accuracies}


# ---------------------------------------------------------------------------
# The course's NumPy example
# ---------------------------------------------------------------------------
def course_weights() -> tuple[Any, ...]:
    """The course's data and initial weights: ``randn`` after ``np.random.seed(0)``."""
    import numpy as np
    from numpy.random import randn

    np.random.seed(0)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x, y = randn(N, D_in), randn(N, D_out)
    w1, w2 = randn(D_in, H), randn(H, D_out)
    return x, y, w1, w2


def course_numpy(steps: int) -> dict[str, Any]:
    """The course's loop (docs/course.md, section 4), without its per-step ``print(t, loss)``."""
    import numpy as np

    x, y, w1, w2 = course_weights()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _t in range(steps):
        h = 1 / (1 + np.exp(-x.dot(w1)))
        y_pred = h.dot(w2)
        loss = np.square(y_pred - y).sum()

        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)
        grad_w1 = x.T.dot(grad_h * h * (1 - h))

        w1 -= 1e-4 * grad_w1
        w2 -= 1e-4 * grad_w2
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "final_loss": float(loss)}


def course_chainrule(steps: int) -> dict[str, Any]:
    """The same steps through ``autograd.compile`` used directly, parameters held in the tape; the
    loop's time includes writing them back into the Values at the end (as ``nn.fit``'s does)."""
    import autograd
    import autograd.compiler  # loaded up front, so import time is not counted as compile time
    from autograd import Parameter

    x, y, w1, w2 = course_weights()
    start = time.perf_counter()
    W1 = [[Parameter(v) for v in row] for row in w1.tolist()]  # D_in x H, as the course's w1
    W2 = [[Parameter(v) for v in row] for row in w2.tolist()]  # H x D_out
    params = [p for row in W1 for p in row] + [p for row in W2 for p in row]
    made = time.perf_counter() - start

    def loss(x_row: Any, y_row: Any) -> Any:
        h = [autograd.dot([row[j] for row in W1], x_row).sigmoid() for j in range(len(W1[0]))]
        y_pred = [autograd.dot([row[k] for row in W2], h) for k in range(len(W2[0]))]
        return autograd.sum((p - t) ** 2 for p, t in zip(y_pred, y_row))

    gc.collect()  # 100,000 Parameters were just made: collected before the clock starts
    start, cpu_start = time.perf_counter(), time.process_time()
    step = autograd.compile(loss, (x[0], y[0]), params)
    compile_time, compile_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    theta = step.hold_parameters()  # the tape's own buffer, updated in place: no copy per step
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        result = step.value_and_grad(x, y)
        theta -= 1e-4 * result.param_grads
    step.release_parameters()  # the trained numbers into the Values, as nn.fit ends: timed alike
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    final = float(result.outputs.sum())
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "trace_compile": compile_time,
            "trace_compile_cpu": compile_cpu, "parameters_made": made,
            "final_loss": final, "instructions": len(step.tape), "groups": len(step.program.groups)}


def course_model() -> Any:
    """The course's NumPy example as an nn model: 1000 -> 100 sigmoid -> 10 linear, no biases."""
    import nn

    x, y, w1, w2 = course_weights()
    model = nn.MLP.from_weights([w1.T.tolist(), w2.T.tolist()], None, activation="sigmoid")
    return model, x, y


def course_fit(steps: int) -> dict[str, Any]:
    """The same steps trained by ``nn.fit`` with its defaults (``compiled="auto"``); its one-time
    setup (data checks, trace and compile) timed alone by a fit with ``epochs=0``."""
    import nn
    import nn.compiled  # fit imports the compiler on first use: loaded before the clock, as above

    results: dict[str, Any] = {}
    for label, epochs in (("setup", 0), ("whole", steps)):
        model, x, y = course_model()
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        history = nn.fit(model, x, y, loss="sse", reduction="sum", lr=1e-4, epochs=epochs, batch_size=None,
                         progress=False)
        results[label], results[label + "_cpu"] = time.perf_counter() - start, time.process_time() - cpu_start
    results.update(final_loss=history.loss[-1], engine=history.engine, parameters=len(model.parameters()))
    return results
