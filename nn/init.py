"""Initial values for weights and biases: seeded, so a model can be rebuilt exactly.

An initialiser is chosen by name, by a number (every weight and bias set to it), or
as an :class:`Initializer` object. Every draw comes from one ``random.Random``, so
the same ``seed`` gives the same model on every machine.

Example:
    >>> rng = make_rng(0)
    >>> w = resolve_init("uniform").weight(rng, fan_in=2, fan_out=3)
    >>> -0.5 <= w <= 0.5
    True
    >>> resolve_init(1.0).bias(rng, fan_in=2, fan_out=3)
    1.0
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Union

__all__ = ["Initializer", "Uniform", "Constant", "XavierUniform", "HeNormal", "resolve_init",
           "make_rng", "INITIALIZERS", "Seed", "InitSpec"]

Seed = Union[int, random.Random, None]


def make_rng(seed: Seed) -> random.Random:
    """A ``random.Random`` from a seed: an int, a ``Random`` (used as is), or None (unseeded).

    Passing the same ``Random`` to several modules makes them draw in turn from
    one stream, which is how an MLP seeds all of its layers from one number.

    Example:
        >>> make_rng(3).random() == make_rng(3).random()
        True
    """
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, a random.Random or None, got {type(seed).__name__}")
    return random.Random(int(seed))


class Initializer:
    """How to draw a weight and a bias, given the unit's fan-in and fan-out.

    Subclasses override :meth:`weight` and, where biases differ, :meth:`bias`.

    Example:
        >>> Constant(0.5).weight(make_rng(0), fan_in=4, fan_out=1)
        0.5
    """

    name = "initializer"

    def weight(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        raise NotImplementedError

    def bias(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Uniform(Initializer):
    """Weights *and* biases uniform in [low, high]; the course uses [-0.5, 0.5].

    Biases are random too, as in the course's classic backpropagation, so that no
    two units start alike (breaking the symmetry).

    Example:
        >>> rng = make_rng(1)
        >>> all(-0.5 <= Uniform().weight(rng, 2, 1) <= 0.5 for _ in range(100))
        True
    """

    name = "uniform"

    def __init__(self, low: float = -0.5, high: float = 0.5) -> None:
        low, high = float(low), float(high)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise ValueError(f"Uniform needs finite low <= high, got [{low}, {high}]")
        self.low, self.high = low, high

    def weight(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return rng.uniform(self.low, self.high)

    def bias(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return rng.uniform(self.low, self.high)

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


class Constant(Initializer):
    """Every weight and every bias set to one number (exercise 1 starts from all ones).

    Example:
        >>> Constant(1).bias(make_rng(0), 2, 3)
        1.0
    """

    name = "constant"

    def __init__(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"a constant initial value must be a finite number, got {value!r}")
        self.value: float = float(value)

    def weight(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return self.value

    def bias(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value:g})"


class XavierUniform(Initializer):
    """Glorot/Xavier: uniform in +-sqrt(6 / (fan_in + fan_out)); biases 0. Suits sigmoid/tanh.

    Example:
        >>> abs(XavierUniform().weight(make_rng(0), 2, 1)) <= math.sqrt(2)
        True
    """

    name = "xavier"

    def weight(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit)


class HeNormal(Initializer):
    """He/Kaiming: normal with standard deviation sqrt(2 / fan_in); biases 0. Suits ReLU.

    Example:
        >>> isinstance(HeNormal().weight(make_rng(0), 16, 16), float)
        True
    """

    name = "he"

    def weight(self, rng: random.Random, fan_in: int, fan_out: int) -> float:
        return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


INITIALIZERS: dict[str, type[Initializer]] = {
    "uniform": Uniform,
    "xavier": XavierUniform,
    "glorot": XavierUniform,
    "he": HeNormal,
    "kaiming": HeNormal,
}

InitSpec = Union[str, float, int, Initializer]


def resolve_init(init: InitSpec) -> Initializer:
    """An :class:`Initializer` from a name ("uniform", "xavier"/"glorot", "he"/"kaiming"),
    a number (a :class:`Constant`) or an Initializer.

    Example:
        >>> resolve_init("glorot"), resolve_init(1)
        (XavierUniform(), Constant(1))
    """
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        try:
            return INITIALIZERS[init.lower()]()
        except KeyError:
            known = ", ".join(sorted(INITIALIZERS))
            raise ValueError(f"unknown init {init!r}: use one of {known}, a number, "
                             "or an nn.init.Initializer") from None
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        return Constant(init)
    raise TypeError(f"init must be a name, a number or an nn.init.Initializer, got {type(init).__name__}")
