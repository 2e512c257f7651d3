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
- ````` ```python signature ````` blocks show the signature of an API callable, as ``help()`` would, and are
  not run: each line starting a call (``client.promote(``, ``allowance.select(``, ``SelectionRequest(``,
  ``SemanticVersion.parse(``) up to its closing parenthesis and ``-> return type`` must match
  ``inspect.signature`` of the real object: parameter names, kinds (``/``, ``*``), annotations and defaults.
  ``client.`` means an ``AllowanceClient`` method, ``allowance.`` or ``mlflow_allowance.`` a module-level
  function; a bare name of ``__all__`` is that function, or that class (its constructor, written without
  ``-> None``), and ``Class.name`` a method of the class (without ``self``).
  The Python API page has one for every public method of ``AllowanceClient``, every function of
  ``__all__`` (a module-level function is covered by its method when their signatures are the same) and
  every type people construct.
- A set-up block readers need not see (seeding a store for a command reference, say) may sit inside an HTML
  comment, ``<!--`` ... ``-->``: it is not rendered, and it runs all the same.

Commands run in-process through Typer's ``CliRunner`` on the very app ``python -m mlflow_allowance`` runs. A
subprocess per command would cost an MLflow import each (3-10 s on two busy cores), and the suite must stay
fast; set ``MLFLOW_ALLOWANCE_DOCS_SUBPROCESS=1`` to run each as ``sys.executable -m mlflow_allowance``
instead. ``examples/ci_gate.py`` is tested with real subprocesses, since driving them is its point.
"""

from __future__ import annotations

import ast
import dataclasses
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mlflow_allowance
from mlflow_allowance import AllowanceClient, Promotion
from mlflow_allowance import _schema as schema_module
from mlflow_allowance import audit as audit_module

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]
SUBPROCESS_ENV = "MLFLOW_ALLOWANCE_DOCS_SUBPROCESS"

RUN = {"python", "console"}
SHOWN = {"text", "mermaid", "toml"}
#: The info string after ``python`` that marks a signature block: shown and checked, not run.
SIGNATURE = "signature"
#: What a documented command may start with to be run, and the program name it is shown under.
PROGRAMS = (
    (("mlflow", "allowance"), "mlflow allowance"),
    (("mlflow-allowance",), "mlflow-allowance"),
    (("python", "-m", "mlflow_allowance"), "python -m mlflow_allowance"),
    (("python3", "-m", "mlflow_allowance"), "python -m mlflow_allowance"),
)
_FENCE = re.compile(
    r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<lang>[^\s`]*)[ \t]*(?P<info>[^`]*?)\s*$"
)
_EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SHELL_SPECIAL = re.compile(r"[*?\[\]<>|;&`$()]")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")


# Reading pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block: its page, the line of its opening fence (1-based), language, text, and the
    rest of the info string (``signature`` in ````` ```python signature `````)."""

    page: Path
    line: int
    lang: str
    text: str
    info: str = ""

    @property
    def is_signature(self) -> bool:
        return self.lang == "python" and self.info == SIGNATURE

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
        text = "".join(line + "\n" for line in body)
        found.append(Block(page, start, opening["lang"].lower(), text, opening["info"].strip().lower()))
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
        if block.is_signature:
            continue  # checked against the real signature by test_signatures_match_the_code
        if block.lang == "python":
            run_python(block, module)
        elif block.lang == "console":
            run_console(block, page_store)


# Static checks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_code_blocks_have_known_languages(page: Path) -> None:
    """A block is either run (python, console), a signature (python signature), or explicitly a picture or
    sample (text, mermaid, toml); nothing else follows the language in the info string."""
    unknown = [
        f"{b.where} ```{b.lang} {b.info}".rstrip()
        for b in blocks(page)
        if b.lang not in RUN | SHOWN or (b.info and not b.is_signature)
    ]
    assert not unknown, f"use one of {sorted(RUN | SHOWN)} or `python {SIGNATURE}`: {unknown}"


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


# API signatures --------------------------------------------------------------------------------------------

