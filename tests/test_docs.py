"""The documentation runs: every code block in ``docs/*.md`` and ``README.md``, and ``examples/ci_gate.py``.

How blocks are treated (a contract for everyone who writes a page):

- ````` ```python ````` blocks run in page order in one namespace per page (a module named after the page, so
  ``if __name__ == "__main__":`` bodies do not run), in a fresh directory holding a fresh sqlite store that
  ``MLFLOW_TRACKING_URI`` points at. ``os.environ`` and MLflow's global state (tracking URI, active
  experiment, active run) are restored afterwards, so pages cannot leak into each other or into other tests.
- ````` ```console ````` blocks: a line starting with ``$ `` is a command (a trailing ``\\`` continues it);
  the lines up to the next command are its expected output, compared loosely: whitespace is collapsed, each
  expected line must appear in stdout+stderr, in order, and ``...`` inside a line matches anything. Only
  this package's commands run (``mlflow allowance ...``, ``mlflow-allowance ...``, ``python -m
  mlflow_allowance ...``), against the page's store; they must exit 0 unless the line ends with ``# exit N``.
  Every other command (``pip install``, ``mlflow server``, ``python3 scripts/dev.py test``) is shown, never
  run: that is what keeps README's set-up commands, which would run this very suite, from recursing.
  A command that is run must be one a shell would pass through unchanged: allowances like ``'<=1.0'`` and
  ``'*'`` quoted, no pipes or redirections.
- ````` ```text `````, ````` ```mermaid ````` and ````` ```toml ````` blocks are pictures, output samples and
  configuration: not run. A block in any other language (or none) fails the test.
- A set-up block readers need not see (seeding a store for a command reference, say) may sit inside an HTML
  comment, ``<!--`` ... ``-->``: it is not rendered, and it runs all the same.

Commands run in-process through Typer's ``CliRunner`` on the very app ``python -m mlflow_allowance`` runs. A
subprocess per command would cost an MLflow import each (3-10 s on two busy cores), and the suite must stay
fast; set ``MLFLOW_ALLOWANCE_DOCS_SUBPROCESS=1`` to run each as ``sys.executable -m mlflow_allowance``
instead. ``examples/ci_gate.py`` is tested with real subprocesses, since driving them is its point.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
import types
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mlflow_allowance
from mlflow_allowance import AllowanceClient
from mlflow_allowance import _schema as schema_module
from mlflow_allowance import audit as audit_module

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
SUBPROCESS_ENV = "MLFLOW_ALLOWANCE_DOCS_SUBPROCESS"

RUN = {"python", "console"}
SHOWN = {"text", "mermaid", "toml"}
#: What a documented command may start with to be run, and the program name it is shown under.
PROGRAMS = (
    (("mlflow", "allowance"), "mlflow allowance"),
    (("mlflow-allowance",), "mlflow-allowance"),
    (("python", "-m", "mlflow_allowance"), "python -m mlflow_allowance"),
    (("python3", "-m", "mlflow_allowance"), "python -m mlflow_allowance"),
)
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)")
_EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SHELL_SPECIAL = re.compile(r"[*?\[\]<>|;&`$()]")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


# Reading pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block: its page, the line of its opening fence (1-based), language and text."""

    page: Path
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Command:
    """One ``$ `` line of a console block: the command, its expected exit code and output lines."""

    line: int
    text: str
    exit_code: int
    expected: tuple[str, ...]


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        body: list[str] = []
        index += 1
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                break
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        start = index - len(body)  # 1-based line of the opening fence
        found.append(Block(page, start, opening["lang"].lower(), "".join(line + "\n" for line in body)))
        index += 1
    return found


def commands(block: Block) -> list[Command]:
    """The commands of a console block, with the output lines that follow each."""
    found: list[Command] = []
    current: list[str] | None = None
    line_no = 0
    expected: list[str] = []
    pending = ""

    def finish() -> None:
        if current is not None:
            text = " ".join(current)
            match = _EXIT.search(text)
            code = int(match["code"]) if match else 0
            found.append(Command(line_no, text, code, tuple(line for line in expected if line.strip())))

    for offset, raw in enumerate(block.text.splitlines(), start=1):
        if pending:
            assert current is not None
            current.append(raw.strip().removesuffix("\\").strip())
            pending = raw if raw.rstrip().endswith("\\") else ""
            continue
        if raw.startswith("$ "):
            finish()
            current, expected, line_no = [raw[2:].strip().removesuffix("\\").strip()], [], block.line + offset
            pending = raw if raw.rstrip().endswith("\\") else ""
        elif current is not None:
            expected.append(raw)
    finish()
    return found


