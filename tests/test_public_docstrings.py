"""Every public name of `autograd` and `nn` has its own docstring with a short example (`>>>`).

The names are the packages' ``__all__`` (plus ``autograd.compile`` and ``autograd.sum``,
public but kept out of ``__all__``); the examples themselves run as doctests. Constants
(tables, format numbers) cannot carry a docstring of their own and are listed apart,
so that a new public function or class cannot slip through unlisted.
"""

from __future__ import annotations

import inspect

import pytest

import autograd
import nn

PACKAGES = {"autograd": autograd, "nn": nn}
EXTRA_PUBLIC = ["autograd.compile", "autograd.sum"]
CONSTANTS = {"autograd.OPS", "autograd.__version__", "nn.ACTIVATIONS", "nn.LOSSES", "nn.FORMAT",
             "nn.VERSION", "nn.MODULES"}
# Names still without an example, written down so that the list only shrinks: document
# one, then delete it here (the test below fails until you do).
DOCSTRING_DEBT: set[str] = set()
PUBLIC = sorted({f"{package}.{name}" for package, module in PACKAGES.items() for name in module.__all__}
                | set(EXTRA_PUBLIC))


def resolve(qualified: str) -> object:
    package, name = qualified.split(".", 1)
    return getattr(PACKAGES[package], name)


def test_the_constants_are_the_only_public_names_that_are_not_functions_classes_or_modules():
    kinds = (inspect.isroutine, inspect.isclass, inspect.ismodule)
    plain = {name for name in PUBLIC if not any(kind(resolve(name)) for kind in kinds)}
    assert plain == CONSTANTS


def test_the_debt_lists_only_public_names():
    assert DOCSTRING_DEBT.issubset(set(PUBLIC) - CONSTANTS)


@pytest.mark.parametrize("name", [name for name in PUBLIC if name not in CONSTANTS])
def test_every_public_function_and_class_has_a_docstring_with_an_example(name):
    doc = resolve(name).__doc__ or ""  # its own: a class does not inherit __doc__
    if name in DOCSTRING_DEBT:
        assert ">>>" not in doc, f"{name} has an example now: delete it from DOCSTRING_DEBT"
        return
    assert doc.strip(), f"{name} has no docstring"
    assert ">>>" in doc, f"{name}'s docstring has no example (>>>)"
