"""The explorer's story: what each frame of a backward or forward pass shows, in words and numbers.

Every number comes from the engine (:func:`autograd.backward_steps`: upstream
gradients, local gradients, partial sums) and every derivative text from the op
table (``Op.derivative``); this module only puts them into sentences and into the
per-frame changes that the page's script applies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..engine import BackwardStep
from ..value import Constant, Value
from .folding import Plan, box_name, op_name, value_name
from .gradients import BackwardProgress, as_float, local_grads
from .options import UNKNOWN

__all__ = ["Frame", "Story", "backward_story", "forward_story"]

Format = Callable[[float], str]
INFIX = frozenset({"add", "sub", "mul", "div", "pow", "powc"})
LISTED = 4  # operands named in a caption before "and N more"


@dataclass
class Frame:
    """One frame: its caption, the elements it highlights, and the texts it changes."""

    caption: str
    current: list[str]
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (value, "data"|"grad", text)


@dataclass
class Story:
    """All frames of one pass, and what clicking or hovering an element explains."""

    mode: str
    frames: list[Frame]
    texts: dict[str, list[str]]  # value -> [data text, grad text] at frame 0
    widest_grad: list[str]  # per node: the longest grad text of any frame (the layout's)
    uses: dict[str, list[tuple[int, str]]]  # value -> (frame it arrives in, "upstream x local")
    grads: dict[str, str]  # value -> its final gradient
    hovers: dict[str, str]  # op or box -> its derivative with the numbers

    def final_texts(self) -> dict[str, list[str]]:
        texts = {name: list(pair) for name, pair in self.texts.items()}
        for frame in self.frames:
            for name, which, text in frame.changes:
                texts[name][0 if which == "data" else 1] = text
        return texts


def gate_of(node: Value) -> str:
    """The op table's label of the gate that computed ``node`` (``+``, ``tanh``, ``*-1``...)."""
    if node.op is None:
        raise ValueError(f"{node!r} is a leaf: no gate computed it")
    return node.op.label(node.arg)


def name_of(node: Value, fmt: Format) -> str:
    """How a caption names a value: its label, its number if a constant, else its op's output."""
    if node.label:
        return node.label
    if node.op is None:
        return f"the constant {fmt(node.data)}" if isinstance(node, Constant) else fmt(node.data)
    return f"the {node.op.label(node.arg)} output"


