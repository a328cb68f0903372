"""The explorer page in a real browser (Chromium through Playwright): keys, buttons, the slider,
texts at the last step against the course's numbers, nodes that never move, no network."""

from __future__ import annotations

import pytest

import autograd
from autograd import Value, explore

import course_graphs

BOXES = """() => Array.from(document.querySelectorAll('[data-node]')).map(g => {
    const box = g.getBBox(); return [g.getAttribute('data-node'), box.x, box.y, box.width, box.height];
})"""


@pytest.fixture(scope="module")
def course_page(tmp_path_factory):
    f, _ = course_graphs.course_graph()
    return explore(f).save(tmp_path_factory.mktemp("explorer") / "course.html")


def step(page) -> int:
    return int(page.locator("[data-chainrule-explorer]").get_attribute("data-step"))


def value_texts(page) -> dict[str, tuple[str, str]]:
    texts = {}
    for group in page.locator("[data-label]").all():
        texts[group.get_attribute("data-label")] = (group.locator(".cr-data").text_content(),
                                                    group.locator(".cr-grad").text_content())
    return texts


def test_keys_walk_the_backward_pass_to_the_course_numbers(browser, course_page):
    with browser.open(course_page) as page:
        root = page.locator("[data-chainrule-explorer]")
        assert root.get_attribute("data-steps") == "2" and root.get_attribute("data-mode") == "backward"
        assert step(page) == 0
        assert value_texts(page)["x"] == ("data -2", "grad ?")
        assert value_texts(page)["f"] == ("data -12", "grad 1")
        page.keyboard.press("ArrowRight")
        assert step(page) == 1
        assert value_texts(page)["q"] == ("data 3", "grad -4")
        assert value_texts(page)["x"][1] == "grad ?"
        page.keyboard.press("End")
        assert step(page) == 2
        assert {label: grad for label, (_, grad) in value_texts(page).items()} == {
            "x": "grad -4", "y": "grad -4", "z": "grad 3", "q": "grad -4", "f": "grad 1"}
        assert page.locator(".cr-caption").text_content() == \
            "step 2 of 2: the + gate sends upstream -4 × local 1 = -4 to x and to y"
        page.keyboard.press("ArrowRight")  # past the end: stays
        assert step(page) == 2
        page.keyboard.press("Home")
        assert step(page) == 0
        page.keyboard.press("ArrowLeft")
        assert step(page) == 0


def test_buttons_have_accessible_names_and_the_slider_moves(browser, course_page):
    with browser.open(course_page) as page:
        page.get_by_role("button", name="last step").click()
        assert step(page) == 2
        page.get_by_role("button", name="previous step").click()
        assert step(page) == 1
        page.get_by_role("button", name="first step").click()
        page.get_by_role("button", name="next step").click()
        assert step(page) == 1
        page.get_by_role("slider", name="step").evaluate(
            "slider => { slider.value = '2'; slider.dispatchEvent(new Event('input')); }")
        assert step(page) == 2
        page.get_by_role("button", name="first step").click()
        page.get_by_role("button", name="play").click()
        assert page.get_by_role("button", name="pause").is_visible()
        page.wait_for_function("document.querySelector('[data-chainrule-explorer]').dataset.step === '2'",
                               timeout=10_000)
        assert page.get_by_role("button", name="play").is_visible()  # stops at the end


def test_space_plays_and_pauses(browser, course_page):
    with browser.open(course_page) as page:
        page.keyboard.press(" ")
        assert page.get_by_role("button", name="pause").is_visible()
        page.keyboard.press(" ")
        assert page.get_by_role("button", name="play").is_visible()


def test_no_node_moves_between_frames(browser, course_page):
    with browser.open(course_page) as page:
        frames = []
        for _ in range(3):
            frames.append(page.evaluate(BOXES))
            page.keyboard.press("ArrowRight")
        assert len(frames[0]) == 7  # 5 values and 2 ops, all measured
        assert frames[0] == frames[1] == frames[2]


def test_clicking_a_value_sums_its_uses_and_hovering_an_op_shows_its_derivative(browser, tmp_path):
    x, y = Value(2.0, "x"), Value(3.0, "y")
    f = x * y + x
    f.label = "f"
    path = explore(f).save(tmp_path / "uses.html")
    with browser.open(path) as page:
        page.keyboard.press("ArrowRight")  # the + has sent 1 to x; the * has not yet
        assert value_texts(page)["x"] == ("data 2", "grad 1 + ?")
        page.locator("[data-label=x]").click()
        info = page.locator(".cr-info")
        assert "sum over its 2 uses of upstream × local" in info.text_content()
        assert "still to come at step 2" in info.text_content()
        page.keyboard.press("End")
        assert info.text_content() == ("grad of x = sum over its 2 uses of upstream × local: "
                                       "(from the + gate: upstream 1 × local 1 = 1) + "
                                       "(from the * gate: upstream 1 × local 3 = 3) = 4")
        page.locator('[data-node="o2"]').hover()
        assert info.text_content().startswith("the * gate (mul): local gradient y, x; "
                                              "at inputs (2, 3) that is (3, 2)")


