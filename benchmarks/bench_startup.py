"""Start-up cost of mlflow-allowance: its ``.pth`` line in every Python process, and its commands.

Builds a wheel of this checkout and two throwaway venvs that differ only in it (the same recipe as
``tests/plugin``: ``python -m venv --without-pip``, dependencies borrowed from the running interpreter's
site-packages through a ``.pth`` path line, MLflow's ``mlflow`` console script copied in), starts a local
``mlflow server`` (sqlite) with ``prod`` set to ``<=2.0``, and times, as median and min of ``--repeat`` runs:

(a) ``python -c pass`` with the package installed, against the identical venv without it (target 1.05x);
(b) ``mlflow-allowance get prod`` against its lower bound: a bare script that imports ``MlflowClient`` and
    makes the one request ``get prod`` needs, ``get_experiment_by_name("mlflow-allowance")`` (target
    1.1x); both are run once more with every ``requests`` call counted, and once under ``-X importtime``
    to list what the command imports beyond the bare script;
(c) ``mlflow allowance get prod`` against ``mlflow --version``: what the plugin adds to MLflow's own
    program (no target);
(d) a stand-in ``mlflow`` program with the package installed, against the venv without it: what the hook
    costs every ``mlflow`` command, measured where it is not lost in the seconds that MLflow's own
    start-up takes and varies by. The stand-in is a script named ``mlflow`` (so the ``.pth`` line loads the
    hook, which installs its finder) that only imports ``importlib.util``, as MLflow does within its
    first milliseconds: the hook imports it earlier, and that is not a cost it adds.

The commands of one comparison take turns (the order alternating), after one untimed run each whose
output is checked. Every process runs with ``MLFLOW_DISABLE_TELEMETRY=true`` and nothing else of the
caller's ``MLFLOW_*`` or ``PYTHON*`` variables. It prints a Markdown table; not part of CI, and it asserts
nothing about time::

    .venv/bin/python benchmarks/bench_startup.py --repeat 15 --repeat-fast 300
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlflow_allowance.testing import local_server

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = "mlflow-allowance"  # mlflow_allowance._schema.AUDIT_EXPERIMENT
ALLOWANCE = "<=2.0"

LOWER_BOUND = f"""\
from mlflow import MlflowClient

experiment = MlflowClient().get_experiment_by_name({EXPERIMENT!r})
print(experiment.tags.get("mlflow_allowance.allowance.prod", "*"))
"""

#: Runs a program with every ``requests.Session.request`` recorded; writes "METHOD /path" lines to argv[1].
COUNT_REQUESTS = """\
import runpy, sys, urllib.parse
import requests

calls = []
original = requests.Session.request

def request(self, method, url, *args, **kwargs):
    calls.append(f"{method} {urllib.parse.urlsplit(url).path}")
    return original(self, method, url, *args, **kwargs)

requests.Session.request = request
out, program, *sys.argv[1:] = sys.argv[1:]
sys.argv[0] = program
try:
    runpy.run_path(program, run_name="__main__")
except SystemExit:
    pass
finally:
    with open(out, "w") as handle:
        handle.write("".join(f"{call}\\n" for call in calls))
