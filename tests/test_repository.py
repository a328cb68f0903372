"""The repository keeps the promises its README makes."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_exactly_two_quick_start_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_readme_warns_about_hips_autograd():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "HIPS" in readme and "virtual environment" in readme


def test_autograd_never_imports_nn():
    for path in (ROOT / "autograd").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+nn\b", source, re.M), path


def test_core_does_not_import_rendering_or_compilation():
    core = ["value.py", "ops.py", "engine.py", "context.py", "gradcheck.py"]
    for name in core:
        source = (ROOT / "autograd" / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(\.draw|\.compile|graphviz|numpy)", source, re.M), name
