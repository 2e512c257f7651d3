"""Examples for what error messages may contain: secrets redacted, names within MLflow's limits."""

from __future__ import annotations

import re

import pytest

from mlflow_allowance import InvalidEnvironmentError, InvalidModelNameError
from mlflow_allowance._environments import (
    MAX_ENVIRONMENT_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    validate_environment,
    validate_model_name,
)
from mlflow_allowance._schema import allowance_tag, lease_experiment
from mlflow_allowance.errors import redact


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
