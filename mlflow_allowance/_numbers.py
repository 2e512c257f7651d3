"""Numbers in JSON: the one spelling of NaN and the infinities, and JSON-safe values.

Strict JSON has no NaN or infinity. Every record that writes a float spells the non-finite ones as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (JavaScript's names, which ``float()`` reads back):

>>> [encode_number(x) for x in (0.5, float("nan"), float("inf"), -float("inf"))]
[0.5, 'NaN', 'Infinity', '-Infinity']
>>> decode_number("-Infinity"), decode_number(0.5)
(-inf, 0.5)

NaN is not equal to itself; a record holding one compares its numbers through :func:`number_key`, so a
record equals its own pickle and JSON copy:

>>> number_key(float("nan")) == number_key(float("nan")), number_key(-0.0) == number_key(0.0)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from mlflow_allowance.errors import InputTypeError

__all__ = ["NON_FINITE", "decode_number", "encode_number", "json_safe", "number_key", "number_source"]

#: The strings that stand for the non-finite floats in JSON.
NON_FINITE: Final = ("NaN", "Infinity", "-Infinity")
_JSON = "JSON: text, numbers, booleans, None, lists and mappings with text keys"


class _NaN:
    """What every NaN compares and hashes as in :func:`number_key`."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NaN)

    def __hash__(self) -> int:
        return hash("NaN")

    def __repr__(self) -> str:
        return "NaN"


_NAN_KEY: Final = _NaN()


def encode_number(value: float) -> float | str:
    """``value`` for JSON: itself when finite, else ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_number(value: float | str) -> float:
    """The float :func:`encode_number` wrote (a number, or one of :data:`NON_FINITE`); ``ValueError`` if
    ``value`` is no number, ``TypeError`` if it is neither text nor a number."""
    return float(value)


def number_source(value: float) -> str:
    """``value`` as Python source that evaluates to it (``repr`` writes NaN as ``nan``, which does not).

    >>> [number_source(x) for x in (0.5, float("nan"), -float("inf"))]
    ['0.5', "float('nan')", "float('-inf')"]
    """
    return repr(value) if math.isfinite(value) else f"float({str(value)!r})"


def number_key(value: float) -> object:
    """What ``value`` compares and hashes as: itself, but every NaN equal to every other."""
    return _NAN_KEY if math.isnan(value) else value


def json_safe(value: Any, where: str = "value") -> Any:
    """``value`` with every non-finite float encoded and tuples as lists; an
    :class:`~mlflow_allowance.errors.InputTypeError` (a ``TypeError``) naming ``where`` for anything JSON
    cannot hold as it is (a set, bytes, an object, a mapping with a key other than text).

    >>> json_safe({"runs": [1, 2.5, float("nan")], "ok": True, "note": None})
    {'runs': [1, 2.5, 'NaN'], 'ok': True, 'note': None}
    >>> json_safe({"s": {1, 2}}, "details")
    Traceback (most recent call last):
    ...
    mlflow_allowance.errors.InputTypeError: details['s'] is a set; expected JSON: text, numbers, ...
    """
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return encode_number(value)
    if isinstance(value, Mapping):
        bad = next((key for key in value if not isinstance(key, str)), None)
        if bad is not None:
            raise InputTypeError(f"{where} has the key {bad!r} ({type(bad).__name__}); JSON keys are text")
        return {key: json_safe(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise InputTypeError(f"{where} is a {type(value).__name__}; expected {_JSON}")
