"""The project's two commands, runnable on a machine that has only Python 3.11+.

    python3 scripts/dev.py walkthrough   # the seed article's story on an embedded sqlite store
    python3 scripts/dev.py test          # ruff, mypy --strict and the whole pytest suite

Each creates ``.venv`` next to this repository on first use and installs the package (editable) with its
``dev`` extra into it, so nothing outside the checkout is touched.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-from"


def _run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    completed = subprocess.run([str(a) for a in args], cwd=ROOT, check=False)
    if completed.returncode:
        sys.exit(completed.returncode)


def ensure_venv() -> None:
    """Create .venv and (re)install the package when its build inputs changed since the last install."""
    # What an (editable) install copies into .venv: a change to any of these needs a reinstall.
    inputs = ("pyproject.toml", "hatch_build.py", "mlflow_allowance/_pth/mlflow_allowance.pth")
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in inputs)).hexdigest()
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    _run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    STAMP.write_text(digest)


def main(argv: list[str]) -> None:
    """Dispatch ``walkthrough`` or ``test``; extra arguments go to the example or to pytest."""
    if not argv or argv[0] not in {"walkthrough", "test"}:
        sys.exit(__doc__)
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "walkthrough":
        _run(PYTHON, ROOT / "examples" / "walkthrough.py", *rest)
        return
    _run(PYTHON, "-m", "ruff", "check", ".")
    _run(PYTHON, "-m", "ruff", "format", "--check", ".")
    _run(PYTHON, "-m", "mypy")
    _run(PYTHON, "-m", "pytest", *rest)


if __name__ == "__main__":
    main(sys.argv[1:])
