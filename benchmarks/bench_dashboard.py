"""Benchmark the dashboard: time to the first full render of the served page against ``select``.

For each size N (the stores of ``bench_select.py``: N versions over two models, each with a training run
that logged ``F1``), on a live ``mlflow server`` over a copy of the store where ``prod`` allows
``>=2.0,<3.0`` and one promotion put a holder in place, it measures:

* ``select``: ``AllowanceClient.select("prod", models, metric="F1")``, what the page's data costs at least;
* ``page (GET /)``: one request to the served dashboard, which reads MLflow afresh (``select``, ``check``,
  ``history``, the parameters of the compared runs) and renders the page;
* ``browser``: headless Chromium (Debian's ``/usr/bin/chromium``, when present) loading the served page
  until the chart is drawn;

and the size of the static file (``--output``). It prints a Markdown table of the best of ``--repeat``
runs and the ratio to ``select`` (target: at most 1.5x). Not part of CI::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_dashboard.py --sizes 1000 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("MLFLOW_REGISTRY_URI", None)

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_select

from mlflow_allowance import AllowanceClient
from mlflow_allowance._dashboard import serve, write
from mlflow_allowance.testing import local_server

CHROMIUM = "/usr/bin/chromium"


def best(repeat: int, run: Callable[[], object]) -> float:
    """The best wall time of ``repeat`` calls of ``run``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=600) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            raise SystemExit(f"{url}: {exc.code} {exc.read().decode(errors='replace').strip()}") from None


def browser_load(url: str, repeat: int) -> float | None:
    """Best time for Chromium to load ``url`` until every chart is drawn; ``None`` without Chromium."""
    if shutil.which(CHROMIUM) is None:
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()

            def load() -> None:
                page.goto(url, timeout=600_000)
                page.wait_for_function(
                    "document.querySelectorAll('div.chart').length === "
                    "Object.keys(window.allowanceCharts || {}).length",
                    timeout=600_000,
                )

            return best(repeat, load)
        finally:
            browser.close()


def measure(fx: bench_select.Fixture, repeat: int, root: Path) -> dict[str, float | None]:
    work = Path(tempfile.mkdtemp(prefix="bench-dashboard-", dir=root))
    try:
        shutil.copyfile(fx.db, work / "mlflow.db")
        with local_server(work, backend_store_uri=f"sqlite:///{work / 'mlflow.db'}") as uri:
            client = AllowanceClient(uri, uri)
            client.set_allowance("prod", bench_select.ALLOWANCE)
            client.promote("prod", list(fx.models), metric=bench_select.METRIC)
            models = list(fx.models)
            select = best(repeat, lambda: client.select("prod", models, metric=bench_select.METRIC))
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
                ready.wait(30)
                url = started[0][0]
                served = best(repeat, lambda: fetch(url))
                in_browser = browser_load(url, repeat)
            finally:
                started[0][1]()
                thread.join(30)
            size = write(work / "dashboard.html", client).stat().st_size
        return {"select": select, "served": served, "browser": in_browser, "size": float(size)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(rows: Sequence[tuple[int, dict[str, float | None]]]) -> str:
    lines = [
        "| versions | `select` | page (`GET /`) | ratio | Chromium, page drawn | ratio | static file |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, m in rows:
        select, served, browser = m["select"] or 0.0, m["served"] or 0.0, m["browser"]
        shown = "-" if browser is None else f"{browser:.2f} s"
        ratio = "-" if browser is None else f"{browser / select:.2f}x"
        lines.append(
            f"| {size:,} | {select:.2f} s | {served:.2f} s | {served / select:.2f}x | {shown} | {ratio} "
            f"| {(m['size'] or 0) / 1e6:.1f} MB |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000], help="model versions")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument(
        "--fixture-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mlflow-allowance-bench",
        help="where bench_select.py's generated stores are cached (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        fx = bench_select.fixture(args.fixture_dir, size, 2)
        print(f"N={size}: measuring", flush=True)
        rows.append((size, measure(fx, args.repeat, args.fixture_dir)))
    print()
    print(table(rows))
    print()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, best of {args.repeat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
