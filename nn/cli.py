"""The ``chainrule`` command: one entry point for the demo, the formula drawer and the explorer.

``chainrule`` with no arguments prints the help. ``python -m nn`` runs the same
command, and ``chainrule draw`` runs ``python -m autograd`` (its code lives in
:mod:`autograd.__main__`; this module only dispatches to it).

Example:
    >>> main(["--version"])  # doctest: +ELLIPSIS
    chainrule ...
    0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import autograd
from autograd.__main__ import main as draw_formula

from .demo import demo

__all__ = ["main"]

DESCRIPTION = """\
chainrule: backpropagation you can see. A scalar autograd engine whose graphs
show data, gradients and local gradients, and a small neural-network library."""

EXAMPLES = """\
examples:
  chainrule demo
  chainrule draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg
  chainrule draw "(w0*x0 + w1*x1 + w2).sigmoid()" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 -o neuron.png
  chainrule explore "(x + y) * z" x=-2 y=5 z=-4
  chainrule draw --help

In Python: import autograd, nn (see the documentation for the library)."""


def _run_demo(arguments: argparse.Namespace) -> int:
    try:
        return demo(arguments.out)
    except RuntimeError as error:  # e.g. no Graphviz layout engine: the message says how to get one
        print(f"chainrule demo: {error}", file=sys.stderr)
        return 1


def _run_draw(arguments: argparse.Namespace) -> int:
    return draw_formula(arguments.rest, prog="chainrule draw")


def _run_explore(arguments: argparse.Namespace) -> int:
    """``chainrule draw`` whose output is the explorer's page (``explore.html`` by default)."""
    rest = list(arguments.rest)
    named = [i for i, item in enumerate(rest[:-1]) if item in ("-o", "--output")]
    if not named:
        rest += ["-o", "explore.html"]
    elif not rest[named[-1] + 1].lower().endswith(".html"):
        print(f"error: -o {rest[named[-1] + 1]}: the explorer is a page, name an .html file "
              f"(or use chainrule draw)", file=sys.stderr)
        return 2
    return draw_formula(rest, prog="chainrule explore")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"chainrule {autograd.__version__}")
    commands = parser.add_subparsers(title="commands", metavar="<command>", dest="command")
    demo_command = commands.add_parser(
        "demo", help="walk through the course's examples in the terminal and write their files",
        description="The (x + y) z graph and the sigmoid neuron with their gradients, then a 2-3-2 "
                    "network learning XOR and AND; writes the graphs (SVG), the loss curve (PNG) "
                    "and the trained model (JSON).")
    demo_command.add_argument("-o", "--out", default="chainrule-demo",
                              help="folder for the files it writes (default: %(default)s)")
    demo_command.set_defaults(run=_run_demo)
    # `draw` hands everything after it, --help included, to the formula command's own parser.
    draw_command = commands.add_parser(
        "draw", add_help=False, prefix_chars="\0",
        help="backpropagate through a formula, print every gradient, draw the graph "
             "(chainrule draw --help)")
    draw_command.add_argument("rest", nargs=argparse.REMAINDER)
    draw_command.set_defaults(run=_run_draw)
    explore_command = commands.add_parser(
        "explore", add_help=False, prefix_chars="\0",
        help="write a formula's interactive explorer page, explore.html (step through the backward pass)")
    explore_command.add_argument("rest", nargs=argparse.REMAINDER)
    explore_command.set_defaults(run=_run_explore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``chainrule`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Example:
        >>> main([])  # doctest: +ELLIPSIS
        usage: chainrule [-h] [--version] <command> ...
        <BLANKLINE>
        chainrule: backpropagation you can see...
        0
    """
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, a usage error: argparse has printed it
        return stop.code if isinstance(stop.code, int) else 2
    run: Callable[[argparse.Namespace], int] | None = getattr(arguments, "run", None)
    if run is None:  # bare `chainrule`: the help, not an error
        parser.print_help()
        return 0
    return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
