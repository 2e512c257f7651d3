"""The bad-input corpus: hostile and mistaken input through the command line and the Python API.

Every case is rejected the same way: its error's exit code (2 for bad input and usage errors; 1 where the
input is well-formed but nothing is eligible), exactly one line on stderr (one line of message for the
API), no traceback, no secret of a URI echoed, huge input not echoed whole, and the registry byte for byte
as it was: the store file and a dump of every table of it, before and after. Nothing else is written either:
the working directory (``tmp_path``) stays empty, so no stray ``mlflow.db`` or ``mlruns``.

The cases run against the promoted seed (``@prod`` held, an allowance set, audit records written), reset
before each case from the session's one store file (see conftest.py). Most fail before MLflow is asked
anything.
"""

from __future__ import annotations

import hashlib
import http.server
import importlib.util
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from mlflow_allowance import (
    AllowanceClient,
    AllowanceError,
    InputError,
    NoEligibleCandidateError,
    NotFoundError,
    SelectionRequest,
)
from mlflow_allowance.errors import (
    InvalidAllowanceError,
    InvalidEnvironmentError,
    InvalidModelNameError,
    InvalidVersionError,
    RegistryError,
    RegistryUnavailableError,
    RollbackRefusedError,
)
from mlflow_allowance.testing import free_port

from .conftest import Cli, Store

pytestmark = pytest.mark.integration

#: Secrets planted in the URIs of the corpus; no output may contain them.
PASSWORD = "s3cr3t"
TOKEN = "t0k3n"
SECRETS = (PASSWORD, TOKEN)
#: Longest line a rejection may print: huge input is echoed cut, never whole.
LINE_LIMIT = 1000