API_PAGE = DOCS / "python-api.md"
#: Types people build themselves: the Python API page shows each constructor's signature.
CONSTRUCTED = (
    "AllowanceClient",
    "Candidate",
    "RegisteredModel",
    "SelectionPolicy",
    "SelectionRequest",
    "SemanticVersion",
    "VersionAllowance",
)
#: What a module-level function is shown under: ``import mlflow_allowance as allowance``, or in full.
MODULE_NAMES = ("allowance", "mlflow_allowance")
_PUBLIC_MODULES = (
    "allowance",
    "audit",
    "datasets",
    "errors",
    "outcomes",
    "request",
    "selection",
    "testing",
    "versions",
)
#: A bare name on a page: a name of ``mlflow_allowance.__all__`` or of a public submodule's ``__all__``
#: (``Candidate`` of ``mlflow_allowance.selection``, ``RegisteredModel`` of ``mlflow_allowance.testing``).
PUBLIC_NAMES: dict[str, Any] = {
    name: getattr(module, name)
    for module in [
        *(importlib.import_module(f"mlflow_allowance.{name}") for name in _PUBLIC_MODULES),
        mlflow_allowance,
    ]
    for name in module.__all__
}
_SIGNATURE_START = re.compile(r"^(?P<target>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\(")
_KIND_MARK = {
    inspect.Parameter.POSITIONAL_ONLY: "positional-only ",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "",
    inspect.Parameter.VAR_POSITIONAL: "*",
    inspect.Parameter.KEYWORD_ONLY: "keyword-only ",
    inspect.Parameter.VAR_KEYWORD: "**",
}


@dataclass(frozen=True)
class ShownSignature:
    """One signature a page shows: the name it is shown under (``client.promote``), where, and its text."""

    target: str
    where: str
    text: str

    @classmethod
    def of(cls, text: str, where: str) -> ShownSignature:
        start = _SIGNATURE_START.match(text)
        assert start is not None, f"{where}: {text!r} does not start like `client.promote(`"
        return cls(start["target"], where, text)


def shown_signatures(page: Path) -> list[ShownSignature]:
    """The signatures of a page's ``python signature`` blocks; a block may show several, one after another.

    A signature starts at a line like ``client.promote(`` and runs to the line before the next such start.
    """
    found: list[ShownSignature] = []
    for block in blocks(page):
        if not block.is_signature:
            continue
        starts = [
            (offset, f"{page.relative_to(ROOT)}:{block.line + offset + 1}")
            for offset, line in enumerate(block.text.splitlines())
            if _SIGNATURE_START.match(line)
        ]
        lines = block.text.splitlines()
        assert starts, f"{block.where}: a signature block without a signature"
        assert not "".join(lines[: starts[0][0]]).strip(), f"{block.where}: text before the first signature"
        ends = [offset for offset, _ in starts[1:]] + [len(lines)]
        for (offset, where), end in zip(starts, ends, strict=True):
            found.append(ShownSignature.of("\n".join(lines[offset:end]).strip(), where))
    return found


def _without_self(signature: inspect.Signature) -> inspect.Signature:
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def real_signature(target: str) -> tuple[inspect.Signature, type | None]:
    """The signature ``target`` names on a page, and the class when it names a constructor.

    ``client.NAME`` is an ``AllowanceClient`` method (without ``self``); ``allowance.NAME``,
    ``mlflow_allowance.NAME`` and a bare ``NAME`` a function of ``__all__``; ``Class`` a class of ``__all__``
    (its constructor) and ``Class.NAME`` one of its methods (without ``self``).
    """
    head, _, attr = target.partition(".")
    if head == "client" and attr:
        method = inspect.getattr_static(AllowanceClient, attr, None)
        assert inspect.isfunction(method), f"{target}: AllowanceClient has no method {attr!r}"
        return _without_self(inspect.signature(method)), None
    if head in MODULE_NAMES and attr:
        function = getattr(mlflow_allowance, attr, None)
        assert attr in mlflow_allowance.__all__, f"{target}: {attr!r} is not in mlflow_allowance.__all__"
        assert inspect.isfunction(function), f"{target}: mlflow_allowance.{attr} is not a function"
        return inspect.signature(function), None
    found = PUBLIC_NAMES.get(head)
    assert head in PUBLIC_NAMES, f"{target}: not client.<method>, allowance.<function> or a public name"
    if not attr and inspect.isfunction(found):
        return inspect.signature(found), None
    cls = found
    assert inspect.isclass(cls), f"{target}: mlflow_allowance.{head} is neither a function nor a class"
    if not attr:
        return inspect.signature(cls), cls
    member = inspect.getattr_static(cls, attr, None)
    assert callable(member) or isinstance(member, classmethod | staticmethod), f"{target}: no such method"
    signature = inspect.signature(getattr(cls, attr))
    return (_without_self(signature) if inspect.isfunction(member) else signature), None


