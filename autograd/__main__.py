"""Command line: backpropagate through a formula, print every gradient, draw the graph.

Usage::

    python -m autograd "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg

The formula is parsed safely (an AST whitelist, see :mod:`autograd.expr`): numbers,
names, ``+ - * / **``, unary minus, and the Value methods called as functions or
methods (``tanh(x)`` or ``x.tanh()``). The graph is drawn only where ``-o`` (or
``--steps``) says. Exit codes: 0 success; 2 any error (a bad formula, name, value or
option, a forward or backward pass with no value, a drawing that could not be
written), reported as one ``error: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from .drawing import render, render_steps
from .drawing.options import number_formatter
from .expr import FUNCTIONS, METHODS, evaluate, normalized_name, shortened, variable_names
from .value import Value

__all__ = ["main"]

DRAWING_SUFFIXES = ("svg", "png", "pdf", "html", "dot", "gv")

EXAMPLES = """examples:
  python -m autograd "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg
  python -m autograd "1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))" w0=2 x0=-1 w1=-3 x1=-2 w2=-3
  python -m autograd "(w0*x0 + w1*x1 + w2).sigmoid()" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --steps frames/

functions (also as methods, x.tanh()): """ + ", ".join(sorted([*METHODS, *FUNCTIONS]))


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
        raise _UsageError(f"{message} (see {self.prog} --help)")


def _parser(prog: str = "python -m autograd") -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description="Build the graph of a formula, backpropagate, print d(formula)/d(variable) "
                    "for every variable and draw the graph with its gradients.",
        epilog=EXAMPLES.replace("python -m autograd", prog),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("expression", help='the formula, quoted, e.g. "(x + y) * z"')
    parser.add_argument("assignments", nargs="*", metavar="name=value",
                        help="a number for every variable of the formula, e.g. x=-2")
    parser.add_argument("-o", "--output",
                        help="draw the graph into this file: .svg, .png, .pdf, .html (the interactive "
                             "explorer) or .dot for the DOT text (needs no Graphviz); without -o "
                             "nothing is written")
    parser.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                        help="left to right (default) or top to bottom")
    parser.add_argument("--number-format", default=".4g",
                        help="format spec for the numbers in the drawing (default .4g)")
    parser.add_argument("--steps", metavar="DIR",
                        help="also write one SVG per backward step into DIR (step_000.svg ...)")
    parser.add_argument("--no-draw", action="store_true", help="print the gradients only, even with -o")
    return parser


def _assignments(items: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, equals, text = item.partition("=")
        name = normalized_name(name.strip())  # as the formula's parser reads names: µ is μ
        if not equals or not name.isidentifier():
            raise _UsageError(f"{shortened(item)!r} is not a name=value assignment (write x=-2)")
        if name in values:
            raise _UsageError(f"{name} is given twice")
        try:
            number = float(text)
        except ValueError:
            raise _UsageError(f"{shortened(item)!r}: {shortened(text.strip())!r} is not a number") from None
        if number != number:
            raise _UsageError(f"{shortened(item)!r}: NaN is not allowed")
        values[name] = number
    return values


# Width and precision below 100: a format spec is the drawing's, but "999999999g" would
# allocate a gigabyte per number before anything could refuse it.
_HUGE_FORMAT_NUMBER = re.compile(r"\d{3,}")


def _check_options(arguments: argparse.Namespace) -> None:
    if arguments.output is not None and not arguments.no_draw:
        suffix = arguments.output.rpartition(".")[2].lower() if "." in arguments.output else ""
        if suffix not in DRAWING_SUFFIXES:
            raise _UsageError(f"-o {shortened(arguments.output)}: name a .svg, .png, .pdf, .html or .dot "
                              "file")
    if _HUGE_FORMAT_NUMBER.search(arguments.number_format) or len(arguments.number_format) > 20:
        raise _UsageError(f"--number-format {shortened(arguments.number_format)!r}: width and precision "
                          "must be below 100 (e.g. .4g)")
    number_formatter(arguments.number_format)  # the drawing's own check, before anything is printed


def _backpropagate(arguments: argparse.Namespace) -> tuple[Value, dict[str, Value]]:
    """The formula's graph, its leaves by name, and every gradient filled in."""
    values = _assignments(arguments.assignments)
    names = variable_names(arguments.expression)
    formula = shortened(arguments.expression)
    unused = [name for name in values if name not in names]
    if unused:
        verb = "is" if len(unused) == 1 else "are"
        raise _UsageError(f"{', '.join(unused)} {verb} not used in {formula!r}")
    missing = [name for name in names if name not in values]
    if missing:
        raise _UsageError(f"unknown name{'s' if len(missing) > 1 else ''} {', '.join(missing)} in "
                          f"{formula!r}: give a value, e.g. {missing[0]}=1")
    leaves = {name: Value(values[name], name) for name in names}
    f = evaluate(arguments.expression, leaves)
    f.label = "f"
    f.backward()
    return f, leaves


def main(argv: Sequence[str] | None = None, prog: str = "python -m autograd") -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    ``prog`` is the command's name in its help and errors (``chainrule draw`` runs this too).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "graph.dot"
        >>> main(["(x + y) * z", "x=-2", "y=5", "z=-4", "-o", str(out)])  # doctest: +ELLIPSIS
        f = (x + y) * z = -12
        df/dx = -4
        df/dy = -4
        df/dz = 3
        wrote .../graph.dot
        0
    """
    try:
        arguments = _parser(prog).parse_args(argv)
        _check_options(arguments)
        f, leaves = _backpropagate(arguments)
    except (_UsageError, ArithmeticError, ValueError) as error:  # ExpressionError, NonFiniteError...
        return _error(str(error))
    print(f"f = {arguments.expression} = {f.data:g}")
    for name, leaf in leaves.items():
        print(f"df/d{name} = {leaf.grad:g}")
    if arguments.no_draw or (arguments.output is None and not arguments.steps):
        return 0
    return _draw(f, arguments)


def _error(message: str) -> int:
    """Report one error as one line on stderr; the exit code 2."""
    print("error: " + " ".join(message.split("\n")), file=sys.stderr)
    return 2


def _draw(f: Value, arguments: argparse.Namespace) -> int:
    options = {"rankdir": arguments.rankdir, "number_format": arguments.number_format}
    try:
        if arguments.output is not None:
            print(f"wrote {render(f, arguments.output, **options)}")
        if arguments.steps:
            frames = render_steps(f, arguments.steps, **options)
            print(f"wrote {len(frames)} frames of the backward pass to {arguments.steps}")
    except (ValueError, TypeError) as error:  # a bad -o suffix or number format
        return _error(str(error))
    except (OSError, RuntimeError) as error:  # no Graphviz, an unwritable path
        return _error(f"could not write the drawing: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
