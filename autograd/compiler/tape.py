"""The tape: a traced scalar graph as a flat list of instructions.

:func:`autograd.compile` records a function once on ``Value`` inputs; the graph it
built becomes a :class:`Tape`, one :class:`Instruction` per op node in topological
order, each naming its op and its operand slots, like a three-address listing:

.. code-block:: text

    t0 = dot [p0, p1] . [x[0], x[1]] + p2      # layer 0/neuron 0
    t1 = relu t0

Operand slots are inputs (``x[0]``: one per scalar of an argument, batched),
parameters (``p0``: shared by every sample, gradients summed over the batch),
frozen leaves (``f0``: other captured Values, read when the tape runs, no gradient),
constants (printed as numbers: baked into the tape) and temporaries (``t0``).

A ``Value.detach()`` during tracing becomes a ``stop_gradient`` instruction: the
value flows forward, the gradient stops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from ..engine import topological_order
from ..ops import Op
from ..value import Constant, Value, parents_of

__all__ = ["Ref", "Instruction", "Tape", "INPUT", "PARAM", "FROZEN", "CONST", "TEMP", "graph_order", "count"]

INPUT, PARAM, FROZEN, CONST, TEMP = "x", "p", "f", "k", "t"


class Ref(NamedTuple):
    """An operand slot: its kind (``INPUT``, ``PARAM``, ``FROZEN``, ``CONST``, ``TEMP``) and number
    (``p3`` is ``Ref(PARAM, 3)``; not ``index``, which would hide ``tuple.index``)."""

    kind: str
    number: int


class Instruction(NamedTuple):
    """One step of the tape: ``target = op operands`` (``op`` is None for stop_gradient)."""

    target: int  # the temporary it writes: t{target}
    op: Op | None
    operands: tuple[Ref, ...]
    arg: Any
    scope: tuple[str, ...] | None

    @property
    def name(self) -> str:
        """The op's name, or ``"stop_gradient"``."""
        return "stop_gradient" if self.op is None else self.op.name


