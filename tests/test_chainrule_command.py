"""The `chainrule` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parent.parent
COURSE = ["(x + y) * z", "x=-2", "y=5", "z=-4"]


def _script_target() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return text.split("[project.scripts]", 1)[1].split('chainrule = "', 1)[1].split('"', 1)[0]


def chainrule(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `chainrule` script if this environment has one, else its entry point."""
    installed = Path(sys.executable).parent / "chainrule"
    if installed.exists():
        command = [str(installed)]
    else:  # what the console-script wrapper pip writes does
        module, function = _script_target().split(":")
        command = [sys.executable, "-c",
                   f"import sys; from {module} import {function}; sys.exit({function}())"]
    return subprocess.run([*command, *args], capture_output=True, text=True, check=False, cwd=cwd,
                          timeout=120)


def test_the_script_points_at_nn_cli_main():
    assert _script_target() == "nn.cli:main"


@pytest.mark.parametrize("args", [[], ["--help"]])
def test_bare_chainrule_and_help_print_readable_help(args):
    run = chainrule(*args)
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout.startswith("usage: chainrule [-h] [--version] <command> ...\n")
    for line in ("    demo ", "    draw ", "    explore ",
                 '  chainrule draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg'):
        assert line in run.stdout
    for markup in ("``", ":mod:", ":func:", ".. "):  # no raw reStructuredText
        assert markup not in run.stdout


def test_version():
    run = chainrule("--version")
    assert (run.returncode, run.stdout) == (0, f"chainrule {autograd.__version__}\n")


def test_unknown_command_is_a_usage_error():
    run = chainrule("trian")
    assert run.returncode == 2 and run.stdout == ""
    assert "invalid choice: 'trian' (choose from 'demo', 'draw', 'explore'" in run.stderr


def test_draw_runs_the_formula_command_under_its_own_name(tmp_path):
    run = chainrule("draw", *COURSE, "-o", str(tmp_path / "g.png"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["f = (x + y) * z = -12", "df/dx = -4", "df/dy = -4", "df/dz = 3",
                                       f"wrote {tmp_path / 'g.png'}"]
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    options_first = chainrule("draw", "-o", str(tmp_path / "g.dot"), *COURSE)
    assert options_first.returncode == 0 and "digraph" in (tmp_path / "g.dot").read_text(encoding="utf-8")


def test_draw_help_and_errors_name_chainrule_draw(tmp_path):
    usage = chainrule("draw", "--help")
    assert usage.returncode == 0 and usage.stdout.startswith("usage: chainrule draw ")
    assert 'chainrule draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg' in usage.stdout
    bad = chainrule("draw", "x +", "x=1", cwd=tmp_path)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.startswith("error: syntax error") and bad.stderr.count("\n") == 1
    unknown_option = chainrule("draw", *COURSE, "--colour", "red", cwd=tmp_path)
    assert unknown_option.returncode == 2
    assert unknown_option.stderr.endswith("(see chainrule draw --help)\n")
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_nn_is_the_same_command():
    run = subprocess.run([sys.executable, "-m", "nn"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and run.stdout == chainrule().stdout
    demo_help = subprocess.run([sys.executable, "-m", "nn", "demo", "--help"], capture_output=True,
                               text=True, check=False)
    assert demo_help.returncode == 0 and demo_help.stdout.startswith("usage: chainrule demo [-h] [-o OUT]")


def test_explore_writes_the_explorer_page(tmp_path):
    run = chainrule("explore", *COURSE, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "wrote explore.html"
    page = (tmp_path / "explore.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    named = chainrule("explore", *COURSE, "-o", "course.html", cwd=tmp_path)
    assert named.returncode == 0 and (tmp_path / "course.html").exists()


def test_explore_refuses_a_picture_file(tmp_path):
    run = chainrule("explore", *COURSE, "-o", "graph.svg", cwd=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == ("error: -o graph.svg: the explorer is a page, name an .html file "
                          "(or use chainrule draw)\n")
    assert not (tmp_path / "graph.svg").exists()
    usage = chainrule("explore", "--help")
    assert usage.returncode == 0 and usage.stdout.startswith("usage: chainrule explore ")
