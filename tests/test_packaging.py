"""Packaging: the licence, the metadata, one version, the changelog, the wheel, and HIPS autograd."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import autograd

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_mit_licence_in_the_repository_and_pep_639_metadata():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77
               for r in PYPROJECT["build-system"]["requires"])


def test_classifiers_name_python_3_10_to_3_13_and_a_status():
    classifiers = PYPROJECT["project"]["classifiers"]
    versions = [c.rsplit(" ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert PYPROJECT["project"]["requires-python"] == ">=3.10"
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert not any(c.startswith("License ::") for c in classifiers)  # PEP 639: `license` says it


def test_project_urls_are_absolute():
    urls = PYPROJECT["project"]["urls"]
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())


def test_the_version_is_written_once():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "autograd.__version__"}
    written = [path for path in [*ROOT.glob("autograd/**/*.py"), *ROOT.glob("nn/**/*.py")]
               if re.search(r"^__version__\s*=", path.read_text(encoding="utf-8"), re.M)]
    assert written == [ROOT / "autograd" / "__init__.py"]


def test_changelog_keeps_a_changelog_and_names_this_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog
    headings = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (Unreleased|\d{4}-\d\d-\d\d)$", changelog, re.M)
    assert headings[-1] == ("0.1.0", "2026-11-23")
    release = re.match(r"\d+\.\d+\.\d+", autograd.__version__).group()
    assert headings[0][0] == release


def test_the_wheel_carries_the_licence_metadata_and_every_module(tmp_path):
    pytest.importorskip("setuptools", minversion="77")  # the test extra installs it
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for package in ("autograd", "nn"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "-q", "-w", str(tmp_path / "dist"), str(source)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    (wheel,) = (tmp_path / "dist").glob("chainrule-*.whl")
    assert wheel.name.startswith(f"chainrule-{autograd.__version__}-py3-none-any")
    names = zipfile.ZipFile(wheel).namelist()
    info = f"chainrule-{autograd.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
    assert "Classifier: Programming Language :: Python :: 3.13" in metadata
    shipped = {name for name in names if name.endswith((".py", "py.typed"))}
    expected = {path.relative_to(ROOT).as_posix() for package in ("autograd", "nn")
                for path in (ROOT / package).rglob("*") if path.suffix == ".py" or path.name == "py.typed"}
    assert shipped == expected
    script = PYPROJECT["project"]["scripts"]["chainrule"]
    assert f"chainrule = {script}" in zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()


# ---------------------------------------------------------------------------
# HIPS autograd uses the same import name: a mixed folder is refused at import
# ---------------------------------------------------------------------------
def _import_in(path: Path, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True,
                          check=False, cwd=path, env={"PYTHONPATH": str(path), "PATH": ""})


def test_chainrule_installed_over_hips_autograd_refuses_to_import(tmp_path):
    shutil.copytree(ROOT / "autograd", tmp_path / "autograd", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "nn", tmp_path / "nn", ignore=shutil.ignore_patterns("__pycache__"))
    assert _import_in(tmp_path, "nn").returncode == 0
    (tmp_path / "autograd" / "tracer.py").write_text("# HIPS autograd's\n")
    for module in ("autograd", "nn"):
        run = _import_in(tmp_path, module)
        assert run.returncode == 1
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith("autograd._install_check.MixedInstallError: the autograd package in ")
        assert "HIPS's tracer.py" in last and "pip uninstall -y chainrule autograd" in last


def test_hips_autograd_installed_over_chainrule_makes_nn_say_so(tmp_path):
    shutil.copytree(ROOT / "nn", tmp_path / "nn", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "autograd").mkdir()
    shutil.copy(ROOT / "autograd" / "_install_check.py", tmp_path / "autograd")
    (tmp_path / "autograd" / "__init__.py").write_text("from . import grad_of_hips as grad\n")
    (tmp_path / "autograd" / "grad_of_hips.py").write_text("")
    run = _import_in(tmp_path, "nn")
    assert run.returncode == 1
    assert "is not chainrule's (HIPS autograd was probably installed over it)" in run.stderr
