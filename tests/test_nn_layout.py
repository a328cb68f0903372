"""nn's layout: the model-file module is a leaf, imports point one way, modules stay small."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NN = ROOT / "nn"
# The nn model engineer's modules; other nn modules are checked by their own tests.
OWNED = ["module.py", "registry.py", "functional.py", "activation_base.py", "parts.py", "serialization.py",
         "layers.py", "maxout.py",
         "activations.py", "losses.py", "init.py", "perceptron.py"]


def _tree(name):
    return ast.parse((NN / name).read_text(encoding="utf-8"))


def test_the_model_file_module_imports_nothing_of_nn():
    for node in ast.walk(_tree("serialization.py")):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("nn"), ast.dump(node)
        if isinstance(node, ast.Import):
            assert not any(alias.name.split(".")[0] in ("nn", "autograd") for alias in node.names)


@pytest.mark.parametrize("name", OWNED)
def test_no_import_inside_a_function(name):
    """Function-level imports hide circles; nn's modules import at the top."""
    for function in ast.walk(_tree(name)):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = [n for n in ast.walk(function) if isinstance(n, (ast.Import, ast.ImportFrom))]
            assert not inner, f"{name}:{function.name} imports inside the function"


@pytest.mark.parametrize("name", OWNED)
def test_modules_and_functions_stay_small(name):
    source = (NN / name).read_text(encoding="utf-8")
    assert source.count("\n") <= 500, f"{name} has more than 500 lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{name}:{node.name} has {length} lines"


def test_import_nn_needs_no_numpy():
    code = "import sys, nn; nn.MLP(2, [2, 1])([0.0, 1.0]); print('numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=True)
    assert result.stdout.strip() == "False" and result.stderr == ""