"""


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return Path(sysconfig.get_path("scripts", scheme="venv", vars={"base": str(self.root)}))

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def purelib(self) -> Path:
        return Path(sysconfig.get_path("purelib", scheme="venv", vars={"base": str(self.root)}))


@dataclass(frozen=True)
class Command:
    label: str
    argv: tuple[str, ...]
    expect: str  # the start of its stdout


@dataclass(frozen=True)
class Comparison:
    key: str
    measured: Command
    baseline: Command
    target: float | None
    fast: bool = False


def _check(argv: Sequence[str | Path], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, argv))}\n{done.stdout}{done.stderr}")
    return done.stdout


def make_venvs(root: Path) -> tuple[Venv, Venv]:
    """(with the wheel installed, without it), otherwise identical."""
    dist = root / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "--quiet"]
    _check([*pip, "wheel", "--no-deps", "--wheel-dir", dist, REPO])
    (wheel,) = dist.glob("mlflow_allowance-*.whl")
    venvs = Venv(root / "with"), Venv(root / "without")
    site_dirs = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    borrowed = "".join(f"{path}\n" for path in site_dirs)
    _, _, script = (Path(sysconfig.get_path("scripts")) / "mlflow").read_text().partition("\n")
    for venv in venvs:
        _check([sys.executable, "-m", "venv", "--without-pip", venv.root])
        if venv is venvs[0]:
            _check([*pip, "--python", venv.python, "install", "--no-deps", wheel])
        (venv.purelib / "zzz_borrow_main_venv.pth").write_text(borrowed)
        (venv.bin / "mlflow").write_text(f"#!{venv.python}\n{script}")
        (venv.bin / "mlflow").chmod(0o755)
    return venvs


def environ(venv: Venv, tracking_uri: str) -> dict[str, str]:
    drop = ("MLFLOW_", "PYTHON", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        MLFLOW_TRACKING_URI=tracking_uri,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        VIRTUAL_ENV=str(venv.root),
        PATH=os.pathsep.join([str(venv.bin), os.environ.get("PATH", "")]),
    )
    return env


def timed(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def measure(
    comparison: Comparison, repeat: int, envs: Mapping[str, Mapping[str, str]], cwd: Path
) -> dict[str, list[float]]:
    commands = [comparison.measured, comparison.baseline]
    for command in commands:  # warm-up, and proof that each does what it says
        out = _check(command.argv, envs[command.label], cwd)
        if not out.startswith(command.expect):
            sys.exit(f"{command.label}: expected {command.expect!r}, got {out!r}")
    times: dict[str, list[float]] = {c.label: [] for c in commands}
    for i in range(repeat):
        for command in commands if i % 2 == 0 else commands[::-1]:
            times[command.label].append(timed(command.argv, envs[command.label], cwd))
    return times


def requests_made(
    venv: Venv, program: Path, args: Sequence[str], env: Mapping[str, str], tmp: Path
) -> list[str]:
    counter, out = tmp / "count_requests.py", tmp / "requests.txt"
    counter.write_text(COUNT_REQUESTS)
    _check([venv.python, counter, out, program, *args], env, tmp)
    return out.read_text().splitlines()


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def imports(argv: Sequence[str | Path], env: Mapping[str, str], cwd: Path) -> dict[str, int]:
    """Module -> its own import time in microseconds, from one run under ``-X importtime``."""
    done = subprocess.run(
        [str(a) for a in argv], env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=cwd,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found: dict[str, int] = {}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            found[match.group(4)] = int(match.group(1))
    return found


def extra_imports(measured: Mapping[str, int], baseline: Mapping[str, int]) -> list[tuple[str, int, float]]:
    """Top-level packages the measured command imports beyond the baseline: (name, modules, self ms)."""
    totals: dict[str, list[int]] = defaultdict(list)
    for module, micros in measured.items():
        if module not in baseline:
            totals[module.split(".")[0]].append(micros)
    rows = [(name, len(values), sum(values) / 1000) for name, values in totals.items()]
    return sorted(rows, key=lambda row: -row[2])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def table(comparisons: Sequence[Comparison], results: Mapping[str, Mapping[str, list[float]]]) -> str:
    lines = [
        "| | command | runs | median (ms) | min (ms) | vs baseline: median, min | target |",
        "|---|---|--:|--:|--:|---|---|",
    ]
    for comparison in comparisons:
        times = results[comparison.key]
        measured, baseline = times[comparison.measured.label], times[comparison.baseline.label]
        med = statistics.median(measured) / statistics.median(baseline)
        low = min(measured) / min(baseline)
        added = statistics.median(measured) - statistics.median(baseline)
        versus = f"{med:.3f}x, {low:.3f}x (median {added * 1000:+,.1f} ms)"
        target = "" if comparison.target is None else f"≤ {comparison.target:.2f}x"
        if comparison.target is not None:
            target += " met" if med <= comparison.target else " **missed**"
        for key, command, series, vs, goal in (
            (f"({comparison.key})", comparison.measured, measured, versus, target),
            ("", comparison.baseline, baseline, "baseline", ""),
        ):
            lines.append(
                f"| {key} | {command.label} | {len(series)} | {_ms(statistics.median(series))} | "
                f"{_ms(min(series))} | {vs} | {goal} |"
            )
    return "\n".join(lines)


@contextlib.contextmanager
def workdir(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        shutil.rmtree(keep, ignore_errors=True)
        keep.mkdir(parents=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        yield Path(tmp)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Start-up cost of mlflow-allowance (see the module docstring)."
    )
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command that imports MLflow")
    parser.add_argument(
        "--repeat-fast", type=int, default=300, help="runs of each command that does not import MLflow"
    )
    parser.add_argument("--keep", type=Path, help="work in this directory (emptied first) and keep it")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    with workdir(args.keep) as tmp:
        with_pkg, without = make_venvs(tmp)
        with local_server(tmp / "server") as uri:
            env_with, env_without = environ(with_pkg, uri), environ(without, uri)
            _check([with_pkg.bin / "mlflow-allowance", "set", "prod", ALLOWANCE], env_with, tmp)
            lower_bound = tmp / "lower_bound.py"
            lower_bound.write_text(LOWER_BOUND)
            mlflow_version = _check([without.bin / "mlflow", "--version"], env_without, tmp).strip()
            mlflow_with = str(with_pkg.bin / "mlflow")
            (tmp / "stand-in").mkdir()
            stand_in = str(tmp / "stand-in" / "mlflow")
            Path(stand_in).write_text("import importlib.util\n")
            commands = {
                "pass-with": Command(
                    "`python -c pass`, package installed", (str(with_pkg.python), "-c", "pass"), ""
                ),
                "pass-without": Command(
                    "`python -c pass`, same venv without it", (str(without.python), "-c", "pass"), ""
                ),
                "cli": Command(
                    "`mlflow-allowance get prod`",
                    (str(with_pkg.bin / "mlflow-allowance"), "get", "prod"),
                    ALLOWANCE,
                ),
                "lower": Command(
                    "lower bound: `MlflowClient().get_experiment_by_name(...)` script",
                    (str(with_pkg.python), str(lower_bound)),
                    ALLOWANCE,
                ),
                "plugin": Command(
                    "`mlflow allowance get prod`", (mlflow_with, "allowance", "get", "prod"), ALLOWANCE
                ),
                "version": Command("`mlflow --version`", (mlflow_with, "--version"), "mlflow, version"),
                "stand-in-with": Command(
                    "stand-in `mlflow`, package installed",
                    (str(with_pkg.python), stand_in),
                    "",
                ),
                "stand-in-without": Command(
                    "stand-in `mlflow`, same venv without it",
                    (str(without.python), stand_in),
                    "",
                ),
            }
            envs = {c.label: env_without if "without" in key else env_with for key, c in commands.items()}
            comparisons = [
                Comparison("a", commands["pass-with"], commands["pass-without"], 1.05, fast=True),
                Comparison("b", commands["cli"], commands["lower"], 1.10),
                Comparison("c", commands["plugin"], commands["version"], None),
                Comparison("d", commands["stand-in-with"], commands["stand-in-without"], None, fast=True),
            ]
            results = {}
            for comparison in comparisons:
                repeat = args.repeat_fast if comparison.fast else args.repeat
                print(f"({comparison.key}) {repeat} runs each ...", file=sys.stderr, flush=True)
                results[comparison.key] = measure(comparison, repeat, envs, tmp)
            counted = {
                "cli": requests_made(
                    with_pkg, with_pkg.bin / "mlflow-allowance", ["get", "prod"], env_with, tmp
                ),
                "lower": requests_made(with_pkg, lower_bound, [], env_with, tmp),
            }
            extra = extra_imports(
                imports(commands["cli"].argv, env_with, tmp), imports(commands["lower"].argv, env_with, tmp)
            )
    load_after = os.getloadavg()

    print(table(comparisons, results))
    print()
    for key in ("cli", "lower"):
        print(f"- HTTP requests of {commands[key].label}: {', '.join(counted[key]) or 'none'}")
    shown = ", ".join(f"{name} ({count} modules, {ms:.0f} ms)" for name, count, ms in extra[:8])
    total = sum(ms for _, _, ms in extra)
    print(
        "- imported by `mlflow-allowance get prod` beyond the lower bound (one -X importtime run, self times"
    )
    print(f"  summed per top-level package, {total:.0f} ms in all): {shown or 'nothing'}")
    print(
        f"- machine: {os.cpu_count()} CPUs ({platform.machine()}), {platform.system()}, Python "
        f"{platform.python_version()}, {mlflow_version}; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    print(f"- {json.dumps({'repeat': args.repeat, 'repeat_fast': args.repeat_fast})}")


if __name__ == "__main__":
    main()
