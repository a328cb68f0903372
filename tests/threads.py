"""Run one function in several threads at once, for the tests of thread safety."""

from __future__ import annotations

import threading
from typing import Any
from collections.abc import Callable, Iterable


def run_in_threads(worker: Callable[[str], Any], names: Iterable[str]) -> dict[str, Any]:
    """``worker(name)`` in one thread per name, all started before any is joined: each
    thread's result, or the exception it raised, by its name (so a failure names its thread)."""
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            results[name] = worker(name)
        except Exception as error:  # reported by the caller's assertion, with the thread's name
            results[name] = error

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
