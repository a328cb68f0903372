"""Types as a user's type checker sees them: `mypy --strict` on the packages and on a user's script.

The configuration is pyproject.toml's [tool.mypy] (strict, with the modules' remaining
typing debt written down by error code); CI runs the same command in .ci/run.
tests/typing/user_mistakes.py is the other side: a student's typical mistakes, each of
which mypy must report on its line with its error code (and nothing else).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USER_SCRIPT = ROOT / "tests" / "typing" / "user_script.py"
MISTAKES = ROOT / "tests" / "typing" / "user_mistakes.py"
# The measured defect first: mypy --strict once passed all of these.
HEADLINE_MISTAKES = {"autograd.drw(": "attr-defined", "autograd.draw(out, stepp=3)": "call-arg",
                     "model(0.5)": "arg-type", 'activaton="relu"': "call-arg",
                     'dtyp="float32"': "call-arg", "history.losses": "attr-defined"}


def _mypy(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", *paths], capture_output=True, text=True,
                          check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_mypy_strict_passes_on_the_packages_and_a_user_script():
    pytest.importorskip("mypy")  # in the test extra
    pytest.importorskip("torch")  # nn.torch_bridge's types come from PyTorch (CI installs it)
    run = _mypy("autograd", "nn", str(USER_SCRIPT.relative_to(ROOT)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Success: no issues found")


def test_mypy_catches_each_mistake_of_a_students_script_by_line_and_code():
    pytest.importorskip("mypy")
    pytest.importorskip("torch")  # mypy follows `import nn` into nn.torch_bridge, typed by PyTorch
    lines = MISTAKES.read_text(encoding="utf-8").splitlines()
    expected = {(number, match.group(1)) for number, line in enumerate(lines, 1)
                if (match := re.search(r"# expect: ([\w-]+)$", line))}
    for snippet, code in HEADLINE_MISTAKES.items():
        (number,) = [n for n, line in enumerate(lines, 1) if snippet in line]
        assert (number, code) in expected, snippet
    run = _mypy(str(MISTAKES.relative_to(ROOT)))
    errors = re.findall(r"^(.+?):(\d+): error: .*\[([\w-]+)\]$", run.stdout, flags=re.MULTILINE)
    assert {path for path, _, _ in errors} == {str(MISTAKES.relative_to(ROOT))}, run.stdout
    assert {(int(number), code) for _, number, code in errors} == expected, run.stdout
    assert len(errors) == len(expected), run.stdout  # one error per mistake, none twice
    assert 'Module has no attribute "drw"; maybe "draw"?' in run.stdout
    assert 'Unexpected keyword argument "stepp" for "draw"; did you mean "step"?' in run.stdout
    assert 'Unexpected keyword argument "colapse" for "render"; did you mean "collapse"?' in run.stdout


def test_the_user_script_runs(tmp_path):
    run = subprocess.run([sys.executable, str(USER_SCRIPT)], capture_output=True, text=True, check=False,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[:2] == ["gradients (-4.0, -4.0, 3.0)", "d2/dx2 x^3 at 2 = 12.0"]
    assert "xor [0, 1, 1, 0]" in run.stdout


def test_no_module_of_ours_is_excused_from_mypy_strict():
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.mypy]", 1)[1]
    assert "strict = true" in config
    excused = re.findall(r'"((?:autograd|nn)\.[\w.]+)"', config)  # the typing debt, paid off
    assert excused == [] and "disable_error_code" not in config
