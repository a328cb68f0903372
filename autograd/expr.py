"""Build a graph from a formula written as text, safely: no ``eval``, an AST whitelist.

The command line (``python -m autograd "(x + y) * z" x=-2 y=5 z=-4``) and notebooks
use it to turn the course's formulas into Values. Allowed:

* numbers (``2``, ``0.5``, ``1e-3``) and variable names;
* ``+ - * / **`` and unary ``-`` / ``+``;
* the Value methods that make one op (``exp log sqrt sin cos tanh sigmoid relu
  leaky_relu elu selu softplus log_sigmoid softsign sinc step sign``), called either
  as functions, ``tanh(x)``, or as methods, ``(x + y).tanh()``; ``leaky_relu`` and
  ``elu`` take their constant as a second argument (``leaky_relu(x, 0.1)``);
* ``abs(x)``, ``max(a, b)`` and ``min(a, b)``.

Everything else (attributes such as ``x.data``, comparisons, subscripts, lambdas,
keyword arguments, strings...) is refused with an :class:`ExpressionError` naming
the construct and its column. Evaluation walks the tree with an explicit stack, so
a long formula cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import ast
import inspect
import sys
import unicodedata
from math import isfinite
from collections.abc import Callable, Mapping
from typing import Any, Union

from .functions import maximum, minimum
from .ops import OPS
from .value import Value, as_value

__all__ = ["evaluate", "variable_names", "normalized_name", "shortened", "ExpressionError", "METHODS",
           "FUNCTIONS", "MAX_EXPRESSION_LENGTH"]

Number = Union[int, float]
MAX_EXPRESSION_LENGTH = 10_000
LABEL_LENGTH = 20  # sub-expressions up to this long label their node in a drawing


class ExpressionError(ValueError):
    """A formula uses something outside the whitelist, or a name without a value."""


# The Value methods that make exactly one op of the table, and how many constant
# arguments (a slope, an alpha) each takes after the value itself.
METHODS: dict[str, int] = {
    name: len(inspect.signature(getattr(Value, name)).parameters) - 1
    for name, op in OPS.items()
    if op.arity == 1 and callable(getattr(Value, name, None))
}
FUNCTIONS: dict[str, Callable[..., Value]] = {
    "abs": lambda x: abs(as_value(x)),
    "max": maximum,
    "min": minimum,
}
_FUNCTION_ARITY = {"abs": 1, "max": 2, "min": 2}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
           ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: lambda a: -a, ast.UAdd: lambda a: +a}


def normalized_name(name: str) -> str:
    """A variable name as Python's parser reads it in a formula: NFKC-normalised.

    So ``µ`` (the micro sign) in an assignment names the ``μ`` (Greek mu) of the formula.

    Example:
        >>> normalized_name("\u00b5") == "\u03bc"
        True
    """
    return unicodedata.normalize("NFKC", name)


def variable_names(expression: str) -> list[str]:
    """The variable names a formula uses, in order of first appearance (function names excluded).

    Example:
        >>> variable_names("(x + y) * z + tanh(x)")
        ['x', 'y', 'z']
    """
    formula = _Formula(expression)
    names: dict[str, None] = {}
    for node in formula.postorder:
        if isinstance(node, ast.Name) and id(node) not in formula.callees:
            names.setdefault(node.id, None)
    return list(names)


def evaluate(expression: str, variables: Mapping[str, Number | Value], *,
             label_subexpressions: bool = True) -> Value:
    """The Value of ``expression``, its graph built from ``variables`` (name -> number or Value).

    A number becomes a leaf ``Value`` labelled with its name. With
    ``label_subexpressions``, a node made by a short sub-expression is labelled
    with that text (``x + y``), which a drawing shows.

    Example:
        >>> f = evaluate("(x + y) * z", {"x": -2, "y": 5, "z": -4})
        >>> f.backward()
        >>> f.data, [(p.label, p.grad) for p in f.parents]
        (-12.0, [('x + y', -4.0), ('z', 3.0)])
    """
    formula = _Formula(expression)
    leaves: dict[str, Value] = {}
    for name, given in variables.items():
        name = normalized_name(name)
        if isinstance(given, Value):
            leaves[name] = given
        elif isinstance(given, (int, float)) and not isinstance(given, bool):
            leaves[name] = Value(given, name)
        else:
            raise TypeError(f"variable {name!r} must be a number or a Value, got {type(given).__name__}")
    results: dict[int, Any] = {}  # id(ast node) -> its value (the tree outlives the walk)
    for node in formula.postorder:
        if id(node) in formula.callees:
            continue
        value = formula.value_of(node, results, leaves)
        if (label_subexpressions and isinstance(value, Value) and not value.is_leaf and not value.label
                and not isinstance(node, ast.Expression)):
            text = formula.source_of(node, LABEL_LENGTH)
            if text is not None:
                value.label = text
        results[id(node)] = value
    return as_value(results[id(formula.tree)])


class _Formula:
    """A parsed expression, checked against the whitelist."""

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str):
            raise TypeError(f"expression must be a str, got {type(expression).__name__}")
        if not expression.strip():
            raise ExpressionError("the expression is empty")
        if len(expression) > MAX_EXPRESSION_LENGTH:
            raise ExpressionError(f"the expression is {len(expression):,} characters long; the limit "
                                  f"is {MAX_EXPRESSION_LENGTH:,}")
        self.text = expression.strip()
        try:
            self.encoded = self.text.encode("utf-8")  # ast columns count UTF-8 bytes
        except UnicodeEncodeError as error:  # a lone surrogate: an undecodable byte of argv
            raise ExpressionError(f"the expression is not valid text at character {error.start + 1} "
                                  f"({self.text[error.start]!r}: an undecodable byte?)") from None
        self.tree = _parse(self.text)
        self.line_starts = [0]
        for line in self.encoded.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        # The function part of a call (tanh in tanh(x), x.tanh in x.tanh()) is no value.
        self.callees = {id(node.func) for node in ast.walk(self.tree) if isinstance(node, ast.Call)}
        for node in ast.walk(self.tree):  # parents before children: the clearest message first
            self.check(node)
        self.postorder = [node for node in _postorder(self.tree) if _is_value_node(node)]

    def source_of(self, node: ast.AST, longest: int) -> str | None:
        """The text of ``node`` if it is at most ``longest`` characters long (without
        ``ast.get_source_segment``, which splits the whole formula into lines on every call)."""
        if not isinstance(node, ast.expr) or node.end_lineno is None or node.end_col_offset is None:
            return None  # a node without a place in the text (none that parse() makes)
        start = self.line_starts[node.lineno - 1] + node.col_offset
        end = self.line_starts[node.end_lineno - 1] + node.end_col_offset
        if end - start > 4 * longest:  # a character is at most 4 bytes
            return None
        text = self.encoded[start:end].decode("utf-8")
        return text if len(text) <= longest else None

    def check(self, node: ast.AST) -> None:
        """Refuse any construct outside the whitelist, naming it."""
        if isinstance(node, (ast.Expression, ast.Name, ast.expr_context, ast.operator, ast.unaryop)):
            return  # operators are checked with their BinOp / UnaryOp
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ExpressionError(f"operator {_operator_text(node.op)} is not allowed{_where(node)}: "
                                      "use + - * / **")
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise ExpressionError(f"operator {_operator_text(node.op)} is not allowed{_where(node)}: "
                                      "only unary - and +")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"{node.value!r} is not allowed{_where(node)}: only real numbers")
            if not isfinite(node.value):  # 1e309 reads as inf
                text = ast.get_source_segment(self.text, node)
                raise ExpressionError(f"{text} is too large for a float{_where(node)}")
        elif isinstance(node, ast.Call):
            _check_call(node)
        elif isinstance(node, ast.Attribute):
            if id(node) not in self.callees:
                text = ast.get_source_segment(self.text, node)
                raise ExpressionError(f"attribute access {text!r} is not allowed{_where(node)}: only "
                                      "method calls such as x.tanh()")
        else:
            description = {ast.Compare: "a comparison", ast.BoolOp: "and/or", ast.Subscript: "indexing",
                           ast.Lambda: "lambda", ast.IfExp: "if/else", ast.Tuple: "a tuple",
                           ast.List: "a list", ast.keyword: "a keyword argument",
                           ast.Starred: "*arguments", ast.NamedExpr: ":="}.get(type(node),
                                                                               type(node).__name__)
            raise ExpressionError(f"{description} is not allowed in an expression{_where(node)}")

    def value_of(self, node: ast.AST, results: dict[int, Any], leaves: dict[str, Value]) -> Any:
        """The value of one node whose children have theirs in ``results``."""
        try:
            value = self._value_of(node, results, leaves)
            if isinstance(value, float) and not isfinite(value):  # arithmetic on numbers only
                raise ValueError("not a number" if value != value else "result too large for a float")
            return value
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError) as error:
            text = ast.get_source_segment(self.text, node) or "the expression"
            reason = "result too large for a float" if type(error) is OverflowError else str(error)
            raise ExpressionError(f"{text}{_where(node)}: {reason}") from None

    def _value_of(self, node: ast.AST, results: dict[int, Any], leaves: dict[str, Value]) -> Any:
        if isinstance(node, ast.Expression):
            return results[id(node.body)]
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):  # check() refused others
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in leaves:
                known = ", ".join(leaves) or "none"
                raise ExpressionError(f"unknown name {node.id!r}{_where(node)} (variables given: "
                                      f"{known})")
            return leaves[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](results[id(node.left)], results[id(node.right)])
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](results[id(node.operand)])
        assert isinstance(node, ast.Call)
        return _call(node, results)


def _parse(text: str) -> ast.Expression:
    """``ast.parse``, with room for the longest flat formula the length limit allows.

    CPython builds the tree of ``x + x + ... + x`` recursively, one level per ``+``,
    against the recursion limit: at the default 1,000 a flat sum of 3,000 terms would
    be refused as "nested too deeply" although it is within MAX_EXPRESSION_LENGTH.
    The limit is raised to fit that length for the parse only (nesting in brackets
    stays bounded by the parser itself, 200 levels).
    """
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, MAX_EXPRESSION_LENGTH + 1_000))
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ExpressionError(f"syntax error in {shortened(text)!r}{where}: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to parse") from None
    finally:
        sys.setrecursionlimit(limit)


def shortened(text: str, longest: int = 60) -> str:
    """``text`` cut to ``longest`` characters with ``...``, for one-line error messages.

    Example:
        >>> shortened("x + " * 30 + "x", 12)
        'x + x + x...'
    """
    return text if len(text) <= longest else text[:longest - 3] + "..."


def _is_value_node(node: ast.AST) -> bool:
    return not isinstance(node, (ast.expr_context, ast.operator, ast.unaryop))


def _postorder(tree: ast.AST) -> list[ast.AST]:
    """Every node after its children (an explicit stack: no recursion)."""
    order: list[ast.AST] = []
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(ast.iter_child_nodes(node))))
    return order


def _where(node: ast.AST) -> str:
    column = getattr(node, "col_offset", None)
    return f" (column {column + 1})" if column is not None else ""


def _operator_text(op: ast.AST) -> str:
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
            ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~",
            ast.Not: "not"}.get(type(op), type(op).__name__)


def _check_call(node: ast.Call) -> None:
    if node.keywords:
        raise ExpressionError(f"keyword arguments are not allowed{_where(node)}: write "
                              "leaky_relu(x, 0.1)")
    if isinstance(node.func, ast.Name):
        name, operands = node.func.id, len(node.args)
    elif isinstance(node.func, ast.Attribute):
        name, operands = node.func.attr, len(node.args) + 1
    else:
        raise ExpressionError(f"only named functions and methods can be called{_where(node)}")
    if name in FUNCTIONS:
        if isinstance(node.func, ast.Attribute):
            raise ExpressionError(f"{name} is a function, not a method{_where(node)}: write {name}(...)")
        if operands != _FUNCTION_ARITY[name]:
            raise ExpressionError(f"{name}() takes {_FUNCTION_ARITY[name]} argument(s), got "
                                  f"{operands}{_where(node)}")
        return
    if name not in METHODS:
        raise ExpressionError(f"unknown function {name!r}{_where(node)}; allowed: "
                              f"{', '.join(sorted([*METHODS, *FUNCTIONS]))}")
    if not 1 <= operands <= 1 + METHODS[name]:
        extra = METHODS[name]
        takes = "one value" if not extra else f"a value and up to {extra} number(s)"
        raise ExpressionError(f"{name} takes {takes}, got {operands} argument(s){_where(node)}")


def _call(node: ast.Call, results: dict[int, Any]) -> Any:
    if isinstance(node.func, ast.Name):
        name = node.func.id
        operands = [results[id(arg)] for arg in node.args]
    else:
        assert isinstance(node.func, ast.Attribute)
        name = node.func.attr
        operands = [results[id(node.func.value)]] + [results[id(arg)] for arg in node.args]
    if name in FUNCTIONS:
        return FUNCTIONS[name](*operands)
    value, constants = operands[0], operands[1:]
    for constant in constants:
        if isinstance(constant, Value):
            raise ExpressionError(f"the extra argument of {name}{_where(node)} must be a number, "
                                  "not an expression of variables")
    return getattr(as_value(value), name)(*constants)
