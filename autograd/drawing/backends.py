"""Which Graphviz lays out the drawings: pygraphviz's bundled library, or the ``dot`` program.

Building DOT text needs nothing; turning it into SVG, PNG or PDF needs Graphviz's
layout engine. ``pip install pygraphviz`` (2.0.4 and later) brings Graphviz inside
its wheel on Linux, macOS and Windows, so it is tried first; a system Graphviz's
``dot`` program on ``PATH`` comes second. :func:`choose_backend` is the one place
that decides; set ``CHAINRULE_RENDER_BACKEND`` to ``pygraphviz`` or ``dot`` to force one.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess

__all__ = ["BACKENDS", "BACKEND_ENVIRONMENT_VARIABLE", "FORMATS", "GraphvizNotFoundError",
           "choose_backend", "layout"]

BACKENDS = ("pygraphviz", "dot")
BACKEND_ENVIRONMENT_VARIABLE = "CHAINRULE_RENDER_BACKEND"
FORMATS = ("svg", "png", "pdf")

_HOW_TO_GET_GRAPHVIZ = ("install one of them: `pip install pygraphviz` (its wheels bundle "
                        "Graphviz), or your system's graphviz package (e.g. `apt-get install "
                        "graphviz`, `brew install graphviz`, `conda install graphviz`) for the "
                        "`dot` program. The DOT text, autograd.draw(...).source, needs neither.")


class GraphvizNotFoundError(RuntimeError):
    """Neither pygraphviz nor the ``dot`` program is available to lay out a graph."""


def _pygraphviz_importable() -> bool:
    try:
        importlib.import_module("pygraphviz")
    except ImportError:
        return False
    return True


def _dot_program() -> str | None:
    return shutil.which("dot")


def choose_backend(backend: str | None = None) -> str:
    """The Graphviz backend to render with: ``"pygraphviz"`` or ``"dot"``.

    ``backend`` (or else the ``CHAINRULE_RENDER_BACKEND`` environment variable)
    forces one; otherwise pygraphviz when it imports, else ``dot`` on ``PATH``.
    Raises :class:`GraphvizNotFoundError` naming both ways to get Graphviz when
    the chosen one (or every one) is missing.

    Example:
        >>> choose_backend() in ("pygraphviz", "dot")
        True
    """
    if backend is None:
        backend = os.environ.get(BACKEND_ENVIRONMENT_VARIABLE) or None
    if backend is not None and backend not in BACKENDS:
        raise ValueError(f"unknown render backend {backend!r}: use one of {', '.join(BACKENDS)} "
                         f"(argument backend= or ${BACKEND_ENVIRONMENT_VARIABLE})")
    if backend in (None, "pygraphviz") and _pygraphviz_importable():
        return "pygraphviz"
    if backend in (None, "dot") and _dot_program() is not None:
        return "dot"
    if backend == "pygraphviz":
        raise GraphvizNotFoundError(f"the pygraphviz backend was asked for but pygraphviz does not "
                                    f"import; {_HOW_TO_GET_GRAPHVIZ}")
    if backend == "dot":
        raise GraphvizNotFoundError(f"the dot backend was asked for but no `dot` program is on "
                                    f"PATH; {_HOW_TO_GET_GRAPHVIZ}")
    raise GraphvizNotFoundError("rendering needs Graphviz, and neither pygraphviz nor the `dot` "
                                f"program was found; {_HOW_TO_GET_GRAPHVIZ}")


def layout(source: str, format: str, backend: str | None = None) -> bytes:
    """Lay out DOT ``source`` with Graphviz's ``dot`` engine; the file's bytes in ``format``.

    Example:
        >>> layout("digraph { a -> b }", "svg")[:5]
        b'<?xml'
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    if choose_backend(backend) == "pygraphviz":
        return _layout_with_pygraphviz(source, format)
    return _layout_with_dot_program(source, format)


def _layout_with_pygraphviz(source: str, format: str) -> bytes:
    pygraphviz = importlib.import_module("pygraphviz")
    return pygraphviz.AGraph(string=source).draw(format=format, prog="dot")


def _layout_with_dot_program(source: str, format: str) -> bytes:
    program = _dot_program()
    if program is None:  # vanished since choose_backend looked
        raise GraphvizNotFoundError(f"no `dot` program on PATH; {_HOW_TO_GET_GRAPHVIZ}")
    finished = subprocess.run([program, f"-T{format}"], input=source.encode("utf-8"),
                              capture_output=True, check=False)
    if finished.returncode != 0:
        message = finished.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit code {finished.returncode}): {message}")
    return finished.stdout
