"""The documentation site's pages: their examples run as written, and the nav holds every page.

CI builds the site itself with `mkdocs build --strict` (see .ci/run), which fails on a
broken link or API reference; these tests run without MkDocs.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md"))
CODE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def nav_pages() -> list[str]:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s+- (?:[^:\n]+: )?([\w/.-]+\.md)$", config, re.M)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    listed = nav_pages()
    assert sorted(listed) == sorted(path.relative_to(DOCS).as_posix() for path in PAGES)


def test_the_notebooks_section_is_filled_from_the_folder():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert re.search(r"^  - Notebooks: \[\]", config, re.M)
    assert "notebook_paths(config)" in (DOCS / "_hooks.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", [p for p in PAGES if CODE.search(p.read_text(encoding="utf-8"))],
                         ids=lambda p: p.relative_to(DOCS).as_posix())
def test_the_examples_of_a_page_run_in_order(page, tmp_path, monkeypatch, capsys):
    text = page.read_text(encoding="utf-8")
    if "import torch" in text:
        pytest.importorskip("torch")  # the `torch` extra; CI installs it
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, block in enumerate(CODE.findall(text)):
        exec(compile(block, f"{page.name} example {number + 1}", "exec"), namespace)
    assert capsys.readouterr().out  # every page's examples show something


def _resolves(dotted: str) -> bool:
    found: object = importlib.import_module(dotted.split(".")[0])
    for part in dotted.split(".")[1:]:
        if not hasattr(found, part) and inspect.ismodule(found):
            try:
                importlib.import_module(f"{found.__name__}.{part}")
            except ImportError:
                return False
        if not hasattr(found, part):
            return False
        found = getattr(found, part)
    return True


def test_every_name_the_pages_and_the_readme_write_in_code_exists():
    texts = [page.read_text(encoding="utf-8") for page in PAGES] + [README]
    names = {name for text in texts for span in re.findall(r"`([^`\n]+)`", text)
             for name in re.findall(r"(?<![\w./])((?:autograd|nn)(?:\.[A-Za-z_]\w*)+)", span)}
    assert len(names) > 20
    assert sorted(name for name in names if not name.endswith(".md") and not _resolves(name)) == []
    assert not _resolves("nn.bce") and _resolves("nn.datasets.fetch_bike_sharing")


def test_the_docs_say_which_generator_and_why():
    about = (DOCS / "about.md").read_text(encoding="utf-8")
    assert "Why MkDocs with Material and mkdocstrings" in about and "Sphinx" in about


def test_the_docs_extra_and_ci_build_the_site_strictly():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^docs = \[\n    "mkdocs>=1\.6,<2",', pyproject, re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert 'pip install ".[docs]"' in ci
    assert any("mkdocs build --strict" in line for line in ci)


# ---------------------------------------------------------------------------
# README.md: what a package index page shows
# ---------------------------------------------------------------------------
README = (ROOT / "README.md").read_text(encoding="utf-8")
SITE = "https://chainrule.github.io/chainrule/"
REPOSITORY = "https://github.com/chainrule/chainrule/blob/main/"


def test_readme_examples_run_as_written_after_the_quick_start(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = CODE.findall(README)
    assert blocks
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for number, block in enumerate(blocks):
        assert "sklearn" not in block and "torch" not in block  # the quick start installs neither
        exec(compile(block, f"README.md example {number + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "-12.0 -4.0 -4.0 3.0" in printed and "[0, 1, 1, 0]" in printed


def test_readme_links_are_absolute_and_lead_somewhere():
    links = re.findall(r"\]\(([^)]+)\)", README) + re.findall(r"(?<![(\w])(https://\S+?)(?=[)\s*]|$)", README)
    assert links
    assert [link for link in links if not link.startswith("https://")] == []
    assert [link for link in links if not _leads_somewhere(link)] == []


def _leads_somewhere(link: str) -> bool:
    """A link to the site names a page MkDocs builds; one to a file on main names a file that exists."""
    if link.startswith(SITE):
        page = link[len(SITE):].split("#")[0].strip("/") or "index"
        candidates = [DOCS / f"{page}.md", DOCS / page / "index.md", ROOT / f"{page}.ipynb"]
        return any(path.exists() for path in candidates) and (not page.startswith("notebooks/")
                                                              or page.count("/") == 1)
    if link.startswith(REPOSITORY):
        return (ROOT / link[len(REPOSITORY):].split("#")[0]).exists()
    return True


def test_the_package_metadata_and_the_docs_pages_link_to_pages_and_files_that_exist():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    urls = re.findall(r'^\w+ = "(https://[^"]+)"$', pyproject.split("[project.urls]", 1)[1], re.M)
    assert len(urls) >= 5 and any(url.startswith(REPOSITORY) for url in urls)
    pages = [page.read_text(encoding="utf-8") for page in PAGES]
    absolute = [link for text in pages for link in re.findall(r"\]\((https://[^)\s]+)\)", text)]
    assert [link for link in urls + absolute if not _leads_somewhere(link)] == []
    assert not _leads_somewhere(SITE + "guide/engines/") and not _leads_somewhere(REPOSITORY + "CHANGES.md")


def test_the_docs_say_how_to_build_and_preview_them_locally():
    about = (DOCS / "about.md").read_text(encoding="utf-8")
    assert 'pip install ".[docs]"' in about and "mkdocs serve" in about and "mkdocs build --strict" in about
    assert "mkdocs serve" in README


def test_the_package_metadata_points_at_the_same_site():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'Documentation = "{SITE}"' in pyproject
    assert f"site_url: {SITE}" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
