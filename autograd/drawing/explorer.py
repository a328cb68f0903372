"""The explorer: one self-contained HTML page that steps through a backward or forward pass.

The graph is laid out once, by Graphviz, from the complete graph (each value box
as wide as its widest text of any frame), so no node moves between frames; the
page's own script (``explorer.js``, no library, no network) only changes texts and
highlights. Without JavaScript the page shows the final frame.
"""

from __future__ import annotations

import base64
import json
import os
import re
import xml.etree.ElementTree as ElementTree
from importlib import resources
from pathlib import Path
from typing import Any

from ..engine import backward_steps
from ..value import Value
from .backends import layout_formats
from .dot import escape, graph_of
from .folding import choose_rankdir, make_plan
from .frames import Story, backward_story, forward_story
from .gradients import Gradients
from .options import DEFAULT_MAX_NODES, NumberFormat, Options, as_roots, single_root

__all__ = ["Explorer", "explore", "MODES"]

MODES = ("backward", "forward")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
_SVG = "{" + SVG_NAMESPACE + "}"
ElementTree.register_namespace("", SVG_NAMESPACE)
ElementTree.register_namespace("xlink", XLINK_NAMESPACE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


class Explorer:
    """An interactive, self-contained page stepping through one pass of a graph.

    Shown inline in Jupyter (the final frame as a PNG where scripts do not run);
    ``save(path)`` writes the page; ``html`` is its text.

    Example:
        >>> from autograd import Value, explore
        >>> x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
        >>> page = explore((x + y) * z)
        >>> page.mode, page.steps, page.captions[2]
        ('backward', 2, 'step 2 of 2: the + gate sends upstream -4 × local 1 = -4 to x and to y')
    """

    def __init__(self, story: Story, svg: str, png: bytes | None, title: str) -> None:
        self.story = story
        self.mode = story.mode
        self.steps = len(story.frames) - 1
        self.captions = [frame.caption for frame in story.frames]
        self._svg = svg
        self._png = png
        self._title = title

    def __repr__(self) -> str:
        return f"<autograd.Explorer: {self.mode} pass in {self.steps} steps>"

    @property
    def html(self) -> str:
        """The standalone page: inline SVG, CSS and script; no network."""
        return _page(self._title, self._fragment(inline_svg=True))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (an ``.html`` file) and return the path.

        Example:
            >>> import tempfile, pathlib
            >>> from autograd import Value, explore
            >>> path = explore(Value(2.0, "x") * 3).save(pathlib.Path(tempfile.mkdtemp()) / "x.html")
            >>> path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
            True
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # A notebook that is not trusted drops scripts and <svg>: the fragment keeps the
        # SVG inside a script (dropped whole) and shows the final frame as a PNG <img>.
        bundle: dict[str, Any] = {"text/plain": repr(self),
                                  "text/html": self._fragment(inline_svg=False) + _script()}
        return bundle

    def _fragment(self, inline_svg: bool) -> str:
        story = self.story
        data = {"mode": self.mode, "captions": self.captions,
                "current": [frame.current for frame in story.frames],
                "changes": [frame.changes for frame in story.frames],
                "texts": story.texts, "uses": story.uses, "grads": story.grads, "hovers": story.hovers,
                "hint": _HINTS[self.mode]}
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        if inline_svg or self._png is None:
            stage = self._svg
        else:
            image = base64.b64encode(self._png).decode("ascii")
            stage = (f'<img class="cr-still" alt="{escape(self.captions[-1])}" '
                     f'src="data:image/png;base64,{image}">'
                     f'<script type="text/x-chainrule-svg" class="cr-svg">{self._svg}</script>')
        last = self.steps
        # The controls and the hint are written by the script: where it does not run (an
        # untrusted notebook strips scripts and the `hidden` attribute) they would be dead.
        return (f'<div class="cr-explorer" data-chainrule-explorer="1" data-mode="{self.mode}" '
                f'data-step="{last}" data-steps="{last}" tabindex="0" '
                f'aria-label="{escape(self._title)}: use Left/Right, Home/End and Space">'
                f'<p class="cr-caption" aria-live="polite">{escape(self.captions[-1])}</p>'
                f'<div class="cr-stage">{stage}</div>'
                f'<p class="cr-info" aria-live="polite"></p>'
                f'<script type="application/json" class="cr-data">{payload}</script></div>')


_HINTS = {
    "backward": "Click a value to see its gradient as the sum over its uses of upstream × local; "
                "hover an op for its local gradient.",
    "forward": "Each step computes one op from values already known; hover an op for its local "
               "gradient, click a value for its gradient.",
}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _script() -> str:
    return f"<style>{_asset('explorer.css')}</style><script>{_asset('explorer.js')}</script>"


def _page(title: str, fragment: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_asset('explorer.css')}</style></head>\n"
            f"<body data-chainrule-page=\"1\">\n<h1>{escape(title)}</h1>\n{fragment}\n"
            f"<script>{_asset('explorer.js')}</script>\n</body></html>\n")


