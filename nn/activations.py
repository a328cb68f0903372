"""Activation functions (docs/course.md, section 5), each a small :class:`~nn.Module`.

The elementwise ones are single ops of :mod:`autograd.ops`, where their derivative is
written once; the rest are compositions of those ops, so nn never re-derives a
gradient. PReLU and soft exponential carry a learnable parameter; RReLU draws a
random slope while training and uses the mean slope in eval mode.

A layer takes its activation by name (``"sigmoid"``, ``"relu"``, ...; each neuron
then gets its own instance, so a PReLU slope is learned per neuron), as an
``Activation`` class or instance, or as any callable on a Value.

No forward rule here reads ``Value.data``: a traced (compiled) model runs the same code.

Example:
    >>> from autograd import Value
    >>> resolve_activation("sigmoid")(Value(0.0)).data
    0.5
"""

from __future__ import annotations

import random
from typing import Any, Union, cast
from collections.abc import Callable

import autograd
from autograd import Parameter, Value
from autograd.context import refuse_tracing

from .activation_base import Activation, finite_option
from .init import Seed, make_rng

__all__ = ["Activation", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "RReLU",
           "ELU", "SELU", "Softplus", "Softsign", "SoftExponential", "Sin", "Sinc", "Step",
           "Sign", "Lambda", "ACTIVATIONS", "ActivationSpec", "resolve_activation", "finite_option"]


class Identity(Activation):
    """f(x) = x (a linear unit): returns its input node itself.

    Example:
        >>> from autograd import Value
        >>> x = Value(3.0); Identity()(x) is x
        True
    """

    name = "identity"

    def forward(self, x: Value) -> Value:
        return x


class _Scaled(Activation):
    """An activation with a slope ``c`` inside: f(c x). c = 1 is one node; else two."""

    def __init__(self, c: float = 1.0) -> None:
        self.c = finite_option("c", c)

    def options(self) -> dict[str, Any]:
        return {} if self.c == 1.0 else {"c": self.c}


class Sigmoid(_Scaled):
    """Logistic sigmoid 1 / (1 + e^(-c x)); c is the slope (1 by default).

    Example:
        >>> from autograd import Value
        >>> round(Sigmoid(c=2.0)(Value(1.0)).data, 6)
        0.880797
    """

    name = "sigmoid"

    def forward(self, x: Value) -> Value:
        return x.sigmoid() if self.c == 1.0 else (x * self.c).sigmoid()


class Tanh(_Scaled):
    """tanh(c x), in (-1, 1).

    Example:
        >>> from autograd import Value
        >>> Tanh()(Value(0.0)).data
        0.0
    """

    name = "tanh"

    def forward(self, x: Value) -> Value:
        return x.tanh() if self.c == 1.0 else (x * self.c).tanh()


class ReLU(Activation):
    """max(0, x).

    Example:
        >>> from autograd import Value
        >>> ReLU()(Value(2.5)).data
        2.5
    """

    name = "relu"

    def forward(self, x: Value) -> Value:
        return x.relu()


class LeakyReLU(Activation):
    """x for x > 0, slope x otherwise, with a fixed slope: 0.01 by default, as in PyTorch
    and :meth:`autograd.Value.leaky_relu`. The course's leaky ReLU is max(0.1 x, x):
    ``LeakyReLU(slope=0.1)`` or ``{"name": "leaky_relu", "slope": 0.1}``.

    Example:
        >>> from autograd import Value
        >>> LeakyReLU()(Value(-2.0)).data, LeakyReLU(slope=0.1)(Value(-2.0)).data
        (-0.02, -0.2)
    """

    name = "leaky_relu"
    DEFAULT_SLOPE = 0.01

    def __init__(self, slope: float = DEFAULT_SLOPE) -> None:
        self.slope = finite_option("slope", slope)

    def options(self) -> dict[str, Any]:
        return {} if self.slope == self.DEFAULT_SLOPE else {"slope": self.slope}

    def forward(self, x: Value) -> Value:
        return x.leaky_relu(self.slope)