def test_forward_mode_fills_values_in_topological_order(browser, tmp_path):
    f, _ = course_graphs.course_graph()
    path = autograd.render(f, tmp_path / "forward.html", mode="forward")
    with browser.open(path) as page:
        assert page.locator("[data-chainrule-explorer]").get_attribute("data-mode") == "forward"
        assert value_texts(page)["q"][0] == "data ?" and value_texts(page)["x"][0] == "data -2"
        page.keyboard.press("ArrowRight")
        assert value_texts(page)["q"][0] == "data 3" and value_texts(page)["f"][0] == "data ?"
        page.keyboard.press("End")
        assert value_texts(page)["f"][0] == "data -12"


def test_without_javascript_the_page_shows_the_final_frame(browser, course_page):
    with browser.open(course_page, javascript=False) as page:
        assert step(page) == 2
        assert value_texts(page)["x"] == ("data -2", "grad -4")
        assert page.locator(".cr-caption").text_content().startswith("step 2 of 2")
        assert page.locator("button, input").count() == 0  # no controls that could not work


def test_the_notebook_fragment_builds_its_graph_from_the_embedded_svg(browser, tmp_path):
    f, _ = course_graphs.course_graph()
    fragment = explore(f)._repr_mimebundle_()["text/html"]
    path = tmp_path / "cell.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{fragment}</body></html>",
                    encoding="utf-8")
    with browser.open(path) as page:
        assert page.locator("img.cr-still").count() == 0  # replaced by the live SVG
        page.locator("[data-chainrule-explorer]").focus()
        page.keyboard.press("End")
        assert value_texts(page)["z"] == ("data -4", "grad 3")


def test_a_folded_network_page_is_small_and_steps_through_every_node(browser, tmp_path):
    nn = pytest.importorskip("nn")
    model = nn.MLP(2, [16, 16, 1], activation="tanh", output_activation="tanh", seed=0)
    (y,) = model([0.5, -1.0])
    loss = (y - 1.0) ** 2
    loss.label = "loss"
    page_object = explore(loss, collapse="neuron")
    path = page_object.save(tmp_path / "mlp.html")
    assert path.stat().st_size < 2_000_000
    with browser.open(path) as page:
        before = page.evaluate(BOXES)
        page.keyboard.press("End")
        assert step(page) == page_object.steps
        assert value_texts(page)["loss"][1] == "grad 1"
        assert page.evaluate(BOXES) == before


@pytest.mark.parametrize("collapse", ["step", "neuron"])
def test_an_unrolled_recurrent_net_steps_back_through_time_folded(browser, tmp_path, collapse):
    nn = pytest.importorskip("nn")
    net = nn.Elman(1, 2, 1, seed=0)  # notebook 10's, three steps
    loss = nn.sequence_loss(net([[0.5], [0.1], [-0.3]]), [[0.1], [-0.3], [0.2]], "mse")
    loss.backward()
    inputs = {x.label: x for x in autograd.topological_order(loss) if x.label.startswith("x0[")}
    page_object = explore(loss, collapse=collapse)
    path = page_object.save(tmp_path / f"elman_{collapse}.html")
    with browser.open(path) as page:
        before = page.evaluate(BOXES)
        assert value_texts(page)["x0[0]"] == ("data 0.5", "grad ?")
        page.keyboard.press("End")
        assert step(page) == page_object.steps
        assert sorted(inputs) == ["x0[0]", "x0[1]", "x0[2]"]
        for label, x in inputs.items():  # what BPTT sent back to each step's input
            assert value_texts(page)[label] == (f"data {x.data:.4g}", f"grad {x.grad:.4g}")
        assert page.evaluate(BOXES) == before


def test_a_top_to_bottom_page_updates_its_side_by_side_texts(browser, tmp_path):
    neuron, _ = course_graphs.sigmoid_neuron()  # a chain of gates: laid out top to bottom
    path = explore(neuron).save(tmp_path / "neuron.html")
    with browser.open(path) as page:
        assert value_texts(page)["w0"] == ("data 2", "grad ?")
        page.keyboard.press("End")
        assert value_texts(page)["w0"] == ("data 2", "grad -0.1966")
        assert value_texts(page)["x1"] == ("data -2", "grad -0.5898")
        assert value_texts(page)["f"] == ("data 0.7311", "grad 1")
        texts = page.evaluate("() => Array.from(document.querySelectorAll('[data-label=w0] text'))"
                              ".map(t => t.textContent)")
        assert texts.count("data 2") == 1  # no cell written twice
