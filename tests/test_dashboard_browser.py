"""The dashboard in a real browser: headless Chromium from Debian's ``chromium`` package, driven
by Playwright (pinned in the ``dev`` extra; it never downloads a browser here). The page shows a
client's connection, a guid going from published to delivered to acked, and closes a connection
from its button; a screenshot and the browser's version are saved as artifacts.

Under CI (``CI=true``) a browser that cannot start fails the test; elsewhere it is skipped with
how to install it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import time
from pathlib import Path

import pytest
import websockets
from dashboard_support import dashboard_url, request, token
from gateway_support import Served, run
from waiting import wait_until_async

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = (
    "install Debian's chromium (apt-get install -y chromium, as root; .ci/run does it) and "
    "Playwright for Python (.venv/bin/pip install -e '.[dev]')"
)
ARTIFACTS = Path(
    os.environ.get("WSRELAY_ARTIFACTS", Path(__file__).resolve().parents[1] / ".wsrelay" / "artifacts")
)
TIMEOUT_MS = 15_000  # a bound for a broken page, not a performance claim

pytestmark = pytest.mark.processes


def cannot_run(why: str):
    """Fail under CI, where the browser must run; skip elsewhere, saying how to get it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser test cannot run under CI: {why}")
    pytest.skip(f"{why}; to run it, {INSTALL}")


async def launch(playwright):
    try:
        return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as error:  # Playwright raises its own Error for a browser that does not start
        cannot_run(f"Chromium ({CHROMIUM}) cannot start: {str(error).splitlines()[0]}")


def open_ids(server: Served) -> set[str]:
    state = request(server, "GET", f"/_wsrelay/state?token={token(server)}").json()
    return {c["connectionId"] for c in state["connections"]}


async def new_connection(server: Served, known: set[str]):
    """A client connection, and its id (the one the state document gained)."""
    client = await websockets.connect(server.websocket)
    ids = await wait_until_async(lambda: open_ids(server) - known, what="the new connection")
    (connection_id,) = ids
    return client, connection_id


def test_the_dashboard_in_chromium(served, capsys):
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        cannot_run("Playwright for Python is not installed")
    server = served("--dashboard", "--publisher-ack", "router")
    url = dashboard_url(server)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "dashboard.png"

    async def scenario() -> str:
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1100})
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                await page.goto(url)
                await expect(page.locator("#status")).to_have_attribute(
                    "data-state", "live", timeout=TIMEOUT_MS
                )

                router, router_id = await new_connection(server, set())
                row = page.locator(f'#connections tr[data-connection="{router_id}"]')
                await expect(row).to_be_visible(timeout=TIMEOUT_MS)
                worker, _worker_id = await new_connection(server, {router_id})

                guid = f"job-browser-{time.monotonic_ns()}"
                guid_row = page.locator(f'#guids tr[data-guid="{guid}"]')
                await worker.send(json.dumps({"guid": guid, "code": 0}))  # no subscriber yet: held
                await expect(guid_row).to_have_attribute("data-state", "published", timeout=TIMEOUT_MS)
                await router.send(f"subscribe: {guid}")  # the stored result is delivered
                assert json.loads(await router.recv())["guid"] == guid
                await expect(guid_row).to_have_attribute("data-state", "delivered", timeout=TIMEOUT_MS)
                await router.send(f"ack: {guid}")
                assert json.loads(await worker.recv())["acknowledgedBy"] == router_id
                await expect(guid_row).to_have_attribute("data-state", "acked", timeout=TIMEOUT_MS)

                await row.locator('button[data-action="close"]').click()
                await router.wait_closed()
                assert router.close_code == 1000  # as DELETE @connections closes
                await expect(row).to_have_count(0, timeout=TIMEOUT_MS)
                log = page.locator("#log tbody tr[data-kind='disconnect']")
                await expect(log.first).to_contain_text(router_id, timeout=TIMEOUT_MS)

                await page.screenshot(path=str(screenshot), full_page=True)
                await worker.close()
                assert errors == [], errors
                return browser.version
            finally:
                await browser.close()

    version = run(scenario())
    version_file = ARTIFACTS / "dashboard-browser.txt"
    driver = importlib.metadata.version("playwright")
    version_file.write_text(f"Chromium {version} ({CHROMIUM}); Playwright for Python {driver}\n")
    with capsys.disabled():
        print(f"\ndashboard screenshot: {screenshot} (browser: {version_file.read_text().strip()})")