class PReLU(Activation):
    """Parametric ReLU: x for x > 0, a x otherwise, with a learnable slope a.

    Built as relu(x) + a min(x, 0), so the slope gets its gradient from the ops.

    Example:
        >>> from autograd import Value
        >>> act = PReLU(slope=0.25); y = act(Value(-2.0)); y.backward()
        >>> y.data, act.slope.grad
        (-0.5, -2.0)
    """

    name = "prelu"

    def __init__(self, slope: float = 0.25) -> None:
        self.slope = Parameter(finite_option("slope", slope), "slope")

    def forward(self, x: Value) -> Value:
        return x.relu() + self.slope * autograd.minimum(x, 0.0)

    def describe(self) -> str:
        return f"prelu(slope={self.slope._data:g})"


class RReLU(Activation):
    """Randomised leaky ReLU: a slope drawn uniformly from [lower, upper] at every call
    while training, and the fixed mean slope (lower + upper) / 2 in eval mode.

    Example:
        >>> from autograd import Value
        >>> act = RReLU(seed=0)
        >>> 1/8 <= act(Value(-1.0)).data / -1.0 <= 1/3
        True
        >>> act.eval()(Value(-1.0)).data == -(1/8 + 1/3) / 2
        True
    """

    name = "rrelu"

    def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0, seed: Seed = None) -> None:
        self.lower, self.upper = finite_option("lower", lower), finite_option("upper", upper)
        if not self.lower <= self.upper:
            raise ValueError(f"RReLU needs lower <= upper, got {self.lower} and {self.upper}")
        self._rng = make_rng(seed)

    def options(self) -> dict[str, Any]:
        defaults = (1.0 / 8.0, 1.0 / 3.0)
        return {} if (self.lower, self.upper) == defaults else {"lower": self.lower, "upper": self.upper}

    def forward(self, x: Value) -> Value:
        if self.training:
            refuse_tracing("RReLU in training mode draws a new random slope at every call, which "
                           "a compiled tape would freeze into one: compile the model in eval mode "
                           "(model.eval()), or train it eagerly")
            slope = self._rng.uniform(self.lower, self.upper)
        else:
            slope = (self.lower + self.upper) / 2.0
        return x.leaky_relu(slope)


class ELU(Activation):
    """x for x > 0, alpha (e^x - 1) otherwise.

    Example:
        >>> from autograd import Value
        >>> ELU()(Value(0.0)).data
        0.0
    """

    name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = finite_option("alpha", alpha)

    def options(self) -> dict[str, Any]:
        return {} if self.alpha == 1.0 else {"alpha": self.alpha}

    def forward(self, x: Value) -> Value:
        return x.elu(self.alpha)


class SELU(Activation):
    """Scaled ELU with lambda = 1.0507 and alpha = 1.67326.

    Example:
        >>> from autograd import Value
        >>> round(SELU()(Value(1.0)).data, 4)
        1.0507
    """

    name = "selu"

    def forward(self, x: Value) -> Value:
        return x.selu()


class Softplus(Activation):
    """ln(1 + e^x); its derivative is the sigmoid.

    Example:
        >>> from autograd import Value
        >>> round(Softplus()(Value(0.0)).data, 6)
        0.693147
    """

    name = "softplus"

    def forward(self, x: Value) -> Value:
        return x.softplus()


class Softsign(Activation):
    """x / (1 + |x|), derivative 1 / (1 + |x|)^2.

    Example:
        >>> from autograd import Value
        >>> Softsign()(Value(-1.0)).data
        -0.5
    """

    name = "softsign"

    def forward(self, x: Value) -> Value:
        return x.softsign()


class Sin(Activation):
    """The sinusoid sin(x).

    Example:
        >>> from autograd import Value
        >>> Sin()(Value(0.0)).data
        0.0
    """

    name = "sin"

    def forward(self, x: Value) -> Value:
        return x.sin()


class Sinc(Activation):
    """sin(x) / x, and 1 at 0.

    Example:
        >>> from autograd import Value
        >>> Sinc()(Value(0.0)).data
        1.0
    """

    name = "sinc"

    def forward(self, x: Value) -> Value:
        return x.sinc()


