"""Shared pytest configuration: hypothesis profiles, and one Chromium per browser-test module.

* ``ci`` (the default): few enough examples that the whole suite stays fast; no
  deadline, because a shared 2-core machine makes single-example timings noisy.
* ``thorough``: many more examples, for a run before a release or after touching
  the op table: ``HYPOTHESIS_PROFILE=thorough python -m pytest tests``.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from browser import Browser

settings.register_profile("ci", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (tests/browser.py), shared by a module's page tests."""
    opened = Browser()
    yield opened
    opened.close()