def program(command: Command) -> tuple[str, list[str]] | None:
    """``(program name, arguments)`` when the command is one of ours and should run, else ``None``."""
    tokens = shlex.split(command.text, comments=True)
    for prefix, name in PROGRAMS:
        if tuple(tokens[: len(prefix)]) == prefix:
            unquoted = _QUOTED.sub("", command.text.split(" #", 1)[0])
            special = _SHELL_SPECIAL.search(unquoted)
            assert special is None, (
                f"{command.text!r}: a shell would treat {special.group()!r} specially; quote the argument "
                "(allowances like '<=1.0' and '*' always need quotes) and use no pipes or redirections"
            )
            return name, tokens[len(prefix) :]
    return None


# Running pages ---------------------------------------------------------------------------------------------


def pythonpath() -> str:
    """``PYTHONPATH`` for a child interpreter that must import this checkout's package."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def collapse(text: str) -> str:
    return " ".join(text.split())


def assert_output(command: Command, output: str) -> None:
    """Each expected line appears in ``output``, in order; whitespace collapsed, ``...`` matches anything."""
    haystack = collapse(output)
    position = 0
    for line in command.expected:
        pattern = ".*?".join(re.escape(collapse(part)) for part in line.split("..."))
        match = re.compile(pattern).search(haystack, position)
        assert match is not None, (
            f"line {command.line}: `{command.text}` should print (in order)\n  {line.strip()}\n"
            f"but printed:\n{output}"
        )
        position = match.end()


def run_command(name: str, args: list[str], cwd: Path) -> tuple[int, str, BaseException | None]:
    """Run one documented command; return its exit code, stdout+stderr and any unexpected exception."""
    if os.environ.get(SUBPROCESS_ENV, "") not in ("", "0"):
        done = subprocess.run(
            [sys.executable, "-m", "mlflow_allowance", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": pythonpath()},
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr, None
    from typer.testing import CliRunner

    from mlflow_allowance.cli import app

    result = CliRunner().invoke(app, args, prog_name=name)
    unexpected = None if isinstance(result.exception, SystemExit | None) else result.exception
    return result.exit_code, result.output, unexpected


def run_console(block: Block, cwd: Path) -> None:
    for command in commands(block):
        found = program(command)
        if found is None:
            continue  # shown, never run: pip install, mlflow server, scripts/dev.py, ...
        code, output, unexpected = run_command(*found, cwd)
        assert unexpected is None, f"{block.page.name}:{command.line}: `{command.text}` raised {unexpected!r}"
        assert code == command.exit_code, (
            f"{block.page.name}:{command.line}: `{command.text}` exited {code}, "
            f"expected {command.exit_code}; output:\n{output}"
        )
        assert_output(command, output)


def run_python(block: Block, module: types.ModuleType) -> None:
    # Pad with newlines so tracebacks point at the page's own line numbers.
    code = compile("\n" * block.line + block.text, str(block.page), "exec")
    exec(code, module.__dict__)


@pytest.fixture
def page_store(sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh sqlite store as MLflow's default, cwd in a fresh directory; global state restored after."""
    import mlflow
    import mlflow.tracking.fluent as fluent
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved_environ = dict(os.environ)
    monkeypatch.setattr(tracking_utils, "_tracking_uri", None)
    monkeypatch.setattr(registry_utils, "_registry_uri", None)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    for name in ("MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        os.environ.pop(name, None)
    os.environ["MLFLOW_TRACKING_URI"] = sqlite_uri
    try:
        yield tmp_path
    finally:
        while mlflow.active_run() is not None:
            mlflow.end_run()
        os.environ.clear()
        os.environ.update(saved_environ)


@pytest.mark.integration
@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_page_runs(page: Path, page_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python and console block of the page runs, in order, against one fresh store."""
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    module.__file__ = str(page)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in blocks(page):
        if block.lang == "python":
            run_python(block, module)
        elif block.lang == "console":
            run_console(block, page_store)


# Static checks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_code_blocks_have_known_languages(page: Path) -> None:
    """A block is either run (python, console) or explicitly a picture or sample (text, mermaid, toml)."""
    unknown = [f"{b.where} ```{b.lang}" for b in blocks(page) if b.lang not in RUN | SHOWN]
    assert not unknown, f"use one of {sorted(RUN | SHOWN)}: {unknown}"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation (but ``-``, ``_``) dropped, spaces to ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    counts: dict[str, int] = {}
    inside = {b.line + i for b in blocks(page) for i in range(b.text.count("\n") + 2)}
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if number in inside or not line.startswith("#"):
            continue
        base = slug(line.lstrip("#"))
        seen = counts.get(base, 0)
        counts[base] = seen + 1
        found.add(base if seen == 0 else f"{base}-{seen}")
    return found


def prose(page: Path) -> str:
    """The page without its code blocks (links inside code are not links)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    inside = {b.line - 1 + i for b in blocks(page) for i in range(b.text.count("\n") + 2)}
    return "\n".join(line for number, line in enumerate(lines) if number not in inside)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    """Links to files in the repository point at files that exist, and at headings that exist."""
    broken = []
    for match in _LINK.finditer(prose(page)):
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # https:, mailto:
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no heading #{anchor} in {resolved.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_index_links_every_page() -> None:
    linked = {
        (DOCS / m["target"].partition("#")[0]).resolve()
        for m in _LINK.finditer(prose(DOCS / "index.md"))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", m["target"])
    }
    pages = {p.resolve() for p in DOCS.glob("*.md")} - {(DOCS / "index.md").resolve()}
    expected = {DOCS / f"{name}.md" for name in ("cli", "cli-plugin", "benchmarks")}
    missing = sorted(p.name for p in pages | expected if p.resolve() not in linked)
    assert not missing, f"docs/index.md does not link to {missing}"


def code_text(page: Path) -> str:
    """Inline code spans and code blocks of a page: where API names are shown, not merely said."""
    spans = re.findall(r"`([^`\n]+)`", prose(page))
    return "\n".join([*spans, *(b.text for b in blocks(page))])


def test_python_api_page_covers_the_whole_api() -> None:
    """Every name of ``mlflow_allowance.__all__`` and every public attribute of ``AllowanceClient``."""
    code = code_text(DOCS / "python-api.md")
    missing = [name for name in mlflow_allowance.__all__ if not re.search(rf"\b{re.escape(name)}\b", code)]
    members = [name for name, _ in inspect.getmembers(AllowanceClient) if not name.startswith("_")]
    missing += [f"AllowanceClient.{name}" for name in members if not re.search(rf"\.{name}\b", code)]
    assert members, "AllowanceClient has no public methods?"
    assert not missing, f"docs/python-api.md does not show {missing}"


def schema_values() -> dict[str, str]:
    """Every name the package writes, as defined in schema.py and audit.py: constant name → text to find."""
    values: dict[str, str] = {}
    for module in (schema_module, audit_module):
        for name, value in vars(module).items():
            if not re.fullmatch(r"_?[A-Z][A-Z0-9_]*", name):
                continue
            if isinstance(value, str) and (module is schema_module or value.startswith(schema_module.PREFIX)):
                values[f"{module.__name__}.{name}"] = value
            elif isinstance(value, int) and not isinstance(value, bool):
                values[f"{module.__name__}.{name}"] = str(value)
    values["schema.allowance_tag('<env>')"] = schema_module.allowance_tag("<env>")
    return values


def test_storage_schema_page_names_every_key() -> None:
    """Each constant of schema.py and audit.py (tag keys, experiment, limits) appears on the page."""
    text = (DOCS / "storage-schema.md").read_text(encoding="utf-8")
    plain = text.replace(",", "")  # 5,000 reads as 5000
    assert len(schema_values()) >= 12
    missing = [
        f"{name} = {value!r}"
        for name, value in schema_values().items()
        if value not in text and not (value.isdigit() and value in plain)
    ]
    assert not missing, f"docs/storage-schema.md does not mention {missing}"


@pytest.mark.integration
def test_storage_schema_page_names_every_key_actually_written(sqlite_uri: str, unique_name: str) -> None:
    """Whatever tags, aliases and experiments a full round of operations leaves behind are documented."""
    from mlflow.tracking import MlflowClient

    mlflow_client = MlflowClient(sqlite_uri, sqlite_uri)
    client = AllowanceClient(sqlite_uri, sqlite_uri)
    before = {e.name for e in mlflow_client.search_experiments()}
    experiment = mlflow_client.create_experiment("training")
    mlflow_client.create_registered_model(unique_name)
    for semver in ("1.0", "2.0"):
        run = mlflow_client.create_run(experiment)
        mlflow_client.log_metric(run.info.run_id, "F1", 0.9)
        mlflow_client.create_model_version(unique_name, f"runs:/{run.info.run_id}/model", run.info.run_id)
        client.set_version(unique_name, int(semver[0]), semver)
    client.set_allowance("prod", "<=1.0")
    client.promote("prod", unique_name, metric="F1")
    client.set_allowance("prod", "<=2.0", model=unique_name)
    client.promote("prod", unique_name, metric="F1", stage="Production")
    client.rollback("prod", unique_name)

    written: set[str] = set()
    audit = mlflow_client.get_experiment_by_name(schema_module.AUDIT_EXPERIMENT)
    assert audit is not None
    written |= set(audit.tags)
    for run in mlflow_client.search_runs([audit.experiment_id]):
        written |= {re.sub(r"\.\d{6}$", ".NNNNNN", key) for key in run.data.tags}
    model = mlflow_client.get_registered_model(unique_name)
    written |= set(model.tags) | {f"@{alias}" for alias in model.aliases}
    for version in mlflow_client.search_model_versions(f"name = '{unique_name}'"):
        written |= set(version.tags)
    written |= {e.name for e in mlflow_client.search_experiments()} - before - {"training"}

    text = (DOCS / "storage-schema.md").read_text(encoding="utf-8")
    missing = sorted(key for key in written if key not in text)
    assert not missing, f"docs/storage-schema.md does not document {missing}"


# examples/ci_gate.py ---------------------------------------------------------------------------------------


def _load_ci_gate() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("ci_gate", ROOT / "examples" / "ci_gate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.integration
@pytest.mark.slow
def test_ci_gate_promotes_int_and_gates_prod_on_check(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """INT promotes; nothing eligible fails the job with reasons; PROD promotes only after a clean check."""
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    monkeypatch.setenv("PYTHONPATH", pythonpath())
    mlflow_client = MlflowClient(sqlite_uri, sqlite_uri)
    experiment = mlflow_client.create_experiment("training")
    mlflow_client.create_registered_model("AImodel")
    for semver, f1 in (("1.0", 0.93), ("1.0", 0.98), ("2.0", 0.99)):
        run = mlflow_client.create_run(experiment)
        mlflow_client.log_metric(run.info.run_id, "F1", f1)
        source = f"runs:/{run.info.run_id}/model"
        tags = {schema_module.VERSION_TAG: semver}
        mlflow_client.create_model_version("AImodel", source, run.info.run_id, tags=tags)
    client = AllowanceClient(sqlite_uri, sqlite_uri)
    client.set_allowance("int", "==2.0")
    client.set_allowance("prod", "<=1.0")
    client.set_allowance("qa", "==3.0")
    ci_gate: Any = _load_ci_gate()

    def aliases() -> dict[str, int]:
        found = mlflow_client.get_registered_model("AImodel").aliases
        return {alias: int(version) for alias, version in found.items()}

    # INT: promote on every merge.
    assert ci_gate.main(["int", "--model", "AImodel", "--metric", "F1"]) == 0
    assert "AImodel/3" in capsys.readouterr().out
    assert aliases() == {"int": 3}

    # Nothing eligible: exit 1, every candidate's reason printed, alias untouched.
    assert ci_gate.main(["qa", "--model", "AImodel", "--metric", "F1"]) == 1
    out = capsys.readouterr().out
    assert "no eligible candidate" in out
    assert out.count("is outside ==3.0") == 3

    # PROD: check first (nothing to check yet: exit 0), then promote the best 1.0.
    assert ci_gate.main(["prod", "--model", "AImodel", "--metric", "F1", "--check-first"]) == 0
    assert aliases() == {"int": 3, "prod": 2}

    # Someone narrows PROD below what it runs: the check fails and the gate promotes nothing.
    client.set_allowance("prod", "<1.0")
    history = len(client.history("prod"))
    assert ci_gate.main(["prod", "--model", "AImodel", "--metric", "F1", "--check-first"]) == 1
    out = capsys.readouterr().out
    assert "AImodel/2" in out
    assert "1.0 is outside <1.0" in out
    assert len(client.history("prod")) == history
    assert aliases() == {"int": 3, "prod": 2}


def test_ci_gate_hands_on_exit_code_2_for_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input is exit 2 from the CLI (before MLflow is even imported), and the gate hands it on."""
    monkeypatch.setenv("PYTHONPATH", pythonpath())
    ci_gate: Any = _load_ci_gate()
    assert ci_gate.main(["latest", "--model", "AImodel"]) == 2


def test_ci_gate_renders_candidates_from_json() -> None:
    ci_gate: Any = _load_ci_gate()
    data = json.loads(
        '{"metric": "F1", "candidates": [{"name": "AImodel", "version": "3", "semver": "2.0", "metric": 0.99,'
        ' "eligible": false, "reason": "2.0 is outside <=1.0"}]}'
    )
    table = ci_gate.explain(data)
    assert table.splitlines()[0].split() == ["MODEL", "VERSION", "SEMVER", "F1", "ELIGIBLE", "REASON"]
    assert table.splitlines()[1].split()[:5] == ["AImodel", "3", "2.0", "0.99", "no"]
