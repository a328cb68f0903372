"""autograd.explore: the frames, captions and page of a stepped pass (the page's behaviour in
a browser is tested in test_explorer_browser.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

import pytest

import autograd
from autograd import Value, explore

import course_graphs


def page_data(html: str) -> dict:
    payload = re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', html, re.S)
    return json.loads(payload.group(1).replace("<\\/", "</"))


def test_course_graph_backward_captions_in_words_and_numbers():
    f, _ = course_graphs.course_graph()
    page = explore(f)
    assert page.mode == "backward" and page.steps == 2
    assert page.captions == [
        "step 0 of 2: the output f starts the backward pass with gradient 1 (d output / d output)",
        "step 1 of 2: the * gate sends upstream 1 × local -4 = -4 to q and 1 × local 3 = 3 to z",
        "step 2 of 2: the + gate sends upstream -4 × local 1 = -4 to x and to y",
    ]


def test_explore_leaves_grad_untouched():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    explore(x * y + x)
    assert x.grad == 0.0 and y.grad == 0.0


def test_a_value_waits_for_all_its_uses():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    f = x * y + x  # x has two uses: the + (first in the backward pass) and the *
    f.label = "f"
    story = explore(f).story
    texts = [dict(story.texts)]
    for frame in story.frames[1:]:
        current = {name: list(pair) for name, pair in texts[-1].items()}
        for name, which, text in frame.changes:
            current[name][1 if which == "grad" else 0] = text
        texts.append(current)
    x_name = "v0"  # the first node in topological order
    assert [t[x_name][1] for t in texts] == ["?", "1 + ?", "4"]  # 1 from +, then 3 from *
    assert story.grads[x_name] == "4"
    assert [step for step, _ in story.uses[x_name]] == [1, 2]


def test_forward_mode_computes_in_topological_order():
    f, _ = course_graphs.course_graph()
    page = explore(f, mode="forward")
    assert page.captions == [
        "step 0 of 2: the inputs are known: x = -2, y = 5 and z = -4",
        "step 1 of 2: the + gate computes -2 + 5 = 3",
        "step 2 of 2: the * gate computes 3 * -4 = -12",
    ]
    assert page.story.texts["v2"] == ["?", "?"]  # q is not computed yet at frame 0


def test_hovering_an_op_explains_its_derivative_from_the_op_table():
    f, _ = course_graphs.course_graph()
    hovers = explore(f).story.hovers
    assert hovers["o4"].startswith(f"the * gate (mul): local gradient {autograd.OPS['mul'].derivative};")
    assert "at inputs (3, -4) that is (-4, 3)" in hovers["o4"]


def test_the_page_is_self_contained_and_small(tmp_path):
    f, _ = course_graphs.course_graph()
    path = autograd.render(f, tmp_path / "graph.html")
    html = path.read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 200_000
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched from anywhere
    assert "data-chainrule-explorer" in html and 'data-steps="2"' in html and 'data-mode="backward"' in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ElementTree.fromstring(svg)
    labelled = {g.get("data-label"): [t.text for t in g if t.get("class", "").startswith("cr-")]
                for g in root.iter() if g.get("data-label")}
    assert labelled == {"x": ["data -2", "grad -4"], "y": ["data 5", "grad -4"], "q": ["data 3", "grad -4"],
                        "z": ["data -4", "grad 3"], "f": ["data -12", "grad 1"]}  # the final frame
    assert page_data(html)["captions"][-1].startswith("step 2 of 2")


def test_render_html_and_explore_save_write_the_same_page(tmp_path):
    f, _ = course_graphs.course_graph()
    one = autograd.render(f, tmp_path / "one.html").read_text(encoding="utf-8")
    two = explore(f).save(tmp_path / "two.html").read_text(encoding="utf-8")
    assert one == two


def test_the_notebook_display_falls_back_to_a_png_without_scripts():
    f, _ = course_graphs.course_graph()
    bundle = explore(f)._repr_mimebundle_()
    html = bundle["text/html"]
    assert '<img class="cr-still"' in html and "data:image/png;base64," in html
    assert html.index("<svg") > html.index('<script type="text/x-chainrule-svg"')  # only inside a script
    assert bundle["text/plain"] == "<autograd.Explorer: backward pass in 2 steps>"


def test_folded_network_steps_show_the_box(tmp_path):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="tanh", seed=0)
    (y,) = model([0.5, -1.0])
    loss = (y - 1.0) ** 2
    page = explore(loss, collapse="neuron")
    assert page.steps == len(list(autograd.backward_steps(loss)))
    assert any(caption.split(": ", 1)[1].startswith("inside neuron") for caption in page.captions)
    html = page.save(tmp_path / "mlp.html").read_text(encoding="utf-8")
    assert re.search(r'data-node="s\d+"', html)  # the folded neurons' boxes


def test_bad_arguments_name_the_problem():
    x = Value(1.0)
    with pytest.raises(ValueError, match="mode must be 'backward' or 'forward'"):
        explore(x * 2, mode="sideways")
    with pytest.raises(ValueError, match="one output"):
        explore([x, x * 2])
    with pytest.raises(TypeError, match="needs the Value"):
        autograd.render(autograd.draw(x * 2), "graph.html")


def test_the_command_line_writes_the_explorer_page(tmp_path, capsys):
    from autograd.__main__ import main

    out = tmp_path / "graph.html"
    assert main(["(x + y) * z", "x=-2", "y=5", "z=-4", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "data-chainrule-explorer" in html
    assert "step 2 of 2: the + gate sends upstream -4 × local 1 = -4 to x and to y" in html
