"""Debian's Chromium driven by Playwright, for the tests that look at pages as a reader does.

Missing Chromium skips those tests, or fails them where CI installed it
(PAL_TEST_REQUIRE_CHROMIUM): a browser check must never pass by not running."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PAL_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (a Playwright `Browser`), closed on the way out."""
    if not Path(CHROMIUM).exists():
        reason = f"no Chromium at {CHROMIUM}: install Debian's chromium (.ci/run does)"
        if os.environ.get("PAL_TEST_REQUIRE_CHROMIUM"):
            pytest.fail(reason)  # CI installed it, or said why it could not
        pytest.skip(reason)
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
