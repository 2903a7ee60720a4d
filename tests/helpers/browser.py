"""The dashboard in a real browser: Debian's Chromium driven by Playwright (the integration
tests' `browser` fixture runs `chromium_browser`), logging in through the login page,
and full-page screenshots under build/screenshots/ (or $PALISADE_ARTIFACTS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers.system import IN_CI, require_binary

SCREENSHOTS = Path(os.environ.get("PALISADE_ARTIFACTS", "build/screenshots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}  # the layouts must hold at 1280 px


def chromium_browser():
    """Yields a launched Chromium; fails in CI (skips elsewhere) without Playwright."""
    chromium = require_binary("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed (make test installs it)")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def shot(page, name: str, folder: str = "dashboard") -> Path:
    """A full-page screenshot; first, the layout must hold at the window's width (no page
    wider than 1280 px: long values wrap, buttons wrap among themselves)."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (name, width)
    target = SCREENSHOTS / folder
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(browser, auditor, user: str, password: str, lang: str | None = None):
    """A new browser context logged in as `user` through the login page (in `lang`, when
    given, through the language switch)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("dialog", lambda d: pytest.fail(f"a script ran in the page: {d.message}"))
    page.goto(f"http://{auditor.http}/ui/")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_selector("h1")
    assert "/ui/login" not in page.url, page.content()[:500]
    if lang:
        page.goto(f"http://{auditor.http}/ui/lang?set={lang}&back=/ui/")
    return page


def admin_password(auditor) -> str:
    return json.loads((auditor.data_dir / "credentials.json").read_text())["ConsolePassword"]
