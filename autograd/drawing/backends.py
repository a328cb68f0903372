"""Which Graphviz lays out the drawings: pygraphviz's bundled library, or the ``dot`` program.

Building DOT text needs nothing; turning it into SVG, PNG or PDF needs Graphviz's
layout engine. ``pip install pygraphviz`` (2.0.4 and later) brings Graphviz inside
its wheel on Linux, macOS and Windows, so it is tried first; a system Graphviz's
``dot`` program on ``PATH`` comes second. :func:`choose_backend` is the one place
that decides; set ``CHAINRULE_RENDER_BACKEND`` to ``pygraphviz`` or ``dot`` to force one.
"""

from __future__ import annotations

import ctypes
import importlib
import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["BACKENDS", "BACKEND_ENVIRONMENT_VARIABLE", "FORMATS", "GraphvizNotFoundError",
           "choose_backend", "layout", "layout_formats"]

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
    return layout_formats(source, (format,), backend)[format]


def layout_formats(source: str, formats: Sequence[str], backend: str | None = None) -> dict[str, bytes]:
    """Lay out DOT ``source`` once and write it in each of ``formats`` (PNG within bitmap limits).

    Example:
        >>> pictures = layout_formats("digraph { a -> b }", ["svg", "png"])
        >>> pictures["svg"][:5], pictures["png"][1:4]
        (b'<?xml', b'PNG')
    """
    for format in formats:
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    if choose_backend(backend) == "pygraphviz":
        return _layout_with_pygraphviz(source, formats)
    return {format: _layout_with_dot_program(source, format) for format in formats}


# A PNG is a fallback picture (notebooks, viewers without SVG): at most this many pixels a
# side, which also keeps Cairo under its 32,767-pixel limit (beyond it Graphviz prints
# "graph is too large for cairo-renderer bitmaps" and scales anyway).
PNG_DPI = 96
PNG_MAX_INCHES = 2400 / PNG_DPI
# An opaque white background: the picture reads the same on a dark notebook theme, and
# dropping the alpha channel for the palette (palette_png) changes nothing.
_PNG_ATTRIBUTES = {"dpi": str(PNG_DPI), "size": f"{PNG_MAX_INCHES:.3f},{PNG_MAX_INCHES:.3f}",
                   "bgcolor": "white"}


def _layout_with_pygraphviz(source: str, formats: Sequence[str]) -> dict[str, bytes]:
    pygraphviz = importlib.import_module("pygraphviz")
    _initialise_bundled_fontconfig(pygraphviz)
    graph = pygraphviz.AGraph(string=source)
    # layout() then draw() without a program renders the stored positions ("nop2"): one
    # layout for every format, and no pygraphviz warning on stderr for big graphs (its
    # draw(prog="dot") prints one above 1,000 nodes).
    graph.layout(prog="dot")
    pictures = {format: graph.draw(format=format) for format in formats if format != "png"}
    if "png" in formats:
        graph.graph_attr.update(_PNG_ATTRIBUTES)
        pictures["png"] = palette_png(graph.draw(format="png"))
    return pictures


def palette_png(png: bytes) -> bytes:
    """``png`` with 256 colours: the same picture in about a quarter of the bytes.

    A drawing has a few fill colours plus the greys of anti-aliasing, so a palette loses
    nothing visible (measured: the course's sigmoid neuron 88 KB -> 23 KB; MLP(2, [16, 16, 1])
    folded by neuron, 1,706 x 1,280 px, 362 KB -> 103 KB in 0.14 s; Pillow's `optimize`
    would save 6% more for 0.3 s). The notebooks commit every PNG. Without Pillow
    (matplotlib's dependency, so normally present) the PNG stays as Graphviz wrote it.

    Example:
        >>> len(palette_png(layout("digraph { a -> b }", "png"))) < 4_000
        True
    """
    try:
        image_module = importlib.import_module("PIL.Image")
    except ImportError:
        return png
    with image_module.open(io.BytesIO(png)) as picture:
        palette = picture.convert("RGB").quantize(256, method=image_module.Quantize.FASTOCTREE)
    smaller = io.BytesIO()
    palette.save(smaller, format="PNG")
    return smaller.getvalue()


def _layout_with_dot_program(source: str, format: str) -> bytes:
    program = _dot_program()
    if program is None:  # vanished since choose_backend looked
        raise GraphvizNotFoundError(f"no `dot` program on PATH; {_HOW_TO_GET_GRAPHVIZ}")
    options = [f"-G{name}={value}" for name, value in _PNG_ATTRIBUTES.items()] if format == "png" else []
    finished = subprocess.run([program, f"-T{format}", *options], input=source.encode("utf-8"),
                              capture_output=True, check=False)
    if finished.returncode != 0:
        message = finished.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit code {finished.returncode}): {message}")
    return palette_png(finished.stdout) if format == "png" else finished.stdout


_fontconfig_ready = False


def _initialise_bundled_fontconfig(pygraphviz: Any) -> None:
    """Load the system's font configuration into the Fontconfig inside pygraphviz's wheel.

    Left to itself, that Fontconfig (2.13) also reads every template file in
    /usr/share/fontconfig/conf.avail, where newer systems keep files it cannot parse:
    each process that renders then prints 'Fontconfig warning: ... unknown element
    "reset-dirs"'. Those templates are examples that no configuration includes, so this
    builds the configuration the same way (FONTCONFIG_FILE and FONTCONFIG_PATH are
    honoured) minus that scan. A real problem in the configuration is still reported.
    Nothing happens for a pygraphviz that uses the system's own Fontconfig.
    """
    global _fontconfig_ready
    if _fontconfig_ready:
        return
    _fontconfig_ready = True
    package = Path(pygraphviz.__file__).parent
    bundled = sorted([*package.parent.glob("pygraphviz.libs/libfontconfig*"),
                      *package.glob(".dylibs/libfontconfig*")])
    if not bundled:
        return
    try:
        fontconfig = ctypes.CDLL(str(bundled[0]))  # the same library pygraphviz loaded
        fontconfig.FcConfigCreate.restype = ctypes.c_void_p
        fontconfig.FcConfigParseAndLoad.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        fontconfig.FcConfigSetCurrent.argtypes = [ctypes.c_void_p]
        fontconfig.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return  # not a Fontconfig we know: let it initialise itself
    config = fontconfig.FcConfigCreate()
    if config and not (fontconfig.FcConfigParseAndLoad(config, None, 1)
                       and fontconfig.FcConfigSetCurrent(config)):
        fontconfig.FcConfigDestroy(config)
