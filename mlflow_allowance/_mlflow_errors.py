"""How errors from below become the package's: MLflow's, its transport's and the OS's, mapped by tables.

:func:`translated` wraps every call the seam makes. What it raises is read from three tables: MLflow's error
codes (:data:`ERROR_CODES`), the exceptions raised beneath MLflow (:data:`EXCEPTION_TYPES`), and the words
urllib3, requests and the OS use for a request that got no answer (:data:`NO_ANSWER`). Every message is cut
to a readable length, has the secrets of any URI in it redacted, and names no command-line flag: what would
remedy the error is in its ``hints``, which each face renders its own way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from mlflow.exceptions import MlflowException, RestException

from mlflow_allowance.errors import (
    SHOWN_LIMIT,
    AllowanceError,
    Hint,
    InputError,
    NotFoundError,
    RegistryError,
    RegistryUnavailableError,
    redact,
    shown,
)

__all__ = ["ERROR_CODES", "EXCEPTION_TYPES", "NO_ANSWER", "translated"]

#: MLflow's error code for a request it refused → the package's error, and its message (``{action}``: what
#: was being done; ``{message}``: MLflow's first line). Other codes are a :class:`RegistryError`.
ERROR_CODES: dict[str, tuple[type[AllowanceError], str]] = {
    "RESOURCE_DOES_NOT_EXIST": (NotFoundError, "{message} (while {action})"),
    "INVALID_PARAMETER_VALUE": (InputError, "MLflow refused {action}: {message}"),
    "RESOURCE_ALREADY_EXISTS": (InputError, "MLflow refused {action}: {message}"),
    "BAD_REQUEST": (InputError, "MLflow refused {action}: {message}"),
}

#: An exception raised beneath MLflow (not an ``MlflowException``) → the package's error and its message;
#: the first row whose type matches applies, and any other exception propagates as it is.
EXCEPTION_TYPES: tuple[tuple[type[BaseException], type[AllowanceError], str], ...] = (
    (
        ImportError,
        RegistryError,
        "MLflow cannot use this store while {action}: {message}; install the package MLflow needs for the "
        "URI's scheme (e.g. a database driver)",
    ),
    (OSError, RegistryUnavailableError, "MLflow is unreachable while {action}: {message}"),  # ConnectionError
)

#: What to do about a server that did not answer: advice in words, and the settings it points to.
Advice = tuple[str, tuple[Hint, ...]]
_CHECK_URI: Advice = ("Check the tracking URI and that the server is running", ("tracking_uri",))
_SLOW: Advice = ("If the server is only slow, give it longer", ("timeout",))

#: Words of urllib3, requests or the OS in an ``MlflowException`` → what happened to the request (said of
#: the server; ``{within}`` is the timeout, when MLflow gives it) and what to do. The first match applies.
NO_ANSWER: tuple[tuple[tuple[str, ...], str, Advice], ...] = (
    (("connection refused", "actively refused"), "refused the connection", _CHECK_URI),
    (
        ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo failed"),
        "has a host name that does not resolve",
        _CHECK_URI,
    ),
    (("no route to host", "network is unreachable"), "has no network route from here", _CHECK_URI),
    (("read timed out",), "accepted the connection but did not answer{within}", _SLOW),
    (("connecttimeout", "connect timeout", "timed out"), "did not accept a connection{within}", _CHECK_URI),
    (
        ("remotedisconnected", "connection aborted", "connection reset"),
        "closed the connection without answering",
        _CHECK_URI,
    ),
)

#: Words that make an ``MlflowException`` without an error status a request that got no answer.
_NO_ANSWER_WORDS = ("max retries", "connection", "failed to establish", "timed out")
#: MLflow's words for a request that got no answer; the server's URI is what precedes the REST endpoint.
_API_REQUEST = re.compile(
    r"API request to (?P<uri>\S+?)/(?:ajax-)?api/\d+\.\d+/\S* failed with (?:timeout )?exception"
)
_TIMEOUT = re.compile(r"(?:read|connect) timeout=(\d+(?:\.\d+)?)")
#: How MLflow's REST client reports an HTTP error status: after retrying a 5xx (in urllib3's words), or
#: for a status it does not retry.
_HTTP_STATUS = re.compile(r"too many (\d{3}) error responses|failed with error code (\d{3}) != \d{3}")
#: Longest part of an MLflow message repeated in ours (an HTML error page can be one long line).
_MESSAGE_LIMIT = 500


@contextmanager
def translated(action: str, *, model: str | None = None) -> Iterator[None]:
    """Translate MLflow and transport errors raised while doing ``action`` into the package's errors,
    ``raise ... from`` the original; ``model`` names the registered model the action concerns, if any.

    Errors of the package itself pass through, as does anything no table names.
    """
    try:
        yield
    except AllowanceError:
        raise
    except MlflowException as exc:
        raise translate(exc, action, model) from exc
    except Exception as exc:
        for raised, error, template in EXCEPTION_TYPES:
            if isinstance(exc, raised):
                message = template.format(action=_shortened(action), message=_clipped(str(exc)))
                raise error(redact(message)) from exc
        raise


def translate(exc: MlflowException, action: str, model: str | None = None) -> AllowanceError:
    """The package's error for MLflow's ``exc``, raised while doing ``action`` (on ``model``)."""
    code = str(exc.error_code)
    action = _shortened(action)
    message = _clipped(str(exc.message).splitlines()[0] if exc.message else code)
    status = _server_status(exc, message)
    if status is not None:
        # The server answered, with an error of its own: not a connection problem, and not the user's.
        return RegistryError(
            redact(
                f"MLflow server error (HTTP {status}) while {action}: {message}. The server is reachable "
                "but failed the request; see its log"
            )
        )
    if code == "RESOURCE_DOES_NOT_EXIST" and model is not None and "version" not in message.lower():
        # MLflow names a missing model in words that vary by version and store; say it once, our way.
        return NotFoundError(
            f"registered model {shown(model)} does not exist; register a version first, e.g. "
            f"mlflow_allowance.register_model(model_uri, {shown(model)}, semver='1.0')"
        )
    if code in ERROR_CODES:
        error, template = ERROR_CODES[code]
        return error(redact(template.format(action=action, message=message)))
    lowered = message.lower()
    if any(word in lowered for word in _NO_ANSWER_WORDS):
        what, hints = _unreachable(message)
        return RegistryUnavailableError(redact(f"MLflow is unreachable while {action}: {what}"), hints=hints)
    return RegistryError(redact(f"MLflow failed while {action}: {message}"))


def _unreachable(message: str) -> tuple[str, tuple[Hint, ...]]:
    """What MLflow's message about a request that got no answer says, in a few words naming the server
    (its secrets are redacted by the caller), and the settings that may remedy it: e.g.
    ``http://host:5000 refused the connection. Check...``. An unrecognised message is kept."""
    lowered = message.lower()
    found = _API_REQUEST.search(message)
    if found is not None:
        for words, happened, (advice, hints) in NO_ANSWER:
            if any(word in lowered for word in words):
                seconds = _TIMEOUT.search(message)
                within = f" within {seconds.group(1)} s" if seconds else ""
                return f"{found.group('uri')} {happened.format(within=within)}. {advice}", hints
    advice, hints = _CHECK_URI
    return f"{message}. {advice}", hints


def _server_status(exc: MlflowException, message: str) -> int | None:
    """The 5xx status the server answered with, or ``None`` when it did not answer with one."""
    if isinstance(exc, RestException):
        status = int(exc.get_http_status_code())  # type: ignore[no-untyped-call]
    else:
        found = _HTTP_STATUS.search(message)
        if found is None:
            return None
        status = int(found.group(1) or found.group(2))
    return status if status >= 500 else None


def _clipped(text: str, limit: int = _MESSAGE_LIMIT) -> str:
    """``text``, cut to ``limit`` characters (its length given) when longer."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def _shortened(action: str) -> str:
    """``action`` with each long quoted input in it cut as :func:`~mlflow_allowance.errors.shown` cuts it."""
    return re.sub(f"'[^']{{{SHOWN_LIMIT},}}'", lambda found: shown(found.group()[1:-1]), action)