class _AtZero(Activation):
    """A flat unit whose value at exactly 0 is a convention, ``at_zero`` (0 by default)."""

    def __init__(self, at_zero: float = 0.0) -> None:
        self.at_zero = finite_option("at_zero", at_zero)

    def options(self) -> dict[str, Any]:
        return {} if self.at_zero == 0.0 else {"at_zero": self.at_zero}


class Step(_AtZero):
    """1 if x > 0, 0 if x < 0: the perceptron's unit (gradient 0: train it with the perceptron rule).

    At exactly 0 it gives ``at_zero``: 0 by default (step(0) = 0); ``Step(at_zero=1.0)``
    is the other convention, 1 if x >= 0.

    Example:
        >>> from autograd import Value
        >>> Step()(Value(0.2)).data, Step()(Value(0.0)).data, Step(at_zero=1.0)(Value(0.0)).data
        (1.0, 0.0, 1.0)
    """

    name = "step"

    def forward(self, x: Value) -> Value:
        return x.step(self.at_zero)


class Sign(_AtZero):
    """-1 if x < 0, 1 if x > 0 (gradient 0); at exactly 0, ``at_zero`` (0 by default).

    ``Sign(at_zero=1.0)`` never outputs 0, as bipolar (Hopfield) states need.

    Example:
        >>> from autograd import Value
        >>> Sign()(Value(-3.0)).data, Sign()(Value(0.0)).data, Sign(at_zero=1.0)(Value(0.0)).data
        (-1.0, 0.0, 1.0)
    """

    name = "sign"

    def forward(self, x: Value) -> Value:
        return x.sign(self.at_zero)


class SoftExponential(Activation):
    """Soft exponential with a learnable alpha: three cases, from logarithmic to exponential.

    f(alpha, x) = -ln(1 - alpha (x + alpha)) / alpha   for alpha < 0,
                  x                                     for alpha = 0,
                  (e^(alpha x) - 1) / alpha + alpha      for alpha > 0.

    The case is chosen by ``step`` gates on alpha rather than a Python ``if``, so the
    graph is the same for every alpha and a traced model stays right when alpha
    changes sign. Within ``SMALL`` = 1e-6 of 0 it uses the expansion x + alpha (1 + x^2 / 2),
    exact at alpha = 0 with the right gradient, so an alpha that starts at 0 can learn.
    The alpha < 0 case is defined only where 1 - alpha (x + alpha) > 0, that is for
    x > 1/alpha - alpha; elsewhere the forward pass raises a ``ValueError`` saying so
    (never a silently clamped value).

    Example:
        >>> from autograd import Value
        >>> act = SoftExponential(alpha=0.0); y = act(Value(2.0)); y.backward()
        >>> y.data, act.alpha.grad  # at alpha = 0: f = x, df/dalpha = 1 + x^2 / 2
        (2.0, 3.0)
        >>> round(SoftExponential(alpha=1.0)(Value(1.0)).data, 6)  # e - 1 + 1
        2.718282
        >>> SoftExponential(alpha=-0.5)(Value(-2.0))
        Traceback (most recent call last):
        ...
        ValueError: soft_exponential(alpha=-0.5) is defined only for x > -1.5
    """

    name = "soft_exponential"
    SMALL = 1e-6

    def __init__(self, alpha: float = 0.0) -> None:
        self.alpha = Parameter(finite_option("alpha", alpha), "alpha")

    def forward(self, x: Value) -> Value:
        alpha, small = self.alpha, self.SMALL
        positive = (alpha - small).step()      # 1 where alpha > SMALL
        negative = (-alpha - small).step()     # 1 where alpha < -SMALL
        near_zero = 1.0 - positive - negative
        # Each case is evaluated with an alpha kept inside its own range, so the
        # cases that are switched off can never divide by 0 or overflow.
        a_pos = autograd.maximum(alpha, small)
        a_neg = autograd.minimum(alpha, -small)
        exponential = ((a_pos * x).exp() - 1.0) / a_pos + a_pos
        # The log's argument is 1 - alpha (x + alpha) where alpha < 0, and 1 elsewhere.
        inside_log = autograd.dot([negative, 1.0 - negative], [1.0 - a_neg * (x + a_neg), 1.0])
        try:
            logarithmic = -inside_log.log() / a_neg
        except ValueError:
            a = self.alpha.data
            problem = f"soft_exponential(alpha={a:g}) is defined only for x > {1.0 / a - a:g}"
            raise ValueError(problem) from None
        linear = x + alpha * (1.0 + x * x * 0.5)
        return autograd.dot([positive, negative, near_zero], [exponential, logarithmic, linear])

    def describe(self) -> str:
        return f"soft_exponential(alpha={self.alpha._data:g})"


