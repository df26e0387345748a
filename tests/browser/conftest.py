"""Browser fixtures: Debian's Chromium driven by Playwright, one browser per session and a new context per test,
against the app served by a live server thread over the test's own database with the five example sites.

Tests skip when Chromium or Playwright is missing; CI (CMP_FORBID_SKIPS=1) installs both and turns a skip into
a failure.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from werkzeug.serving import make_server

from ..conftest import ROOT, load_examples

CHROMIUM = os.environ.get("CMP_CHROMIUM", "/usr/bin/chromium")
LAUNCH_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Headless Chromium names itself "HeadlessChrome", which the service rightly takes for a bot and does not
# record; the tests play a visitor's desktop Chrome.
VISITOR_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
SEND_GPC = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});"


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_FLAGS)
        yield browser
        browser.close()


class LiveServer:
    """The app on a real port, in a thread, for one test."""

    def __init__(self, app):
        self.app = app
        self.loaded: set[str] = set()
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def load(self, site: str) -> None:
        """Load and publish an example site into the test's database, once."""
        if site not in self.loaded:
            load_examples(self.app, [ROOT / "examples" / f"{site}.yaml"])
            self.loaded.add(site)

    def demo(self, site: str, **query) -> str:
        """The demo page of an example site (loaded on first use)."""
        self.load(site)
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.url}/demo/{site}" + (f"?{params}" if params else "")

    def history(self, site: str, consent_id: str, secret: str) -> dict:
        """A visitor's recorded decisions, read back through the public history endpoint."""
        request = Request(f"{self.url}/api/v1/decisions/{site}/{consent_id}", headers={"X-Consent-Secret": secret})
        with urlopen(request, timeout=10) as response:
            return json.load(response)

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def context(browser):
    context = browser.new_context(user_agent=VISITOR_AGENT, locale="en-US")
    yield context
    context.close()


@pytest.fixture
def page(context):
    """A page that fails the test on any script error or Content-Security-Policy violation."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Consent:" in message.text
            else None
        ),
    )
    page.problems = problems
    yield page
    assert problems == [], problems


def visit(page, url: str):
    """Open a page and wait until the snippet has started (``window.CMP`` is its public API)."""
    page.goto(url)
    page.wait_for_function("() => window.CMP && typeof window.CMP.state === 'function'")
    return page


def stored(page, site: str) -> dict:
    """The snippet's localStorage memory for a site: consent ID, secret, receipt, seen vendors, queue."""
    return page.evaluate(f"JSON.parse(localStorage.getItem('cmp_{site}') || '{{}}')")


def wait_recorded(page, site: str) -> dict:
    page.wait_for_function(f"() => (JSON.parse(localStorage.getItem('cmp_{site}') || '{{}}').q || [1]).length === 0")
    return stored(page, site)


def cookies(context) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies()}


def with_personalisation(text: str) -> str:
    """A site's configuration file with one category more, a change that needs a new consent in opt-in regions."""
    import yaml

    config = yaml.safe_load(text)
    config["categories"].append(
        {
            "key": "personalisation",
            "purpose": "preferences",
            "name": {"en": "Personalisation", "fr": "Personnalisation"},
        }
    )
    return yaml.safe_dump(config, allow_unicode=True)
