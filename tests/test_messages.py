"""Examples for what error messages may contain: secrets redacted, names within MLflow's limits, no
command-line flag below the faces (the setting that would help is in the error's ``hints``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlflow_allowance._environments import (
    MAX_ENVIRONMENT_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    validate_environment,
    validate_model_name,
)
from mlflow_allowance._schema import allowance_tag, lease_experiment
from mlflow_allowance._uris import check_given_uris, check_store_uri, sqlite_path
from mlflow_allowance._writeahead import LEASE_SECONDS_ENV, Move, WriteAhead, now_ms
from mlflow_allowance.audit import AuditRecord
from mlflow_allowance.errors import (
    EnvironmentBusyError,
    InputError,
    InvalidEnvironmentError,
    InvalidModelNameError,
    redact,
)
from tests.fakes import InMemoryRegistry


class TestRedact:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param("http://alice:s3cr3t@host/x", "http://alice:***@host/x", id="password"),
            pytest.param("https://alice:s3cr3t@host:5000", "https://alice:***@host:5000", id="password-port"),
            pytest.param(
                "postgresql://mlflow:p@ss@db/mlflow", "postgresql://mlflow:***@db/mlflow", id="at-sign"
            ),
            pytest.param("mysql+pymysql://root:pw@db/m", "mysql+pymysql://root:***@db/m", id="driver-scheme"),
            pytest.param("http://alice:@host", "http://alice:***@host", id="empty-password"),
            pytest.param("https://h/?token=abc&x=1", "https://h/?token=***&x=1", id="token"),
            pytest.param(
                "https://h/?x=1&access_token=abc", "https://h/?x=1&access_token=***", id="access-token"
            ),
            pytest.param(
                "https://h/?password=abc#top", "https://h/?password=***#top", id="password-parameter"
            ),
            pytest.param("https://h/?client_secret=abc", "https://h/?client_secret=***", id="secret"),
            pytest.param("https://h/?API_KEY=abc", "https://h/?API_KEY=***", id="key-any-case"),
            pytest.param("https://b/c?sv=1&sig=ab%2F", "https://b/c?sv=1&sig=***", id="azure-sas"),
            pytest.param(
                "https://s3/o?X-Amz-Signature=ab", "https://s3/o?X-Amz-Signature=***", id="s3-signature"
            ),
            pytest.param("Authorization: Bearer ey.J0", "Authorization: Bearer ***", id="bearer"),
            pytest.param(
                "'http://alice:s3cr3t@127.0.0.1:9/x?token=abc/api/2.0/mlflow&experiment_name=x'",
                "'http://alice:***@127.0.0.1:9/x?token=***&experiment_name=x'",
                id="mlflow-request-url",
            ),
        ],
    )
    def test_secrets_become_stars(self, text: str, expected: str) -> None:
        assert redact(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("sqlite:////tmp/mlflow.db", id="sqlite"),
            pytest.param("http://alice@host/x", id="user-only"),
            pytest.param("http://host/?experiment_name=prod&x=1", id="other-parameters"),
            pytest.param("Invalid allowance '<=2.0': expected ...", id="message"),
            pytest.param("user:pw@host", id="no-scheme"),
        ],
    )
    def test_text_without_secrets_is_unchanged(self, text: str) -> None:
        assert redact(text) == text

    def test_is_idempotent(self) -> None:
        once = redact("http://a:b@h/?token=t")
        assert redact(once) == once

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("a." * 50_000, id="dotted"),
            pytest.param("a://u:" + "x" * 100_000, id="long-password"),
            pytest.param("&a" * 50_000, id="many-parameters"),
            pytest.param("x" * 100_000 + "://u:p@h", id="long-scheme"),
        ],
    )
    def test_is_linear_on_huge_input(self, text: str) -> None:
        # Would take minutes if a pattern backtracked quadratically; a benchmark-free smoke check.
        assert redact(text) == text.replace("://u:p@", "://u:***@")


class TestEnvironmentLength:
    def test_the_longest_name_fits_every_key_and_name_written_with_it(self) -> None:
        longest = "e" * MAX_ENVIRONMENT_LENGTH
        assert validate_environment(longest) == longest
        assert len(allowance_tag(longest)) <= 250  # MLflow's tag-key limit
        # The name column of MLflow's SQL stores (PostgreSQL and MySQL enforce it; sqlite does not).
        assert len(lease_experiment(longest, 10**12 - 1)) == 256

    @pytest.mark.parametrize("length", [MAX_ENVIRONMENT_LENGTH + 1, 251, 255, 300])
    def test_a_longer_name_is_rejected_stating_the_maximum(self, length: int) -> None:
        with pytest.raises(InvalidEnvironmentError, match=re.escape(f"({length} chars): longer than 220 ")):
            validate_environment("e" * length)

    def test_the_message_echoes_a_huge_name_cut(self) -> None:
        with pytest.raises(InvalidEnvironmentError) as raised:
            validate_environment("e" * 100_000)
        assert len(str(raised.value)) < 300


class TestModelName:
    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            pytest.param("a/b", "cannot contain '/' or ':'", id="slash"),
            pytest.param("a:b", "cannot contain '/' or ':'", id="colon"),
            pytest.param("m" * (MAX_MODEL_NAME_LENGTH + 1), "longer than 256 characters", id="too-long"),
            pytest.param("m" * 100_000, "(100000 chars): longer than 256", id="huge"),
        ],
    )
    def test_rejected_before_mlflow_is_asked(self, name: str, reason: str) -> None:
        with pytest.raises(InvalidModelNameError, match=re.escape(reason)):
            validate_model_name(name)

    def test_the_longest_name_is_accepted(self) -> None:
        name = "m" * MAX_MODEL_NAME_LENGTH
        assert validate_model_name(name) == name


class TestStoreUris:
    """URIs MLflow would act on wrongly are refused before it sees them, without importing it."""

    @pytest.mark.parametrize(
        ("tracking_uri", "registry_uri", "says"),
        [
            pytest.param(
                "", None, "Invalid tracking URI '': expected e.g. http://localhost:5000", id="empty"
            ),
            pytest.param(None, "  ", "Invalid registry URI '  ': expected e.g.", id="blank-registry"),
            pytest.param(3, None, "Invalid tracking URI 3: expected e.g.", id="not-text"),
            pytest.param("http://", None, "Invalid tracking URI 'http://': expected a host", id="no-host"),
            pytest.param(
                "http://h:99999", None, "Invalid tracking URI 'http://h:99999': Port out of", id="port"
            ),
        ],
    )
    def test_a_given_uri_that_cannot_work_is_refused(
        self, tracking_uri: object, registry_uri: object, says: str
    ) -> None:
        with pytest.raises(InputError, match=re.escape(says)):
            check_given_uris(tracking_uri, registry_uri)

    def test_a_sqlite_file_in_a_missing_directory_is_refused(self, tmp_path: Path) -> None:
        missing = tmp_path / "nowhere"
        with pytest.raises(InputError) as raised:
            check_store_uri("tracking", f"sqlite:///{missing}/mlflow.db")
        assert str(raised.value).endswith(
            f"the directory '{missing}' does not exist; create it first (MLflow would create it, and a new, "
            "empty database)"
        )
        assert not missing.exists()

    def test_a_sqlite_file_that_is_a_directory_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="is a directory, not a database file"):
            check_store_uri("registry", f"sqlite:///{tmp_path}")

    def test_a_password_in_a_refused_uri_is_not_echoed(self) -> None:
        with pytest.raises(InputError) as raised:
            check_store_uri("tracking", "https://alice:s3cr3t@")
        assert "s3cr3t" not in str(raised.value)

    @pytest.mark.parametrize(
        "uri",
        [
            pytest.param("http://localhost:5000", id="http"),
            pytest.param("sqlite:///:memory:", id="memory"),
            pytest.param("databricks", id="other-scheme"),
        ],
    )
    def test_a_usable_uri_passes(self, uri: str) -> None:
        check_store_uri("tracking", uri)

    @pytest.mark.parametrize(
        ("uri", "path"),
        [
            pytest.param("sqlite:////tmp/m.db", "/tmp/m.db", id="absolute"),
            pytest.param("sqlite:///m.db?timeout=5", "m.db", id="query"),
            pytest.param("sqlite:///:memory:", None, id="memory"),
            pytest.param("sqlite:///file:m?mode=memory&uri=true", None, id="file-uri"),
            pytest.param("sqlite://", None, id="no-path"),
        ],
    )
    def test_the_sqlite_path(self, uri: str, path: str | None) -> None:
        assert sqlite_path(uri) == path


def _pending_elsewhere(fake: InMemoryRegistry, *, age_s: float) -> None:
    """A promotion another writer recorded as pending ``age_s`` seconds ago."""
    details = {"models": ["A"], "stage": None}
    when = now_ms() - int(age_s * 1000)
    record = AuditRecord(
        "promotion", "prod", "A", None, "A/1", "bo", when, "", details, seq=1, state="pending"
    )
    fake.another_client().write_audit(record)


class TestBusyHints:
    """A busy environment says so in words and hints at what would help (the CLI renders hints as flags)."""

    def test_a_change_in_progress(self) -> None:
        fake = InMemoryRegistry()
        _pending_elsewhere(fake, age_s=1)
        with pytest.raises(EnvironmentBusyError) as raised:
            WriteAhead(fake).newest("prod")
        assert str(raised.value) == (
            "prod is being changed by bo (promotion - → A/1, 1 s ago); retry, or wait for it"
        )
        assert raised.value.hints == ("wait",)

    def test_a_number_claimed_elsewhere(self) -> None:
        fake = InMemoryRegistry()
        fake.another_client().claim("prod", 1)
        move = Move("allowance", "prod", None, None, "<=1.0", "")
        with pytest.raises(EnvironmentBusyError) as raised:
            WriteAhead(fake).write(move, None, lambda: None)
        assert re.fullmatch(
            r"prod is being changed by another writer \(change 1 was claimed \d+ s ago\); "
            "retry, or wait for it",
            str(raised.value),
        )
        assert raised.value.hints == ("wait",)

    def test_a_lease_that_ran_out_hints_at_repair(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(LEASE_SECONDS_ENV, "0.000001")  # half of it is over before the change is made
        fake = InMemoryRegistry()
        made: list[str] = []
        move = Move("allowance", "prod", None, None, "<=1.0", "")
        with pytest.raises(EnvironmentBusyError) as raised:
            WriteAhead(fake).write(move, None, lambda: made.append("change"))
        assert str(raised.value) == (
            "the lease on prod ran out before the change was made; nothing was changed, and record 1 stays "
            "pending until the next writer settles it, or a check repairs it"
        )
        assert raised.value.hints == ("fix",)
        assert made == []
