"""Debian's chromium driven by Playwright, for the tests that look at a page as a browser does
(the plan report, the service's web pages). No browser is downloaded: `.ci/run` installs
Debian's package, and a machine without it skips these tests (CI fails them instead)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("chromium") is not None


def need_chromium() -> None:
    """Skip the calling test where chromium is missing; in CI (``CI=true``) fail it."""
    if have_chromium():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs this test")


@dataclass
class Browsed:
    """A page in a fresh headless profile, with what went wrong while it was open."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    """Console errors and uncaught page errors."""
    failed: list[str] = field(default_factory=list)
    """Requests that failed at the network level (URL and reason)."""
    refused: list[str] = field(default_factory=list)
    """Responses with an HTTP status of 400 or more (URL and status)."""


@contextmanager
def chromium(profile: Path, cookies: list[dict[str, Any]] | None = None) -> Iterator[Browsed]:
    """A 1200 x 900 headless chromium with its profile in ``profile`` and ``cookies`` set,
    closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            if cookies:
                context.add_cookies(cookies)  # type: ignore[arg-type]
            browsed = Browsed(context, context.new_page())
            page = browsed.page
            page.on(
                "console", lambda m: browsed.errors.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e: browsed.errors.append(str(e)))
            page.on("requestfailed", lambda r: browsed.failed.append(f"{r.url} {r.failure}"))
            page.on(
                "response",
                lambda r: (
                    browsed.refused.append(f"{r.url} {r.status}") if r.status >= 400 else None
                ),
            )
            yield browsed
        finally:
            context.close()
