"""``python -m nn demo`` (or ``chainrule demo``): the course in the terminal."""

from __future__ import annotations

import argparse
import sys


def demo() -> int:
    """Build the course's (x + y) z graph, backpropagate and print the gradients."""
    from autograd import Value

    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    print("f(x, y, z) = (x + y) z at x = -2, y = 5, z = -4")
    print(f"  q = x + y = {q.data:g}, f = q z = {f.data:g}")
    for node in (z, q, x, y):
        print(f"  df/d{node.label} = {node.grad:g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script."""
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__)
    parser.add_argument("command", choices=["demo"], help="what to run")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
