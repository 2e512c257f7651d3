"""Installing the wheel next to the MLflow a project already has: what pip would change, and what is left
after an uninstall; and uv's installs, which must attach ``mlflow allowance`` as pip's do.

Written for whatever environment runs the tests (the main venv with the newest MLflow, or a venv with an
old MLflow 2.x): the dry run and ``pip check`` look at the test interpreter's own environment, the other
venvs borrow its MLflow (see :func:`~tests.plugin.conftest.borrow_mlflow`). pip's installs of the wheel
and of this checkout (``pip install -e``) are covered by ``test_install.py`` and ``test_mlflow_cli.py``;
here uv installs each, and ``mlflow allowance --help`` must list the plugin's commands.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import sysconfig
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import typer.main
from packaging.utils import canonicalize_name

from mlflow_allowance import __version__
from mlflow_allowance.cli import app

from .conftest import REPO, Pool, Run, Venv, Venvs, borrow_mlflow, make_venv, pip, run

pytestmark = pytest.mark.integration

NAME = canonicalize_name("mlflow-allowance")
#: The plugin's commands, as ``mlflow allowance --help`` must list them.
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _test_environ() -> dict[str, str]:
    """The test process's environment: pip then sees the same site-packages as the test interpreter."""
    return {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _listed_commands(help_text: str) -> list[str]:
    """The first word of each entry in the ``Commands:`` section of a click/Typer help text."""
    _, _, section = help_text.partition("\nCommands:\n")
    names = []
    for line in section.splitlines():
        if not line.startswith("  "):
            break
        if not line.startswith("   ") and line.strip():
            names.append(line.split()[0])
    return sorted(names)


# The test interpreter's environment ------------------------------------------------------------------------


class TestTestEnvironment:
    def test_installing_the_wheel_changes_no_installed_distribution(
        self, venvs: Venvs, tmp_path: Path
    ) -> None:
        """MLflow, typer, packaging... stay as the project has them: pip would add mlflow-allowance and, at
        most, distributions that are not installed yet."""
        report = tmp_path / "report.json"
        args: list[str | Path] = [
            "install",
            "--dry-run",
            "--no-input",
            "--quiet",
            "--report",
            report,
            venvs.wheel_file,
        ]
        done = run([sys.executable, "-m", "pip", *args], cwd=tmp_path, env=_test_environ())
        assert done.returncode == 0, done
        installed = {
            canonicalize_name(dist.metadata["Name"]): dist.version
            for dist in importlib.metadata.distributions()
        }
        would_install = {
            canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]
        }
        assert would_install.pop(NAME, None) == __version__, would_install
        changed = {
            name: f"{installed[name]} -> {new}" for name, new in would_install.items() if name in installed
        }
        assert changed == {}

    def test_pip_check(self, tmp_path: Path) -> None:
        done = run([sys.executable, "-m", "pip", "check"], cwd=tmp_path, env=_test_environ())
        assert done.returncode == 0, done


# Throwaway venvs that borrow the test interpreter's MLflow --------------------------------------------------


@dataclass(frozen=True)
class Uninstall:
    """``mlflow --version`` and ``--help`` before the install and after the uninstall, and what was left."""

    before: tuple[Run, Run]
    installed: list[str]
    plugin_help: Run
    uninstall: Run
    after: tuple[Run, Run]
    left: list[str]


def _ours(venv: Venv) -> list[str]:
    """What an install of this package puts into ``venv``: the ``.pth``, the package (or an editable
    install's path file), its metadata, and the console script."""
    found = [
        *venv.purelib.glob("mlflow_allowance*"),
        *venv.purelib.glob("_editable_impl_mlflow_allowance*"),
        *venv.bin.glob("mlflow-allowance*"),
    ]
    return sorted(str(path.relative_to(venv.root)) for path in found)


def _main_installs() -> list[str]:
    """The test interpreter's own copy of this package (its editable install, say), which the throwaway
    venvs see on their ``sys.path`` and an uninstall must not touch."""
    purelib = Path(sysconfig.get_path("purelib"))
    return sorted(path.name for path in purelib.iterdir() if "mlflow_allowance" in path.name)


