"""Refuse to run when pip has mixed chainrule's ``autograd`` with HIPS ``autograd``.

Both distributions install a top-level package named ``autograd``, and pip does not
check for clashing files: installing one over the other silently overwrites
``autograd/__init__.py`` and leaves the rest of both in one folder. A build-time check
cannot see the environment a wheel will be installed into, so the check runs where the
mix shows: at import. It looks for a few files that only HIPS autograd ships (three
``os.stat`` calls, a few microseconds), and ``nn`` checks that the ``autograd`` it
imports is chainrule's.

Example:
    >>> import autograd, pathlib
    >>> hips_files_beside(pathlib.Path(autograd.__file__).parent)
    []
"""

from __future__ import annotations

from pathlib import Path

# Files of HIPS autograd 1.x that chainrule never has (its other module names are too
# generic to rule out: core.py, util.py).
HIPS_ONLY_FILES = ("tracer.py", "wrap_util.py", "differential_operators.py")

FIX = ("chainrule and HIPS autograd cannot share an environment: run "
       "`pip uninstall -y chainrule autograd`, then install chainrule into its own virtual "
       "environment (python -m venv .venv && . .venv/bin/activate && pip install chainrule)")


class MixedInstallError(ImportError):
    """chainrule's ``autograd`` and HIPS ``autograd`` were installed into one environment."""


def hips_files_beside(package_dir: Path) -> list[str]:
    """The HIPS-only files present in ``package_dir`` (empty for a clean chainrule).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "tracer.py").write_text("")
        >>> hips_files_beside(folder)
        ['tracer.py']
    """
    return [name for name in HIPS_ONLY_FILES if (package_dir / name).exists()]


def refuse_mixed_install(init_file: str) -> None:
    """Raise :class:`MixedInstallError` if HIPS autograd's files lie beside ``init_file``.

    Example:
        >>> import autograd
        >>> refuse_mixed_install(autograd.__file__)  # a clean install: nothing happens
    """
    package_dir = Path(init_file).resolve().parent
    found = hips_files_beside(package_dir)
    if found:
        raise MixedInstallError(f"the autograd package in {package_dir} mixes chainrule with HIPS "
                                f"autograd (it has HIPS's {', '.join(found)}). {FIX}")


def refuse_foreign_autograd(module: object) -> None:
    """Raise :class:`MixedInstallError` if ``module`` (the imported ``autograd``) is not chainrule's.

    ``nn`` calls it: when HIPS autograd was installed over chainrule, ``import autograd``
    loads HIPS's ``__init__`` and nothing of chainrule's engine.

    Example:
        >>> import autograd, types
        >>> refuse_foreign_autograd(autograd)
        >>> refuse_foreign_autograd(types.ModuleType("autograd"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        autograd._install_check.MixedInstallError: the autograd package imported ... is not chainrule's...
    """
    if not hasattr(module, "Value") or not hasattr(module, "OPS"):
        where = getattr(module, "__file__", None) or "?"
        raise MixedInstallError(f"the autograd package imported from {where} is not chainrule's "
                                f"(HIPS autograd was probably installed over it). {FIX}")


refuse_mixed_install(__file__)  # on import, first thing in autograd/__init__.py
