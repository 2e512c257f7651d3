"""The project's two commands, runnable on a machine that has only Python 3.10+.

    python3 scripts/dev.py walkthrough   # the seed article's story on an embedded sqlite store
    python3 scripts/dev.py test          # ruff, mypy --strict, the whole pytest suite, then the floor stage

Each creates ``.venv`` next to this repository on first use and installs the package (editable) with its
``dev`` extra into it, so nothing outside the checkout is touched. That venv holds the newest MLflow.

``test`` ends with the floor stage (``python3 scripts/dev.py floor`` runs it alone): a second venv,
``.venv-floor``, on the oldest supported Python with the oldest supported MLflow, packaging and typer, runs
the pure tests and the integration tests there (an MLflow 2.9 client against a sqlite store and an MLflow
2.9 ``mlflow server``); then the main venv's newest client runs the server tests against an MLflow 2.9
server (``MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON``). Extra arguments to ``test`` go to the main pytest run
and skip the floor stage.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
FLOOR_VENV = ROOT / ".venv-floor"

#: The oldest supported versions, installed together into ``.venv-floor`` (docs/compatibility.md). MLflow 2.x
#: predates SQLAlchemy 2.1 (its sqlite store fails to import with it) and caps packaging below 24.
FLOOR = ("mlflow==2.9.2", "sqlalchemy<2.1", "packaging==22.0", "typer==0.28.0")
FLOOR_PYTHON = "3.10"
#: What the floor stage runs there: the pure tests (packaging 22, Python 3.10), the integration tests, and the
#: install-hygiene tests (installing into a full MLflow 2.x changes nothing). Left out, each run in the main
#: stage: what needs the evaluate extra (MLflow 3.17), the fault suite (it exercises the package's write
#: sequences, not MLflow), the pages and the walkthrough (written for MLflow 3's logged models), the CLI
#: reference (rendered by the newest Typer), the plugin's other wheel-building tests and the dashboard's
#: browser tests (the page does not depend on the MLflow version; its data tests run here).
FLOOR_TESTS = (
    "tests",
    "mlflow_allowance",
    "--ignore=mlflow_allowance/_evaluator.py",
    "--ignore=tests/integration/test_evaluate.py",
    "--ignore=tests/integration/test_faults.py",
    "--ignore=tests/integration/test_production_backends.py",
    "--ignore=tests/test_evaluator_rules.py",
    "--ignore=tests/test_walkthrough.py",
    "--ignore=tests/dashboard/test_browser.py",
    "--ignore=tests/plugin/test_install.py",
    "--ignore=tests/plugin/test_hook.py",
    "--ignore=tests/plugin/test_commands.py",
    "--ignore=tests/plugin/test_mlflow_cli.py",
    "--ignore=tests/plugin/test_skinny.py",
    "--deselect=tests/test_docs.py::test_page_runs",
    "--deselect=tests/cli/test_cli_docs.py::test_reference_is_up_to_date",
)
#: The newest client against the floor's ``mlflow server``: every test of the live-server variant.
CROSS_VERSION_TESTS = (
    "tests/integration",
    "-k",
    "server",
    "--ignore=tests/integration/test_evaluate.py",
    "--ignore=tests/integration/test_production_backends.py",
)


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / (f"{name}.exe" if os.name == "nt" else name)


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, check=False, env=env)
    if completed.returncode:
        sys.exit(completed.returncode)


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _install_inputs() -> bytes:
    # What an (editable) install copies into a venv: a change to any of these needs a reinstall.
    inputs = ("pyproject.toml", "hatch_build.py", "mlflow_allowance/_pth/mlflow_allowance.pth")
    return b"".join((ROOT / name).read_bytes() for name in inputs)


def ensure_venv() -> Path:
    """Create .venv and (re)install the package when its build inputs changed since the last install."""
    python = _bin(VENV, "python")
    stamp = VENV / ".installed-from"
    digest = _digest(_install_inputs())
    if not python.exists():
        venv.create(VENV, with_pip=True)
    if stamp.exists() and stamp.read_text() == digest:
        return python
    _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(python, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    stamp.write_text(digest)
    return python


def ensure_chromium() -> None:
    """Install Debian's Chromium for the dashboard's browser tests when it is missing and this is root on a
    machine with apt-get; otherwise say why those tests will be skipped."""
    browser = os.environ.get("MLFLOW_ALLOWANCE_CHROMIUM", "/usr/bin/chromium")
    if Path(browser).exists():
        return
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        print(f"note: no Chromium at {browser} and no root apt-get to install it: the browser tests skip")
        return
    quiet = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    print("+", " ".join(install), flush=True)
    if subprocess.run(install, check=False, env=quiet, stdout=subprocess.DEVNULL).returncode:
        _run(apt, "update", "-qq", env=quiet)  # a fresh machine's package lists may be empty
        _run(*install, env=quiet)


def _floor_interpreter() -> str:
    """A Python 3.10 that runs (pyenv's, or on PATH), else the interpreter running this script."""
    pyenv = sorted((Path.home() / ".pyenv" / "versions").glob(f"{FLOOR_PYTHON}.*/bin/python"))
    on_path = shutil.which(f"python{FLOOR_PYTHON}")  # may be a pyenv shim for a version not selected
    for candidate in [*(str(p) for p in reversed(pyenv)), *([on_path] if on_path else [])]:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == FLOOR_PYTHON:
            return candidate
    print(f"note: no Python {FLOOR_PYTHON} here; the floor stage runs on {sys.version.split()[0]}")
    return sys.executable


def ensure_floor_venv() -> Path:
    """Create .venv-floor with the oldest supported MLflow, packaging, typer and Python (see FLOOR)."""
    python = _bin(FLOOR_VENV, "python")
    stamp = FLOOR_VENV / ".installed-from"
    digest = _digest(_install_inputs(), "\n".join(FLOOR).encode())
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    if not python.exists():
        _run(_floor_interpreter(), "-m", "venv", FLOOR_VENV)
    _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # The project's test tools first, then the floor pins: pip would otherwise be free to lift them.
    _run(python, "-m", "pip", "install", "--quiet", *FLOOR, "pytest>=8.0", "hypothesis>=6.100")
    # Installing the package itself must not move any of the pins (that is the install-hygiene promise).
    _run(python, "-m", "pip", "install", "--quiet", "-e", str(ROOT), *FLOOR)
    stamp.write_text(digest)
    return python


def floor(main_python: Path) -> None:
    """The floor stage: the oldest MLflow as client and as server, and the newest client against it."""
    python = ensure_floor_venv()
    _run(python, "-m", "pip", "check")
    # Older MLflow warns of its own deprecations (pkg_resources, datetime.utcnow) on import; the suite
    # turns warnings into errors for the package's own code, which these filters leave alone.
    quiet = ("-W", "ignore::DeprecationWarning", "-W", "ignore::FutureWarning", "-p", "no:cacheprovider")
    # Derandomized like the main run, with fewer examples (packaging 22 is several times slower than 26);
    # the production databases are the main run's (the floor venv has no drivers for them).
    floor_env = dict(os.environ, HYPOTHESIS_PROFILE="floor")
    floor_env.pop("MLFLOW_ALLOWANCE_REQUIRE_BACKENDS", None)
    floor_env.pop("MLFLOW_ALLOWANCE_REQUIRE_BROWSER", None)
    _run(python, "-m", "pytest", "-q", *quiet, *FLOOR_TESTS, env=floor_env)
    env = dict(os.environ, MLFLOW_ALLOWANCE_TEST_SERVER_PYTHON=str(python))
    env.pop("MLFLOW_ALLOWANCE_REQUIRE_BACKENDS", None)
    _run(main_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CROSS_VERSION_TESTS, env=env)


def main(argv: list[str]) -> None:
    """Dispatch ``walkthrough``, ``test`` or ``floor``; extra arguments go to the example or to pytest."""
    if not argv or argv[0] not in {"walkthrough", "test", "floor"}:
        sys.exit(__doc__)
    python = ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "walkthrough":
        _run(python, ROOT / "examples" / "walkthrough.py", *rest)
        return
    if command == "floor":
        floor(python)
        return
    ensure_chromium()
    _run(python, "-m", "ruff", "check", ".")
    _run(python, "-m", "ruff", "format", "--check", ".")
    _run(python, "-m", "mypy")
    _run(python, "-m", "pytest", *rest)
    if not rest:
        floor(python)


if __name__ == "__main__":
    main(sys.argv[1:])
