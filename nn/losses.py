"""Loss functions (docs/course.md, section 4), each built from autograd ops.

Each function takes one sample's outputs (a Value or a list of Values) and its
target, and returns a Value; :func:`nn.fit` averages them over a batch, or adds
them with ``reduction="sum"`` (as the course's notes sum the deltas). The
numerically delicate ones use the stable ops of :mod:`autograd.ops`
(``softplus``, ``logsumexp``), never a hand-written derivative.

The :class:`Loss` objects in :data:`LOSSES` add what training needs around a
function: which targets fit it (checked before the first step) and, for
classifiers, when a prediction counts as correct.

Example:
    >>> from autograd import Value
    >>> squared_error([Value(0.5), Value(2.0)], [1.0, 1.0]).data  # (0.25 + 1) / 2
    0.625
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Union
from collections.abc import Callable, Iterable, Sequence

import autograd
from autograd import Value
from autograd.context import STATE

from .module import Module

__all__ = ["squared_error", "sum_squared_error", "mse", "binary_cross_entropy",
           "binary_cross_entropy_with_logits",
           "cross_entropy", "hinge", "l2_penalty", "Loss", "LOSSES", "resolve_loss", "LossSpec"]

Outputs = Union[Value, Sequence[Value]]
Targets = Union[float, Value, Sequence[Union[float, Value]]]

# log() is clamped at -100, as PyTorch's BCELoss does, so a saturated sigmoid
# (1 - a == 0.0 in floats) gives a large finite loss instead of log(0).
_LOG_FLOOR = math.exp(-100.0)


def check_probabilities(outputs: Iterable[float], what: str = "binary_cross_entropy") -> None:
    """``ValueError`` unless every output is a probability (in [0, 1]), naming the fix.

    PyTorch's ``BCELoss`` refuses such inputs too ("all elements of input should be
    between 0 and 1"): clamping them, as the logarithms' floor would, trains on nonsense.
    Both training engines call it (eager: the loss function; compiled: :meth:`Loss.check_outputs`).

    Example:
        >>> check_probabilities([0.0, 0.25, 1.0])  # a saturated sigmoid gives 0 or 1: fine
        >>> check_probabilities([0.5, 1.75])
        Traceback (most recent call last):
        ...
        ValueError: binary_cross_entropy needs probabilities (outputs between 0 and 1), got 1.75: ...
    """
    for a in outputs:
        if not 0.0 <= a <= 1.0:  # NaN fails too
            shown = f"{a:.6g}"  # the engines' last digits may differ; all of them if 6 would hide the fault
            shown = shown if not 0.0 <= float(shown) <= 1.0 else repr(a)
            raise ValueError(
                f"{what} needs probabilities (outputs between 0 and 1), got {shown}: end the model "
                "in a sigmoid (nn.MLP(..., output_activation=\"sigmoid\")), or keep its raw scores "
                "and use loss=\"bce_logits\" (nn.binary_cross_entropy_with_logits), which applies "
                "the sigmoid inside, stably")


def _as_list(values: Any) -> list[Any]:
    return [values] if isinstance(values, (Value, numbers.Real)) else list(values)


def _paired(outputs: Outputs, targets: Targets, what: str) -> tuple[list[Value], list[Any]]:
    outputs, targets = _as_list(outputs), _as_list(targets)
    if len(outputs) != len(targets):
        raise ValueError(f"{what}: {len(outputs)} output{'s' if len(outputs) != 1 else ''} "
                         f"but {len(targets)} target{'s' if len(targets) != 1 else ''}")
    if not outputs:
        raise ValueError(f"{what}: no outputs")
    return [autograd.as_value(o) for o in outputs], targets


def squared_error(outputs: Outputs, targets: Targets) -> Value:
    """E = 1/2 sum (a - y)^2, the course's squared error; dE/da = a - y.

    Example:
        >>> from autograd import Value
        >>> a = Value(0.8); e = squared_error(a, 1.0); e.backward()
        >>> round(e.data, 6), round(a.grad, 6)
        (0.02, -0.2)
    """
    squares, _ = _sum_of_squares(outputs, targets, "squared_error")
    return squares * 0.5


def sum_squared_error(outputs: Outputs, targets: Targets) -> Value:
    """C0 = sum (a - y)^2, the sum of squares without the 1/2 (``"sse"``); dC0/da = 2 (a - y).

    The course's Spanish notes write the cost this way; :func:`squared_error` is half of it.
    Summed over a batch as the notes do with ``nn.fit(..., loss="sse", reduction="sum")``.

    Example:
        >>> from autograd import Value
        >>> a = Value(0.8); c = sum_squared_error(a, 1.0); c.backward()
        >>> round(c.data, 6), round(a.grad, 6)
        (0.04, -0.4)
    """
    return _sum_of_squares(outputs, targets, "sum_squared_error")[0]


def mse(outputs: Outputs, targets: Targets) -> Value:
    """Mean squared error over the outputs: 1/n sum (a - y)^2.

    Example:
        >>> from autograd import Value
        >>> mse([Value(1.0), Value(3.0)], [0.0, 1.0]).data  # (1 + 4) / 2
        2.5
    """
    squares, count = _sum_of_squares(outputs, targets, "mse")
    return squares * (1.0 / count)


def _sum_of_squares(outputs: Outputs, targets: Targets, what: str) -> tuple[Value, int]:
    """sum (a - y)^2 as one dot node, and the number of outputs."""
    outputs, targets = _paired(outputs, targets, what)
    errors = [a - y for a, y in zip(outputs, targets)]
    return autograd.dot(errors, errors), len(errors)


def binary_cross_entropy(outputs: Outputs, targets: Targets) -> Value:
    """J = -[y log a + (1 - y) log(1 - a)] summed over the outputs; a are probabilities.

    With a sigmoid output the gradient at the neuron's sum is a - y (exercise 1 of the course).
    The logarithms are clamped at -100 (as PyTorch does) so a saturated output gives a
    large finite loss; prefer :func:`binary_cross_entropy_with_logits` on raw scores.
    An output outside [0, 1] (a linear or ReLU last layer) raises ``ValueError`` naming the
    fix, as PyTorch's ``BCELoss`` does, instead of being clamped.

    Example:
        >>> from autograd import Value
        >>> z = Value(0.0); J = binary_cross_entropy(z.sigmoid(), 1.0); J.backward()
        >>> round(J.data, 6), z.grad  # log 2, and a - y = 0.5 - 1
        (0.693147, -0.5)
    """
    outputs, targets = _paired(outputs, targets, "binary_cross_entropy")
    if not STATE.get().tracing:  # a compiled tape checks its outputs instead (Loss.check_outputs)
        check_probabilities(a.data for a in outputs)
    logs, weights = [], []
    for a, y in zip(outputs, targets):
        # A hard label (a plain 0 or 1) needs one of the two terms: half the nodes.
        if isinstance(y, Value) or y != 0.0:
            logs.append(autograd.maximum(a, _LOG_FLOOR).log())
            weights.append(-y)
        if isinstance(y, Value) or y != 1.0:
            logs.append(autograd.maximum(1.0 - a, _LOG_FLOOR).log())
            weights.append(y - 1.0)
    return autograd.dot(logs, weights)


def binary_cross_entropy_with_logits(outputs: Outputs, targets: Targets) -> Value:
    """Binary cross-entropy on raw scores z (sigmoid applied inside): softplus(z) - y z.

    Stable for any z: -log sigmoid(z) = softplus(-z), so no log of 0 can occur.

    Example:
        >>> from autograd import Value
        >>> binary_cross_entropy_with_logits(Value(-1000.0), 0.0).data
        0.0
        >>> binary_cross_entropy_with_logits(Value(-1000.0), 1.0).data
        1000.0
    """
    outputs, targets = _paired(outputs, targets, "binary_cross_entropy_with_logits")
    terms = [z.softplus() for z in outputs]
    return autograd.dot(terms + outputs, [1.0] * len(terms) + [-y for y in targets])


def cross_entropy(logits: Sequence[Value], target: Union[int, Sequence[Union[float, Value]]]) -> Value:
    """Multi-class cross-entropy on logits: -log softmax(z)[target] = logsumexp(z) - z_target.

    ``target`` is a class index, or a probability vector y (-sum y_i log p_i).
    The log-softmax goes through ``logsumexp``, so large logits cannot overflow.

    Example:
        >>> from autograd import Value
        >>> z = [Value(1000.0), Value(0.0)]
        >>> cross_entropy(z, 0).data, cross_entropy(z, 1).data
        (0.0, 1000.0)
        >>> round(cross_entropy([Value(0.0), Value(0.0)], [0.5, 0.5]).data, 6)
        0.693147
    """
    logits = [autograd.as_value(z) for z in _as_list(logits)]
    if not logits:
        raise ValueError("cross_entropy: no logits")
    total = autograd.logsumexp(logits)
    if isinstance(target, numbers.Integral) and not isinstance(target, bool):
        index = int(target)
        if not 0 <= index < len(logits):
            raise ValueError(f"cross_entropy: class {target} is out of range for {len(logits)} logits")
        return total - logits[index]
    assert not isinstance(target, int)  # (for type checkers: an int went above)
    probabilities = list(target)
    if len(probabilities) != len(logits):
        raise ValueError(f"cross_entropy: {len(logits)} logits but {len(probabilities)} target probabilities")
    # -sum y_i (z_i - logsumexp) = logsumexp * sum(y) - sum(y_i z_i), as one node.
    traced = any(isinstance(y, Value) for y in probabilities)
    mass = autograd.sum(probabilities) if traced else math.fsum(probabilities)
    return autograd.dot(logits + [total], [-y for y in probabilities] + [mass])


def hinge(outputs: Outputs, targets: Targets) -> Value:
    """Max-margin (hinge) loss sum relu(1 - y s), labels y in {-1, +1} (micrograd's demo).

    Example:
        >>> from autograd import Value
        >>> hinge(Value(0.3), 1.0).data, hinge(Value(2.0), 1.0).data
        (0.7, 0.0)
    """
    outputs, targets = _paired(outputs, targets, "hinge")
    margins = [autograd.dot([s], [-y], bias=1.0).relu() for s, y in zip(outputs, targets)]
    return margins[0] if len(margins) == 1 else autograd.sum(margins)


def l2_penalty(weights: Any, strength: float) -> Value:
    """strength * sum w^2 over the weights: the L2 penalty. Biases are left out.

    Pass a model (its :meth:`~nn.Module.weights`, never its biases) or a list of
    Values. The course writes lambda / (2 m) sum w^2: use ``strength = lambda / (2 m)``.
    The sum is one dot node, w . w.

    Example:
        >>> from nn import Neuron
        >>> n = Neuron(2, init=3.0)  # weights 3, 3 and bias 3
        >>> l2_penalty(n, 0.5).data  # 0.5 * (9 + 9): the bias is not penalised
        9.0
    """
    values = weights.weights() if isinstance(weights, Module) else list(weights)
    if not values:
        return autograd.Constant(0.0)
    return autograd.dot(values, values) * float(strength)


# ---------------------------------------------------------------------------
# Loss objects: the function plus target checks and accuracy, for fit().
# ---------------------------------------------------------------------------
class Loss:
    """A per-sample loss function with what :func:`nn.fit` needs around it.

    Attributes:
        name: its name in :data:`LOSSES`.
        function: ``function(outputs, target) -> Value``.
        classifier: whether accuracy means something for it.

    Example:
        >>> LOSSES["bce"].check_target([1], nout=1), LOSSES["bce"].is_correct([0.9], [1.0])
        ([1.0], True)
    """

    def __init__(self, name: str, function: Callable[..., Value], classifier: bool,
                 target_rule: str = "any", threshold: float | None = None,
                 output_rule: str = "any") -> None:
        self.name = name
        self.function = function
        self.classifier = classifier
        self.target_rule = target_rule
        self.threshold = threshold
        self.output_rule = output_rule

    def __call__(self, outputs: Outputs, target: Any) -> Value:
        return self.function(outputs, target)

    def __repr__(self) -> str:
        return f"Loss({self.name!r})"

    def check_target(self, target: Any, nout: int | None) -> Any:
        """The target in the form the loss takes, or ``ValueError`` saying why it does not fit.

        Example:
            >>> LOSSES["hinge"].check_target(0, nout=1)
            Traceback (most recent call last):
            ...
            ValueError: hinge needs labels -1 or +1, got 0
        """
        iterable = hasattr(target, "__iter__") and not isinstance(target, (str, bytes))
        values = _as_list(target) if iterable or isinstance(target, numbers.Real) else None
        if values is None or any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
            raise ValueError(f"{self.name} needs numbers as targets, got {target!r}"[:200])
        numbers_ = [float(v) for v in values]
        bad = [v for v in numbers_ if not math.isfinite(v)]
        if bad:
            raise ValueError(f"the target holds {bad[0]!r}: targets must be finite")
        if nout is not None and len(numbers_) != nout:
            raise ValueError(f"the target has {len(numbers_)} value{'s' if len(numbers_) != 1 else ''} "
                             f"but the model has {nout} output{'s' if nout != 1 else ''}")
        if self.target_rule == "probability" and any(not 0.0 <= v <= 1.0 for v in numbers_):
            raise ValueError(f"{self.name} needs targets between 0 and 1, got {target!r}"[:200])
        if self.target_rule == "sign" and any(v not in (-1.0, 1.0) for v in numbers_):
            raise ValueError(f"{self.name} needs labels -1 or +1, got {target!r}"[:200])
        return numbers_

    def check_outputs(self, outputs: Any) -> None:
        """``ValueError`` if the model's outputs (rows, or a NumPy array of them) cannot go into the loss.

        The eager loss functions check their own inputs; a compiled tape cannot (it
        replays the ops without Python's checks), so it calls this on each batch's outputs.

        Example:
            >>> LOSSES["bce"].check_outputs([[0.5], [1.5]])
            Traceback (most recent call last):
            ...
            ValueError: binary_cross_entropy needs probabilities (outputs between 0 and 1), got 1.5: ...
            >>> LOSSES["bce_logits"].check_outputs([[0.5], [1.5]])  # raw scores: anything goes
        """
        if self.output_rule == "probability":
            # A NumPy batch as one flat list: 0.4 us for 1 x 2 outputs, 11 us for 64 x 1 (a nested
            # generator took 1.2 and 53 us; NumPy's min and max, 17 us either way).
            flat = (outputs.ravel().tolist() if hasattr(outputs, "ravel")
                    else [a for row in outputs for a in row])
            check_probabilities(flat, getattr(self.function, "__name__", self.name))

    def is_correct(self, outputs: Sequence[float], target: Any) -> bool | None:
        """Whether a prediction is right (every output on the target's side); None for regression.

        Example:
            >>> LOSSES["hinge"].is_correct([-0.2], [-1.0]), LOSSES["mse"].is_correct([1.0], [1.0])
            (True, None)
        """
        if not self.classifier:
            return None
        cut, middle = self._sides()
        return all((o > cut) == (t > middle) for o, t in zip(outputs, target))

    def _sides(self) -> tuple[float, float]:
        """Where an output (``cut``) and a target (``middle``) change class."""
        return 0.5 if self.threshold is None else self.threshold, 0.0 if self.target_rule == "sign" else 0.5

    @property
    def counts_arrays(self) -> bool:
        """Whether :meth:`count_correct` applies :meth:`is_correct`'s rule to whole arrays.

        True for the built-in losses, and for a subclass that overrides ``is_correct`` only
        if it overrides ``count_correct`` too; otherwise the count is ``is_correct`` row by
        row, and its targets must be in the form ``is_correct`` takes (as ``check_target``
        returns them: a class index stays an index, not the tape's one-hot row).

        Example:
            >>> LOSSES["hinge"].counts_arrays
            True
        """
        rule, count = (next(k for k in type(self).__mro__ if name in vars(k))
                       for name in ("is_correct", "count_correct"))
        return issubclass(count, rule)

    def count_correct(self, outputs: Any, targets: Any) -> int:
        """How many rows of a NumPy batch :meth:`is_correct` counts right: its rule on whole arrays
        (the compiled fit's accuracy: 0.1 ms an epoch for micrograd's demo, 0.3 ms row by row).

        ``outputs`` is ``(n, nout)``, ``targets`` one row per sample (one-hot for class indices;
        if not :attr:`counts_arrays`, the targets as ``is_correct`` takes them, e.g. a list).

        Example:
            >>> import numpy as np
            >>> LOSSES["hinge"].count_correct(np.array([[0.3], [-2.0]]), np.array([1.0, 1.0]))
            1
        """
        if not self.counts_arrays:  # a subclass's own rule, row by row
            rows = targets.tolist() if hasattr(targets, "tolist") else targets
            return sum(map(bool, map(self.is_correct, outputs.tolist(), rows)))
        cut, middle = self._sides()
        return int(((outputs > cut) == (targets.reshape(outputs.shape) > middle)).all(axis=1).sum())


class _CrossEntropyLoss(Loss):
    def __init__(self) -> None:
        super().__init__("cross_entropy", cross_entropy, classifier=True)

    def check_target(self, target: Any, nout: int | None) -> Any:
        if isinstance(target, numbers.Integral) and not isinstance(target, bool):
            index = int(target)
            if nout is not None and not 0 <= index < nout:
                raise ValueError(f"cross_entropy needs a class index in 0..{nout - 1}, got {target}")
            if index < 0:
                raise ValueError(f"cross_entropy needs a class index >= 0, got {target}")
            return index
        if isinstance(target, numbers.Real) and not isinstance(target, bool):
            raise ValueError(f"cross_entropy needs an integer class index (or a probability "
                             f"vector), got {target!r}")
        probabilities = super().check_target(target, nout)
        if any(p < 0.0 for p in probabilities) or abs(math.fsum(probabilities) - 1.0) > 1e-6:
            raise ValueError(f"cross_entropy needs a class index or probabilities that sum to 1, "
                             f"got {target!r}"[:200])
        return probabilities

    def is_correct(self, outputs: Sequence[float], target: Any) -> bool:
        predicted = max(range(len(outputs)), key=outputs.__getitem__)
        if isinstance(target, int):
            return predicted == target
        return predicted == max(range(len(target)), key=target.__getitem__)

    def count_correct(self, outputs: Any, targets: Any) -> int:
        # the first largest output against the first largest target (argmax: as max(range) above)
        return int((outputs.argmax(axis=1) == targets.argmax(axis=1)).sum())


def _losses() -> dict[str, Loss]:
    entries = [
        (("squared_error",), Loss("squared_error", squared_error, classifier=False)),
        (("sse", "sum_squared_error"), Loss("sse", sum_squared_error, classifier=False)),
        (("mse",), Loss("mse", mse, classifier=False)),
        (("bce", "binary_cross_entropy"),
         Loss("bce", binary_cross_entropy, classifier=True, target_rule="probability", threshold=0.5,
              output_rule="probability")),
        (("bce_logits", "binary_cross_entropy_with_logits"),
         Loss("bce_logits", binary_cross_entropy_with_logits, classifier=True, target_rule="probability",
              threshold=0.0)),
        (("cross_entropy",), _CrossEntropyLoss()),
        (("hinge", "max_margin"), Loss("hinge", hinge, classifier=True, target_rule="sign", threshold=0.0)),
    ]
    return {name: loss for names, loss in entries for name in names}


LOSSES: dict[str, Loss] = _losses()

LossSpec = Union[str, Loss, Callable[..., Value]]


def resolve_loss(spec: LossSpec) -> Loss:
    """A :class:`Loss` from a name in :data:`LOSSES`, a Loss, or a function (no accuracy then).

    Example:
        >>> resolve_loss("max_margin"), resolve_loss(mse).classifier
        (Loss('hinge'), False)
    """
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str):
        try:
            return LOSSES[spec.lower()]
        except KeyError:
            raise ValueError(f"unknown loss {spec!r}: use one of {', '.join(sorted(LOSSES))}, "
                             "or pass a function(outputs, target) -> Value") from None
    if callable(spec):
        for loss in LOSSES.values():
            if loss.function is spec:
                return loss
        return Loss(getattr(spec, "__name__", "custom"), spec, classifier=False)
    raise TypeError(f"loss must be a name, an nn.Loss or a function, got {type(spec).__name__}")

