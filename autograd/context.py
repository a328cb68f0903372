"""Recording state: whether ops record a graph, and which scope new nodes belong to.

The state lives in one :class:`contextvars.ContextVar`, so ``no_grad()`` and
``scope()`` are safe across threads and asyncio tasks: each sees its own state.
"""

from __future__ import annotations

import contextvars
import functools
from typing import Any, NamedTuple, TypeVar
from collections.abc import Callable, Generator, Iterable

from .errors import TracingError

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "scope", "in_turn", "current_scope", "tracing",
           "refuse_tracing"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class RecordingState(NamedTuple):
    grad_enabled: bool = True
    scope: tuple[str, ...] | None = None  # path of scope names, outermost first
    tracing: bool = False  # set by autograd.compile while it records a function
    tracer: Any = None  # the recorder autograd.compile traces with (see `tracing`)
    outer: RecordingState | None = None  # the state this one replaced, restored on exit


DEFAULT_STATE = RecordingState()
STATE: contextvars.ContextVar[RecordingState] = contextvars.ContextVar(
    "chainrule_recording_state", default=DEFAULT_STATE)


class _StateChange:
    """A context manager (and decorator) that sets part of the state, then restores it.

    Each state remembers the one it replaced (``outer``), and leaving a block restores
    the current context's own ``outer``. Nothing but a cache of immutable states is
    kept on the object, so one instance (a module-level ``NO_GRAD = no_grad()``) can be
    entered by many threads and asyncio tasks at once, and re-entered, each restoring
    only its own state.
    """

    _inside: RecordingState | None = None  # the state last made, reused from the same outer state

    def _changed(self, state: RecordingState) -> RecordingState:
        """The state inside the block, with ``outer=state``: it depends on nothing else."""
        raise NotImplementedError

    def __enter__(self) -> _StateChange:
        STATE.set(self._state_under(STATE.get()))
        return self

    def _state_under(self, state: RecordingState) -> RecordingState:
        """The state inside the block entered from ``state``: the one made last time if
        it was made from the same state, else a new one."""
        # nn enters each neuron's scope object once per sample, under the same outer state
        # (its layer's, itself reused), so the state made last time is reused: immutable, and
        # the same for every thread. Without the cache, a new state per entry: 1.5 us for
        # `with` in and out, 0.8 us with it (measured).
        inside = self._inside
        if inside is None or inside.outer is not state:
            inside = self._changed(state)
            if inside.tracer is None and state.tracer is None:  # never keep a compile's recorder alive
                self._inside = inside
        return inside

    def __exit__(self, *exc_info: object) -> None:
        outer = STATE.get().outer
        if outer is None:
            raise RuntimeError(f"{type(self).__name__}() exited in a context where it was not entered")
        STATE.set(outer)

    def __call__(self, function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_StateChange):
    """Stop recording: ops inside return leaf Values with no parents.

    Use it for updates and evaluation, where no gradient is wanted. Safe across
    threads and asyncio tasks. Also works as a decorator.

    Example:
        >>> from autograd import Value, no_grad
        >>> x = Value(2.0)
        >>> with no_grad():
        ...     y = x * 3
        >>> y.is_leaf
        True
    """

    def _changed(self, state: RecordingState) -> RecordingState:
        if state.tracing:
            raise TracingError(
                "no_grad() inside a function that autograd.compile is tracing: the ops in "
                "it would record no graph, and their results would be frozen into the tape "
                "as constants. Use x.detach() (replayed as a stop-gradient step) instead.")
        return state._replace(grad_enabled=False, outer=state)


class enable_grad(_StateChange):
    """Record again inside a ``no_grad()`` block.

    Example:
        >>> from autograd import Value, no_grad, enable_grad
        >>> with no_grad(), enable_grad():
        ...     (Value(1.0) + 1).is_leaf
        False
    """

    def _changed(self, state: RecordingState) -> RecordingState:
        return state._replace(grad_enabled=True, outer=state)


def is_grad_enabled() -> bool:
    """Whether ops record a graph here and now.

    Example:
        >>> from autograd import is_grad_enabled, no_grad
        >>> is_grad_enabled(), no_grad()(is_grad_enabled)()
        (True, False)
    """
    return STATE.get().grad_enabled


