"""The repository keeps the promises its README makes."""

import os
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


# The course's private files are not part of the repository: no file may point at them.
FORBIDDEN = ("COURSE" + ".md", "seeds" + "/")


def repository_files():
    """Every file of the checkout, minus hidden folders (.git, CI's .venv) and build output."""
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not (d.startswith(".") or d in ("__pycache__", "build")
                                                       or d.endswith(".egg-info"))]
        yield from (Path(folder) / name for name in names)


def test_no_file_cites_the_private_course_files():
    offenders = [str(path.relative_to(ROOT)) for path in repository_files()
                 if any(word in path.read_text(encoding="utf-8", errors="ignore") for word in FORBIDDEN)]
    assert not offenders, f"cite docs/course.md or the topic instead: {offenders}"


def test_the_course_map_is_linked_from_the_readme_and_its_links_resolve():
    # the README links the site's page (absolute: it also shows on the package index)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](https://chainrule.github.io/chainrule/course/)" in readme
    course_map = ROOT / "docs" / "course.md"
    targets = re.findall(r"\]\((\.\./[^)#]+)", course_map.read_text(encoding="utf-8"))
    assert targets
    missing = [t for t in targets if not (course_map.parent / t).exists()]
    assert not missing


def test_every_benchmark_script_answers_help_without_running_or_writing():
    # A benchmark run takes minutes and update_docs.py rewrites the docs' tables:
    # `--help` must only print the usage.
    import subprocess
    import sys

    docs = (ROOT / "docs" / "benchmarks.md").read_bytes()
    scripts = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
    expected = {"bench_engine.py", "bench_nn.py", "bench_compile.py", "update_docs.py"}
    assert {p.name for p in scripts} >= expected
    for script in scripts:
        done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                              timeout=120, cwd=ROOT)
        assert done.returncode == 0 and done.stdout.startswith("usage: "), (script.name, done.stderr)
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == docs