def graph_order(roots: Sequence[Value], detached: dict[Value, Value]) -> list[Value]:
    """The computed nodes the roots depend on (op nodes and detached leaves), parents first.

    Plain leaves (inputs, parameters, constants) are left out: they become slots, not
    instructions. A detached leaf depends on the node it was cut from. Iterative and
    deterministic (parents in their recorded order), like :func:`autograd.topological_order`.

    Example:
        >>> x = Value(1.0); y = x * 2; z = y.detach() + x
        >>> [n.op.name if n.op else "detached" for n in graph_order([z], {z.parents[0]: y})]
        ['mul', 'detached', 'add']
    """

    def computed_operands(node: Value) -> Sequence[Value]:
        # Only computed operands are walked: a layer's thousands of parameter and input
        # leaves never enter the traversal (for the course's 1000-100-10 net, 102,000 of
        # its 102,300 nodes; walking them took most of the trace's time).
        source = detached.get(node)
        if source is not None:
            return (source,)
        return [p for p in parents_of(node) if p._op is not None or p in detached]

    return [node for node in topological_order(roots, computed_operands)
            if node._op is not None or node in detached]


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the word, in the plural unless ``n`` is 1: the compiler's one plural rule.

    Example:
        >>> count(1, "input"), count(2, "input"), count(3, "frozen leaf", "frozen leaves")
        ('1 input', '2 inputs', '3 frozen leaves')
    """
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _refs(kind: str, n: int) -> Iterator[Ref]:
    """``Ref(kind, 0) ... Ref(kind, n - 1)``, made without a Python call each: ``Ref(...)``
    runs the NamedTuple's Python ``__new__`` (for the course net's 101,000 parameters
    60-67 ms of the trace, against 35-39 ms for ``tuple.__new__`` mapped in C)."""
    return map(tuple.__new__, repeat(Ref), zip(repeat(kind), range(n)))


class _Slots:
    """The operand slot of every leaf of a traced graph, numbered in order of first use."""

    def __init__(self, input_leaves: Sequence[Value], params: Sequence[Value] | None) -> None:
        self.refs: dict[Value, Ref] = dict(zip(input_leaves, _refs(INPUT, len(input_leaves))))
        self.automatic = params is None  # every captured leaf that is not a Constant is a parameter
        self.params = [] if params is None else list(params)
        self.refs.update(zip(self.params, _refs(PARAM, len(self.params))))
        self.frozen: list[Value] = []
        self.constants: list[float] = []
        self._constant_refs: dict[Any, Ref] = {}

    def ref(self, node: Value) -> Ref:
        """The slot of a node already met, else a new slot for a leaf met for the first time."""
        return self.refs.get(node) or self.new_leaf(node)

    def new_leaf(self, node: Value) -> Ref:
        """A slot for a leaf met for the first time."""
        if isinstance(node, Constant):  # bake its number in (equal numbers share a slot)
            number = node._data
            key = number if number != 0.0 else repr(number)  # keep 0.0 and -0.0 apart
            ref = self._constant_refs.get(key)
            if ref is None:
                ref = self._constant_refs[key] = Ref(CONST, len(self.constants))
                self.constants.append(number)
        elif self.automatic:
            ref = Ref(PARAM, len(self.params))
            self.params.append(node)
        else:
            ref = Ref(FROZEN, len(self.frozen))
            self.frozen.append(node)
        self.refs[node] = ref
        return ref


class Tape:
    """A traced function as instructions in topological order; ``print`` it to read it.

    Attributes:
        input_names: the name of each argument of the traced function.
        input_shapes: the shape of one sample of each argument (``()`` for a number).
        input_labels: one name per input scalar (``x[0]``...), in slot order.
        params: the parameter Values (``p0``, ``p1``...); the tape returns their gradients.
        frozen: other captured leaf Values (``f0``...), read when the tape runs.
        constants: the baked-in numbers.
        instructions: the steps, each after the steps it reads.
        outputs: where each output scalar is read from.
        output_shape: the shape of the traced function's result per sample.

    Example:
        >>> import autograd
        >>> w = autograd.Parameter(3.0)
        >>> f = autograd.compile(lambda x: (w * x + 1).tanh(), (0.5,))
        >>> print(f.tape)
        # tape: 1 input, 1 parameter, 1 constant -> 1 output, 3 instructions
        # inputs: x
        t0 = mul p0, x
        t1 = add t0, 1.0
        t2 = tanh t1
        out = t2
    """

    def __init__(self, input_names: Sequence[str], input_shapes: Sequence[tuple[int, ...]],
                 input_labels: Sequence[str], params: Sequence[Value], frozen: Sequence[Value],
                 constants: Sequence[float], instructions: Sequence[Instruction],
                 outputs: Sequence[Ref], output_shape: tuple[int, ...]) -> None:
        self.input_names = list(input_names)
        self.input_shapes = [tuple(s) for s in input_shapes]
        self.input_labels = list(input_labels)
        self.params = list(params)
        self.frozen = list(frozen)
        self.constants = list(constants)
        self.instructions = list(instructions)
        self.outputs = list(outputs)
        self.output_shape = tuple(output_shape)

    @classmethod
    def from_graph(cls, outputs: Sequence[Value], output_shape: tuple[int, ...],
                   input_leaves: Sequence[Value], input_names: Sequence[str],
                   input_shapes: Sequence[tuple[int, ...]], params: Sequence[Value] | None,
                   detached: dict[Value, Value]) -> Tape:
        """Build the tape of a traced graph (what :func:`autograd.compile` calls).

        ``params=None`` makes every captured leaf that is not a ``Constant`` a
        parameter, in order of first use.
        """
        slots = _Slots(input_leaves, params)
        known = slots.refs.__getitem__
        instructions: list[Instruction] = []
        for node in graph_order(outputs, detached):
            source = detached.get(node)
            operands = (source,) if source is not None else parents_of(node)
            try:  # mapped in C: a layer's 1,000 weights are parameters already numbered
                refs = tuple(map(known, operands))
            except KeyError:  # a leaf met for the first time
                refs = tuple([slots.ref(operand) for operand in operands])
            target = len(instructions)
            if source is not None:
                instructions.append(Instruction(target, None, refs, None, node._scope))
            else:
                instructions.append(Instruction(target, node._op, refs, node._arg, node._scope))
            slots.refs[node] = Ref(TEMP, target)
        output_refs = [slots.ref(node) for node in outputs]  # a leaf may be returned as it is
        labels = [leaf.label for leaf in input_leaves]
        return cls(input_names, input_shapes, labels, slots.params, slots.frozen, slots.constants,
                   instructions, output_refs, output_shape)

    # -- reading it -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.instructions)

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    def name(self, ref: Ref) -> str:
        """How the listing writes an operand: ``x[0]``, ``p3``, ``f0``, ``2.5`` or ``t7``.

        Example:
            >>> Tape([], [], [], [], [], [2.5], [], [], ()).name(Ref(CONST, 0))
            '2.5'
        """
        if ref.kind == INPUT:
            return self.input_labels[ref.number]
        if ref.kind == CONST:
            return repr(self.constants[ref.number])
        return f"{ref.kind}{ref.number}"

    def names(self, refs: Sequence[Ref]) -> str:
        """Operands joined by commas, regular runs folded: ``p0..p15``, ``t1, t3, ..., t31``.

        Example:
            >>> tape = Tape([], [], [], [], [], [], [], [], ())
            >>> tape.names([Ref(PARAM, i) for i in range(4)] + [Ref(TEMP, i) for i in range(1, 12, 2)])
            'p0..p3, t1, t3, ..., t11'
        """
        parts: list[str] = []
        i = 0
        while i < len(refs):
            j = i
            kind = refs[i].kind
            step = refs[i + 1].number - refs[i].number if i + 1 < len(refs) else 0
            if kind in (PARAM, FROZEN, TEMP) and step > 0:
                while (j + 1 < len(refs) and refs[j + 1].kind == kind
                       and refs[j + 1].number == refs[j].number + step):
                    j += 1
            if step == 1 and j - i >= 2:
                parts.append(f"{self.name(refs[i])}..{self.name(refs[j])}")
            elif step > 1 and j - i >= 4:
                parts.append(f"{self.name(refs[i])}, {self.name(refs[i + 1])}, ..., {self.name(refs[j])}")
            else:
                j = i
                parts.append(self.name(refs[i]))
            i = j + 1
        return ", ".join(parts)

    def format_instruction(self, instruction: Instruction) -> str:
        """One line of the listing (without the scope comment).

        Example:
            >>> from autograd.ops import OPS
            >>> ins = Instruction(4, OPS["powc"], (Ref(TEMP, 3),), 2.0, None)
            >>> Tape([], [], [], [], [], [], [ins], [], ()).format_instruction(ins)
            't4 = powc[2] t3'
        """
        op, operands = instruction.op, instruction.operands
        name = instruction.name
        if op is not None and op.bilinear is not None:
            weights, inputs, bias = op.bilinear(operands, instruction.arg)
            text = f"{name} [{self.names(weights)}] . [{self.names(inputs)}]"
            if bias is not None:
                text += f" + {self.name(bias)}"
        else:
            arg_text = "" if op is None else op.format_arg(instruction.arg)
            if arg_text:
                name += f"[{arg_text}]"
            text = f"{name} {self.names(operands)}"
        return f"t{instruction.target} = {text}"

    def __str__(self) -> str:
        header = (f"# tape: {count(len(self.input_labels), 'input')}, "
                  f"{count(len(self.params), 'parameter')}, ")
        if self.frozen:
            header += f"{count(len(self.frozen), 'frozen leaf', 'frozen leaves')}, "
        header += (f"{count(len(self.constants), 'constant')} -> "
                   f"{count(len(self.outputs), 'output')}, {count(len(self), 'instruction')}")
        lines = [header, "# inputs: " + (", ".join(self.input_labels) or "none")]
        scope = None
        for instruction in self.instructions:
            line = self.format_instruction(instruction)
            if instruction.scope != scope and instruction.scope:
                line = f"{line:<40}  # {'/'.join(instruction.scope)}"
            scope = instruction.scope
            lines.append(line)
        if self.output_shape == ():
            lines.append(f"out = {self.name(self.outputs[0])}")
        else:
            lines.extend(f"out[{i}] = {self.name(ref)}" for i, ref in enumerate(self.outputs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Tape: {count(len(self), 'instruction')}, {count(len(self.input_labels), 'input')}, "
                f"{count(len(self.params), 'parameter')}, {count(len(self.outputs), 'output')}>")
