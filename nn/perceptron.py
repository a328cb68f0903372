"""Perceptrons (docs/course.md, section 3): step units trained by the perceptron learning rule.

A step unit has no useful gradient (its derivative is 0 almost everywhere), so
it is not trained by backpropagation but by the perceptron rule: after each
misclassified sample, W <- W + lr * (y - y_hat) * x (the bias sees an input of 1).
On a linearly separable set this stops making mistakes after finitely many updates.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from collections.abc import Sequence

if TYPE_CHECKING:  # typing.Self is Python 3.11+; chainrule runs on 3.10 too
    from typing_extensions import Self

import autograd

from .activations import ActivationSpec, resolve_activation
from .init import InitSpec, Seed
from .layers import Neuron
from .registry import register_module
from .checks import check_inputs

__all__ = ["Perceptron", "PerceptronHistory", "perceptron_trick"]


def perceptron_trick(line: Sequence[float], point: Sequence[float], label: int,
                     lr: float = 0.1) -> tuple[float, ...]:
    """Move a line w . x + b = 0 towards a misclassified point; a correct point leaves it alone.

    ``line`` is (w1, ..., wn, b); ``label`` is 1 for the positive side (w . x + b > 0)
    and 0 (or -1) for the other. A point on the wrong side is added to the line, with 1
    for the bias and times ``lr``, if it should be positive, and subtracted otherwise.

    The step is ``lr`` times the point. The course's notes move the line 3 x1 + 4 x2 - 10 = 0
    away from the negative point (4, 5) with learning rate 1, the whole point at once; the
    video lectures behind them use 0.1, a tenth of it, the default here (small steps are
    what the perceptron rule takes):

    Example:
        >>> perceptron_trick((3, 4, -10), (4, 5), label=0, lr=1)  # the notes' result
        (-1.0, -1.0, -11.0)
        >>> perceptron_trick((3, 4, -10), (4, 5), label=0, lr=0.1)
        (2.6, 3.5, -10.1)
        >>> perceptron_trick((3, 4, -10), (4, 5), label=1)  # already on its side
        (3.0, 4.0, -10.0)
    """
    coefficients = [float(c) for c in line]
    if len(coefficients) != len(point) + 1:
        raise ValueError(f"a line in {len(point)} dimensions has {len(point) + 1} coefficients "
                         f"(weights and bias), got {len(coefficients)}")
    if label not in (0, 1, -1):
        raise ValueError(f"label must be 1 (positive side) or 0/-1 (negative side), got {label!r}")
    extended = [float(x) for x in point] + [1.0]
    activation = sum(c * x for c, x in zip(coefficients, extended))
    predicted_positive = activation > 0.0
    if predicted_positive == (label == 1):
        return tuple(coefficients)
    direction = 1.0 if label == 1 else -1.0
    return tuple(c + direction * lr * x for c, x in zip(coefficients, extended))


@dataclass
class PerceptronHistory:
    """Misclassified samples in each epoch of :meth:`Perceptron.learn`.

    Example (OR from zero weights: no mistake in the fourth epoch):
        >>> history = Perceptron(2).learn([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 1])
        >>> history.errors, history.epochs, history.converged
        ([1, 2, 1, 0], 4, True)
    """

    errors: list[int] = field(default_factory=list)
    converged: bool = False

    @property
    def epochs(self) -> int:
        """The number of epochs run (the last one without mistakes if ``converged``)."""
        return len(self.errors)


@register_module
class Perceptron(Neuron):
    """A single step unit, step(w . x + b) (or ``activation="sign"``), learned by the perceptron rule.

    Labels are 0/1 for a step unit and -1/+1 for a sign unit. Weights start at
    ``init`` (0 by default, the textbook start). The unit's value at exactly 0 is a
    convention: ``activation={"name": "step", "at_zero": 1.0}`` (or ``nn.Step(at_zero=1.0)``)
    for 1 if w . x + b >= 0. ``bias=False`` learns a line through the origin.

    Example (AND is linearly separable):
        >>> p = Perceptron(2)
        >>> history = p.learn([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 0, 0, 1], lr=0.1)
        >>> history.converged, [p.predict(x) for x in [[0, 0], [0, 1], [1, 0], [1, 1]]]
        (True, [0.0, 0.0, 0.0, 1.0])
    """

    def __init__(self, nin: int, activation: ActivationSpec = "step", *, bias: bool = True,
                 init: InitSpec = 0.0, seed: Seed = None) -> None:
        unit = resolve_activation(activation)
        if unit.name not in ("step", "sign"):
            raise ValueError(f"a Perceptron's activation is 'step' or 'sign', got {activation!r}"[:200])
        super().__init__(nin, unit, bias=bias, init=init, seed=seed)

    @classmethod
    def from_weights(cls, weights: Sequence[float], bias: float | None,
                     activation: ActivationSpec = "step") -> Self:
        """A perceptron with the given weights and bias (``None``: no bias).

        Example:
            >>> Perceptron.from_weights([3, 4], -10).predict([4, 5])
            1.0
        """
        return super().from_weights(weights, bias, activation)

    def predict(self, x: Sequence[float]) -> float:
        """The unit's output for one input row (no graph is recorded).

        Example:
            >>> Perceptron.from_weights([1.0, 1.0], -1.5).predict([1, 1])
            1.0
        """
        with autograd.no_grad():
            return self(x).data

    def learn(self, X: Any, Y: Any, lr: float = 0.1, epochs: int = 100) -> PerceptronHistory:
        """The perceptron learning rule, sample by sample, until an epoch has no mistakes.

        W <- W + lr * (y - y_hat) * x and b <- b + lr * (y - y_hat) for each sample.
        Stops after an epoch with no mistakes (``converged``) or after ``epochs`` epochs.

        Example (OR, from zero weights):
            >>> p = Perceptron(2)
            >>> p.learn([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 1]).errors
            [1, 2, 1, 0]
        """
        rows = check_inputs(self, X)
        labels = list(Y)
        if len(labels) != len(rows):
            raise ValueError(f"X has {len(rows)} rows but Y has {len(labels)}: one label per row")
        allowed = (0, 1) if self.activation.name == "step" else (-1, 1)
        for i, y in enumerate(labels):
            if isinstance(y, bool) or not isinstance(y, numbers.Real) or y not in allowed:
                raise ValueError(f"Y row {i} is {y!r}: a {self.activation.name} perceptron needs labels "
                                 f"{allowed[0]} or {allowed[1]}")
        history = PerceptronHistory()
        for _ in range(epochs):
            mistakes = 0
            for x, y in zip(rows, labels):
                error = float(y) - self.predict(x)
                if error:
                    mistakes += 1
                    for w, xi in zip(self.w, x):
                        w.data = w.data + lr * error * xi
                    if self.b is not None:
                        self.b.data = self.b.data + lr * error
            history.errors.append(mistakes)
            if mistakes == 0:
                history.converged = True
                break
        return history

    def config(self) -> dict[str, Any]:
        return {**super().config(), "type": "Perceptron"}