def explore(root: Value, mode: str = "backward", *, rankdir: str = "auto",
            number_format: NumberFormat = ".4g", collapse: str | None = "auto", fold_constants: bool = True,
            max_nodes: int | None = DEFAULT_MAX_NODES, backend: str | None = None) -> Explorer:
    """Step through ``root``'s backward (or forward) pass in an interactive page.

    Frame 0 of the backward pass seeds the output's gradient with 1; frame k shows
    the k-th node of :func:`autograd.backward_steps` sending ``upstream × local`` to
    its inputs (``1 + ?`` marks a gradient still waiting for uses). The forward pass
    computes one op per frame in topological order. ``.grad`` is not touched.
    The options are :func:`autograd.draw`'s; ``backend`` is :func:`autograd.render`'s.

    Example:
        >>> from autograd import Value, explore
        >>> x = Value(3.0, "x")
        >>> explore(x * x, mode="forward").captions[-1]
        'step 1 of 1: the * gate computes 3 * 3 = 9'
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'backward' or 'forward', got {mode!r}")
    root = single_root(as_roots(root), "explore")
    options = Options.checked(rankdir=rankdir, number_format=number_format, local_grads=mode == "backward",
                              collapse=collapse, fold_constants=fold_constants, legend=True,
                              max_nodes=max_nodes)
    plan = make_plan([root], options)
    options = options.replace(rankdir=choose_rankdir(plan, options))
    steps = list(backward_steps(root))
    tell = backward_story if mode == "backward" else forward_story
    story = tell(plan, steps, options.format_number)
    gradients = Gradients(plan, options.replace(step=len(steps)), steps)
    gradients.grad_text = story.widest_grad  # the layout leaves room for every frame's text
    gradients.current, gradients.current_op_done = None, False
    graph = graph_of(plan, options, gradients)
    graph.check_size()
    pictures = layout_formats(graph.source, ("svg", "png"), backend)  # one layout for both
    title = f"chainrule explorer: the {mode} pass"
    svg = _explorer_svg(pictures["svg"], plan.order, story, stacked=options.rankdir == "LR")
    return Explorer(story, svg, pictures["png"], title)


def _explorer_svg(svg: bytes, order: list[Value], story: Story, stacked: bool) -> str:
    """Graphviz's SVG with our hooks: data-node on every element, data-label, text classes."""
    root = ElementTree.fromstring(svg)
    final = story.final_texts()
    for group in list(root.iter(f"{_SVG}g")):
        kind = group.get("class")
        title = group.find(f"{_SVG}title")
        if kind not in ("node", "edge") or title is None or title.text is None:
            continue
        name = title.text
        group.remove(title)
        _unwrap_links(group)
        group.attrib.pop("id", None)
        if kind == "edge":
            source, _, target = name.partition("->")
            group.set("data-from", source)
            group.set("data-to", target)
            continue
        group.set("data-node", name)
        if name in final:
            _mark_value(group, order[int(name[1:])], final[name], stacked)
    for element in root.iter():
        element.attrib.pop("id", None)
        for title in element.findall(f"{_SVG}title"):  # browsers show it as a tooltip
            element.remove(title)
    root.set("class", "cr-graph")
    root.set("role", "group")
    root.set("aria-label", story.frames[-1].caption)
    return ElementTree.tostring(root, encoding="unicode")


def _unwrap_links(group: ElementTree.Element) -> None:
    """Graphviz wraps tooltips in <g><a xlink:title>: keep their drawing, drop the wrappers."""
    for wrapper in list(group):
        if wrapper.tag != f"{_SVG}g" or wrapper.find(f"{_SVG}a") is None:
            continue
        position = list(group).index(wrapper)
        group.remove(wrapper)
        children = [child for link in wrapper.findall(f"{_SVG}a") for child in link]
        for offset, child in enumerate(children):
            group.insert(position + offset, child)


def _mark_value(group: ElementTree.Element, node: Value, texts: list[str], stacked: bool) -> None:
    """Label the value's group; centre its data and grad texts when stacked (their numbers change)."""
    if node.label:
        group.set("data-label", node.label)
    shape = next((child for child in group if child.tag in (f"{_SVG}path", f"{_SVG}polygon")), None)
    xs = [float(n) for n in _NUMBER.findall((shape.get("d") or shape.get("points") or "")[:10_000])[0::2]] \
        if shape is not None else []
    lines = group.findall(f"{_SVG}text")
    for which, text in zip(("data", "grad"), texts):
        # The last text of each kind: a label reading "data ..." comes first, spacer cells
        # (top-to-bottom boxes put the cells side by side) hold no text.
        element = next(line for line in reversed(lines) if (line.text or "").startswith(f"{which} "))
        element.set("class", f"cr-{which}")
        element.text = f"{which} {text}"
        if xs and stacked:
            element.set("text-anchor", "middle")
            element.set("x", f"{(min(xs) + max(xs)) / 2:.2f}")
