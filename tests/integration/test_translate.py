"""How MLflow's errors become the package's: a server's error is not "unreachable", no secret is echoed, and
no message names a command-line flag (what would remedy an error is in its ``hints``).

The messages are the ones MLflow 3's REST client raises (see ``mlflow.utils.rest_utils``); the loopback
servers of tests/cli/test_bad_input_corpus.py produce them for real.
"""

from __future__ import annotations

import pytest
from mlflow.exceptions import MlflowException, RestException
from mlflow.protos.databricks_pb2 import PERMISSION_DENIED

from mlflow_allowance import AllowanceError, InputError, NotFoundError
from mlflow_allowance._mlflow_errors import translated
from mlflow_allowance.errors import RegistryError, RegistryUnavailableError

pytestmark = pytest.mark.integration

URL = "http://alice:s3cr3t@127.0.0.1:5000/api/2.0/mlflow/registered-models/get"
REFUSED = (
    f"API request to {URL} failed with exception HTTPConnectionPool(host='127.0.0.1', port=5000): "
    "Max retries exceeded with url: /api/2.0/mlflow/registered-models/get?name=m "
    '(Caused by NewConnectionError("Failed to establish a new connection: [Errno 111] Connection refused"))'
)
ENDPOINT = "API request to endpoint /api/2.0/mlflow/registered-models/get"


def _rest(json: dict[str, str]) -> RestException:
    """MLflow's error for a JSON error document the server answered with."""
    return RestException(json)  # type: ignore[no-untyped-call]


def _retried(status: int) -> str:
    return (
        f"API request to {URL} failed with exception HTTPConnectionPool(host='127.0.0.1', port=5000): Max "
        "retries exceeded with url: /api/2.0/mlflow/registered-models/get?name=m (Caused by "
        f"ResponseError('too many {status} error responses'))"
    )


def _translated(exc: Exception, model: str | None = None) -> AllowanceError:
    with pytest.raises(AllowanceError) as raised, translated("reading registered model 'm'", model=model):
        raise exc
    return raised.value


@pytest.mark.parametrize(
    ("exc", "error", "start"),
    [
        pytest.param(
            MlflowException(_retried(500)),
            RegistryError,
            "MLflow server error (HTTP 500) while reading registered model 'm': ",
            id="retried-500",
        ),
        pytest.param(
            MlflowException(_retried(503)),
            RegistryError,
            "MLflow server error (HTTP 503) while ",
            id="retried-503",
        ),
        pytest.param(
            MlflowException(
                f"{ENDPOINT} failed with error code 501 != 200. Response body: '<html>not implemented</html>'"
            ),
            RegistryError,
            "MLflow server error (HTTP 501) while ",
            id="unretried-501",
        ),
        pytest.param(
            _rest({"error_code": "INTERNAL_ERROR", "message": "connection pool exhausted"}),
            RegistryError,
            "MLflow server error (HTTP 500) while reading registered model 'm': INTERNAL_ERROR: connection",
            id="json-internal-error-mentioning-connection",
        ),
        pytest.param(
            _rest({"error_code": "TEMPORARILY_UNAVAILABLE", "message": "try later"}),
            RegistryError,
            "MLflow server error (HTTP 503) while ",
            id="json-temporarily-unavailable",
        ),
        pytest.param(
            MlflowException(REFUSED),
            RegistryUnavailableError,
            "MLflow is unreachable while reading registered model 'm': ",
            id="connection-refused",
        ),
        pytest.param(
            ConnectionRefusedError(111, f"Connection refused: {URL}"),
            RegistryUnavailableError,
            "MLflow is unreachable while ",
            id="os-error",
        ),
        pytest.param(
            MlflowException(
                f"{ENDPOINT} failed with error code 403 != 200. Response body: 'forbidden'",
                error_code=PERMISSION_DENIED,
            ),
            RegistryError,
            "MLflow failed while ",
            id="forbidden-is-no-server-error",
        ),
        pytest.param(
            _rest({"error_code": "INVALID_PARAMETER_VALUE", "message": f"bad {URL}"}),
            InputError,
            "MLflow refused reading registered model 'm': ",
            id="invalid-parameter",
        ),
        pytest.param(
            ModuleNotFoundError("No module named 'psycopg'"),
            RegistryError,
            "MLflow cannot use this store while ",
            id="missing-driver",
        ),
    ],
)
def test_translation(exc: Exception, error: type[AllowanceError], start: str) -> None:
    translated_error = _translated(exc)
    assert type(translated_error) is error
    message = str(translated_error)
    assert message.startswith(start), message
    assert "s3cr3t" not in message
    assert " --" not in message
    assert translated_error.__cause__ is exc


