"""The page in a real headless Chromium (Debian's, driven by Playwright): a critique chip re-ranks the list to
items under that descriptor, and a feedback click stores exactly one event. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from serve_testkit import KEY

CHROMIUM = os.environ.get("AGENTICREC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("AGENTICREC_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
FLAGS = [  # the machine has no network: without these Chromium keeps trying Google's hosts
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not shutil.which(CHROMIUM) and not os.environ.get("AGENTICREC_REQUIRE_BROWSER"):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)", allow_module_level=True)


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page(base_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def listed_paths(page) -> list[str]:
    return page.locator("#recommendations li").evaluate_all("items => items.map(li => li.dataset.path)")


def test_a_chip_reranks_and_a_like_stores_one_event(page, base_url: str, app):
    catalogue = app.state.catalogue
    tea_drinker = next(u for u in catalogue.dataset.user_ids if catalogue.history(u)[0] <= 16)  # a Tea user
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base_url}/?user={tea_drinker}&model=generative")
    before = listed_paths(page)
    assert before and not all(p.startswith("Coffee") for p in before)
    page.screenshot(path=ARTIFACTS / "serve-page.png", full_page=True)

    page.get_by_role("link", name="Coffee").click()
    page.get_by_role("status").filter(has_text="descriptor").wait_for()
    after = listed_paths(page)
    assert after and all(p.startswith("Coffee") for p in after)
    assert page.get_by_role("link", name="Coffee").get_attribute("aria-pressed") == "true"
    page.screenshot(path=ARTIFACTS / "serve-page-critique.png", full_page=True)

    page.get_by_label("API key (needed to send feedback)").fill(KEY)
    liked = page.locator("#recommendations li").first.get_attribute("data-item")
    page.locator("#recommendations li button.like").first.click()
    page.get_by_role("status").filter(has_text="saved").wait_for()
    [event] = app.state.events.events()
    assert (event.user_id, event.item_id, event.type) == (tea_drinker, liked, "like")


def test_a_failed_chip_request_leaves_the_chip_and_the_list_as_they_were(page, base_url: str, app):
    user = app.state.catalogue.dataset.user_ids[0]
    page.goto(f"{base_url}/?user={user}&model=generative")
    before = listed_paths(page)
    page.route("**/v1/users/**", lambda route: route.fulfill(status=503, body="upstream down"))
    page.get_by_role("link", name="Coffee").click()
    page.get_by_role("status").filter(has_text="not updated").wait_for()
    assert page.get_by_role("link", name="Coffee").get_attribute("aria-pressed") == "false"
    assert listed_paths(page) == before
    assert page.locator("#recommendations").get_attribute("aria-busy") == "false"