def _install_then_uninstall(root: Path, wheel_file: Path) -> Uninstall:
    venv = borrow_mlflow(make_venv(root, "uninstall"))
    cwd = root / "uninstall-cwd"
    cwd.mkdir()

    def version_and_help() -> tuple[Run, Run]:
        with ThreadPoolExecutor(max_workers=2) as both:
            version = both.submit(venv.mlflow, "--version", cwd=cwd)
            help_ = both.submit(venv.mlflow, "--help", cwd=cwd)
            return version.result(), help_.result()

    before = version_and_help()
    pip(venv, "install", "--no-deps", wheel_file, cwd=root)
    installed = _ours(venv)
    plugin_help = venv.mlflow("allowance", "--help", cwd=cwd)
    if not (venv.purelib / "mlflow_allowance").is_dir():
        pytest.fail(f"the wheel did not land in {venv.purelib}: not uninstalling", pytrace=False)
    uninstall = run(
        [sys.executable, "-m", "pip", "--python", venv.python, "uninstall", "--yes", "mlflow-allowance"],
        cwd=root,
        env=_test_environ(),
    )
    return Uninstall(before, installed, plugin_help, uninstall, version_and_help(), _ours(venv))


def _uv() -> str | None:
    try:
        import uv  # the dev extra's; not in every environment that runs the suite
    except ImportError:
        return shutil.which("uv")
    path: str = uv.find_uv_bin()
    return path


def _with_uv(root: Path, kind: str, uv: str, *args: str | Path) -> Run:
    """A venv with ``uv pip install --python VENV ARGS... --no-deps``; ``mlflow allowance --help`` there."""
    venv = make_venv(root, kind)
    done = run(
        [uv, "pip", "install", "--python", venv.python, *args, "--no-deps"], cwd=root, env=_test_environ()
    )
    if done.returncode:
        pytest.fail(f"uv failed:\n{done}", pytrace=False)
    borrow_mlflow(venv)
    return venv.mlflow("allowance", "--help", cwd=root)


@dataclass(frozen=True)
class Started:
    main_before: list[str]
    uninstall: Future[Uninstall]
    uv: dict[str, Future[Run]]


@pytest.fixture(scope="module")
def started(venvs: Venvs, pool: Pool, tmp_path_factory: pytest.TempPathFactory) -> Started:
    """Every venv and its processes, submitted at once (the uninstall's steps run one after the other)."""
    root = tmp_path_factory.mktemp("plugin-hygiene")
    main_before = _main_installs()
    uninstall = pool.submit(partial(_install_then_uninstall, root, venvs.wheel_file))
    uv = _uv()
    installs: dict[str, tuple[str | Path, ...]] = {
        "uv-wheel": (venvs.wheel_file,),
        "uv-editable": ("--editable", REPO),
    }
    submitted = (
        {}
        if uv is None
        else {kind: pool.submit(partial(_with_uv, root, kind, uv, *args)) for kind, args in installs.items()}
    )
    return Started(main_before, uninstall, submitted)


@pytest.fixture(scope="module")
def done(started: Started) -> Uninstall:
    return started.uninstall.result()


@pytest.mark.slow
class TestUninstall:
    def test_the_wheel_attached_the_plugin(self, done: Uninstall) -> None:
        assert any(path.endswith("/mlflow_allowance.pth") for path in done.installed), done.installed
        assert (done.plugin_help.returncode, done.plugin_help.stderr) == (0, ""), done.plugin_help
        assert _listed_commands(done.plugin_help.stdout) == COMMANDS, done.plugin_help

    def test_pip_uninstall_succeeds(self, done: Uninstall) -> None:
        assert done.uninstall.returncode == 0, done.uninstall

    def test_nothing_of_ours_is_left(self, done: Uninstall) -> None:
        assert done.left == [], f"left behind after pip uninstall (installed: {done.installed})"

    @pytest.mark.parametrize("index", [0, 1], ids=["version", "help"])
    def test_mlflow_is_as_before(self, done: Uninstall, index: int) -> None:
        before, after = done.before[index], done.after[index]
        assert (before.returncode, before.stderr) == (0, ""), before
        assert (after.returncode, after.stdout, after.stderr) == (
            before.returncode,
            before.stdout,
            before.stderr,
        )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["uv-wheel", "uv-editable"])
def test_uv_install_attaches_the_plugin(started: Started, kind: str) -> None:
    if kind not in started.uv:
        pytest.skip("uv is not installed in the test interpreter's environment (it comes with the dev extra)")
    done = started.uv[kind].result()
    assert (done.returncode, done.stderr) == (0, ""), done
    assert done.stdout.startswith("Usage: mlflow allowance "), done
    assert _listed_commands(done.stdout) == COMMANDS, done


@pytest.mark.slow
def test_the_test_interpreters_own_install_is_untouched(started: Started) -> None:
    """The throwaway venvs see it on their ``sys.path``: the uninstall must have removed their copy only."""
    started.uninstall.exception()  # waits
    for future in started.uv.values():
        future.exception()
    assert _main_installs() == started.main_before
