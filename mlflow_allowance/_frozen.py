"""An immutable mapping that pickles, deep-copies and hashes (where its values do).

``types.MappingProxyType`` is read-only but neither picklable nor deep-copyable, so a value object holding
one cannot cross a process boundary; :class:`FrozenDict` can.

>>> import pickle
>>> tags = FrozenDict({"validated": "true"})
>>> pickle.loads(pickle.dumps(tags)) == tags, hash(tags) == hash(FrozenDict(validated="true"))
(True, True)
>>> tags["validated"] = "false"
Traceback (most recent call last):
...
TypeError: 'FrozenDict' object does not support item assignment
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

__all__ = ["FrozenDict", "freeze", "thaw"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenDict(Mapping[_K, _V]):
    """A read-only ``dict``: equal to any mapping with the same items, hashable when its values are."""

    __slots__ = ("_data", "_hash")
    _data: dict[_K, _V]
    _hash: int | None

    def __init__(self, data: Mapping[_K, _V] | Any = (), /, **kwargs: _V) -> None:
        object.__setattr__(self, "_data", dict(data, **kwargs))
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash(frozenset(self._data.items())))
        assert self._hash is not None
        return self._hash

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"FrozenDict is immutable; cannot set {name!r}")

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __reduce__(self) -> tuple[type[FrozenDict[_K, _V]], tuple[dict[_K, _V]]]:
        return (FrozenDict, (self._data,))

    def __copy__(self) -> FrozenDict[_K, _V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[_K, _V]:
        return self if _immutable(self) else FrozenDict({k: _deepcopy(v, memo) for k, v in self.items()})


def freeze(value: Any) -> Any:
    """``value`` with every ``dict`` turned into a :class:`FrozenDict` and every ``list`` into a tuple.

    >>> freeze({"models": ["a", "b"], "tags": {"k": "v"}})
    FrozenDict({'models': ('a', 'b'), 'tags': FrozenDict({'k': 'v'})})
    """
    if isinstance(value, Mapping):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze`: plain ``dict`` and ``list`` again, ready for ``json.dumps``.

    >>> thaw(freeze({"models": ["a"]}))
    {'models': ['a']}
    """
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(item) for item in value]
    return value


def _immutable(value: object) -> bool:
    if isinstance(value, FrozenDict):
        return all(_immutable(item) for item in value.values())
    if isinstance(value, tuple):
        return all(_immutable(item) for item in value)
    return isinstance(value, str | int | float | bool | bytes | type(None))


def _deepcopy(value: object, memo: dict[int, Any]) -> object:
    import copy

    return copy.deepcopy(value, memo)