class scope(_StateChange):
    """Tag the nodes created inside with a name; nested scopes make a path.

    ``nn`` modules open one scope per layer and per neuron, so a drawing can fold
    a neuron or a layer into a single box (``autograd.draw(..., collapse="neuron")``).

    Example:
        >>> from autograd import Value, scope
        >>> with scope("layer0"), scope("neuron1"):
        ...     y = Value(1.0) * 2
        >>> y.scope
        ('layer0', 'neuron1')
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope name must be a non-empty str, got {name!r}")
        self.name = name

    def _changed(self, state: RecordingState) -> RecordingState:
        path = (self.name,) if state.scope is None else state.scope + (self.name,)
        return state._replace(scope=path, outer=state)


def in_turn(items: Iterable[T], change_of: Callable[[T], _StateChange]) -> Generator[T, None, None]:
    """Yield each item inside its own state change, ``change_of(item)``, the one before left.

    What ``with change_of(item):`` around each turn of a loop does, for siblings: ``nn``
    enters each neuron's scope in turn this way. The state the loop started in is back
    when it ends; close the generator (``contextlib.closing``) to have it back at once
    when the loop breaks or raises.

    Example:
        >>> from contextlib import closing
        >>> from autograd import Value, scope
        >>> neurons = {"a": scope("neuron a"), "b": scope("neuron b")}
        >>> with closing(in_turn("ab", neurons.get)) as names:
        ...     [(name, (Value(1.0) * 2).scope) for name in names]
        [('a', ('neuron a',)), ('b', ('neuron b',))]
        >>> current_scope() is None
        True
    """
    # One ContextVar.set per turn, instead of `with`'s enter and exit around each:
    # 0.39 us a neuron instead of 0.79 (measured, a 16-neuron layer's scopes); a
    # 16-neuron layer's forward 82 us instead of 88, micrograd's demo forward 19.0 ms
    # instead of 20.1. Rejected: the token of ContextVar.set with try/finally around
    # each neuron (0.57 us), which keeps the per-neuron block but not the saving.
    outer = STATE.get()
    try:
        for item in items:
            STATE.set(change_of(item)._state_under(outer))
            yield item
    finally:
        STATE.set(outer)


def current_scope() -> tuple[str, ...] | None:
    """The scope path new nodes are tagged with here, or ``None``.

    Example:
        >>> from autograd import scope, current_scope
        >>> with scope("a"):
        ...     current_scope()
        ('a',)
    """
    return STATE.get().scope


class tracing(_StateChange):
    """Set while :func:`autograd.compile` records a function, and what it records with.

    Inside, reading ``Value.data`` (or comparing Values, ``float(v)``, ``if v:``)
    raises :class:`~autograd.errors.TracingError`: a traced graph holds operations,
    not Python's ``if``/``while``, so a branch on data would be frozen into the
    tape for every later input. ``no_grad()`` raises too, and ``Value.detach()``
    reports the cut to ``tracer.detached(source, leaf)`` so the tape can replay it
    as a stop-gradient step rather than a constant.

    Example:
        >>> from autograd import Value
        >>> from autograd.context import tracing
        >>> with tracing(tracer=None):
        ...     Value(1.0).data
        Traceback (most recent call last):
        ...
        autograd.errors.TracingError: read Value.data while autograd.compile traced ...
    """

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer

    def _changed(self, state: RecordingState) -> RecordingState:
        return state._replace(grad_enabled=True, tracing=True, tracer=self.tracer, outer=state)


def refuse_tracing(reason: str) -> None:
    """Raise :class:`~autograd.errors.TracingError` with ``reason`` if :func:`autograd.compile` is tracing.

    For code whose result a tape cannot replay, such as a random draw (``nn.RReLU``
    in training mode): a trace would freeze one draw into the tape for every call.

    Example:
        >>> from autograd.context import refuse_tracing, tracing
        >>> refuse_tracing("a random draw")  # not tracing: nothing happens
        >>> with tracing(tracer=None):
        ...     refuse_tracing("a random draw")
        Traceback (most recent call last):
        ...
        autograd.errors.TracingError: a random draw
    """
    if STATE.get().tracing:
        raise TracingError(reason)
