"""The chains' floor: how fast can ANY pure-Python engine build and backpropagate them?

Usage, from the repository root::

    python benchmarks/bench_floor.py     # about a minute; --help for the knobs

Issue 13 asks for each of ``bench_engine.py``'s 1,000,000-node chains (``y = y + c``,
``y = y + 1.0`` and the mixed ``(y * 1.0000001 + 0.5).tanh() - 0.25``) to run forward
plus backward in under 2 s. This script measures what that asks of the interpreter.
It runs the same chains (``bench_engine.chain``) on two engines:

* **floor**: :class:`FloorNode` below, a yardstick written for this benchmark and not
  part of chainrule. It is the least a scalar engine with one Python object per node
  can do: five slots, an operator that wraps a number in a node and makes the result,
  an iterative depth-first topological order and one reverse loop that knows the four
  ops' derivatives by heart. No op table, no NaN or stale-graph checks, no scopes,
  no ``no_grad``, no tracing.
* **chainrule**: ``autograd.Value`` as shipped.

Each engine runs each chain in its own fresh process, once with the interpreter's
default cyclic GC and once with ``gc.disable()``; the time spent inside the GC's
collections is read from ``gc.callbacks``. The table prints every time and its ratio
to the floor's in the same run. The script always exits 0 (the figures depend on the
machine and its load).
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, format_seconds, load_average, run_worker
from bench_engine import chain

ENGINES = ("floor", "chainrule")
CHAINS = {"value": "y = y + c", "constant": "y = y + 1.0", "mixed": "(y * 1.0000001 + 0.5).tanh() - 0.25"}
ADD, SUB, MUL, TANH = "add", "sub", "mul", "tanh"


class FloorNode:
    """The yardstick engine: a float, its gradient, the op that made it and up to two parents.

    Only what ``bench_engine.chain`` needs (``+``, ``-``, ``*`` with nodes or numbers,
    ``tanh`` and ``backward``). A number operand becomes a node of its own, as in chainrule.
    """

    __slots__ = ("data", "grad", "op", "x", "y")

    def __init__(self, data: float, op: str | None = None, x: Any = None, y: Any = None) -> None:
        self.data, self.grad, self.op, self.x, self.y = data, 0.0, op, x, y

    def __add__(self, other: Any) -> FloorNode:
        other = other if isinstance(other, FloorNode) else FloorNode(float(other))
        return FloorNode(self.data + other.data, ADD, self, other)

    def __sub__(self, other: Any) -> FloorNode:
        other = other if isinstance(other, FloorNode) else FloorNode(float(other))
        return FloorNode(self.data - other.data, SUB, self, other)

    def __mul__(self, other: Any) -> FloorNode:
        other = other if isinstance(other, FloorNode) else FloorNode(float(other))
        return FloorNode(self.data * other.data, MUL, self, other)

    def tanh(self) -> FloorNode:
        return FloorNode(math.tanh(self.data), TANH, self)

    @property
    def parents(self) -> tuple[FloorNode, ...]:
        return tuple(node for node in (self.x, self.y) if node is not None)

    def backward(self) -> None:
        self.grad = 1.0
        for node in reversed(self.topological_order()):
            op, upstream = node.op, node.grad
            if op is ADD:
                node.x.grad += upstream
                node.y.grad += upstream
            elif op is SUB:
                node.x.grad += upstream
                node.y.grad -= upstream
            elif op is MUL:
                node.x.grad += upstream * node.y.data
                node.y.grad += upstream * node.x.data
            elif op is TANH:
                node.x.grad += upstream * (1.0 - node.data * node.data)

    def topological_order(self) -> list[FloorNode]:
        """Every node after its parents: depth first, a node re-pushed under a None marker."""
        order: list[FloorNode] = []
        placed_or_open: set[FloorNode] = set()
        stack: list[Any] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # the marker: the node below it has all its parents placed
                order.append(stack.pop())
            elif node not in placed_or_open:
                placed_or_open.add(node)
                if node.op is None:  # a leaf waits for nothing
                    order.append(node)
                    continue
                stack.append(node)
                stack.append(None)
                for parent in (node.y, node.x):
                    if parent is not None and parent not in placed_or_open:
                        stack.append(parent)
        return order


def worker(engine: str, kind: str, length: int, collector: str) -> dict[str, Any]:
    """Build one chain and backpropagate it: seconds of each, and of the GC's collections."""
    if engine == "floor":
        value: Any = FloorNode
    else:
        from autograd import Value as value
    if collector == "off":
        gc.disable()
    in_gc, started = [0.0], [0.0]

    def clock(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - started[0]

    gc.callbacks.append(clock)
    start = time.perf_counter()
    x, c, y = chain(value, length, kind)
    built = time.perf_counter()
    gc_forward = in_gc[0]
    y.backward()
    done = time.perf_counter()
    return {"forward": built - start, "backward": done - built, "gc_forward": gc_forward,
            "gc_backward": in_gc[0] - gc_forward, "x_grad": x.grad, "c_grad": c.grad}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", type=int, default=1_000_000, help="op nodes per chain (default 1,000,000)")
    parser.add_argument("--kinds", nargs="+", choices=tuple(CHAINS), default=tuple(CHAINS),
                        help="which chains (default all three)")
    parser.add_argument("--worker", nargs=4, metavar=("ENGINE", "KIND", "LENGTH", "GC"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        engine, kind, length, collector = args.worker
        emit(worker(engine, kind, int(length), collector))
        return 0
    print(f"the chains' floor: a minimal pure-Python engine vs chainrule, {args.chain:,} op nodes a chain, "
          f"each run in its own process - Python {platform.python_version()} on {platform.machine()}, "
          f"load average {load_average()} at the start")
    print(f"  {'chain':<40} {'engine':<10} {'GC':<4} {'forward':>9} {'backward':>9} {'total':>9} "
          f"{'in GC':>9} {'/ floor':>8}")
    for kind in args.kinds:
        for collector in ("on", "off"):
            report(kind, collector, {engine: run_worker(__file__, engine, kind, str(args.chain), collector)
                                     for engine in ENGINES})
    print(f"  target (issue 13): forward + backward < 2 s with the default GC; load now {load_average()}")
    return 0


def report(kind: str, collector: str, runs: dict[str, dict[str, Any]]) -> None:
    """One chain's rows: each engine's times, its seconds in the GC and its ratio to the floor."""
    floor_total = runs["floor"]["forward"] + runs["floor"]["backward"]
    for engine, run in runs.items():
        total = run["forward"] + run["backward"]
        seconds = (run["forward"], run["backward"], total, run["gc_forward"] + run["gc_backward"])
        print(f"  {CHAINS[kind]:<40} {engine:<10} {collector:<4} "
              f"{' '.join(f'{format_seconds(s):>9}' for s in seconds)} {total / floor_total:>7.2f}x")
    floor, ours = runs["floor"], runs["chainrule"]
    if any(abs(floor[g] - ours[g]) > 1e-9 * max(1.0, abs(floor[g])) for g in ("x_grad", "c_grad")):
        print(f"  GRADIENTS DIFFER: floor {floor}, chainrule {ours}")


if __name__ == "__main__":
    sys.exit(main())
