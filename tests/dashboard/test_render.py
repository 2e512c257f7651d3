"""The page: one self-contained document, every section, no credentials, a one-line missing extra."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from pathlib import Path

import pytest

from mlflow_allowance import AllowanceClient
from mlflow_allowance._dashboard import page, serve
from mlflow_allowance._dashboard._render import PAGE_SIZE
from mlflow_allowance.errors import MissingExtraError
from tests.fakes import InMemoryRegistry

from .story import play


def _client(tracking_uri: str = "memory://fake") -> AllowanceClient:
    registry = InMemoryRegistry(tracking_uri)
    play(
        AllowanceClient(registry=registry),
        lambda name, semver, f1, params: registry.add_version(name, semver, metrics={"F1": f1}),
    )
    return AllowanceClient(registry=registry)


def _charts(html: str) -> dict[str, dict[str, object]]:
    found = re.findall(
        r'<script type="application/json" class="chart-data" data-env="([^"]+)">(.*?)</script>', html
    )
    return {env: json.loads(data) for env, data in found}


class TestPage:
    def test_self_contained(self) -> None:
        html = page(_client())
        assert "<script src" not in html
        assert "<link" not in html
        assert not re.search(r"""src=["']?(https?:)?//|url\(["']?(https?:)?//|@import""", html)
        assert "uPlot" in html  # the vendored library, inlined

    def test_each_section(self) -> None:
        html = page(_client())
        for text in ('id="env-prod"', 'id="env-int"', 'id="timeline"', "Parameters and feature selection"):
            assert text in html
        assert 'data-holder="MLmodel/1"' in html
        assert 'data-holder="AImodel/4"' in html
        assert "2.0 misbehaves in PROD" in html
        assert 'role="alert"' not in html

    def test_violation_banner(self) -> None:
        client = _client()
        client.set_allowance("int", "<=1.0")
        html = page(client)
        assert html.count('role="alert"') == 1
        assert "2.0 is outside &lt;=1.0" in html

    def test_chart_data(self) -> None:
        charts = _charts(page(_client()))
        assert charts["prod"]["points"] == 5
        assert charts["int"]["points"] == 4
        assert charts["prod"]["x"] == [1, 2, 3, 4]
        roles = {(s["model"], s["role"]) for s in charts["prod"]["series"]}  # type: ignore[attr-defined]
        assert roles == {("AImodel", "inside"), ("MLmodel", "holder")}

    def test_candidates_as_data(self) -> None:
        html = page(_client())
        found = re.search(r'class="candidates-data" data-env="prod">(.*?)</script>', html)
        assert found is not None
        rows = json.loads(found.group(1))
        assert len(rows) == 5
        assert [(r[0], r[1]) for r in rows if r[8]] == [("MLmodel", 1)]
        assert {r[0]: r[6] for r in rows if r[1] == 4} == {"AImodel": True}

    def test_candidates_tables_paginate(self) -> None:
        html = page(_client())
        assert html.count(f'data-page-size="{PAGE_SIZE}"') == 3  # two environments' candidates, the audit

    def test_credentials_never_shown(self) -> None:
        client = _client("http://alice:s3cr3t@mlflow.example:5000/?token=abc")
        client.set_allowance("prod", "<=2.0", reason="see http://bob:hunter2@wiki.example/page")
        html = page(client)
        assert "s3cr3t" not in html
        assert "hunter2" not in html
        assert "http://alice:***@mlflow.example" in html

    def test_markup_in_names_is_escaped(self) -> None:
        client = _client()
        client.set_allowance("prod", "<=2.0", reason="<script>alert(1)</script>")
        assert "<script>alert(1)</script>" not in page(client)

    def test_filters(self) -> None:
        html = page(_client(), environments=["int"])
        assert 'id="env-int"' in html
        assert 'id="env-prod"' not in html


def test_missing_extra_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(MissingExtraError, match=r"mlflow-allowance\[dashboard\]") as raised:
        page(_client())
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("host", "warned"),
    [pytest.param("127.0.0.1", False, id="loopback"), pytest.param("0.0.0.0", True, id="every-interface")],
)
def test_serve_says_where_and_warns_off_loopback(host: str, warned: bool) -> None:
    out = io.StringIO()
    client = _client()
    # stop() waits for the serving loop, so it is called from another thread, as a test or an embedder would
    serve(
        lambda: client,
        host=host,
        port=0,
        out=out,
        ready=lambda url, stop: threading.Thread(target=stop).start(),
    )
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("dashboard on http://")
    assert lines[-1].endswith("(read-only; Ctrl-C stops it)")
    assert (len(lines) == 2 and "not loopback" in lines[0]) is warned


def test_cli_without_the_extra_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mlflow_allowance.cli import app

    monkeypatch.setitem(sys.modules, "jinja2", None)
    result = CliRunner().invoke(app, ["dashboard", "--output", str(tmp_path / "board.html")])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert "pip install 'mlflow-allowance[dashboard]'" in line
    assert not (tmp_path / "board.html").exists()
