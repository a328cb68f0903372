"""Types as a user's type checker sees them: `mypy --strict` on the packages and on a user's script.

The configuration is pyproject.toml's [tool.mypy] (strict, with the modules' remaining
typing debt written down by error code); CI runs the same command in .ci/run.
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
COMMAND = [sys.executable, "-m", "mypy", "--strict", "autograd", "nn", str(USER_SCRIPT.relative_to(ROOT))]


def test_mypy_strict_passes_on_the_packages_and_a_user_script():
    pytest.importorskip("mypy")  # in the test extra
    pytest.importorskip("torch")  # nn.torch_bridge's types come from PyTorch (CI installs it)
    run = subprocess.run(COMMAND, capture_output=True, text=True, check=False, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Success: no issues found")


def test_the_user_script_runs(tmp_path):
    run = subprocess.run([sys.executable, str(USER_SCRIPT)], capture_output=True, text=True, check=False,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[:2] == ["gradients (-4.0, -4.0, 3.0)", "d2/dx2 x^3 at 2 = 12.0"]
    assert "xor [0, 1, 1, 0]" in run.stdout


def test_the_typing_debt_names_only_modules_that_exist():
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8").split("[tool.mypy]", 1)[1]
    debt = re.findall(r'"((?:autograd|nn)\.[\w.]+)"', config)
    assert debt, "the debt list moved: update this test"
    missing = [name for name in debt if not (ROOT / (name.replace(".", "/") + ".py")).exists()]
    assert missing == []
