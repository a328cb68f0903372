"""The drawing package sits on the core's public surface, and beside (never on) the compiler."""

import re
from pathlib import Path

DRAWING = Path(__file__).resolve().parent.parent / "autograd" / "drawing"
PRIVATE_VALUE_SLOTS = ("_data", "_op", "_x", "_y", "_arg", "_scope")


def sources():
    paths = sorted(DRAWING.glob("*.py"))
    assert len(paths) >= 5  # the package exists and was found
    return [(path.name, path.read_text(encoding="utf-8")) for path in paths]


def test_drawing_reads_only_public_value_properties():
    for name, source in sources():
        for slot in PRIVATE_VALUE_SLOTS:
            assert not re.search(rf"\.{slot}\b", source), f"{name} reads Value.{slot}"


def test_drawing_never_imports_the_compiler():
    for name, source in sources():
        assert not re.search(r"^\s*(from|import)\s+(\.\.compiler|autograd\.compiler|\.\.compile)",
                             source, re.M), name


def test_every_drawing_module_is_small():
    for name, source in sources():
        assert source.count("\n") <= 500, name
