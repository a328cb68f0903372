"""The options of a drawing, checked once, and the colours every picture shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict, Union

from ..value import Value

__all__ = ["Options", "DrawOptions", "FrameOptions", "Roots", "NumberFormat", "ROLE_COLOURS",
           "DEFAULT_MAX_NODES", "as_roots", "single_root"]

Roots = Union[Value, Sequence[Value]]
NumberFormat = Union[str, Callable[[float], str]]

# Measured with pygraphviz's dot, SVG and PNG from one layout, on 2 cores shared with other
# jobs (unfolded MLPs with their scope clusters, the slowest kind): 263 nodes 1.0 s, 419 nodes
# 1.4 s, 543 nodes 2.9 s, 683 nodes 2.3 s, 919 nodes 4.5 s; earlier 1,450-1,650 nodes took
# 9-21 s and 2,400 minutes. Under 800 nodes a drawing stays within about 4 s; above it, it
# is folded (collapse="auto") or refused with advice that works.
DEFAULT_MAX_NODES = 800

ROLE_COLOURS = {
    "input": "#cfe3f7",         # blue: the data you feed in
    "parameter": "#fde2b8",     # orange: what a model learns
    "constant": "#e8e8e8",      # grey: plain numbers in an expression
    "intermediate": "#ffffff",  # white: results of ops
    "output": "#c9ecc9",        # green: what backward() starts from
}
DATA_COLOUR = "#1b6b2a"
GRAD_COLOUR = "#b3261e"
LOCAL_GRAD_COLOUR = "#6a3d9a"
HIGHLIGHT_COLOUR = "#e8590c"
OP_FILL = "#f2f2f2"
SCOPE_FILL = "#f7f3e8"
UNKNOWN = "?"


class FrameOptions(TypedDict, total=False):
    """The keyword options of :func:`autograd.render_steps`: :func:`autograd.draw`'s, except
    ``step`` (it draws every step).

    Typed one by one, so that a type checker reports a misspelt option
    (``render(f, "f.svg", colapse="neuron")``) instead of letting it through as ``Any``.
    A test keeps these names and types equal to :func:`autograd.draw`'s keyword parameters.

    Example:
        >>> options: FrameOptions = {"collapse": "neuron", "rankdir": "TB"}
        >>> sorted(options)
        ['collapse', 'rankdir']
    """

    rankdir: str
    number_format: NumberFormat
    local_grads: bool | None
    collapse: str | None
    fold_constants: bool
    legend: bool
    max_nodes: int | None


class DrawOptions(FrameOptions, total=False):
    """The keyword options :func:`autograd.render` passes on: :func:`autograd.draw`'s, and
    :func:`autograd.explore`'s ``mode`` for an ``.html`` page.

    Example:
        >>> options: DrawOptions = {"step": 2, "mode": "backward"}
        >>> sorted(options)
        ['mode', 'step']
    """

    step: int | None
    mode: str


class Options:
    """The checked options of one drawing (immutable; ``replace`` makes a variant)."""

    __slots__ = ("rankdir", "number_format", "local_grads", "collapse", "step", "fold_constants",
                 "legend", "max_nodes", "format_number")

    rankdir: str
    number_format: NumberFormat
    local_grads: bool | None
    collapse: str | None
    step: int | None
    fold_constants: bool
    legend: bool
    max_nodes: int | None
    format_number: Callable[[float], str]

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Options:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        return Options(**values)

    @classmethod
    def checked(cls, *, rankdir: str = "auto", number_format: NumberFormat = ".4g",
                local_grads: bool | None = None, collapse: str | None = "auto",
                step: int | None = None, fold_constants: bool = True, legend: bool = True,
                max_nodes: int | None = DEFAULT_MAX_NODES) -> Options:
        if rankdir not in ("LR", "TB", "auto"):
            raise ValueError(f"rankdir must be 'LR', 'TB' or 'auto', got {rankdir!r}")
        for name, flag in (("local_grads", local_grads), ("fold_constants", fold_constants),
                           ("legend", legend)):
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        if collapse is not None and (not isinstance(collapse, str) or not collapse.strip()):
            raise TypeError(f"collapse must be a scope kind such as 'neuron' or 'layer', 'auto' "
                            f"or None, got {collapse!r}")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise TypeError(f"step must be an int, got {type(step).__name__}")
        if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int)
                                      or max_nodes < 1):
            raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
        return cls(rankdir=rankdir, number_format=number_format, local_grads=local_grads,
                   collapse=collapse, step=step, fold_constants=fold_constants, legend=legend,
                   max_nodes=max_nodes, format_number=number_formatter(number_format))


def number_formatter(number_format: NumberFormat) -> Callable[[float], str]:
    """A function float -> text from a format spec (``".4g"``) or a function."""
    if callable(number_format):
        custom = number_format

        def format_custom(number: float) -> str:
            return str(custom(number + 0.0))  # + 0.0 turns -0.0 into 0.0

        return format_custom
    if not isinstance(number_format, str):
        raise TypeError(f"number_format must be a format spec such as '.4g' or a function, "
                        f"got {type(number_format).__name__}")
    try:
        format(1.5, number_format)
    except ValueError:
        raise ValueError(f"number_format {number_format!r} is not a float format spec "
                         "(try '.4g' or '.3f')") from None

    def format_spec(number: float) -> str:
        return format(number + 0.0, number_format)

    return format_spec


def as_roots(root: Any) -> list[Value]:
    """``root`` as a non-empty list of Values, or a clear error."""
    if isinstance(root, Value):
        return [root]
    if isinstance(root, (str, bytes)) or not isinstance(root, Sequence):
        raise TypeError(f"draw needs a Value or a list of Values, got {type(root).__name__}")
    roots = list(root)
    if not roots:
        raise ValueError("draw needs at least one Value")
    for item in roots:
        if not isinstance(item, Value):
            raise TypeError(f"draw needs Values, got {type(item).__name__} in the list")
    return roots


def single_root(roots: list[Value], what: str) -> Value:
    if len(roots) != 1:
        raise ValueError(f"{what} follows the backward pass of one output; got {len(roots)} outputs")
    return roots[0]
