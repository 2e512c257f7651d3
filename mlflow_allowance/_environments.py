"""Environment names: each environment is an MLflow alias (``prod`` → ``@prod``).

>>> from mlflow_allowance._environments import validate_environment
>>> validate_environment("PROD")
'prod'
>>> validate_environment("latest")
Traceback (most recent call last):
...
mlflow_allowance.errors.InvalidEnvironmentError: Invalid environment 'latest': 'latest' is reserved ...
"""

from __future__ import annotations

import re

from mlflow_allowance.errors import InvalidEnvironmentError, InvalidModelNameError

__all__ = ["validate_environment", "validate_model_name"]

_ALIAS = re.compile(r"^[\w-]+$")
_RESERVED_VERSION = re.compile(r"^v\d+$")
_MAX_LENGTH = 255


def validate_environment(name: str) -> str:
    """Return the environment's alias name (lower-cased), or raise :class:`InvalidEnvironmentError`.

    Names are case-insensitive, so ``PROD`` and ``prod`` are one environment, held by the alias ``@prod``.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidEnvironmentError(f"Invalid environment {name!r}: expected a name like 'prod' or 'int'")
    alias = name.strip().lower()
    if len(alias) > _MAX_LENGTH:
        raise InvalidEnvironmentError(
            f"Invalid environment {name!r}: longer than {_MAX_LENGTH} characters (an MLflow alias limit)"
        )
    if not _ALIAS.match(alias):
        raise InvalidEnvironmentError(
            f"Invalid environment {name!r}: only letters, digits, '_' and '-' (it becomes an MLflow alias)"
        )
    if alias == "latest" or _RESERVED_VERSION.match(alias):
        raise InvalidEnvironmentError(
            f"Invalid environment {name!r}: {alias!r} is reserved by MLflow for version lookups; "
            "choose another name"
        )
    return alias


def validate_model_name(name: str) -> str:
    """Return ``name`` if it can name a registered model, or raise :class:`InvalidModelNameError`.

    >>> validate_model_name("AImodel")
    'AImodel'
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidModelNameError(f"Invalid model name {name!r}: expected a registered model's name")
    if name != name.strip() or any(ch in name for ch in "\r\n\t\0"):
        raise InvalidModelNameError(
            f"Invalid model name {name!r}: no leading or trailing spaces or control characters"
        )
    return name