def listed(items: Sequence[str], joiner: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c, d and 5 more``."""
    items = list(items)
    if len(items) > LISTED + 1:
        items = [*items[:LISTED], f"{len(items) - LISTED} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {joiner} " + items[-1]


def _places(plan: Plan, i: int) -> tuple[list[str], str]:
    """The elements that a step of node ``i`` highlights, and "inside <scope>: " if folded."""
    group = plan.group[i]
    shown = [] if i in plan.hidden else [value_name(i)]
    if group is None:
        return [op_name(i), *shown], ""
    assert plan.scopes is not None
    return [box_name(group), *shown], f"inside {plan.scopes.title(group)}: "


def _visible_values(plan: Plan) -> list[int]:
    return [i for i in range(len(plan.order)) if i not in plan.hidden]


def _hovers(plan: Plan, fmt: Format, upstream: dict[int, float]) -> dict[str, str]:
    """Each drawn op's derivative from the op table, with its inputs and local gradients."""
    hovers: dict[str, str] = {}
    for i, node in enumerate(plan.order):
        op = node.op
        if op is None or plan.group[i] is not None:
            continue
        inputs = ", ".join(fmt(parent.data) for parent in node.parents)
        locals_ = ", ".join(fmt(g) for g in local_grads(node))
        text = (f"the {op.label(node.arg)} gate ({op.name}): local gradient {op.derivative}; "
                f"at inputs ({inputs}) that is ({locals_})")
        if i in upstream:
            text += f"; upstream {fmt(upstream[i])} × each local gradient flows back"
        hovers[op_name(i)] = text
    if plan.scopes is not None:
        for box in plan.boxes:
            ops, parameters = plan.box_contents[box]
            hovers[box_name(box)] = (f"{' / '.join(plan.scopes.path_of_instance[box])}: {ops} ops, "
                                     f"{parameters} parameters, folded (collapse=None shows them)")
    return hovers


def _uses(plan: Plan, steps: Sequence[BackwardStep], fmt: Format) -> dict[str, list[tuple[int, str]]]:
    """For each drawn value, what each of its uses sends back: upstream x local = product."""
    uses: dict[str, list[tuple[int, str]]] = {value_name(i): [] for i in _visible_values(plan)}
    for taken in steps:
        gate = gate_of(taken.node)
        upstream = as_float(taken.upstream)
        for parent, local in zip(taken.parents, taken.local_grads):
            entry = uses.get(value_name(plan.index[parent]))
            if entry is not None:
                local = as_float(local)
                entry.append((taken.step + 1, f"from the {gate} gate: upstream {fmt(upstream)} × local "
                                              f"{fmt(local)} = {fmt(upstream * local)}"))
    return uses


def _sends(taken: BackwardStep, fmt: Format) -> str:
    """``upstream -4 × local 1 = -4 to x and to y``, grouped by local gradient."""
    upstream = as_float(taken.upstream)
    groups: dict[str, list[str]] = {}
    for parent, local in zip(taken.parents, taken.local_grads):
        groups.setdefault(fmt(as_float(local)), []).append(name_of(parent, fmt))
    parts = []
    for local_text, names in groups.items():
        flow = fmt(upstream * float(local_text)) if _is_number(local_text) else UNKNOWN
        targets = listed([f"to {name}" for name in dict.fromkeys(names)])
        parts.append(f"{fmt(upstream)} × local {local_text} = {flow} {targets}")
    return "upstream " + listed(parts)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def backward_story(plan: Plan, steps: Sequence[BackwardStep], fmt: Format) -> Story:
    """Frame 0 seeds the output's gradient; frame k shows the k-th node's step."""
    progress = BackwardProgress(plan, steps, fmt)
    visible = _visible_values(plan)
    texts = {value_name(i): [fmt(plan.order[i].data), progress.texts[i]] for i in visible}
    widest = list(progress.texts)
    root = plan.order[progress.root]
    total = len(steps)
    output = f"the output {root.label}" if root.label else "the output"
    frames = [Frame(f"step 0 of {total}: {output} starts the backward pass with "
                    f"gradient {progress.texts[progress.root]} (d output / d output)",
                    [value_name(progress.root)])]
    upstream: dict[int, float] = {}
    for taken in steps:
        i = plan.index[taken.node]
        upstream[i] = as_float(taken.upstream)
        current, where = _places(plan, i)
        frame = Frame(f"step {taken.step + 1} of {total}: {where}the {gate_of(taken.node)} "
                      f"gate sends {_sends(taken, fmt)}", current)
        for p in progress.advance(taken):
            text = progress.texts[p]
            if len(text) > len(widest[p]):
                widest[p] = text
            if p not in plan.hidden:
                frame.changes.append((value_name(p), "grad", text))
        frames.append(frame)
    grads = {value_name(i): progress.texts[i] for i in visible}
    return Story("backward", frames, texts, widest, _uses(plan, steps, fmt), grads,
                 _hovers(plan, fmt, upstream))


def _computes(node: Value, fmt: Format) -> str:
    """``-2 + 5 = 3``, ``tanh(0.5) = 0.4621``, ``dot of 5 operands = 1.2``."""
    op = node.op
    assert op is not None
    inputs = [fmt(parent.data) for parent in node.parents]
    result = fmt(node.data)
    if op.arity is None:
        return f"{op.symbol} of {len(inputs)} operands ({listed(inputs)}) = {result}"
    if op.name in INFIX:
        label = op.label(node.arg)
        return f"{inputs[0]} {label} {inputs[1]} = {result}" if len(inputs) == 2 \
            else f"{inputs[0]}{label} = {result}"
    return f"{op.label(node.arg)}({', '.join(inputs)}) = {result}"


def forward_story(plan: Plan, steps: Sequence[BackwardStep], fmt: Format) -> Story:
    """Frame 0 knows the leaves; frame k computes the k-th op in topological order."""
    visible = _visible_values(plan)
    computed = [i for i, node in enumerate(plan.order) if node.op is not None]
    texts = {value_name(i): [UNKNOWN if plan.order[i].op is not None else fmt(plan.order[i].data),
                             UNKNOWN] for i in visible}
    leaves = [f"{name_of(plan.order[i], fmt)} = {fmt(plan.order[i].data)}" for i in visible
              if plan.order[i].op is None and plan.order[i].label]
    known = f": {listed(leaves)}" if leaves else ""
    total = len(computed)
    frames = [Frame(f"step 0 of {total}: the inputs are known{known}",
                    [value_name(i) for i in visible if plan.order[i].op is None])]
    for k, i in enumerate(computed, start=1):
        node = plan.order[i]
        current, where = _places(plan, i)
        frame = Frame(f"step {k} of {total}: {where}the {gate_of(node)} gate computes "
                      f"{_computes(node, fmt)}", current)
        if i not in plan.hidden:
            frame.changes.append((value_name(i), "data", fmt(node.data)))
        frames.append(frame)
    widest = [UNKNOWN] * len(plan.order)
    grads = _final_grads(plan, steps, fmt, visible)
    return Story("forward", frames, texts, widest, _uses(plan, steps, fmt), grads, _hovers(plan, fmt, {}))


def _final_grads(plan: Plan, steps: Sequence[BackwardStep], fmt: Format,
                 visible: list[int]) -> dict[str, str]:
    progress = BackwardProgress(plan, steps, fmt)
    for taken in steps:
        progress.advance(taken)
    return {value_name(i): progress.texts[i] for i in visible}