def _annotation(annotation: object) -> str | None:
    """An annotation as normalised source text (``None`` for none), whether a string or an object."""
    if annotation is inspect.Parameter.empty:
        return None
    text = annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
    return ast.unparse(ast.parse(text, mode="eval"))


def _parameter(name: str, kind: Any, annotation: str | None, default: str | None) -> str:
    text = f"{_KIND_MARK[kind]}{name}"
    if annotation is not None:
        text += f": {annotation}"
    if default is not None:
        text += f" = {default}"
    return text


def _shown_parameters(shown: ShownSignature) -> tuple[list[str], dict[str, str], str | None]:
    """The page's parameters (described as :func:`_parameter` does), their default texts and return type."""
    head = _SIGNATURE_START.match(shown.text)
    assert head is not None
    source = f"def {head['target'].rpartition('.')[2]}(" + shown.text[head.end() :] + ": ..."
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise AssertionError(f"{shown.where}: not a Python signature ({error.msg}):\n{shown.text}") from None
    function = tree.body[0]
    assert len(tree.body) == 1, f"{shown.where}: one signature, nothing after it"
    assert isinstance(function, ast.FunctionDef)
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    kinds: list[Any] = [inspect.Parameter.POSITIONAL_ONLY] * len(args.posonlyargs)
    kinds += [inspect.Parameter.POSITIONAL_OR_KEYWORD] * len(args.args)
    listed: list[tuple[ast.arg, Any, ast.expr | None]] = list(zip(positional, kinds, defaults, strict=True))
    if args.vararg is not None:
        listed.append((args.vararg, inspect.Parameter.VAR_POSITIONAL, None))
    listed += [
        (arg, inspect.Parameter.KEYWORD_ONLY, default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.kwarg is not None:
        listed.append((args.kwarg, inspect.Parameter.VAR_KEYWORD, None))
    described, default_texts = [], {}
    for arg, kind, default in listed:
        annotation = None if arg.annotation is None else ast.unparse(arg.annotation)
        default_text = None if default is None else ast.unparse(default)
        if default_text is not None:
            default_texts[arg.arg] = default_text
        described.append(_parameter(arg.arg, kind, annotation, default_text))
    returns = None if function.returns is None else ast.unparse(function.returns)
    return described, default_texts, returns


def _real_default(parameter: inspect.Parameter, cls: type | None, shown_default: str | None) -> str | None:
    """The default as source text; a dataclass ``default_factory`` matches the page's value if equal."""
    if parameter.default is inspect.Parameter.empty:
        return None
    factory = None
    if cls is not None and dataclasses.is_dataclass(cls) and repr(parameter.default) == "<factory>":
        field = next(f for f in dataclasses.fields(cls) if f.name == parameter.name)
        factory = field.default_factory
    if factory is None or factory is dataclasses.MISSING:
        return ast.unparse(ast.parse(repr(parameter.default), mode="eval"))
    made = factory()
    if shown_default is not None:
        names = dict(PUBLIC_NAMES)
        if eval(shown_default, names) == made:  # the page's own text, e.g. {} for a FrozenDict()
            return shown_default
    return f"{made!r} (made by a default factory)"


def signature_problem(
    shown: ShownSignature, resolve: Callable[[str], tuple[inspect.Signature, type | None]] = real_signature
) -> str | None:
    """How the shown signature differs from the real one (``resolve``), or ``None`` when it matches."""
    real, constructor = resolve(shown.target)
    page, default_texts, page_returns = _shown_parameters(shown)
    code = [
        _parameter(
            p.name,
            p.kind,
            _annotation(p.annotation),
            _real_default(p, constructor, default_texts.get(p.name)),
        )
        for p in real.parameters.values()
    ]
    returns = None if constructor is not None else _annotation(real.return_annotation)
    if page == code and page_returns == returns:
        return None
    lines = [f"{shown.where}: `{shown.target}` differs from the code"]
    lines += [f"  page: {item}" for item in page if item not in code]
    lines += [f"  code: {item}" for item in code if item not in page]
    if page != code and sorted(page) == sorted(code):
        lines.append(
            f"  order: page {[p.split(':')[0] for p in page]}, code {[c.split(':')[0] for c in code]}"
        )
    if page_returns != returns:
        lines.append(f"  returns: page {page_returns}, code {returns}")
    return "\n".join(lines)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_signatures_match_the_code(page: Path) -> None:
    """Each ``python signature`` block says what ``inspect.signature`` says: names, kinds, types, defaults."""
    problems = [problem for shown in shown_signatures(page) if (problem := signature_problem(shown))]
    assert not problems, "\n".join(problems)


def test_python_api_page_shows_every_signature() -> None:
    """A signature block for each public ``AllowanceClient`` method, each function of ``__all__`` (or its
    method, when their signatures are the same) and each type people construct; each shown once."""
    shown = [s.target for s in shown_signatures(API_PAGE)]
    targets = set(shown)
    missing = [
        f"client.{name}"
        for name, member in vars(AllowanceClient).items()
        if not name.startswith("_") and inspect.isfunction(member) and f"client.{name}" not in targets
    ]
    for name in mlflow_allowance.__all__:
        function = getattr(mlflow_allowance, name)
        shown_as = {name, *(f"{module}.{name}" for module in MODULE_NAMES)}
        if not inspect.isfunction(function) or shown_as & targets:
            continue
        method = inspect.getattr_static(AllowanceClient, name, None)
        same = inspect.isfunction(method) and _without_self(inspect.signature(method)) == inspect.signature(
            function
        )
        if not (same and f"client.{name}" in targets):
            missing.append(f"allowance.{name}")
    missing += [name for name in CONSTRUCTED if name not in targets]
    assert not missing, f"{API_PAGE.name} shows no ```python {SIGNATURE} line for {missing}"
    repeated = sorted({target for target in shown if shown.count(target) > 1})
    assert not repeated, f"{API_PAGE.name} shows these signatures more than once: {repeated}"


_STARS: dict[Any, str] = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}


def render(target: str) -> str:
    """The real signature of ``target`` written as a page would show it: the inverse of the checker."""
    signature, constructor = real_signature(target)
    parameters = list(signature.parameters.values())
    kinds = [parameter.kind for parameter in parameters]
    bare_star = inspect.Parameter.KEYWORD_ONLY in kinds and inspect.Parameter.VAR_POSITIONAL not in kinds
    parts: list[str] = []
    for index, parameter in enumerate(parameters):
        if bare_star and parameter.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parts:
            parts.append("*")
        text = _STARS.get(parameter.kind, "") + parameter.name
        annotation = _annotation(parameter.annotation)
        if annotation is not None:
            text += f": {annotation}"
        if repr(parameter.default) == "<factory>" and constructor is not None:
            field = next(f for f in dataclasses.fields(constructor) if f.name == parameter.name)
            assert field.default_factory is not dataclasses.MISSING
            made = field.default_factory()
            text += f" = {dict(made)!r}" if isinstance(made, Mapping) else f" = {made!r}"
        elif parameter.default is not inspect.Parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
        following = kinds[index + 1] if index + 1 < len(kinds) else None
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY and following is not parameter.kind:
            parts.append("/")
    returns = None if constructor is not None else _annotation(signature.return_annotation)
    return f"{target}({', '.join(parts)})" + ("" if returns is None else f" -> {returns}")


def public_targets() -> list[str]:
    """Every callable a page can show: client methods, functions, constructors and their methods."""
    targets = [
        f"client.{name}"
        for name, member in vars(AllowanceClient).items()
        if not name.startswith("_") and inspect.isfunction(member)
    ]
    targets += [
        f"allowance.{n}" for n in mlflow_allowance.__all__ if inspect.isfunction(getattr(mlflow_allowance, n))
    ]
    for name in CONSTRUCTED:
        targets.append(name)
        for attribute, member in vars(PUBLIC_NAMES[name]).items():
            if not attribute.startswith("_") and (
                inspect.isfunction(member) or isinstance(member, classmethod)
            ):
                targets.append(f"{name}.{attribute}")
    return targets


@pytest.mark.parametrize("target", public_targets())
def test_signature_check_accepts_every_real_signature(target: str) -> None:
    """The checker reads every public signature written out in full as matching: no false alarms."""
    assert signature_problem(ShownSignature.of(render(target), "test")) is None


def _example(
    environment: str, model: str, /, *, force: bool = False, reason: str = "", **more: int
) -> Promotion:  # pragma: no cover - only its signature is used
    """A stand-in for an API function, so the checker's own tests do not follow the real API."""
    raise NotImplementedError


@dataclass(frozen=True)
class _ExampleRecord:
    name: str
    tags: Mapping[str, str] = dataclasses.field(default_factory=lambda: {"validated": "true"})


def _example_signature(target: str) -> tuple[inspect.Signature, type | None]:
    if target == "_ExampleRecord":
        return inspect.signature(_ExampleRecord), _ExampleRecord
    assert target == "client.example"
    return inspect.signature(_example), None


EXAMPLE = (
    "client.example(environment: str, model: str, /, *, force: bool = False, reason: str = '', **more: int)"
)
EXAMPLE += " -> Promotion"


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        pytest.param(EXAMPLE, None, id="matches"),
        pytest.param(EXAMPLE.replace("str = ''", 'str = ""'), None, id="either-quotes"),
        pytest.param(EXAMPLE.replace("/, ", ""), "positional-only environment", id="positional-only"),
        pytest.param(
            EXAMPLE.replace("*, force", "force").replace(", reason", ", *, reason"),
            "keyword-only force",
            id="keyword-only",
        ),
        pytest.param(
            EXAMPLE.replace("force: bool = False", "force: bool = True"), "force: bool = False", id="default"
        ),
        pytest.param(EXAMPLE.replace(", reason: str = ''", ""), "reason", id="missing-parameter"),
        pytest.param(EXAMPLE.replace(", **more: int", ""), "**more", id="missing-var-keyword"),
        pytest.param(EXAMPLE.replace("model: str", "model: str | None"), "model: str", id="annotation"),
        pytest.param(EXAMPLE.replace("force: bool", "force"), "force: bool", id="missing-annotation"),
        pytest.param(EXAMPLE.replace("-> Promotion", "-> Selection"), "returns", id="return-type"),
        pytest.param(EXAMPLE.replace(" -> Promotion", ""), "returns", id="missing-return-type"),
        pytest.param(
            EXAMPLE.replace("environment: str, model: str", "model: str, environment: str"),
            "order",
            id="order",
        ),
        pytest.param(
            "_ExampleRecord(name: str, tags: Mapping[str, str] = {'validated': 'true'})",
            None,
            id="default-factory",
        ),
        pytest.param(
            "_ExampleRecord(name: str, tags: Mapping[str, str] = {})",
            "default factory",
            id="default-factory-differs",
        ),
        pytest.param(
            "_ExampleRecord(name: str, tags: Mapping[str, str] = {'validated': 'true'}) -> None",
            "returns",
            id="constructor-returns",
        ),
    ],
)
def test_signature_check_catches_each_difference(text: str, wrong: str | None) -> None:
    """A faithful signature passes; each kind of difference is reported."""
    problem = signature_problem(ShownSignature.of(text, "test"), resolve=_example_signature)
    if wrong is None:
        assert problem is None, problem
    else:
        assert problem is not None
        assert wrong in problem, problem


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
