"""The package's one error tree.

Every error the package raises derives from :class:`AllowanceError`. Errors caused by what a user typed are
also :class:`ValueError` (or :class:`LookupError` for things that do not exist), so callers that only know
the standard library still catch them. Each class carries the CLI ``exit_code`` it maps to.

>>> from mlflow_allowance import VersionAllowance
>>> from mlflow_allowance.errors import InvalidAllowanceError
>>> try:
...     VersionAllowance.parse(">=3,<2")
... except InvalidAllowanceError as exc:
...     print(exc)
Invalid allowance '>=3,<2': no version can satisfy all of '<2', '>=3'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mlflow_allowance.outcomes import Evaluation
    from mlflow_allowance.selection import Selection

import re

__all__ = [
    "AllowanceError",
    "AllowanceTypeError",
    "EnvironmentBusyError",
    "Hint",
    "InputError",
    "InputTypeError",
    "InvalidAllowanceError",
    "InvalidEnvironmentError",
    "InvalidModelNameError",
    "InvalidVersionError",
    "MissingExtraError",
    "NoEligibleCandidateError",
    "NotFoundError",
    "RegistryError",
    "RegistryUnavailableError",
    "RollbackRefusedError",
    "VersionTypeError",
]

#: Longest echo of a user's input in an error message; longer input is cut and its length given.
SHOWN_LIMIT = 80


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters so huge input is not echoed.

    >>> shown("<=2.0"), shown("1" * 500)
    ("'<=2.0'", "'1111111111111111111111111111111111111111111111111111111111111111111111111...' (500 chars)")
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes | list | tuple) else len(text)
    return f"{text[: limit - 5]}...{text[-1]} ({size} chars)"


#: ``scheme://user:password@`` in any URI (a database URI, a tracking server behind basic auth).
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]{0,40}://[^\s/?#@:'\"]*):[^\s/?#'\"]*@")
#: ``?token=...`` and other query parameters whose name ends like a credential's.
_SECRET_PARAMETER = re.compile(
    r"(?i)(?P<head>[?&;][\w.\-]*(?:token|password|passwd|pwd|secret|key|signature|sig|credential|auth)=)"
    r"[^&#\s'\"]*"
)
_BEARER = re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=\-]+")


def redact(text: str) -> str:
    """``text`` with the secrets of any URI in it replaced by ``***``: passwords and credential parameters.

    Applied to every message the package builds from a URI or from MLflow's own errors, so a tracking URI
    like ``http://alice:s3cr3t@host`` is never printed.

    >>> redact("API request to http://alice:s3cr3t@host/api?x=1&access_token=abc failed")
    'API request to http://alice:***@host/api?x=1&access_token=*** failed'
    >>> redact("postgresql://mlflow:p@ss@db:5432/mlflow")
    'postgresql://mlflow:***@db:5432/mlflow'
    """
    text = _USERINFO.sub(r"\g<head>:***@", text)
    text = _SECRET_PARAMETER.sub(r"\g<head>***", text)
    return _BEARER.sub(r"\g<head>***", text)


#: The settings a message below the faces may point to (``AllowanceError.hints``); each face says how they
#: are given there (the CLI: ``--tracking-uri``, ``--timeout SECONDS``, ...), so messages from the core and
#: the seam name no command-line flag.
Hint = Literal["tracking_uri", "timeout", "wait", "force", "fix", "target", "evaluate", "metric"]


class AllowanceError(Exception):
    """Root of every error raised by mlflow-allowance.

    ``hints`` names the settings that would remedy the error (see :data:`Hint`); a face renders them its
    own way (the CLI appends its flags), the message itself stays in words:

    >>> error = AllowanceError("MLflow is unreachable", hints=("tracking_uri",))
    >>> str(error), error.hints
    ('MLflow is unreachable', ('tracking_uri',))
    """

    exit_code: int = 2
    hints: tuple[Hint, ...] = ()

    def __init__(self, *args: object, hints: tuple[Hint, ...] = ()) -> None:
        super().__init__(*args)
        if hints:
            self.hints = tuple(hints)


class InputError(AllowanceError, ValueError):
    """Something the user gave is malformed; nothing was written."""


class InvalidAllowanceError(InputError):
    """An allowance string could not be parsed or can never be satisfied."""


class InvalidVersionError(InputError):
    """A semantic version could not be parsed."""


class InputTypeError(InputError, TypeError):
    """Something the user gave has the wrong type (a number where text goes, a set where JSON goes).

    The one rule for a wrong type at the door: a ``TypeError``, as Python has it, that is also in the
    package's tree (an :class:`~mlflow_allowance.errors.InputError`), so a caller handling user input
    catches one error.
    """


class VersionTypeError(InvalidVersionError, InputTypeError):
    """A version was expected and something that is neither text nor a version was given."""


class AllowanceTypeError(InvalidAllowanceError, InputTypeError):
    """An allowance was expected and something that is neither text nor an allowance was given."""


class InvalidEnvironmentError(InputError):
    """An environment name is not a valid MLflow alias name."""


class InvalidModelNameError(InputError):
    """A registered-model name is empty or otherwise unusable."""


class MissingExtraError(AllowanceError, ImportError):
    """A feature needs an optional extra that is not installed (the message names it)."""


class NotFoundError(AllowanceError, LookupError):
    """A registered model, model version, metric or audit record does not exist."""


class RegistryError(AllowanceError):
    """The MLflow tracking or registry server failed or refused a request."""


class RegistryUnavailableError(RegistryError):
    """The MLflow tracking or registry server could not be reached."""


class NoEligibleCandidateError(AllowanceError):
    """No candidate satisfies the environment's policy; nothing was promoted.

    ``selection`` holds the :class:`~mlflow_allowance.Selection` that explains every candidate.
    """

    exit_code = 1

    def __init__(
        self, message: str, selection: Selection | None = None, *, hints: tuple[Hint, ...] = ()
    ) -> None:
        super().__init__(message, hints=hints)
        self.selection = selection
        #: What ``promote`` scored first, when it was asked to evaluate before promoting.
        self.evaluation: Evaluation | None = None


class RollbackRefusedError(AllowanceError):
    """A rollback target is missing or violates the current allowance (use ``force`` to override)."""

    exit_code = 1


class EnvironmentBusyError(AllowanceError):
    """Another writer is changing the environment right now (its lease is held); nothing was written.

    Retry, or pass ``wait=SECONDS`` (``--wait SECONDS``) to wait for the lease. Exit code 3, so a script can
    tell "busy, try again" from a failure.
    """

    exit_code = 3
