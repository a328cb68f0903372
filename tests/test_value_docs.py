"""What users see of the engine's API: docstrings from the op table, item(), typed lazy names."""

from __future__ import annotations

import ast
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

import autograd
from autograd import OPS, Value
from autograd.expr import METHODS

ROOT = Path(__file__).resolve().parent.parent
OPERATORS = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__rsub__": "sub", "__mul__": "mul",
             "__rmul__": "mul", "__truediv__": "div", "__rtruediv__": "div", "__pow__": "powc",
             "__rpow__": "pow", "__neg__": "neg", "__abs__": "abs"}
FUNCTIONS = {"sum": "sum", "dot": "dot", "logsumexp": "logsumexp", "maximum": "max", "minimum": "min"}


@pytest.mark.parametrize("method, op", sorted({**{m: m for m in METHODS}, **OPERATORS}.items()))
def test_every_op_method_states_its_local_gradient_from_the_table(method, op):
    doc = getattr(Value, method).__doc__
    assert f"autograd.OPS[{op!r}].derivative: {OPS[op].derivative}." in doc
    assert "Example:\n    >>> " in doc


@pytest.mark.parametrize("function, op", sorted(FUNCTIONS.items()))
def test_every_op_function_states_its_local_gradient_from_the_table(function, op):
    assert f"autograd.OPS[{op!r}].derivative: {OPS[op].derivative}." in getattr(autograd, function).__doc__


def test_every_op_is_documented_by_a_method_or_a_function():
    documented = set(METHODS) | set(OPERATORS.values()) | set(FUNCTIONS.values()) | {"pow"}
    assert documented == set(OPS)


def test_help_shows_docstrings_not_source_comments():
    text = pydoc.render_doc(Value, renderer=pydoc.plaintext)
    for comment in ("The operators and methods below", "Comparisons read data", "-- "):
        assert comment not in text
    add = text.split("__add__(self", 1)[1].split("__", 1)[0]
    assert "self + other." in add and "Local gradients (d/dx, d/dy)" in add


def test_item_is_the_float_as_in_pytorch():
    loss = (Value(2.0) - 0.5) ** 2
    assert loss.item() == 2.25 and type(loss.item()) is float


def test_the_lazy_names_are_visible_to_type_checkers():
    tree = ast.parse((ROOT / "autograd" / "__init__.py").read_text(encoding="utf-8"))
    checked = [node for node in tree.body if isinstance(node, ast.If)
               and getattr(node.test, "id", None) == "TYPE_CHECKING"]
    (block,) = checked
    typed = {alias.asname or alias.name for node in block.body for alias in node.names}
    assert set(autograd._LAZY) <= typed


def test_import_autograd_loads_neither_numpy_nor_graphviz():
    code = "import sys, autograd; print(sorted({'numpy', 'graphviz', 'pygraphviz'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT)})
    assert run.stdout.strip() == "[]"
