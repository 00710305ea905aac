"""Real-browser fixtures: the app served by waitress on loopback, and Debian's Chromium driven by Playwright.

Never downloads a browser: Chromium comes from the Debian package (``make test`` installs it through
scripts/ensure-system-packages). Every page a test opens is watched for console errors (a Content
Security Policy violation is one) and failed requests; the test fails if there were any.
"""
from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import waitress

from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
AXE = Path(__file__).with_name("axe.min.js")
ERROR_STATUS = "Failed to load resource: the server responded with a status of"


def serve(db: Path) -> Iterator[str]:
    """The app on ``db``, served by waitress on loopback: yields its address, then stops it."""
    app = create_app({"LINEAGE_DB": str(db)})
    # create_server binds and listens before it returns, so the port takes connections at once:
    # the kernel queues them until the server thread accepts. No waiting needed.
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(samples_db, tmp_path_factory) -> Iterator[str]:
    """The app on a copy of the samples database (tests/conftest.py), with no accounts (so open to read)."""
    db = tmp_path_factory.mktemp("browser") / "lineage.db"
    shutil.copyfile(samples_db, db)  # what tests/conftest.py's copy_db does
    yield from serve(db)


def open_page(browser, base_url: str, problems: "Problems", **options) -> Iterator:
    """A fresh page at 1280x900 on its own context (``options`` for it, e.g. a signed-in
    ``storage_state``); fails the test if anything went wrong on it."""
    context = browser.new_context(viewport=VIEWPORT, base_url=base_url, **options)
    context.set_default_timeout(10_000)
    # Only loopback: anything else is refused (and then reported as a failed request).
    context.route(lambda url: not url.startswith(base_url + "/"), problems.refuse)
    page = context.new_page()
    page.on("console", problems.on_console)
    page.on("pageerror", lambda error: problems.console.append(f"uncaught exception: {error}"))
    page.on("requestfailed", problems.on_request_failed)
    page.on("response", problems.on_response)
    yield page
    context.close()
    assert not problems, f"the browser saw problems:\n{problems}"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing. The browser tests use Debian's Chromium, never a download: "
                    "`make test` installs it (scripts/ensure-system-packages); or, as root, "
                    "`apt-get install chromium chromium-driver`.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Problems:
    """Console errors, uncaught exceptions and failed requests seen by a test's page.

    ``expect_status(path)`` admits an error status for one URL (an error page opened on purpose).
    """
    base_url: str
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    expected: set[str] = field(default_factory=set)

    def expect_status(self, path: str) -> None:
        self.expected.add(self.base_url + path)

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith(ERROR_STATUS) and url in self.expected:
            return  # Chromium logs the status of an error page it was asked to open
        self.console.append(f"{message.text} (at {url})" if url else message.text)

    def on_response(self, response) -> None:
        if response.status >= 400 and response.url not in self.expected:
            self.requests.append(f"{response.status} {response.request.method} {response.url}")

    def on_request_failed(self, request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by the browser itself, e.g. the favicon of a page left before it loaded
        self.requests.append(f"{request.method} {request.url}: {request.failure}")

    def refuse(self, route) -> None:
        """No network beyond loopback: a page that asks for anything else has a bug."""
        self.requests.append(f"off loopback, refused: {route.request.method} {route.request.url}")
        route.abort("blockedbyclient")

    def __bool__(self) -> bool:
        return bool(self.console or self.requests)

    def __str__(self) -> str:
        return "\n".join([f"console error: {m}" for m in self.console]
                         + [f"failed request: {r}" for r in self.requests])


@pytest.fixture
def problems(base_url) -> Problems:
    return Problems(base_url)


@pytest.fixture
def page(browser, base_url, problems) -> Iterator:
    yield from open_page(browser, base_url, problems)


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text("utf-8")
