"""Audit records: who changed which environment, when, from what to what, and why.

Each record is stored as one run of the audit experiment; its fields become tags, and its details (the
policy and the full candidate table of a promotion) are JSON split into tags of at most
:data:`~mlflow_allowance._schema.TAG_VALUE_LIMIT` characters, so no single tag grows without bound.

>>> record = AuditRecord("promotion", "prod", "AImodel", "AImodel/1", "AImodel/2", "ana", 1700000000000,
...                      reason="highest F1 within <=1.0", details={"metric": "F1"})
>>> AuditRecord.from_tags(record.to_tags(), record_id="r1") == record.with_id("r1")
True
>>> record.when.isoformat()
'2023-11-14T22:13:20+00:00'
>>> AuditRecord.from_dict(record.to_dict()) == record
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal, cast

from mlflow_allowance._frozen import FrozenDict, freeze, thaw
from mlflow_allowance._numbers import json_safe
from mlflow_allowance._schema import PREFIX, TAG_VALUE_LIMIT
from mlflow_allowance.errors import InputError, InputTypeError, shown
from mlflow_allowance.request import SelectionRequest

__all__ = ["ALIAS_KINDS", "AuditKind", "AuditRecord", "AuditState"]

AuditKind = Literal["allowance", "promotion", "rollback", "repair"]
_KINDS = ("allowance", "promotion", "rollback", "repair")
#: The kinds of record that move an environment's alias (an ``allowance`` record changes a tag).
ALIAS_KINDS: tuple[AuditKind, ...] = ("promotion", "rollback", "repair")
#: ``pending``: written before the change (write-ahead); ``complete``: the change is done;
#: ``abandoned``: the change was never made (or was undone), found so by ``check --fix`` or the next writer.
AuditState = Literal["pending", "complete", "abandoned"]
_STATES = ("pending", "complete", "abandoned")

_KIND = PREFIX + "event"
_ENV = PREFIX + "environment"
_MODEL = PREFIX + "model"
_OLD = PREFIX + "old"
_NEW = PREFIX + "new"
_USER = PREFIX + "user"
_TIME = PREFIX + "time"
_REASON = PREFIX + "reason"
_DETAILS = PREFIX + "details."
_SEQ = PREFIX + "seq"
#: Digits of a stored sequence number: zero-padded, so MLflow's string order of the tag is numeric order.
SEQ_DIGITS = 12
_CHUNK = TAG_VALUE_LIMIT - 1000
#: Tag keys a search for one environment's events filters on.
EVENT_TAG, ENVIRONMENT_TAG, SEQ_TAG = _KIND, _ENV, _SEQ


@dataclass(frozen=True)
class AuditRecord:
    """One change to an environment: an allowance set or unset, a promotion, a rollback or a repair.

    ``model`` is ``None`` for a workspace-wide allowance; ``old``/``new`` are allowances (canonical text)
    for allowance changes and ``name/version`` for promotions and rollbacks, ``None`` for "nothing".
    ``time`` is milliseconds since the epoch (UTC). ``details`` is frozen JSON (mappings become
    :class:`FrozenDict`, lists tuples, NaN and the infinities the strings ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"``); anything JSON cannot hold is refused at construction, not when the record is
    written (:class:`~mlflow_allowance.errors.InputTypeError`, an ``InputError`` and a ``TypeError``).
    A promotion's details hold the :attr:`request` it replays. ``seq`` numbers
    the environment's records 1, 2, 3, ... in the order their changes were made, whatever the clocks of
    the machines that made them (``None`` on records written before 0.2); ``state`` says whether the
    change is ``pending`` (recorded before it is made), ``complete`` or ``abandoned``.
    """

    kind: AuditKind
    environment: str
    model: str | None
    old: str | None
    new: str | None
    user: str
    time: int
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=FrozenDict)
    record_id: str | None = None
    seq: int | None = None
    state: AuditState = "complete"

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InputError(f"Invalid audit record kind {shown(self.kind)}: expected one of {_KINDS}")
        if self.state not in _STATES:
            raise InputError(f"Invalid audit record state {shown(self.state)}: expected one of {_STATES}")
        if self.seq is not None and (
            isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 1
        ):
            raise InputError(f"Invalid audit record sequence number {shown(self.seq)}: expected 1 or more")
        if isinstance(self.time, bool) or not isinstance(self.time, int):
            raise TypeError(f"AuditRecord time must be milliseconds since the epoch, not {shown(self.time)}")
        if not isinstance(self.details, Mapping):
            raise InputTypeError(
                f"AuditRecord details must be a mapping (JSON object), not {type(self.details).__name__}"
            )
        object.__setattr__(self, "details", freeze(json_safe(self.details, "AuditRecord details")))

    @property
    def request(self) -> SelectionRequest | None:
        """The selection request a promotion made (``None`` for other records and older promotions)."""
        data = self.details.get("request")
        return SelectionRequest.from_dict(data) if isinstance(data, Mapping) else None

    @property
    def when(self) -> datetime:
        """``time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time / 1000, tz=timezone.utc)

    @property
    def done(self) -> bool:
        """True once the change is complete (so the registry should show it)."""
        return self.state == "complete"

    def with_id(self, record_id: str) -> AuditRecord:
        """A copy carrying the id of the run that stores it."""
        return replace(self, record_id=record_id)

    def with_state(self, state: AuditState) -> AuditRecord:
        """A copy in another state (the state itself is stored as the run's status)."""
        return replace(self, state=state)

    def to_tags(self) -> dict[str, str]:
        """The record as run tags, each value below the tag limit."""
        tags = {
            _KIND: self.kind,
            _ENV: self.environment,
            _MODEL: self.model or "",
            _OLD: self.old or "",
            _NEW: self.new or "",
            _USER: self.user[:TAG_VALUE_LIMIT],
            _TIME: str(self.time),
            _REASON: self.reason[:TAG_VALUE_LIMIT],
        }
        if self.seq is not None:
            tags[_SEQ] = f"{self.seq:0{SEQ_DIGITS}d}"
        payload = json.dumps(thaw(self.details), sort_keys=True, separators=(",", ":"))
        for index, start in enumerate(range(0, len(payload), _CHUNK)):
            tags[f"{_DETAILS}{index:06d}"] = payload[start : start + _CHUNK]
        return tags

    @classmethod
    def from_tags(
        cls, tags: Mapping[str, str], *, record_id: str | None = None, state: AuditState = "complete"
    ) -> AuditRecord:
        """Rebuild a record from the tags :meth:`to_tags` wrote.

        Raises :class:`InputError` (never a bare ``KeyError``) when the tags are not such a record, e.g. a
        run someone logged into the audit experiment by hand:

        >>> AuditRecord.from_tags({"mlflow.user": "ana"}, record_id="r9")
        Traceback (most recent call last):
        ...
        mlflow_allowance.errors.InputError: Run r9 is not an mlflow-allowance audit record: ...
        """
        try:
            chunks = sorted(key for key in tags if key.startswith(_DETAILS))
            payload = "".join(tags[key] for key in chunks)
            try:
                details = json.loads(payload) if payload else {}
            except ValueError:
                details = None
            if not isinstance(details, dict):
                # Details lost (a write cut short, or edited by hand): the record itself still counts.
                details = {"unreadable_details": True}
            return cls(
                kind=cast(AuditKind, tags[_KIND]),
                environment=tags[_ENV],
                model=tags.get(_MODEL) or None,
                old=tags.get(_OLD) or None,
                new=tags.get(_NEW) or None,
                user=tags.get(_USER, ""),
                time=int(tags.get(_TIME, "0")),
                reason=tags.get(_REASON, ""),
                details=details,
                record_id=record_id,
                seq=int(tags[_SEQ]) if tags.get(_SEQ) else None,
                state=state,
            )
        except (KeyError, ValueError, TypeError) as exc:
            problem = f"no tag {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError(
                f"Run {record_id} is not an mlflow-allowance audit record: {shown(problem)}"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``time`` as ISO 8601)."""
        return {
            "id": self.record_id,
            "kind": self.kind,
            "environment": self.environment,
            "model": self.model,
            "old": self.old,
            "new": self.new,
            "user": self.user,
            "time": self.when.isoformat(),
            "reason": self.reason,
            "details": thaw(self.details),
            "seq": self.seq,
            "state": self.state,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        """The record :meth:`to_dict` described."""
        when = datetime.fromisoformat(data["time"])
        return cls(
            kind=data["kind"],
            environment=data["environment"],
            model=data.get("model"),
            old=data.get("old"),
            new=data.get("new"),
            user=data.get("user", ""),
            time=round(when.timestamp() * 1000),
            reason=data.get("reason", ""),
            details=data.get("details") or {},
            record_id=data.get("id"),
            seq=data.get("seq"),
            state=data.get("state", "complete"),
        )