KB100 = 100_000
#: Valid-looking allowances of about 100 KB: each clause is fine, the whole is too long.
HUGE_ALLOWANCE = ",".join([">=1.0"] * (KB100 // 6))
HUGE_DISTINCT_ALLOWANCE = ",".join(f"!={i}.0" for i in range(KB100 // 8))
HUGE_VERSION = "1." * (KB100 // 2) + "0"
HUGE_NAME = "x" * KB100


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and the schema), read-only, in a stable order."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        content = {"sqlite_master": sorted(db.execute("SELECT * FROM sqlite_master").fetchall(), key=repr)}
        for table in tables:
            content[table] = sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
        return content


class Snapshot(NamedTuple):
    digest: str
    tables: dict[str, list[tuple[Any, ...]]]

    @classmethod
    def of(cls, path: Path) -> Snapshot:
        return cls(hashlib.sha256(path.read_bytes()).hexdigest(), dump(path))


@pytest.fixture(scope="module")
def failing_server() -> Iterator[int]:
    """A loopback HTTP server answering every request with HTTP 500 and an HTML page; yields its port."""

    class AlwaysFails(http.server.BaseHTTPRequestHandler):
        def fail(self) -> None:
            body = b"<html><body>Internal Server Error</body></html>"
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = fail

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AlwaysFails)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Evaluation data files, good and bad, outside each case's ``tmp_path`` (which must stay empty)."""
    folder = tmp_path_factory.mktemp("evaluation-data")
    rows = "\n".join(f"{i},{i * 2},{i % 2}" for i in range(10))
    (folder / "good.csv").write_text(f"a,b,y\n{rows}\n")
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("a,b,y\n")
    (folder / "one-class.csv").write_text("a,b,y\n1,2,0\n3,4,0\n")
    (folder / "gaps.csv").write_text("a,b,y\n1,2,0\n3,4,\n")
    (folder / "only-target.csv").write_text("y\n0\n1\n")
    (folder / "data.txt").write_text("a,b,y\n1,2,0\n")
    (folder / "broken.parquet").write_bytes(b"not parquet at all")
    return folder


def _placeholders(tmp_path: Path, failing_port: int, data: Path | None = None) -> dict[str, str]:
    return {
        "{data}": str(data or tmp_path),
        "{tmp}": str(tmp_path),
        "{free}": str(free_port()),
        "{err500}": str(failing_port),
    }


def _fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


# SQL Server: a backend MLflow supports whose driver (pyodbc) no extra of ours installs; PostgreSQL's is
# installed for the concurrency test.
_NO_DRIVER = pytest.mark.skipif(
    importlib.util.find_spec("pyodbc") is not None,
    reason="a SQL Server driver is installed: MLflow would try to connect instead",
)


def case(
    *args: str, code: int = 2, says: str = "", id: str, env: Mapping[str, str] | None = None, marks: Any = ()
) -> Any:
    """One command line; ``says`` is a fragment its one stderr line must contain."""
    return pytest.param(list(args), code, says, dict(env or {}), id=id, marks=marks)


def _usage(message: str, command: str = "") -> str:
    return f"{message} (see mlflow-allowance{' ' + command if command else ''} --help)"


# The command-line corpus ------------------------------------------------------------------------------------

ALLOWANCES = [
    case("set", "prod", "<=abc", says="Invalid allowance '<=abc': expected", id="allowance-word"),
    case("set", "prod", ">=3,<2", says="no version can satisfy", id="allowance-unsatisfiable"),
    case("set", "prod", "==1.0,==2.0", says="no version can satisfy", id="allowance-two-pins"),
    case("set", "prod", "", says="Invalid allowance '': it is empty", id="allowance-empty"),
    case("set", "prod", "   ", says="it is empty", id="allowance-blank"),
    case("set", "prod", "==", says="Invalid allowance '=='", id="allowance-operator-only"),
    case("set", "prod", ">>1", says="Invalid allowance '>>1'", id="allowance-double-operator"),
    case("set", "prod", "<=1.0,", says="Invalid allowance '<=1.0,'", id="allowance-trailing-comma"),
    case("set", "prod", ",", says="Invalid allowance ','", id="allowance-comma-only"),
    case("set", "prod", "<=1.0;>=2", says="Invalid allowance '<=1.0;>=2'", id="allowance-semicolon"),
    case("set", "prod", "<=1.0 || >=2", says="Invalid allowance", id="allowance-npm-or"),
    case("set", "prod", "^1.0", says="Invalid allowance '^1.0'", id="allowance-caret"),
    case("set", "prod", "1.x", says="Invalid allowance '1.x'", id="allowance-x-wildcard"),
    case("set", "prod", "~=1", says="Invalid allowance '~=1'", id="allowance-compatible-one-part"),
    case("set", "prod", "==1.*.0", says="Invalid allowance '==1.*.0'", id="allowance-inner-star"),
    case("set", "prod", "!=*", says="Invalid allowance '!=*'", id="allowance-not-any"),
    case("set", "prod", "<=1.0+local", says="Invalid allowance '<=1.0+local'", id="allowance-local-order"),
    case("set", "prod", "<=٣", says="Invalid allowance '<=٣'", id="allowance-arabic-digit"),
    case("set", "prod", "<=1_0", says="Invalid allowance '<=1_0'", id="allowance-underscore"),
    case("set", "prod", "true", says="Invalid allowance 'true'", id="allowance-true"),
    case("set", "prod", "latest", says="Invalid allowance 'latest'", id="allowance-latest"),
    case("set", "prod", "<=1.0\x00", says="Invalid allowance '<=1.0\\x00'", id="allowance-nul"),
    case("set", "prod", "<=1.0\n>=0.5", says="Invalid allowance '<=1.0\\n>=0.5'", id="allowance-newline"),
    case("set", "prod", HUGE_ALLOWANCE, says="chars): longer than 1000", id="allowance-100kb-repeated"),
    case("set", "prod", HUGE_DISTINCT_ALLOWANCE, says="chars): longer than", id="allowance-100kb-distinct"),
    case("set", "prod", "<=" + "1" * KB100, says="longer than 1000", id="allowance-100kb-number"),
    case("set", "prod", ",".join(["<=9.0"] * 167), says="longer than 1000", id="allowance-1001-chars"),
    case("set", "prod", "<=abc", "-m", "AImodel", says="Invalid allowance", id="allowance-override"),
]

VERSIONS = [
    case(
        "tag-version",
        "-m",
        "AImodel",
        "٣",
        "1.0",
        says="Invalid registry version '٣'",
        id="registry-arabic-3",
    ),
    case(
        "tag-version", "-m", "AImodel", "1_0", "1.0", says="Invalid registry version '1_0'", id="registry-1_0"
    ),
    case(
        "tag-version", "-m", "AImodel", "1.9", "1.0", says="Invalid registry version '1.9'", id="registry-1.9"
    ),
    case(
        "tag-version",
        "-m",
        "AImodel",
        "True",
        "1.0",
        says="Invalid registry version 'True'",
        id="registry-true",
    ),
    case("tag-version", "-m", "AImodel", "0", "1.0", says="Invalid registry version '0'", id="registry-zero"),
    case(
        "tag-version", "-m", "AImodel", "+1", "1.0", says="Invalid registry version '+1'", id="registry-plus"
    ),
    case(
        "tag-version", "-m", "AImodel", "1e3", "1.0", says="Invalid registry version '1e3'", id="registry-exp"
    ),
    case(
        "tag-version", "-m", "AImodel", "0x1", "1.0", says="Invalid registry version '0x1'", id="registry-hex"
    ),
    case(
        "tag-version",
        "-m",
        "AImodel",
        "\uff11",
        "1.0",
        says="Invalid registry version '\uff11'",
        id="registry-fullwidth",
    ),
    case(
        "tag-version",
        "-m",
        "AImodel",
        "²",
        "1.0",
        says="Invalid registry version '²'",
        id="registry-superscript",
    ),
    case("tag-version", "-m", "AImodel", "", "1.0", says="Invalid registry version ''", id="registry-empty"),
    case("tag-version", "-m", "AImodel", "9" * 30, "1.0", id="registry-huge"),
    case("tag-version", "-m", "AImodel", "9223372036854775808", "1.0", id="registry-int64-overflow"),
    case("tag-version", "-m", "AImodel", "99", "1.0", says="not found", id="registry-unknown"),
    case(
        "tag-version",
        "-m",
        "AImodel",
        "-1",
        "1.0",
        says=_usage("No such option: -1", "tag-version"),
        id="registry-neg",
    ),
    case("tag-version", "-m", "AImodel", "4", "abc", says="Invalid version 'abc'", id="semver-word"),
    case("tag-version", "-m", "AImodel", "4", "٣.0", says="Invalid version '٣.0'", id="semver-arabic"),
    case("tag-version", "-m", "AImodel", "4", "1_0", says="Invalid version '1_0'", id="semver-underscore"),
    case("tag-version", "-m", "AImodel", "4", "True", says="Invalid version 'True'", id="semver-true"),
    case("tag-version", "-m", "AImodel", "4", "1.9.x", says="Invalid version '1.9.x'", id="semver-x"),
    case("tag-version", "-m", "AImodel", "4", "1..0", says="Invalid version '1..0'", id="semver-double-dot"),
    case("tag-version", "-m", "AImodel", "4", "", says="Invalid version ''", id="semver-empty"),
    case("tag-version", "-m", "AImodel", "4", "v", says="Invalid version 'v'", id="semver-v"),
    case("tag-version", "-m", "AImodel", "4", HUGE_VERSION, says="chars): longer than", id="semver-100kb"),
    case("tag-version", "-m", "Nope", "1", "1.0", says="not found", id="tag-version-unknown-model"),
]

ENVIRONMENTS = [
    case("get", "", says="Invalid environment '': expected a name", id="env-empty"),
    case("get", "   ", says="Invalid environment '   '", id="env-blank"),
    case("get", "latest", says="'latest' is reserved", id="env-latest"),
    case("set", "LATEST", "<=1.0", says="'latest' is reserved", id="env-latest-upper"),
    case("get", "v3", says="'v3' is reserved", id="env-v3"),
    case("promote", "V12", "-m", "AImodel", says="'v12' is reserved", id="env-v12-upper"),
    case("get", "v٣", says="is reserved", id="env-v-arabic-digit"),
    case("get", "pr od", says="Invalid environment 'pr od': only letters", id="env-space"),
    case("set", "prod!", "<=1.0", says="only letters", id="env-bang"),
    case("get", "prod/x", says="only letters", id="env-slash"),
    case("get", "prod.x", says="only letters", id="env-dot"),
    case("get", "@prod", says="only letters", id="env-at"),
    case("get", "pr\nod", says="only letters", id="env-newline-inside"),
    case("get", "\x00", says="only letters", id="env-nul"),
    case("get", "😀", says="only letters", id="env-emoji"),
    case("get", "pro\u200bd", says="only letters", id="env-zero-width-space"),
    case("get", "\u202eprod", says="only letters", id="env-rtl-override"),
    case("get", "e\u0301te", says="only letters", id="env-combining-accent"),
    case("get", "a'b", says="only letters", id="env-quote"),
    case("get", "x' OR name LIKE '%", says="only letters", id="env-filter-injection"),
    case("get", "x" * 221, says="longer than 220 characters", id="env-221-chars"),
    case("set", "x" * 251, "<=1.0", says="longer than 220 characters", id="env-251-chars"),
    case("promote", "x" * 255, "-m", "AImodel", says="longer than 220", id="env-255-chars"),
    case("get", "é" * 300, says="(300 chars): longer than 220", id="env-300-unicode-chars"),
    case("get", HUGE_NAME, says="(100000 chars): longer than 220", id="env-100kb"),
    case("unset", "latest", says="is reserved", id="env-unset"),
    case("select", "v1", "-m", "AImodel", says="is reserved", id="env-select"),
    case("rollback", "pr od", "-m", "AImodel", says="only letters", id="env-rollback"),
    case("history", "Latest", says="is reserved", id="env-history"),
    case("check", "v0", says="is reserved", id="env-check"),
]

MODELS = [
    case("get", "prod", "-m", "", says="Invalid model name ''", id="model-empty"),
    case("get", "prod", "-m", "  ", says="Invalid model name '  '", id="model-blank"),
    case("get", "prod", "-m", " AImodel", says="leading or trailing spaces", id="model-leading-space"),
    case("set", "prod", "<=1.0", "-m", "AImodel ", says="leading or trailing", id="model-trailing-space"),
    case("get", "prod", "-m", "AI\tmodel", says="control characters", id="model-tab"),
    case("select", "prod", "-m", "AI\nmodel", says="control characters", id="model-newline"),
    case("get", "prod", "-m", "AI\x00model", says="control characters", id="model-nul"),
    case("get", "prod", "-m", "a/b", says="cannot contain '/' or ':'", id="model-slash"),
    case("tag-version", "-m", "a:b", "1", "1.0", says="cannot contain '/' or ':'", id="model-colon"),
    case("get", "prod", "-m", "x" * 257, says="longer than 256 characters", id="model-257-chars"),
    case("select", "prod", "-m", HUGE_NAME, says="(100000 chars): longer than 256", id="model-100kb"),
    case("get", "prod", "-m", "Nope", says="registered model 'Nope' does not exist", id="model-unknown"),
    case("get", "prod", "-m", "aimodel", says="'aimodel' does not exist", id="model-other-case"),
    case("select", "prod", "-m", "AImodel%", says="'AImodel%' does not exist", id="model-like-percent"),
    case("select", "prod", "-m", "AImode_", says="'AImode_' does not exist", id="model-like-underscore"),
    case("promote", "prod", "-m", "x' OR name LIKE '%", says="does not exist", id="model-filter-injection"),
    case(
        "promote", "prod", "-m", "AImodel", "-m", "Nope", says="'Nope' does not exist", id="model-one-of-two"
    ),
    case("unset", "prod", "-m", "Nope", says="'Nope' does not exist", id="model-unset-unknown"),
    case("list", "-m", "Nope", says="'Nope' does not exist", id="model-list-unknown"),
    case("rollback", "prod", "-m", "Nope", says="'Nope' does not exist", id="model-rollback-unknown"),
    case("check", "-m", "Nope", says="'Nope' does not exist", id="model-check-unknown"),
    case("check", "-m", "AImodel", "-m", " x", says="Invalid model name ' x'", id="model-check-invalid"),
]

SELECTION_OPTIONS = [
    case(
        "select", "prod", "-m", "AImodel", "--metric", "nope", code=1, says="no eligible", id="metric-missing"
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--metric",
        "nope",
        code=1,
        says="no eligible",
        id="promote-metric",
    ),
    case(
        "select", "prod", "-m", "AImodel", "--minimize", says="minimizing needs a metric", id="minimize-alone"
    ),
    case(
        "select", "prod", "-m", "AImodel", "--require-tag", "validated", says="KEY=VALUE", id="tag-no-equals"
    ),
    case(
        "select",
        "prod",
        "-m",
        "AImodel",
        "--require-tag",
        "=x",
        says="Invalid --require-tag '=x'",
        id="tag-no-key",
    ),
    case("select", "prod", "-m", "AImodel", "--require-tag", " =x", says="KEY=VALUE", id="tag-blank-key"),
    case("promote", "prod", "-m", "AImodel", "--require-tag", "", says="KEY=VALUE", id="tag-empty"),
    case("promote", "prod", "-m", "AImodel", "--require-tag", "=", says="KEY=VALUE", id="tag-equals-only"),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--require-tag",
        "x" * KB100,
        says="(100000 chars)",
        id="tag-100kb",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--stage",
        "Archived",
        says="Invalid stage 'Archived'",
        id="stage-archived",
    ),
    case("promote", "prod", "-m", "AImodel", "--stage", "None", says="Invalid stage 'None'", id="stage-none"),
    case("promote", "prod", "-m", "AImodel", "--stage", "", says="Invalid stage ''", id="stage-empty"),
    case("promote", "prod", "-m", "AImodel", "--stage", "Live", says="Invalid stage 'Live'", id="stage-live"),
    case(
        "promote", "prod", "-m", "AImodel", "--stage", "Production2", says="Invalid stage", id="stage-suffix"
    ),
    case("rollback", "prod", "-m", "Other", code=1, says="nothing to roll back", id="rollback-nothing"),
]

LIMITS = [
    case("history", "--limit", "-1", says="Invalid value for '--limit'", id="limit-negative"),
    case("history", "--limit=-5", says="Invalid value for '--limit'", id="limit-negative-equals"),
    case("history", "--limit", "abc", says="Invalid value for '--limit'", id="limit-word"),
    case("history", "--limit", "1.5", says="Invalid value for '--limit'", id="limit-fraction"),
    case("history", "--limit", "", says="Invalid value for '--limit'", id="limit-empty"),
    case("history", "--limit", says="requires an argument", id="limit-missing-value"),
]

TRACKING_URIS = [
    case("--tracking-uri", "", "get", "prod", says="Invalid tracking URI '': expected", id="uri-empty"),
    case("--registry-uri", "", "get", "prod", says="Invalid registry URI ''", id="registry-uri-empty"),
    case(
        "--tracking-uri",
        "sqlite:///{tmp}/missing/x.db",
        "get",
        "prod",
        says="/missing' does not exist; create it first",
        id="uri-sqlite-missing-dir",
    ),
    case(
        "--tracking-uri",
        "sqlite:///nested/missing/x.db",
        "set",
        "prod",
        "<=1.0",
        says="/nested/missing' does not exist",
        id="uri-sqlite-relative-missing-dir",
    ),
    case(
        "--registry-uri",
        "sqlite:///{tmp}/missing/r.db",
        "get",
        "prod",
        says="Invalid registry URI",
        id="registry-uri-sqlite-missing-dir",
    ),
    case(
        "get",
        "prod",
        "--tracking-uri",
        "sqlite:///{tmp}/missing/x.db",
        says="/missing' does not exist; create it first",
        id="uri-after-command-sqlite-missing-dir",
    ),
    case(
        "get",
        "prod",
        "--registry-uri",
        "",
        says="Invalid registry URI ''",
        id="registry-uri-after-command-empty",
    ),
    case(
        "get",
        "prod",
        env={"MLFLOW_TRACKING_URI": "sqlite:///{tmp}/missing/env.db"},
        says="does not exist; create it first",
        id="uri-env-sqlite-missing-dir",
    ),
    case(
        "--tracking-uri", "sqlite:///{tmp}", "get", "prod", says="is a directory", id="uri-sqlite-directory"
    ),
    case("--tracking-uri", "http://[::1", "get", "prod", says="Invalid IPv6 URL", id="uri-bad-ipv6"),
    case("--tracking-uri", "http://host:99999", "get", "prod", says="Port out of range", id="uri-bad-port"),
    case("--tracking-uri", "http://", "get", "prod", says="expected a host", id="uri-no-host"),
    case(
        "--tracking-uri", "foo://x", "get", "prod", says="unsupported URI 'foo://x'", id="uri-unknown-scheme"
    ),
    case(
        "--tracking-uri",
        f"http://alice:{PASSWORD}@127.0.0.1:{{free}}/",
        "get",
        "prod",
        says="MLflow is unreachable while reading workspace allowances: http://alice:***@127.0.0.1:",
        id="uri-unreachable-password",
    ),
    case(
        "--tracking-uri",
        f"http://127.0.0.1:{{free}}/?token={TOKEN}&x=1",
        "select",
        "prod",
        "-m",
        "AImodel",
        says="/?token=***&x=1 refused the connection",
        id="uri-unreachable-token",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--tracking-uri",
        f"http://alice:{PASSWORD}@127.0.0.1:{{free}}",
        "--retries",
        "1",
        says="http://alice:***@127.0.0.1:",
        id="uri-after-command-unreachable-password",
    ),
    case(
        "--debug",
        "--tracking-uri",
        f"http://alice:{PASSWORD}@127.0.0.1:{{free}}/?access_token={TOKEN}",
        "get",
        "prod",
        says="MLflow is unreachable",
        id="uri-unreachable-debug",
    ),
    case(
        "--tracking-uri",
        f"http://alice:{PASSWORD}@127.0.0.1:{{err500}}/?token={TOKEN}",
        "get",
        "prod",
        says="MLflow server error (HTTP 500) while reading workspace allowances",
        id="uri-server-error",
    ),
    case(
        "--tracking-uri",
        f"mssql://alice:{PASSWORD}@127.0.0.1:{{free}}/mlflow",
        "get",
        "prod",
        says="install the package MLflow needs",
        id="uri-missing-driver",
        marks=_NO_DRIVER,
    ),
]

OPTION_MISUSE = [
    case("nope", says=_usage("No such command 'nope'."), id="unknown-command"),
    case("GET", "prod", says="No such command 'GET'", id="command-upper-case"),
    case(
        HUGE_NAME,
        says="...xxxxxxxx'. (100003 chars) (see mlflow-allowance --help)",
        id="unknown-command-100kb",
    ),
    case("get", says=_usage("Missing argument 'ENV'.", "get"), id="missing-env"),
    case("set", "prod", says=_usage("Missing argument 'SPEC'.", "set"), id="missing-spec"),
    case("select", "prod", says="Missing option '--model' / '-m'", id="missing-model-option"),
    case("promote", "prod", "-m", says="Option '-m' requires an argument", id="model-option-without-value"),
    case("tag-version", "-m", "AImodel", "4", says="Missing argument 'SEMVER'", id="missing-semver"),
    case("get", "prod", "extra", says="Got unexpected extra argument(s) (extra)", id="extra-argument"),
    case("history", "prod", "extra", says="unexpected extra argument", id="history-extra-argument"),
    case(
        "get", "prod", "--frobnicate", says=_usage("No such option: --frobnicate", "get"), id="unknown-option"
    ),
    case("get", "prod", "-x", says="No such option: -x", id="unknown-short-option"),
    case("--frobnicate", "get", "prod", says="No such option: --frobnicate", id="unknown-global-option"),
    case("get", "prod", "--json=yes", says="Option '--json' does not take a value", id="flag-with-value"),
    case("--debug=maybe", "get", "prod", says="does not take a value", id="global-flag-with-value"),
    case("--tracking-uri", says="Option '--tracking-uri' requires an argument", id="global-option-no-value"),
    case(
        "set", "prod", "<=1.0", "--reason", says="'--reason' requires an argument", id="reason-without-value"
    ),
    case(
        "get", "prod", "--" + "x" * KB100, says="chars) (see mlflow-allowance get --help)", id="option-100kb"
    ),
]

_EVAL = ("evaluate", "prod", "-m", "AImodel")
DATASETS = [
    case(
        *_EVAL,
        "--data",
        "{data}/missing.csv",
        "--target",
        "y",
        says="cannot read data file",
        id="data-missing",
    ),
    case(*_EVAL, "--data", "{data}/empty.csv", "--target", "y", says="has no rows", id="data-empty-file"),
    case(*_EVAL, "--data", "{data}/header.csv", "--target", "y", says="has no rows", id="data-header-only"),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "z",
        says="has no target column 'z'",
        id="data-no-target",
    ),
    case(*_EVAL, "--data", "{data}/one-class.csv", "--target", "y", says="single class", id="data-one-class"),
    case(
        *_EVAL, "--data", "{data}/gaps.csv", "--target", "y", says="1 missing values", id="data-target-gaps"
    ),
    case(
        *_EVAL, "--data", "{data}/only-target.csv", "--target", "y", says="no feature columns", id="data-no-x"
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/data.txt",
        "--target",
        "y",
        says="expected a .csv or .parquet",
        id="data-txt",
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/broken.parquet",
        "--target",
        "y",
        says="cannot read data file",
        id="data-parquet",
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--metric",
        "rmse",
        says="Invalid metric 'rmse': MLflow's classifier evaluator logs",
        id="data-metric-of-other-type",
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--model-type",
        "tree",
        says="Invalid model type 'tree'",
        id="data-model-type",
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--dataset",
        "wine/holdout",
        says="Invalid dataset name 'wine/holdout'",
        id="data-dataset-name",
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--dataset",
        "wine@0a64f9dd",
        says="Invalid dataset 'wine@0a64f9dd': the data in ",
        id="data-dataset-digest-mismatch",
    ),
    case(
        *_EVAL, "--data", "{data}/good.csv", "--target", "y", "--jobs", "0", says="--jobs", id="data-jobs-0"
    ),
    case(*_EVAL, "--target", "y", says="Missing option '--data'", id="data-no-data"),
    case(
        "evaluate", "prod", "--data", "{data}/good.csv", "--target", "y", says="'--model'", id="data-no-model"
    ),
    case(
        *_EVAL,
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--model",
        "Nope",
        says="Nope",
        id="data-unknown-model",
    ),
    case(
        "select",
        "prod",
        "-m",
        "AImodel",
        "--dataset",
        "wine",
        says="a dataset needs a metric to judge by: name one, e.g. F1 on wine (use --metric M)",
        id="ds-no-metric",
    ),
    case(
        "select",
        "prod",
        "-m",
        "AImodel",
        "--metric",
        "F1",
        "--dataset",
        "wine@zz-zz",
        says="Invalid dataset digest 'zz-zz'",
        id="ds-bad-digest",
    ),
    case(
        "select",
        "prod",
        "-m",
        "AImodel",
        "--metric",
        "F1",
        "--dataset",
        "unknown",
        says="no dataset 'unknown' has been evaluated",
        id="ds-unknown-name",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--metric",
        "F1",
        "--dataset",
        "unknown",
        says="no dataset 'unknown' has been evaluated",
        id="ds-promote-unknown-name",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--evaluate",
        "--metric",
        "F1",
        says="--evaluate needs --data",
        id="ds-evaluate-no-data",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        says="go with --evaluate",
        id="ds-data-without-evaluate",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--evaluate",
        "--data",
        "{data}/good.csv",
        "--target",
        "y",
        "--metric",
        "F1",
        "--dataset",
        "a@b",
        says="Invalid dataset 'a@b'",
        id="ds-evaluate-pinned",
    ),
    case(
        "promote",
        "prod",
        "-m",
        "AImodel",
        "--evaluate",
        "--data",
        "{data}/one-class.csv",
        "--target",
        "y",
        "--metric",
        "F1",
        says="single class",
        id="ds-evaluate-bad-data",
    ),
    case("check", "--fix", "--dataset", "bad name!", says="Invalid dataset name", id="ds-check-name"),
]

CLI_CORPUS = [
    *ALLOWANCES,
    *DATASETS,
    *VERSIONS,
    *ENVIRONMENTS,
    *MODELS,
    *SELECTION_OPTIONS,
    *LIMITS,
    *TRACKING_URIS,
    *OPTION_MISUSE,
]


@pytest.mark.parametrize(("args", "code", "says", "env"), CLI_CORPUS)
def test_cli_rejects_with_one_line_and_writes_nothing(
    cli: Cli,
    promoted_store: Store,
    tmp_path: Path,
    failing_server: int,
    data_dir: Path,
    args: list[str],
    code: int,
    says: str,
    env: dict[str, str],
) -> None:
    values = _placeholders(tmp_path, failing_server, data_dir)
    before = Snapshot.of(promoted_store.path)
    result = cli(*[_fill(arg, values) for arg in args], env={k: _fill(v, values) for k, v in env.items()})
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    if "--debug" in args:
        # --debug adds the traceback, redacted too; the last line is still the one-line error.
        assert lines[0] == "Traceback (most recent call last):"
        lines = lines[-1:]
    else:
        assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert says in lines[0], lines[0]
    assert len(lines[0]) <= LINE_LIMIT, lines[0][:300]
    assert not any(secret in result.stderr for secret in SECRETS), result.stderr
    assert Snapshot.of(promoted_store.path) == before
    # MLflow 2.x's sqlite store creates its default artifact root, ./mlruns, empty, whenever it is opened.
    written = [path for path in tmp_path.rglob("*") if not (path.is_dir() and path.name == "mlruns")]
    assert written == [], "nothing written next to the store, not even an empty database"


# The API corpus ---------------------------------------------------------------------------------------------

Call = Callable[[AllowanceClient], object]


def api(call: Call, error: type[Exception], *, code: int | None = 2, says: str = "", id: str) -> Any:
    """One API call, the error it must raise (its ``exit_code``; None for a ``TypeError``), a fragment."""
    return pytest.param(call, error, code, says, id=id)


API_CORPUS = [
    api(lambda c: c.set_allowance("prod", "<=abc"), InvalidAllowanceError, says="'<=abc'", id="set-word"),
    api(lambda c: c.set_allowance("prod", ">=3,<2"), InvalidAllowanceError, id="set-unsatisfiable"),
    api(lambda c: c.set_allowance("prod", ""), InvalidAllowanceError, says="empty", id="set-empty"),
    api(lambda c: c.set_allowance("prod", None), InvalidAllowanceError, id="set-none"),  # type: ignore[arg-type]
    api(lambda c: c.set_allowance("prod", 1.0), InvalidAllowanceError, id="set-float"),  # type: ignore[arg-type]
    api(
        lambda c: c.set_allowance("prod", HUGE_ALLOWANCE),
        InvalidAllowanceError,
        says="longer",
        id="set-100kb",
    ),
    api(
        lambda c: c.set_allowance("prod", HUGE_DISTINCT_ALLOWANCE),
        InvalidAllowanceError,
        id="set-100kb-distinct",
    ),
    api(lambda c: c.set_allowance("latest", "<=1.0"), InvalidEnvironmentError, id="set-env-latest"),
    api(lambda c: c.set_allowance("x" * 221, "<=1.0"), InvalidEnvironmentError, says="220", id="set-env-221"),
    api(lambda c: c.set_allowance("prod", "<=1.0", model="Nope"), NotFoundError, id="set-unknown-model"),
    api(lambda c: c.set_allowance("prod", "<=1.0", model="a/b"), InvalidModelNameError, id="set-model-slash"),
    api(lambda c: c.set_allowance("prod", "<=1.0", wait=-1), InputError, says="wait", id="set-negative-wait"),
    api(lambda c: c.unset_allowance("v3"), InvalidEnvironmentError, id="unset-env-v3"),
    api(lambda c: c.unset_allowance("prod", model="Nope"), NotFoundError, id="unset-unknown-model"),
    api(lambda c: c.get_allowance(""), InvalidEnvironmentError, id="get-env-empty"),
    api(lambda c: c.get_allowance(None), InvalidEnvironmentError, id="get-env-none"),  # type: ignore[arg-type]
    api(lambda c: c.get_allowance(3), InvalidEnvironmentError, id="get-env-int"),  # type: ignore[arg-type]
    api(
        lambda c: c.get_allowance(HUGE_NAME), InvalidEnvironmentError, says="100000 chars", id="get-env-100kb"
    ),
    api(lambda c: c.get_allowance("prod", model=HUGE_NAME), InvalidModelNameError, id="get-model-100kb"),
    api(lambda c: c.get_allowance("prod", model="x" * 257), InvalidModelNameError, id="get-model-257"),
    api(lambda c: c.list_allowances(model="Nope"), NotFoundError, id="list-unknown-model"),
    api(lambda c: c.list_allowances(model=" x"), InvalidModelNameError, id="list-model-space"),
    api(lambda c: c.select("prod", []), InputError, says="no model given", id="select-no-models"),
    api(lambda c: c.select("prod", None), TypeError, code=None, id="select-none"),  # type: ignore[arg-type]
    api(lambda c: c.select("prod", {"AImodel": 1}), TypeError, code=None, id="select-dict"),  # type: ignore[arg-type]
    api(lambda c: c.select("prod", "Nope"), NotFoundError, id="select-unknown-model"),
    api(lambda c: c.select("prod", ["AImodel", "Nope"]), NotFoundError, id="select-one-unknown"),
    api(lambda c: c.select("prod", "AImodel", metric=3), TypeError, code=None, id="select-metric-int"),  # type: ignore[arg-type]
    api(
        lambda c: c.select("prod", "AImodel", required_tags=["a"]),  # type: ignore[arg-type]
        TypeError,
        code=None,
        id="select-tags-list",
    ),
    api(
        lambda c: c.select("prod", "AImodel", required_tags={"a": 1}),  # type: ignore[dict-item]
        InputError,
        id="select-tag-value-int",
    ),
    api(
        lambda c: c.select("prod", SelectionRequest("AImodel"), metric="F1"),
        InputError,
        says="not both",
        id="select-request-and-options",
    ),
    api(lambda c: c.select("v٣", "AImodel"), InvalidEnvironmentError, id="select-env-v-arabic"),
    api(
        lambda c: c.promote("prod", "AImodel", stage="Archived"),
        InputError,
        says="'Archived'",
        id="promote-archived",
    ),
    api(lambda c: c.promote("prod", "AImodel", stage="None"), InputError, id="promote-stage-none"),
    api(lambda c: c.promote("prod", "AImodel", stage=""), InputError, id="promote-stage-empty"),
    api(lambda c: c.promote("prod", "AImodel", stage=3), InputError, id="promote-stage-int"),  # type: ignore[arg-type]
    api(lambda c: c.promote("latest", "AImodel"), InvalidEnvironmentError, id="promote-env-latest"),
    api(lambda c: c.promote("prod", "Nope"), NotFoundError, id="promote-unknown-model"),
    api(
        lambda c: c.promote("prod", "AImodel", metric="nope"),
        NoEligibleCandidateError,
        code=1,
        id="promote-metric",
    ),
    api(lambda c: c.promote("prod", "AImodel", wait=-1), InputError, id="promote-negative-wait"),
    api(lambda c: c.rollback("prod", None), InvalidModelNameError, id="rollback-model-none"),  # type: ignore[arg-type]
    api(lambda c: c.rollback("prod", "Nope"), NotFoundError, id="rollback-unknown-model"),
    api(lambda c: c.rollback("prod", "Other"), RollbackRefusedError, code=1, id="rollback-nothing"),
    api(lambda c: c.rollback("pr od", "AImodel"), InvalidEnvironmentError, id="rollback-env-space"),
    api(lambda c: c.check("v1"), InvalidEnvironmentError, id="check-env-v1"),
    api(lambda c: c.check(None, "Nope"), NotFoundError, id="check-unknown-model"),
    api(lambda c: c.check(None, 3), TypeError, code=None, id="check-models-int"),  # type: ignore[arg-type]
    api(lambda c: c.history("prod", limit=-1), InputError, says="limit", id="history-negative-limit"),
    api(lambda c: c.history("prod", limit=True), InputError, id="history-limit-true"),
    api(lambda c: c.history("latest"), InvalidEnvironmentError, id="history-env-latest"),
    api(lambda c: c.set_version("AImodel", True, "1.0"), InputError, says="True", id="set-version-true"),
    api(lambda c: c.set_version("AImodel", 1.9, "1.0"), InputError, id="set-version-float"),  # type: ignore[arg-type]
    api(lambda c: c.set_version("AImodel", "٣", "1.0"), InputError, says="'٣'", id="set-version-arabic"),
    api(lambda c: c.set_version("AImodel", "1_0", "1.0"), InputError, id="set-version-underscore"),
    api(lambda c: c.set_version("AImodel", 0, "1.0"), InputError, id="set-version-zero"),
    api(lambda c: c.set_version("AImodel", -1, "1.0"), InputError, id="set-version-negative"),
    api(lambda c: c.set_version("AImodel", 10**30, "1.0"), AllowanceError, id="set-version-huge"),
    api(lambda c: c.set_version("AImodel", 99, "1.0"), NotFoundError, id="set-version-unknown"),
    api(lambda c: c.set_version("AImodel", 4, "abc"), InvalidVersionError, id="set-version-bad-semver"),
    api(lambda c: c.set_version("AImodel", 4, HUGE_VERSION), InvalidVersionError, id="set-version-100kb"),
    api(lambda c: c.set_version("AImodel", 4, "٣.0"), InvalidVersionError, id="set-version-arabic-semver"),
    api(lambda c: c.get_version("AImodel", "1.9"), InputError, id="get-version-text-float"),
    api(lambda c: c.get_version("AImodel", 2**63), AllowanceError, id="get-version-int64-overflow"),
    api(lambda c: c.get_version("Nope", 1), NotFoundError, id="get-version-unknown-model"),
    api(
        lambda c: c.register_model("runs:/x/model", "AImodel", bump="huge"),  # type: ignore[arg-type]
        InputError,
        says="'huge'",
        id="register-bad-bump",
    ),
    api(
        lambda c: c.register_model("runs:/x/model", "AImodel", semver="1.0", bump="minor"),
        InputError,
        says="exactly one",
        id="register-semver-and-bump",
    ),
    api(lambda c: c.register_model("runs:/x/model", "AImodel"), InputError, id="register-neither"),
    api(
        lambda c: c.register_model("runs:/x/model", "a:b", semver="1.0"),
        InvalidModelNameError,
        id="register-name",
    ),
    api(
        lambda c: c.register_model("runs:/x/model", "AImodel", semver="1_0"),
        InvalidVersionError,
        id="register-bad-semver",
    ),
]


@pytest.mark.parametrize(("call", "error", "code", "says"), API_CORPUS)
def test_api_rejects_with_one_line_and_writes_nothing(
    promoted_store: Store,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    call: Call,
    error: type[Exception],
    code: int | None,
    says: str,
) -> None:
    client = AllowanceClient(promoted_store.uri, promoted_store.uri)
    before = Snapshot.of(promoted_store.path)
    capfd.readouterr()
    with pytest.raises(error) as raised:
        call(client)
    _assert_one_line(raised.value, code, says)
    assert capfd.readouterr() == ("", ""), "the API prints nothing"
    assert Snapshot.of(promoted_store.path) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("tracking_uri", "says"),
    [
        pytest.param("", "Invalid tracking URI ''", id="empty"),
        pytest.param(
            "sqlite:///{tmp}/missing/x.db", "does not exist; create it first", id="sqlite-missing-dir"
        ),
        pytest.param("sqlite:///{tmp}", "is a directory", id="sqlite-directory"),
        pytest.param("http://[::1", "Invalid IPv6 URL", id="bad-ipv6"),
        pytest.param(
            f"https://alice:{PASSWORD}@host:0x50/", "Invalid tracking URI 'https://alice:***@", id="bad-port"
        ),
    ],
)
def test_api_rejects_a_bad_tracking_uri_before_mlflow_creates_anything(
    promoted_store: Store, tmp_path: Path, tracking_uri: str, says: str
) -> None:
    before = Snapshot.of(promoted_store.path)
    with pytest.raises(InputError) as raised:
        AllowanceClient(tracking_uri.replace("{tmp}", str(tmp_path)))
    _assert_one_line(raised.value, 2, says)
    assert Snapshot.of(promoted_store.path) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("port", "error", "says"),
    [
        pytest.param("free", RegistryUnavailableError, "MLflow is unreachable while", id="unreachable"),
        pytest.param("err500", RegistryError, "MLflow server error (HTTP 500) while", id="http-500"),
    ],
)
def test_api_errors_of_a_server_name_no_secret(
    failing_server: int, port: str, error: type[RegistryError], says: str
) -> None:
    number = failing_server if port == "err500" else free_port()
    client = AllowanceClient(f"http://alice:{PASSWORD}@127.0.0.1:{number}/?token={TOKEN}")
    with pytest.raises(error) as raised:
        client.get_allowance("prod")
    _assert_one_line(raised.value, 2, says)
    assert type(raised.value) is error  # a server error is not reported as "unreachable", nor the reverse


def _assert_one_line(exc: BaseException, code: int | None, says: str) -> None:
    message = str(exc)
    assert message, type(exc)
    assert "\n" not in message, message
    assert "Traceback" not in message, message
    assert says in message, message
    assert len(message) <= LINE_LIMIT, message[:300]
    assert not any(secret in message for secret in SECRETS), message
    if code is not None:
        assert isinstance(exc, AllowanceError)
        assert exc.exit_code == code


def test_the_corpus_has_at_least_100_command_lines_and_50_api_calls() -> None:
    assert (len(CLI_CORPUS) >= 100, len(API_CORPUS) >= 50) == (True, True)
