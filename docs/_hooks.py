"""MkDocs hooks and a griffe extension for the documentation site (see mkdocs.yml).

* The notebooks live in ``notebooks/`` (where the tests run them), not in ``docs/``:
  :func:`on_files` adds them to the site, rendered by mkdocs-jupyter with their
  committed outputs (never executed).
* Links are written to work on GitHub, between the repository's folders
  (``docs/course.md`` -> ``../notebooks/01_chain_rule.ipynb`` and back); the hooks
  point them at the same pages inside the site. A notebook link left unresolved
  is a warning, so ``mkdocs build --strict`` fails on it.
* Docstrings use reStructuredText roles (``:func:`autograd.grad```), which Markdown
  does not know: :class:`RstRoles` shows them as code.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import griffe
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.plugins.chainrule")
NOTEBOOKS = "notebooks"
ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj|term):`~?([^`]+)`")
REPOSITORY_LINK = re.compile(r'href="\.\./docs/([^"#]+)\.md(#[^"]*)?"')
LEFT_RELATIVE = re.compile(r'href="(?!https?:|#|mailto:)([^"]+\.(?:md|ipynb)(?:#[^"]*)?)"')


def notebook_paths(config: Any) -> list[Path]:
    return sorted((Path(config["config_file_path"]).parent / NOTEBOOKS).glob("[0-9][0-9]_*.ipynb"))


def on_config(config: Any) -> Any:
    """The nav's "Notebooks" section lists every notebook, so a new one needs no edit here."""
    for section in config["nav"]:
        if isinstance(section, dict) and "Notebooks" in section:
            section["Notebooks"] = [f"{NOTEBOOKS}/{path.name}" for path in notebook_paths(config)]
    return config


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    root = Path(config["config_file_path"]).parent
    for path in notebook_paths(config):
        files.append(File(f"{NOTEBOOKS}/{path.name}", src_dir=str(root), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """A docs page's ``../notebooks/x.ipynb`` is the site's ``notebooks/x.ipynb``."""
    depth = page.file.src_uri.count("/")
    return markdown.replace(f"]({'../' * (depth + 1)}{NOTEBOOKS}/", f"]({'../' * depth}{NOTEBOOKS}/")


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    """A notebook's ``../docs/course.md#anchor`` is the site's course page."""
    if not page.file.src_uri.startswith(f"{NOTEBOOKS}/"):
        return html

    def site_link(match: re.Match[str]) -> str:
        target = get_relative_url(f"{match.group(1)}/", page.url)
        return f'href="{target}{match.group(2) or ""}"'

    html = REPOSITORY_LINK.sub(site_link, html)
    for link in LEFT_RELATIVE.findall(html):
        log.warning("%s links to %s, which is not a page of the site", page.file.src_uri, link)
    return html


def fence_doctests(text: str) -> str:
    """Each doctest block (``>>>`` lines and their output, up to a blank line) as a pycon code block.

    Example:
        >>> fence_doctests("Example:\n    >>> 1 + 1\n    2\n")
        'Example:\n    ```pycon\n    >>> 1 + 1\n    2\n    ```\n'
    """
    lines, out, indent = text.splitlines(), [], None
    for line in lines:
        stripped = line.lstrip()
        if indent is None and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
        elif indent is not None and not stripped:
            out.append(f"{indent}```")
            indent = None
        out.append(line)
    if indent is not None:
        out.append(f"{indent}```")
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


class RstRoles(griffe.Extension):
    """Docstrings as Markdown: ``:func:`name``` shown as code, doctest examples as code blocks."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(ROLE.sub(r"`\1`", obj.docstring.value))
