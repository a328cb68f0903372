"""Hostile text in labels and scope names stays text: the SVG is valid XML with no links."""

import xml.etree.ElementTree as ElementTree

import pytest

import autograd
from autograd import Value, draw

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    '<a> URL="javascript:alert(1)" target=<b>',
    "&#xD800; &#0; &amp; &lt;",
    "bell\x07 nul\x00 esc\x1b cr\r tab\t",
    "lone \ud800 surrogate \udfff",
    'quote " backslash \\N \\G \\ end\\',
    "]]> <!-- --> <?xml?> <script>alert(1)</script>",
]


def svg_of(graph) -> ElementTree.Element:
    return ElementTree.fromstring(graph.pipe(format="svg"))


def texts(root: ElementTree.Element) -> str:
    return " ".join("".join(element.itertext()) for element in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_scope_name_stays_text_in_folded_and_clustered_drawings(name):
    x = Value(1.0, "x")
    with autograd.scope(f"neuron {name}"):
        y = (x * 2).tanh()
    for collapse in ("neuron", None):
        root = svg_of(draw(y + 1, collapse=collapse))  # parses: valid XML
        links = [element for element in root.iter() if element.tag == f"{SVG}a"]
        for link in links:  # Graphviz wraps tooltips in <a>; none of them may link anywhere
            assert not any("href" in key for key in link.attrib), link.attrib
        assert "javascript" not in "".join(v for e in root.iter() for k, v in e.attrib.items()
                                           if "href" in k)


@pytest.mark.parametrize("label", HOSTILE)
def test_a_hostile_label_renders_as_valid_xml_showing_its_visible_text(label):
    x = Value(1.0, label)
    root = svg_of(draw(x * 3, number_format=lambda number: f"{number:g} {label}"))
    shown = texts(root)
    visible = [part for part in label.split() if part.isalnum()]
    for word in visible:
        assert word in shown


def test_the_course_scope_attack_renders_no_link():
    with autograd.scope('<a> URL="javascript:alert(1)" target=<b>'):
        f = Value(2.0, "x") * 3
    graph = draw(f, collapse="<a>")
    svg = graph.pipe(format="svg", encoding="utf-8")
    ElementTree.fromstring(svg)
    assert "xlink:href" not in svg and 'href="javascript' not in svg
    assert "&lt;a&gt; URL=&quot;javascript:alert(1)&quot;" in graph.source
