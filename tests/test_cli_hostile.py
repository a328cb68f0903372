"""python -m autograd under hostile and careless input: one error line and exit 2, always."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from autograd.__main__ import main

ROOT = Path(__file__).resolve().parent.parent

FAILURES = [  # (argv, part of the one error line)
    (["sqrt(x)", "x=0", "--no-draw"], "the local gradient of sqrt(0.0) is undefined"),
    (["sqrt(x)", "x=0"], "the local gradient of sqrt(0.0) is undefined"),
    (["1e309 - 1e309"], "1e309 is too large for a float"),
    (["1e308 * 10"], "1e308 * 10 (column 1): result too large for a float"),
    (["x * 10", "x=1e308"], "mul(1e+308, 10.0): result too large"),
    (["(1 / x) * 0", "x=1e-160"], "the local gradient of div(1.0, 1e-160) for operand 1 is -inf"),
    (["x ** y", "x=-3", "y=2"], "pow(-3.0, 2.0) for operand 1 is nan"),
    (["x", "x=1", "-o", "g.dot", "--number-format", "999999999"], "--number-format '999999999'"),
    (["x", "x=1", "-o", "g.dot", "--number-format", ".999f"], "width and precision must be below 100"),
    (["x", "x=1", "-o", "g.dot", "--number-format", "q"], "number_format 'q' is not a float format spec"),
    (["x", "x=1", "--number-format", "1" * 30], "must be below 100"),
]


@pytest.mark.parametrize(("argv", "message"), FAILURES)
def test_every_failure_is_one_error_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: ") and message in captured.err
    assert list(tmp_path.iterdir()) == []


def test_names_are_normalised_in_the_assignments_as_in_the_formula(capsys):
    assert main(["µ * x", "µ=2", "x=3"]) == 0  # the micro sign: NFKC makes it Greek mu, as Python does
    assert capsys.readouterr().out.splitlines() == ["f = µ * x = 6", "df/dμ = 3", "df/dx = 2"]
    assert main(["ｘ + 1", "x=1"]) == 0  # a full-width x is x


def test_a_flat_sum_up_to_the_length_limit_is_not_nested_too_deeply(capsys):
    assert main(["+".join(["x"] * 4990), "x=1"]) == 0  # 9,979 characters: within the limit
    assert capsys.readouterr().out.splitlines()[-1] == "df/dx = 4990"


def test_undecodable_bytes_in_argv_are_an_error_line(tmp_path):
    for argv in ([b"\xff", b"x=1"], [b"x", b"\xff=1"], [b"x*\xfe", b"x=1"]):
        run = subprocess.run([sys.executable, "-m", "autograd", *argv], capture_output=True, cwd=tmp_path,
                             env={"PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}, check=False)
        assert run.returncode == 2 and run.stdout == b""
        assert run.stderr.startswith(b"error: ") and run.stderr.count(b"\n") == 1, run.stderr


def _limits() -> None:  # in the child, before it runs: bounded memory and CPU time
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def test_fuzzed_formulas_names_and_options_give_only_documented_outcomes():
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "cli_fuzz_worker.py"), "400"],
                         capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)},
                         preexec_fn=_limits, timeout=300, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(run.stdout.splitlines()[-1])
    assert summary["cases"] >= 400 and summary["exit 2"] > 0 and summary["exit 0"] > 0
