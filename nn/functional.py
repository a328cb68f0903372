"""Functions of several Values at once (softmax, log-softmax), as in ``torch.nn.functional``.

Example:
    >>> from autograd import Value
    >>> [round(p.data, 4) for p in softmax([Value(1.0), Value(2.0), Value(3.0)])]
    [0.09, 0.2447, 0.6652]
"""

from __future__ import annotations

from collections.abc import Sequence

import autograd
from autograd import Value

__all__ = ["softmax", "log_softmax"]


def softmax(values: Sequence[Value | float]) -> list[Value]:
    """exp(x_i - logsumexp(x)) for each x_i: probabilities, stable for any inputs.

    Example:
        >>> from autograd import Value
        >>> [round(p.data, 12) for p in softmax([Value(1000.0), Value(1000.0)])]
        [0.5, 0.5]
    """
    return [value.exp() for value in log_softmax(values)]


def log_softmax(values: Sequence[Value | float]) -> list[Value]:
    """x_i - logsumexp(x): log-probabilities, stable for any inputs.

    Example:
        >>> from autograd import Value
        >>> round(log_softmax([Value(0.0), Value(0.0)])[0].data, 6)
        -0.693147
    """
    values = [autograd.as_value(v) for v in values]
    total = autograd.logsumexp(values)
    return [value - total for value in values]
