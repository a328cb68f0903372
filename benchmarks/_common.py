"""Helpers shared by the benchmark scripts: clean worker processes and robust timings.

A benchmark script compares engines that must not share an interpreter: each one
runs in a fresh ``python`` process with the interpreter's default settings (cyclic
GC on, default recursion limit), so neither inherits the other's heap, imports or
GC state. The script re-runs *itself* as the worker (``script --worker ...``), the
worker prints one JSON object on its last stdout line, and the parent collects it.

Example:
    >>> median_and_min([3.0, 1.0, 2.0])
    (2.0, 1.0)
    >>> format_seconds(0.01234)
    '12.3 ms'
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

__all__ = ["REPO_ROOT", "run_worker", "emit", "time_calls", "median_and_min", "format_seconds",
           "format_bytes", "module_available", "write_between_markers", "BENCHMARK_PAGES", "load_average"]

REPO_ROOT = Path(__file__).resolve().parent.parent
# The pages whose benchmark tables the scripts rewrite between their markers.
BENCHMARK_PAGES = (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "benchmarks.md")

# The worker's answer is the last stdout line that starts with this marker, so
# stray prints from an engine under test can never be mistaken for it.
_MARKER = "BENCHMARK-RESULT "


def run_worker(script: str | Path, *args: str, timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``python script --worker *args`` in a clean process and return its result.

    The child starts with the parent's interpreter and environment, except that
    the repository root is put first on ``PYTHONPATH`` (so the working tree's
    ``autograd`` is measured, installed or not) and ``PYTHON*`` switches that change
    the interpreter's behaviour are removed.
    """
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONOPTIMIZE", "PYTHONDEVMODE", "PYTHONMALLOC", "PYTHONTRACEMALLOC",
                          "PYTHONHASHSEED", "PYTHONINSPECT")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    completed = subprocess.run([sys.executable, str(script), "--worker", *args],
                               capture_output=True, text=True, env=env, timeout=timeout)
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(_MARKER):
            return json.loads(line[len(_MARKER):])
    raise RuntimeError(f"worker {' '.join(args)} exited with {completed.returncode} and no result:\n"
                       f"{completed.stderr[-3000:]}")


def emit(result: dict[str, Any]) -> None:
    """Print a worker's result for :func:`run_worker` to pick up (call it once, last)."""
    print(_MARKER + json.dumps(result), flush=True)


def time_calls(function: Callable[[int], Any], repeats: int) -> list[float]:
    """Wall-clock seconds of ``function(i)`` for ``i`` in ``range(repeats)``."""
    seconds = []
    for i in range(repeats):
        start = time.perf_counter()
        function(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def median_and_min(seconds: Sequence[float]) -> tuple[float, float]:
    """The median (what a user sees) and the minimum (the least noisy) of some timings."""
    return statistics.median(seconds), min(seconds)


def format_seconds(seconds: float) -> str:
    """``0.01234`` -> ``'12.3 ms'``."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def format_bytes(size: float) -> str:
    """``1536`` -> ``'1536 B'``; sizes of a node, not of files."""
    return f"{size:.0f} B"


def module_available(name: str) -> bool:
    """Whether ``import name`` would work in a worker (checked without importing it here)."""
    import importlib.util

    return importlib.util.find_spec(name) is not None


def write_between_markers(start: str, end: str, text: str, paths: Sequence[Path] = BENCHMARK_PAGES) -> None:
    """Replace what lies between the ``start`` and ``end`` marker lines with ``text``, in each
    file that has both markers (the README and the docs site's benchmark page).

    Raises SystemExit when no file has them: a table measured for nothing is an error.
    """
    written = 0
    for path in paths:
        page = path.read_text(encoding="utf-8") if path.exists() else ""
        if start not in page or end not in page:
            continue
        head, rest = page.split(start, 1)
        tail = rest.split(end, 1)[1]
        path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
        print(f"wrote the table into {path}")
        written += 1
    if not written:
        raise SystemExit(f"no file has the benchmark markers ({start!r} ... {end!r})")


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, for the tables (timings depend on them)."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "unknown"
