"""A real browser for the page tests: Debian's Chromium driven by Playwright (never downloaded).

Tests that use :func:`open_page` skip, saying so, where /usr/bin/chromium or the playwright
package is missing; CI (``.ci/run``) installs both, so there they always run. Every page is
opened offline: any request other than the page's own file, and any console error, fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGUMENTS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def missing(reason: str) -> None:
    """Skip the test saying what is missing; fail it instead under CHAINRULE_REQUIRE_BROWSER."""
    if os.environ.get("CHAINRULE_REQUIRE_BROWSER"):  # set by .ci/run: CI always runs them
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_or_skip():
    """The playwright module, or skip the test naming what is missing."""
    if shutil.which(CHROMIUM) is None:
        missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium); CI installs it")
    try:
        from playwright import sync_api
    except ImportError:
        missing("the playwright package is not installed (pip install playwright); it drives Chromium")
    return sync_api


class Browser:
    """One Chromium for a test module; pages opened through it are watched for errors."""

    def __init__(self) -> None:
        sync_api = chromium_or_skip()
        self._playwright = sync_api.sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=ARGUMENTS)

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()

    @contextlib.contextmanager
    def open(self, path: Path, javascript: bool = True, width: int = 1100) -> Iterator:
        """A page showing ``path``; fails on console errors and on any network request."""
        url = path.resolve().as_uri()
        with self.watched(lambda requested: requested == url, javascript, width) as page:
            page.goto(url)
            if javascript:
                page.wait_for_selector("[data-chainrule-explorer][data-ready]")
            yield page

    @contextlib.contextmanager
    def watched(self, allowed: Callable[[str], bool], javascript: bool = True, width: int = 1100,
                height: int = 800) -> Iterator:
        """A blank page that fails the test on console errors and on requests ``allowed`` refuses
        (``data:`` URLs are always allowed)."""
        context = self._browser.new_context(java_script_enabled=javascript,
                                            viewport={"width": width, "height": height})
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("request", lambda request: problems.append(f"request: {request.url}")
                if not (allowed(request.url) or request.url.startswith("data:")) else None)
        try:
            yield page
        finally:
            context.close()
        assert not problems, problems