SERVER = "http://alice:***@127.0.0.1:5000"
CHECK_URI = "Check the tracking URI and that the server is running"


def _no_answer(cause: str) -> MlflowException:
    """MLflow's error for a request that got no answer, in urllib3's words ``cause``."""
    return MlflowException(
        f"API request to {URL} failed with exception HTTPConnectionPool(host='127.0.0.1', port=5000): {cause}"
    )


@pytest.mark.parametrize(
    ("exc", "says", "hints"),
    [
        pytest.param(
            MlflowException(REFUSED),
            f"{SERVER} refused the connection. {CHECK_URI}",
            ("tracking_uri",),
            id="refused",
        ),
        pytest.param(
            _no_answer(
                "Max retries exceeded (Caused by NameResolutionError: Failed to resolve 'nohost' "
                "([Errno -2] Name or service not known))"
            ),
            f"{SERVER} has a host name that does not resolve. {CHECK_URI}",
            ("tracking_uri",),
            id="no-such-host",
        ),
        pytest.param(
            _no_answer("Max retries exceeded (Caused by [Errno 113] No route to host)"),
            f"{SERVER} has no network route from here. {CHECK_URI}",
            ("tracking_uri",),
            id="no-route",
        ),
        pytest.param(
            _no_answer("Read timed out. (read timeout=2)"),
            f"{SERVER} accepted the connection but did not answer within 2 s. If the server is only slow, "
            "give it longer",
            ("timeout",),
            id="read-timeout",
        ),
        pytest.param(
            _no_answer("Max retries exceeded (Caused by ConnectTimeoutError(connect timeout=5))"),
            f"{SERVER} did not accept a connection within 5 s. {CHECK_URI}",
            ("tracking_uri",),
            id="connect-timeout",
        ),
        pytest.param(
            _no_answer(
                "Max retries exceeded (Caused by ProtocolError('Connection aborted.', RemoteDisconnected))"
            ),
            f"{SERVER} closed the connection without answering. {CHECK_URI}",
            ("tracking_uri",),
            id="dropped",
        ),
        pytest.param(
            MlflowException("connection pool is full"),
            f"connection pool is full. {CHECK_URI}",
            ("tracking_uri",),
            id="unrecognised",
        ),
    ],
)
def test_a_request_without_answer_says_what_happened_and_hints_at_the_setting(
    exc: MlflowException, says: str, hints: tuple[str, ...]
) -> None:
    error = _translated(exc)
    assert type(error) is RegistryUnavailableError
    assert str(error) == f"MLflow is unreachable while reading registered model 'm': {says}"
    assert error.hints == hints


@pytest.mark.parametrize(
    "exc",
    [
        pytest.param(MlflowException(_retried(500)), id="server-error"),
        pytest.param(_rest({"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}), id="refused"),
        pytest.param(ConnectionRefusedError(111, "Connection refused"), id="os-error"),
        pytest.param(MlflowException("boom"), id="other"),
    ],
)
def test_other_errors_hint_at_nothing(exc: Exception) -> None:
    assert _translated(exc).hints == ()


def test_an_error_nothing_maps_passes_through() -> None:
    with pytest.raises(KeyError), translated("reading registered model 'm'"):
        raise KeyError("x")


def test_a_missing_model_is_named_cut() -> None:
    exc = _rest({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Registered Model not found"})
    error = _translated(exc, model="m" * 5000)
    assert isinstance(error, NotFoundError)
    assert "(5000 chars) does not exist" in str(error)
    assert len(str(error)) < 400


def test_a_huge_mlflow_message_is_cut() -> None:
    error = _translated(MlflowException("x" * 100_000))
    assert str(error).startswith("MLflow failed while reading registered model 'm': xxx")
    assert str(error).endswith("... (100000 chars)")
    assert len(str(error)) < 700


def test_a_long_input_in_the_action_is_cut() -> None:
    with pytest.raises(RegistryError) as raised, translated(f"tagging registered model {'m' * 3000!r}"):
        raise MlflowException("boom")
    message = str(raised.value)
    assert message.startswith("MLflow failed while tagging registered model 'mmmm")
    assert message.endswith("...' (3000 chars): boom")
    assert len(message) < 200
