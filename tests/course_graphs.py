"""The course's graphs (docs/course.md, section 1), built once for the drawing tests."""

from __future__ import annotations

from autograd import Value


def course_graph() -> tuple[Value, dict[str, Value]]:
    """The course's first graph: f = (x + y) z at x = -2, y = 5, z = -4, after backward."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return f, {"x": x, "y": y, "z": z, "q": q, "f": f}


def sigmoid_neuron() -> tuple[Value, dict[str, Value]]:
    """The course's sigmoid neuron: 1 / (1 + e^-(w0 x0 + w1 x1 + w2)) from primitive gates."""
    leaves = {"w0": Value(2.0, "w0"), "x0": Value(-1.0, "x0"), "w1": Value(-3.0, "w1"),
              "x1": Value(-2.0, "x1"), "w2": Value(-3.0, "w2")}
    w0, x0, w1, x1, w2 = leaves.values()
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.label = "f"
    f.backward()
    return f, leaves
