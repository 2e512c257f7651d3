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

from mlflow_allowance._schema import allowance_tag, lease_experiment
from mlflow_allowance.errors import InvalidEnvironmentError, InvalidModelNameError, shown

__all__ = ["MAX_ENVIRONMENT_LENGTH", "MAX_MODEL_NAME_LENGTH", "validate_environment", "validate_model_name"]

_ALIAS = re.compile(r"[\w-]+")
_RESERVED_VERSION = re.compile(r"v\d+")
#: MLflow's limit for the keys of experiment and registered-model tags.
_TAG_KEY_LIMIT = 250
#: MLflow's limit for experiment names (the name column of its SQL stores; sqlite does not enforce it).
_EXPERIMENT_NAME_LIMIT = 256
#: The longest name whose allowance tag (``mlflow_allowance.allowance.<env>``, the longest key written with
#: an environment in it) fits MLflow's tag-key limit and whose lease experiment
#: (``mlflow-allowance.lease.<env>.<12 digits>``) fits its experiment-name limit: 220. The alias may have 255.
MAX_ENVIRONMENT_LENGTH = min(
    _TAG_KEY_LIMIT - len(allowance_tag("")),
    _EXPERIMENT_NAME_LIMIT - len(lease_experiment("", 0)),
)
#: The size of the name column of MLflow's SQL stores; no longer name can be registered there.
MAX_MODEL_NAME_LENGTH = 256


def validate_environment(name: str) -> str:
    """Return the environment's alias name (lower-cased), or raise :class:`InvalidEnvironmentError`.

    Names are case-insensitive, so ``PROD`` and ``prod`` are one environment, held by the alias ``@prod``.
    At most :data:`MAX_ENVIRONMENT_LENGTH` (220) characters: its allowance tag key must fit MLflow's 250
    characters and its lease experiment's name 256.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidEnvironmentError(
            f"Invalid environment {shown(name)}: expected a name like 'prod' or 'int'"
        )
    alias = name.strip().lower()
    if len(alias) > MAX_ENVIRONMENT_LENGTH:
        raise InvalidEnvironmentError(
            f"Invalid environment {shown(name)}: longer than {MAX_ENVIRONMENT_LENGTH} characters (the names "
            "MLflow stores for it must fit its limits)"
        )
    if not _ALIAS.fullmatch(alias):
        raise InvalidEnvironmentError(
            f"Invalid environment {shown(name)}: only letters, digits, '_' and '-' (it becomes an MLflow "
            "alias)"
        )
    if alias == "latest" or _RESERVED_VERSION.fullmatch(alias):
        raise InvalidEnvironmentError(
            f"Invalid environment {shown(name)}: {shown(alias)} is reserved by MLflow for version lookups; "
            "choose another name"
        )
    return alias


def validate_model_name(name: str) -> str:
    """Return ``name`` if it can name a registered model, or raise :class:`InvalidModelNameError`.

    >>> validate_model_name("AImodel")
    'AImodel'
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidModelNameError(f"Invalid model name {shown(name)}: expected a registered model's name")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidModelNameError(
            f"Invalid model name {shown(name)}: longer than {MAX_MODEL_NAME_LENGTH} characters (MLflow's "
            "limit for registered-model names)"
        )
    if name != name.strip() or any(ch in name for ch in "\r\n\t\0"):
        raise InvalidModelNameError(
            f"Invalid model name {shown(name)}: no leading or trailing spaces or control characters"
        )
    if "/" in name or ":" in name:
        raise InvalidModelNameError(
            f"Invalid model name {shown(name)}: MLflow names cannot contain '/' or ':'"
        )
    return name
