"""The dashboard against a real sqlite MLflow store: gathering, the CLI's --output, the API, the server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlflow_allowance as allowance
from mlflow_allowance import AllowanceClient
from mlflow_allowance._dashboard import serve
from mlflow_allowance._dashboard._data import gather
from mlflow_allowance.cli import app

from .story import HOLDERS

pytestmark = pytest.mark.integration


def test_gather_reads_holders_and_params(story_uri: str) -> None:
    board = gather(AllowanceClient(story_uri, story_uri))
    assert {v.name: [h.key for h in v.holders] for v in board.environments} == {
        env: [key] for env, key in HOLDERS.items()
    }
    prod = next(v for v in board.environments if v.name == "prod")
    assert prod.params is not None
    assert dict(prod.params.rows)["features"] == ("13", None, "13")
    (holder,) = prod.holders
    assert (holder.moved_by, holder.reason) == ("story-teller", "MLmodel competes")


def test_cli_writes_one_file(story_uri: str, tmp_path: Path) -> None:
    out = tmp_path / "board.html"
    result = CliRunner().invoke(app, ["dashboard", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    html = out.read_text("utf-8")
    assert 'data-holder="MLmodel/1"' in html
    assert 'data-holder="AImodel/4"' in html


def test_cli_filters(story_uri: str, tmp_path: Path) -> None:
    out = tmp_path / "board.html"
    result = CliRunner().invoke(app, ["dashboard", "-o", str(out), "--env", "INT", "-m", "AImodel"])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert 'id="env-int"' in html
    assert 'id="env-prod"' not in html


def test_cli_bad_environment_is_one_line(story_uri: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", "-o", str(tmp_path / "x.html"), "--env", "latest"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def test_fluent_function(story_uri: str, tmp_path: Path) -> None:
    path = allowance.dashboard(tmp_path / "board.html")
    assert path == tmp_path / "board.html"
    assert 'data-holder="MLmodel/1"' in path.read_text("utf-8")


def test_server_reads_mlflow_on_each_load_and_refuses_writes(story_uri: str) -> None:
    client = AllowanceClient(story_uri, story_uri)
    urls: list[str] = []
    stops: list[Callable[[], None]] = []
    ready = threading.Event()

    def on_ready(url: str, stop: Callable[[], None]) -> None:
        urls.append(url)
        stops.append(stop)
        ready.set()

    messages: list[str] = []

    class Out:
        def write(self, text: str) -> int:
            messages.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    thread = threading.Thread(
        target=serve, kwargs={"client_factory": lambda: client, "port": 0, "ready": on_ready, "out": Out()}
    )
    thread.start()
    assert ready.wait(10)
    (url,) = urls
    assert "dashboard on http://127.0.0.1:" in "".join(messages)
    try:
        _pages(url, client)
    finally:
        stops[0]()
        thread.join(10)
    assert not thread.is_alive()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def _pages(url: str, client: AllowanceClient) -> None:
    assert url.startswith("http://127.0.0.1:")
    first = _get(url)
    assert 'role="alert"' not in first
    client.set_allowance("int", "<=1.0")
    second = _get(url)
    assert second.count('role="alert"') == 1
    request = urllib.request.Request(url, data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get(request)  # type: ignore[arg-type]
    refused.value.close()
    assert refused.value.code == 405
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(url + "api")
    missing.value.close()
    assert missing.value.code == 404
