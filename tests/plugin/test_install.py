"""What the wheel ships, where the installs put it, and the ``.pth`` line's start-up gate.

Every process here is cheap: none imports MLflow (the gate is probed with a stand-in script named
``mlflow``, and ``--help``/``--version`` of our own commands need only Typer).
"""

from __future__ import annotations

import sysconfig
import zipfile
from pathlib import Path

import pytest

from mlflow_allowance import __version__

from .conftest import INSTALLS, REPO, Venvs

pytestmark = pytest.mark.integration

MAIN_PURELIB = Path(sysconfig.get_path("purelib"))
PTH_SOURCE = REPO / "mlflow_allowance" / "_pth" / "mlflow_allowance.pth"
#: Prints whether the hook's finder is on sys.meta_path, and whether the package itself was imported.
PROBE = (
    "import sys\n"
    "print(any(getattr(f, '_mlflow_allowance_finder', False) for f in sys.meta_path),\n"
    "      'mlflow_allowance' in sys.modules, 'mlflow' in sys.modules)\n"
)


class TestWheel:
    def test_pth_is_at_the_root_and_is_the_source_file(self, venvs: Venvs) -> None:
        with zipfile.ZipFile(venvs.wheel_file) as wheel:
            names = wheel.namelist()
            assert wheel.read("mlflow_allowance.pth") == PTH_SOURCE.read_bytes()
        assert [name for name in names if name.endswith(".pth")] == ["mlflow_allowance.pth"]

    @pytest.mark.parametrize(
        "name",
        ["mlflow_allowance/py.typed", "mlflow_allowance/_mlflow_hook.py", "mlflow_allowance/cli.py"],
    )
    def test_package_files(self, venvs: Venvs, name: str) -> None:
        with zipfile.ZipFile(venvs.wheel_file) as wheel:
            assert name in wheel.namelist()

    def test_declares_the_console_script(self, venvs: Venvs) -> None:
        with zipfile.ZipFile(venvs.wheel_file) as wheel:
            (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
            text = wheel.read(entry_points).decode()
        assert "mlflow-allowance = mlflow_allowance.cli:main" in text


class TestInstalled:
    @pytest.mark.parametrize("kind", [*INSTALLS, "broken-cli", "missing-package"])
    def test_pth_sits_at_the_root_of_site_packages(self, venvs: Venvs, kind: str) -> None:
        assert (venvs[kind].purelib / "mlflow_allowance.pth").read_bytes() == PTH_SOURCE.read_bytes()

    @pytest.mark.parametrize("kind", [*INSTALLS, "missing-package"])
    def test_package_comes_from_the_install_and_mlflow_from_the_main_venv(
        self, venvs: Venvs, kind: str, tmp_path: Path
    ) -> None:
        venv = venvs[kind]
        code = (
            "import importlib.util as u\n"
            "spec = u.find_spec('mlflow_allowance')\n"
            "print(spec and spec.submodule_search_locations[0])\n"
            "print(u.find_spec('mlflow').submodule_search_locations[0])\n"
        )
        done = venv.run(venv.python, "-c", code, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (0, ""), done
        expected = {
            "wheel": venv.purelib / "mlflow_allowance",
            "editable": REPO / "mlflow_allowance",
            "missing-package": None,
        }
        assert done.stdout.splitlines() == [str(expected[kind]), str(MAIN_PURELIB / "mlflow")]

    @pytest.mark.parametrize(
        ("args", "stdout"),
        [
            pytest.param(
                ["-m", "mlflow_allowance", "--help"], "Usage: python -m mlflow_allowance ", id="python-m"
            ),
            pytest.param(["mlflow-allowance", "--help"], "Usage: mlflow-allowance ", id="script-help"),
            pytest.param(["mlflow-allowance", "--version"], f"mlflow-allowance {__version__}\n", id="script"),
        ],
    )
    @pytest.mark.parametrize("kind", INSTALLS)
    def test_our_own_commands(
        self, venvs: Venvs, kind: str, args: list[str], stdout: str, tmp_path: Path
    ) -> None:
        venv = venvs[kind]
        program = venv.python if args[0] == "-m" else venv.bin / args[0]
        done = venv.run(program, *(args if args[0] == "-m" else args[1:]), cwd=tmp_path)
        assert (done.returncode, done.stderr, done.stdout.startswith(stdout)) == (0, "", True), done


class TestStartupGate:
    """The ``.pth`` line installs the finder only in MLflow's ``mlflow`` program, and never imports us."""

    @pytest.mark.parametrize(
        ("kind", "program", "env", "expected"),
        [
            pytest.param("wheel", "mlflow", {}, "True False False", id="mlflow"),
            pytest.param("editable", "mlflow", {}, "True False False", id="editable-mlflow"),
            pytest.param(
                "wheel", "mlflow", {"MLFLOW_ALLOWANCE_NO_PLUGIN": "1"}, "False False False", id="off"
            ),
            pytest.param(
                "wheel", "mlflow", {"MLFLOW_ALLOWANCE_NO_PLUGIN": "0"}, "True False False", id="0-on"
            ),
            pytest.param("wheel", "train_mlflow.py", {}, "False False False", id="mentions-mlflow"),
            pytest.param("wheel", "-c", {}, "False False False", id="python-c-mlflow"),
            pytest.param("missing-package", "mlflow", {}, "False False False", id="missing-package"),
        ],
    )
    def test_finder_only_for_mlflow(
        self, venvs: Venvs, tmp_path: Path, kind: str, program: str, env: dict[str, str], expected: str
    ) -> None:
        venv = venvs[kind]
        if program == "-c":
            args: list[str | Path] = ["-c", PROBE, "mlflow"]
        else:
            (tmp_path / program).write_text(PROBE)
            args = [tmp_path / program, "mlflow"]
        done = venv.run(venv.python, *args, cwd=tmp_path, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (0, f"{expected}\n", ""), done

    def test_debug_switch_explains_a_missing_package_in_one_line(self, venvs: Venvs, tmp_path: Path) -> None:
        venv = venvs["missing-package"]
        (tmp_path / "mlflow").write_text(PROBE)
        done = venv.run(venv.python, tmp_path / "mlflow", cwd=tmp_path, env={"MLFLOW_ALLOWANCE_DEBUG": "1"})
        assert (done.returncode, done.stdout) == (0, "False False False\n"), done
        # One line per run of the .pth line, and CPython 3.11's site can read a venv's .pth files twice.
        (line,) = set(done.stderr.splitlines())
        assert line.startswith("mlflow-allowance: hook not loaded ("), done
        assert "Traceback" not in done.stderr
