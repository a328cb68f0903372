"""Fuzz the formula command line in this process: hostile formulas, names and options.

Run by tests/test_cli_hostile.py in a subprocess with ``resource`` limits on memory and
CPU time (``python tests/cli_fuzz_worker.py EXAMPLES``). Every case calls
``autograd.__main__.main`` and checks the documented contract: exit 0 with nothing on
stderr, or exit 2 with exactly one ``error: ...`` line; no file but the one ``-o`` names.
Prints a JSON summary (cases tried, exit codes seen) on the last line of stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograd.__main__ import main

TOKENS = ["x", "y", "µ", "μ", "ｘ", "_a", "0", "2", "0.5", "1e309", "5e-324", "1e308", "-0.0", "1e-320",
          "+", "-", "*", "/", "**", "//", "%", "@", "<", "==", "(", ")", ",", ".", "[", "]", "exp(", "log(",
          "sqrt(", "tanh(", "max(", "min(", "abs(", "leaky_relu(", "sinc(", "__import__(", ".data",
          ".tanh()", ".__class__", "lambda", "'s'", "\udcff", "\x00", "\n", " ", "if", "x=1", "**9999"]
NAMES = ["x", "y", "µ", "μ", "ｘ", "_a", "x y", "", "1x", "\udcff", "é", "a" * 300]
NUMBERS = ["0", "-1", "2", "1e309", "-1e309", "inf", "-inf", "nan", "abc", "", "1e-320", "5e-324", "0x10"]
OPTIONS = [[], ["--no-draw"], ["--rankdir", "TB"], ["--rankdir", "RL"], ["-o", "out.dot"],
           ["-o", "out.txt"], ["-o", "out.dot", "--number-format", ".4g"],
           ["-o", "out.dot", "--number-format", "999999999"], ["-o", "out.dot", "--number-format", "q"],
           ["-o", "out.dot", "--number-format", ".99f"], ["--number-format", "x" * 50], ["--bogus"],
           ["-o"], ["--help"]]


@st.composite
def formulas(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["tokens", "text", "long"]))
    if kind == "tokens":
        return "".join(draw(st.lists(st.sampled_from(TOKENS), max_size=30)))
    if kind == "text":
        return draw(st.text(max_size=40))
    n = draw(st.integers(1, 6000))
    shape = draw(st.sampled_from(["+".join(["x"] * n), "(" * n + "x" + ")" * n, "-" * n + "x",
                                  "x" + "**x" * n, "exp(" * n + "x" + ")" * n]))
    return shape[:12_000]


assignments = st.lists(st.builds(lambda name, number: f"{name}={number}", st.sampled_from(NAMES),
                                 st.sampled_from(NUMBERS)), max_size=4)
COUNTS: Counter[str] = Counter()


def check_case(formula: str, assigned: list[str], options: list[str]) -> None:
    """One command line: its outcome must be one the documentation promises."""
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([formula, *assigned, *options])
            except SystemExit as done:  # --help
                code = done.code
        os.chdir("/")
        COUNTS[f"exit {code}"] += 1
        written = sorted(path.name for path in Path(folder).iterdir())
        if code == 2:
            assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1, err.getvalue()
        else:
            assert code == 0 and err.getvalue() == "", (code, err.getvalue())
        expected = ["out.dot"] if code == 0 and "out.dot" in options and "--help" not in options else []
        assert written == expected, (written, options)


if __name__ == "__main__":
    fuzz = settings(max_examples=int(sys.argv[1]), derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))(
        given(formula=formulas(), assigned=assignments, options=st.sampled_from(OPTIONS))(check_case))
    fuzz()
    print(json.dumps({"cases": sum(COUNTS.values()), **COUNTS}))
