"""Checks of tracking and registry URIs, made before MLflow acts on one wrongly. Pure: no MLflow.

MLflow would fall back to ``sqlite:///mlflow.db`` for an empty URI, create a missing sqlite directory (and an
empty database in it), retry for minutes on a sqlite "file" that is a directory, and fail on an HTTP URI
that does not parse only at its first request, with a bare ``ValueError``.

>>> check_store_uri("tracking", "http://")
Traceback (most recent call last):
    ...
mlflow_allowance.errors.InputError: Invalid tracking URI 'http://': expected a host, e.g. http://localhost:5000
"""

from __future__ import annotations

import importlib.util
import os
import urllib.parse

from mlflow_allowance.errors import InputError, redact, shown

__all__ = ["check_given_uris", "check_store_uri", "sqlite_path"]

#: How much of a path an error message shows: the end of a long one is what tells which folder is missing.
PATH_LIMIT = 240
#: URI schemes of MLflow's SQLAlchemy stores (``mysql+pymysql`` and the like share the first part).
SQL_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


def check_given_uris(tracking_uri: object, registry_uri: object) -> None:
    """Check the URIs a caller gave (``None``: not given); :class:`InputError` for an empty or unusable one.

    Made before MLflow parses them to resolve the other one or its defaults.
    """
    for kind, given in (("tracking", tracking_uri), ("registry", registry_uri)):
        if given is None:
            continue
        if not isinstance(given, str) or not given.strip():
            raise InputError(
                f"Invalid {kind} URI {shown(given)}: expected e.g. http://localhost:5000 or "
                "sqlite:///mlflow.db (leave it out for MLflow's default)"
            )
        check_store_uri(kind, given)


def check_store_uri(kind: str, uri: str) -> None:
    """Check one ``kind`` (``tracking`` or ``registry``) URI; :class:`InputError` naming it if unusable."""
    invalid = f"Invalid {kind} URI {shown(redact(uri))}"
    scheme = uri.partition(":")[0].lower()
    database = scheme.partition("+")[0] in SQL_SCHEMES
    if database and importlib.util.find_spec("sqlalchemy") is None:
        # mlflow-skinny has no database stores: MLflow's own error would only say "unsupported URI".
        raise InputError(
            f"{invalid}: database stores need the full mlflow package (mlflow-skinny only talks to a "
            "tracking server): use the server's http(s) URI, or pip install mlflow"
        )
    if scheme == "sqlite" or scheme.startswith("sqlite+"):
        path = sqlite_path(uri)
        if path is None:
            return
        directory = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise InputError(f"{invalid}: {shown(path, PATH_LIMIT)} is a directory, not a database file")
        if not os.path.isdir(directory):
            raise InputError(
                f"{invalid}: the directory {shown(directory, PATH_LIMIT)} does not exist; create it first "
                "(MLflow would create it, and a new, empty database)"
            )
    elif scheme in ("http", "https"):
        try:
            parts = urllib.parse.urlsplit(uri)
            parts.port  # noqa: B018  (reading the port raises ValueError unless it is a number in range)
        except ValueError as exc:
            raise InputError(f"{invalid}: {exc}") from None
        if not parts.hostname:
            raise InputError(f"{invalid}: expected a host, e.g. http://localhost:5000")


def sqlite_path(uri: str) -> str | None:
    """The database file of a ``sqlite:///`` URI; ``None`` for an in-memory or ``file:`` URI database.

    >>> sqlite_path("sqlite:////tmp/mlflow.db"), sqlite_path("sqlite:///:memory:")
    ('/tmp/mlflow.db', None)
    """
    rest = uri.partition("://")[2]
    path = rest[1:] if rest.startswith("/") else ""
    path = path.partition("?")[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path