class Lambda(Activation):
    """Wraps any callable ``f(Value) -> Value`` as an activation.

    Example:
        >>> from autograd import Value
        >>> def cube(x): return x ** 3
        >>> Lambda(cube)(Value(2.0)).data, Lambda(cube).spec()
        (8.0, {'name': 'callable', 'function': 'cube'})
    """

    name = "callable"

    def __init__(self, function: Callable[[Value], Value]) -> None:
        if not callable(function):
            raise TypeError(f"an activation must be callable, got {type(function).__name__}")
        self._function = function
        self.function_name = getattr(function, "__name__", None) or type(function).__name__

    def forward(self, x: Value) -> Value:
        return self._function(x)

    def spec(self) -> dict[str, Any]:
        return {"name": "callable", "function": self.function_name}

    def describe(self) -> str:
        return self.function_name


ACTIVATIONS: dict[str, type[Activation]] = {
    "identity": Identity, "linear": Identity,
    "sigmoid": Sigmoid, "logistic": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "rrelu": RReLU,
    "elu": ELU,
    "selu": SELU,
    "softplus": Softplus,
    "softsign": Softsign,
    "soft_exponential": SoftExponential,
    "sin": Sin, "sinusoid": Sin,
    "sinc": Sinc,
    "step": Step,
    "sign": Sign,
}

ActivationSpec = Union[str, Activation, type, Callable[[Value], Value], dict[str, Any]]


def resolve_activation(spec: ActivationSpec, rng: random.Random | None = None) -> Activation:
    """An :class:`Activation` from a name, a config dict, a class, an instance or a callable.

    A name or a class gives a new instance (its own learnable parameters); an
    instance is used as is (shared). ``rng`` seeds the random ones (RReLU).

    Example:
        >>> resolve_activation("leaky_relu"), resolve_activation({"name": "tanh", "c": 2.0})
        (leaky_relu, tanh(c=2))
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        return _build(spec, {}, rng)
    if isinstance(spec, dict):
        options = dict(spec)
        name = options.pop("name", None)
        if not isinstance(name, str):
            raise ValueError(f"an activation config needs a 'name', got {spec!r}"[:200])
        return _build(name, options, rng)
    if isinstance(spec, type) and issubclass(spec, Activation):
        return _build(spec.name, {}, rng) if spec.name in ACTIVATIONS else spec()
    if callable(spec):
        return Lambda(cast(Callable[[Value], Value], spec))
    raise TypeError(f"activation must be a name, an Activation or a callable, got {type(spec).__name__}")


def _build(name: str, options: dict[str, Any], rng: random.Random | None) -> Activation:
    key = name.lower()
    if key == "callable":
        raise ValueError(f"activation {options.get('function', '?')!r} is a custom callable: it cannot be "
                         "rebuilt from its name; pass the function itself")
    if key not in ACTIVATIONS:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}: use one of {known}, or pass a callable")
    cls = ACTIVATIONS[key]
    if cls is RReLU and "seed" not in options:
        options["seed"] = None if rng is None else rng.getrandbits(64)
    try:
        return cls(**options)
    except TypeError as error:
        raise ValueError(f"bad options for activation {name!r}: {error}") from None
