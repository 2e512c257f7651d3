"""The dashboard in headless Chromium, as a person sees it: the served page and the file opened from disk.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright`` driver (the dev extra);
Playwright's own browsers are never downloaded. Without Chromium the tests skip with one line, unless
``MLFLOW_ALLOWANCE_REQUIRE_BROWSER=1`` (CI) makes that a failure. Screenshots are saved under
``$MLFLOW_ALLOWANCE_ARTIFACTS`` (default: the session's temporary folder) and named in the test output
(``-s``). Each test asks for the browser first, so a missing Chromium skips before any store is built.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mlflow_allowance import AllowanceClient
from mlflow_allowance._dashboard import serve, write
from tests.fakes import InMemoryRegistry

from .story import HOLDERS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = os.environ.get("MLFLOW_ALLOWANCE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("MLFLOW_ALLOWANCE_REQUIRE_BROWSER") == "1"


def _unavailable(why: str) -> None:
    if REQUIRED:
        pytest.fail(f"{why} (MLFLOW_ALLOWANCE_REQUIRE_BROWSER=1)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright driver is not installed: pip install -e '.[dev]'")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("MLFLOW_ALLOWANCE_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("dashboard-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Watched:
    """A page whose console errors and uncaught exceptions are collected."""

    def __init__(self, browser: Browser, *, offline: bool) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=offline)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page: Page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Callable[..., Watched]]:
    opened: list[Watched] = []

    def open_(*, offline: bool = False) -> Watched:
        opened.append(Watched(browser, offline=offline))
        return opened[-1]

    yield open_
    for item in opened:
        item.close()


def _holder(page: Page, env: str) -> str | None:
    return page.get_attribute(f"#env-{env} dl.holder", "data-holder")


def _chart_points(page: Page, env: str) -> Any:
    return page.evaluate(
        "env => window.allowanceCharts[env].data.slice(1)"
        ".reduce((n, s) => n + s.filter(v => v !== null && v !== undefined).length, 0)",
        env,
    )


def test_static_file_from_disk_with_no_network(
    watched: Callable[..., Watched], story_uri: str, tmp_path: Path, artifacts: Path
) -> None:
    path = write(tmp_path / "dashboard.html", AllowanceClient(story_uri, story_uri))
    seen = watched(offline=True)
    seen.page.goto(path.as_uri())
    for env, key in HOLDERS.items():
        assert _holder(seen.page, env) == key
    assert seen.page.locator("canvas").count() == 2  # uPlot drew both charts
    assert _chart_points(seen.page, "prod") == 5
    assert _chart_points(seen.page, "int") == 4
    assert seen.page.get_attribute('div.chart[data-env="prod"]', "data-points") == "5"
    assert not seen.page.locator('[role="alert"]').count()
    assert [url for url in seen.requests if not url.startswith("file:")] == []
    assert seen.errors == []
    shot = artifacts / "dashboard-static.png"
    seen.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_served_page_shows_the_narrowed_allowance(
    watched: Callable[..., Watched], story_uri: str, artifacts: Path
) -> None:
    client = AllowanceClient(story_uri, story_uri)
    started: list[tuple[str, Callable[[], None]]] = []
    ready = threading.Event()

    def on_ready(url: str, stop: Callable[[], None]) -> None:
        started.append((url, stop))
        ready.set()

    thread = threading.Thread(
        target=serve,
        kwargs={"client_factory": lambda: client, "port": 0, "ready": on_ready, "out": io.StringIO()},
    )
    thread.start()
    try:
        assert ready.wait(10)
        url, _ = started[0]
        seen = watched()
        seen.page.goto(url)
        assert not seen.page.locator('[role="alert"]').count()
        client.set_allowance("int", "<=1.0", reason="2.0 goes back to testing")
        seen.page.reload()
        banner = seen.page.locator('#env-int [role="alert"]')
        assert banner.count() == 1
        assert "2.0 is outside <=1.0" in banner.inner_text()
        assert seen.page.locator('#env-prod [role="alert"]').count() == 0
        assert _holder(seen.page, "int") == HOLDERS["int"]
        assert seen.errors == []
        shot = artifacts / "dashboard-served.png"
        seen.page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    finally:
        if started:
            started[0][1]()
        thread.join(10)


def test_candidates_table_sorts(watched: Callable[..., Watched], story_uri: str, tmp_path: Path) -> None:
    path = write(tmp_path / "dashboard.html", AllowanceClient(story_uri, story_uri))
    seen = watched(offline=True)
    seen.page.goto(path.as_uri())
    table = "#candidates-prod"

    def column(index: int) -> list[str]:
        return list(seen.page.locator(f"{table} tbody tr td:nth-child({index})").all_inner_texts())

    seen.page.click(f"{table} th:nth-child(4)")  # F1
    ascending = [float(v) for v in column(4)]
    assert ascending == sorted(ascending)
    seen.page.click(f"{table} th:nth-child(4)")
    descending = [float(v) for v in column(4)]
    assert descending == sorted(ascending, reverse=True)
    assert seen.page.get_attribute(f"{table} th:nth-child(4)", "aria-sort") == "descending"
    seen.page.click(f"{table} th:nth-child(1)")  # model, as text
    assert column(1) == sorted(column(1))
    assert seen.errors == []


def test_tables_paginate_and_chart_thins(watched: Callable[..., Watched], tmp_path: Path) -> None:
    registry = InMemoryRegistry()
    client = AllowanceClient(registry=registry)
    client.set_allowance("prod", "<=1.0")
    for index in range(3_000):
        registry.add_version(
            "AImodel", "1.0" if index % 4 else "2.0", metrics={"F1": (index * 37 % 1000) / 1000}
        )
    client.promote("prod", "AImodel", metric="F1")
    path = write(tmp_path / "big.html", client)
    seen = watched(offline=True)
    seen.page.goto(path.as_uri())
    rows = seen.page.locator("#candidates-prod tbody tr")
    assert rows.count() == 50  # one page: the other rows stay data until shown
    assert "page 1 of 60 (3000 rows)" in seen.page.inner_text("#env-prod .pager")
    first = rows.first.inner_text()
    seen.page.click("#env-prod .pager .next")
    assert "page 2 of 60" in seen.page.inner_text("#env-prod .pager")
    assert rows.count() == 50
    assert rows.first.inner_text() != first
    seen.page.click("#candidates-prod th:nth-child(2)")  # sorting goes back to page 1, over all rows
    assert "page 1 of 60" in seen.page.inner_text("#env-prod .pager")
    assert rows.first.inner_text().split("\t")[1] == "1"
    points = _chart_points(seen.page, "prod")
    assert 0 < points <= 2_000 + 1
    assert seen.errors == []
