"""Old spellings that keep working for one minor release, with a ``DeprecationWarning`` naming the new one.

A name that left the top level (``mlflow_allowance.rank_candidates``) and a keyword that was renamed
(``register_model(version=...)``) warn through :func:`warn`, so every shim says the same thing: what is
deprecated, when it goes, and what to write instead. CHANGELOG.md lists them under *Deprecated*.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["REMOVED_IN", "renamed_keyword", "warn"]

#: The release that removes every shim here.
REMOVED_IN = "0.3.0"

_P = ParamSpec("_P")
_R = TypeVar("_R")


def warn(old: str, new: str, *, stacklevel: int = 2) -> None:
    """Warn that ``old`` is deprecated (gone in :data:`REMOVED_IN`) and ``new`` is what to write instead.

    ``stacklevel`` counts from the caller of :func:`warn` (2: the code that called the caller).
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in {REMOVED_IN}; {new}",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def renamed_keyword(old: str, new: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """A decorator: the keyword argument ``old`` is accepted as ``new``, with a warning.

    The decorated callable shows (``inspect.signature``, ``help()``) and type-checks with its real
    signature, ``new`` only; passing both is a ``TypeError``, as a repeated argument is.

    >>> @renamed_keyword("version", "semver")
    ... def register(name: str, *, semver: str | None = None) -> str:
    ...     return f"{name} {semver}"
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     register("m", version="1.0")
    'm 1.0'
    >>> print(caught[0].message)
    register(version=...) is deprecated and will be removed in 0.3.0; pass semver=... instead
    """

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        name = function.__name__

        @functools.wraps(function)
        def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if old in kwargs:
                if new in kwargs:
                    raise TypeError(f"{name}() got {new}= and its deprecated name {old}=; pass {new}= only")
                warn(f"{name}({old}=...)", f"pass {new}=... instead", stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        call.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]
        del call.__wrapped__  # the signature above is the whole truth
        return call

    return decorate
