"""The cyclic garbage collector paused while a large acyclic structure is built.

A graph of Values, a tape and a model's parameter lists are acyclic: reference
counting frees them. While tens of thousands of them are allocated, the cyclic
collector would scan every live object again and again (each scan triggered by
the allocations themselves): tracing and compiling the course's 1000-100-10 net
took 0.34 s with it running, 0.21 s paused.

Part of the core (it imports nothing of chainrule), public so that the compiler and
``nn`` pause the collector with the same context manager.
"""

from __future__ import annotations

import gc
from types import TracebackType

__all__ = ["CyclicGcPaused"]


class CyclicGcPaused:
    """``with CyclicGcPaused():`` the cyclic collector is off inside, as it was after.

    A class rather than a generator-based context manager: it is entered once per
    eager training step, where the generator's overhead would show.

    Example:
        >>> import gc
        >>> with CyclicGcPaused():
        ...     gc.isenabled()
        False
        >>> gc.isenabled()
        True
    """

    def __enter__(self) -> None:
        self._collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._collecting:
            gc.enable()
