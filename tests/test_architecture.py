"""The layers point one way, and the folders show them.

Every import of every module in ``autograd/`` and ``nn/`` is read with :mod:`ast`
(nothing is imported), resolved to an absolute module name and sorted into a layer:

* core: the modules at the top of ``autograd/`` (``ops``, ``value``, ``engine``...);
* command line: ``autograd/__main__.py``, which draws, so it sits above the core;
* drawing: ``autograd/drawing/`` (and its older flat modules);
* compiler: ``autograd/compiler/`` (and its older flat modules);
* nn: the network library, on top of ``autograd``.

The core imports neither drawing nor compiler; those two never import each other;
nothing in ``autograd`` imports ``nn``. Imports under ``if TYPE_CHECKING:`` never run
and are exempt. The core is also kept small: modules of at most 500 lines, functions
of at most 60, and no import inside a function but the one commented exception.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn")

# Older flat modules of the drawing and compiler layers, until they live in their folders.
FLAT_DRAWING = {"autograd._graphviz_backend"}
FLAT_COMPILER: set[str] = set()

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
# The core's one import inside a function: value.py reaches the engine late, because the
# engine imports value (see value._engine). (module, function, imported module)
ALLOWED_LATE_IMPORTS = {("autograd.value", "_engine", "autograd")}


class Import(NamedTuple):
    importer: str  # dotted module name of the importing file
    imported: str  # dotted module name imported
    function: str | None  # the enclosing function's name, None at module level
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}


def layer_of(module: str) -> str | None:
    if module.split(".")[0] == "nn":
        return "nn"
    if not module.startswith("autograd"):
        return None  # the standard library or a third-party package
    if module in FLAT_DRAWING or module == "autograd.drawing" or module.startswith("autograd.drawing."):
        return "drawing"
    if module in FLAT_COMPILER or module.startswith("autograd.compile"):
        return "compiler"
    if module == "autograd.__main__":
        return "command line"
    return "core"


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import the module runs, with the function it sits in (if any)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while stack:
        node, function = stack.pop()
        if _is_type_checking_block(node):
            continue
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, function, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            found.append(Import(module, base, function, node.lineno))
            # `from . import engine` imports the module autograd.engine, not only autograd.
            found += [Import(module, f"{base}.{alias.name}", function, node.lineno)
                      for alias in node.names if f"{base}.{alias.name}" in known]
        inner = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return found


MODULES = all_modules()
IMPORTS = [imp for module, path in MODULES.items() for imp in imports_of(module, path, set(MODULES))]
CORE = sorted(module for module in MODULES if layer_of(module) == "core")

FORBIDDEN = {  # importer's layer -> layers it must never import
    "core": {"drawing", "compiler", "command line", "nn"},
    "drawing": {"compiler", "command line", "nn"},
    "compiler": {"drawing", "command line", "nn"},
    "command line": {"compiler", "nn"},
}


def test_every_module_is_sorted_into_a_layer():
    assert {"autograd.value", "autograd.ops", "autograd.engine", "autograd.errors"} <= set(CORE)
    assert layer_of("autograd.drawing.dot") == "drawing" and layer_of("autograd.compiler.tape") == "compiler"
    assert all(layer_of(module) is not None for module in MODULES)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_point_one_way(layer):
    wrong = [f"{imp.importer} (line {imp.line}) imports {imp.imported}, a {layer_of(imp.imported)} module"
             for imp in IMPORTS
             if layer_of(imp.importer) == layer and layer_of(imp.imported) in FORBIDDEN[layer]]
    assert not wrong, "\n".join(wrong)


def test_the_core_needs_neither_numpy_nor_graphviz():
    heavy = [imp for imp in IMPORTS if imp.importer in CORE
             and imp.imported.split(".")[0] in {"numpy", "graphviz", "pygraphviz"}]
    assert not heavy


def test_the_core_has_one_late_import_and_it_is_commented():
    late = {(imp.importer, imp.function, imp.imported) for imp in IMPORTS
            if imp.importer in CORE and imp.function is not None}
    assert late <= ALLOWED_LATE_IMPORTS | {(m, f, f"{i}.engine") for m, f, i in ALLOWED_LATE_IMPORTS}
    for module, function, _ in ALLOWED_LATE_IMPORTS:  # each says why it is late
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        (node,) = [node for node in _functions(tree) if node.name == function]
        why = ast.get_docstring(node) or ""
        assert "late import" in why and "imports this module" in why, why


def _functions(tree: ast.AST) -> list[ast.AST]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


@pytest.mark.parametrize("module", CORE)
def test_core_modules_and_functions_stay_short(module):
    source = MODULES[module].read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    long = [f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in _functions(ast.parse(source))
            if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long


COMPILER = sorted(module for module in MODULES if layer_of(module) == "compiler")


@pytest.mark.parametrize("module", COMPILER)
def test_compiler_modules_and_functions_stay_short(module):
    assert module.startswith("autograd.compiler.") or module == "autograd.compiler"  # one folder
    test_core_modules_and_functions_stay_short(module)


def test_the_compiler_imports_no_private_name_of_the_core():
    private = []
    for module in COMPILER:
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:  # from ..value import ...
                private += [f"{module}: {node.module}.{alias.name}" for alias in node.names
                            if alias.name.startswith("_")]
    assert not private, private


def test_the_import_reader_sees_relative_and_late_imports():
    here = {imp.imported for imp in IMPORTS if imp.importer == "autograd.engine"}
    assert {"autograd.value", "autograd.ops", "autograd.context"} <= here
    late = [imp for imp in IMPORTS if imp.importer == "autograd.value" and imp.function == "_engine"]
    assert [imp.imported for imp in late] == ["autograd", "autograd.engine"]
