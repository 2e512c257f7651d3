"""The write-ahead protocol: every change is claimed, recorded as pending, made, and marked complete.

One environment's changes are numbered 1, 2, 3, ...; a writer claims the next number by creating the
experiment ``mlflow-allowance.lease.<env>.<n>`` (MLflow refuses a second one of that name atomically), then
writes its record ``pending``, makes the change and marks the record ``complete``. Whatever point a crash
stops at, the trail names the change; the next writer of the environment, or ``check --fix``, settles a
pending record by looking at the registry. See docs/guarantees.md.

>>> stage_behind("Staging", "Production"), stage_behind("Production", "Staging")
(True, False)
"""

from __future__ import annotations

import contextlib
import getpass
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from mlflow_allowance._clock import now_ms
from mlflow_allowance._schema import LEASE_SECONDS
from mlflow_allowance.audit import AuditKind, AuditRecord, AuditState
from mlflow_allowance.errors import EnvironmentBusyError, InputError, NotFoundError, shown
from mlflow_allowance.outcomes import resolve_allowance

if TYPE_CHECKING:
    from mlflow_allowance._seam import RegistryProtocol
    from mlflow_allowance.allowance import VersionAllowance

__all__ = [
    "LEASE_SECONDS_ENV",
    "Move",
    "WriteAhead",
    "allowance_text",
    "current_user",
    "lease_seconds",
    "now_ms",
    "retrying",
    "split_key",
    "stage_behind",
    "strings",
    "wait_seconds",
]

#: Overrides :data:`~mlflow_allowance._schema.LEASE_SECONDS` (tests shorten it).
LEASE_SECONDS_ENV = "MLFLOW_ALLOWANCE_LEASE_SECONDS"
#: Claims tried past a newest record whose next numbers were claimed and abandoned.
_MAX_SKIPPED_CLAIMS = 50
_T = TypeVar("_T")


@dataclass(frozen=True)
class Move:
    """One change as the trail records it: its kind, environment, the model it concerns, what it changes
    from and to (``name/version`` keys, or allowance texts), why, and the details the record keeps."""

    kind: AuditKind
    environment: str
    model: str | None
    old: str | None
    new: str | None
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)


class WriteAhead:
    """The protocol over one registry: :meth:`newest`, then decide, then :meth:`write`; :meth:`settle`."""

    def __init__(self, registry: RegistryProtocol) -> None:
        self._registry = registry

    def write(self, move: Move, newest: AuditRecord | None, write: Callable[[], None]) -> AuditRecord:
        """Claim the environment's next change number (after ``newest``), record ``move`` as pending, make
        it with ``write()``, mark it done.

        A crash at any point leaves either nothing (before the record), or a pending record that names the
        change, which the next writer of the environment or ``check --fix`` settles.
        """
        env = move.environment
        seq = self._claim(env, newest)
        claimed = time.monotonic()
        try:
            record = AuditRecord(
                move.kind,
                env,
                move.model,
                move.old,
                move.new,
                current_user(),
                now_ms(),
                move.reason,
                move.details,
                seq=seq,
                state="pending",
            )
            pending = self._registry.write_audit(record)
            if time.monotonic() - claimed > lease_seconds() / 2:
                # Fencing: past half the lease another writer may take over; let the next one settle it.
                raise EnvironmentBusyError(
                    f"the lease on {env} ran out before the change was made; nothing was changed, and "
                    f"record {seq} stays pending until the next writer settles it, or a check repairs it",
                    hints=("fix",),
                )
            try:
                write()
            except BaseException:
                self._settle_quietly(pending)
                raise
            return self._registry.finish_audit(pending, "complete")
        finally:
            self._release_quietly(env, seq)

    def newest(self, env: str) -> AuditRecord | None:
        """The environment's newest record; a stale pending one is settled first, a fresh one means busy."""
        newest = self._registry.newest_audit(env)
        if newest is None or newest.state != "pending":
            return newest
        age = (now_ms() - newest.time) / 1000
        if age < lease_seconds():
            raise EnvironmentBusyError(
                f"{env} is being changed by {newest.user} ({newest.kind} {newest.old or '-'} → "
                f"{newest.new or '-'}, {age:.0f} s ago); retry, or wait for it",
                hints=("wait",),
            )
        return self.settle(newest)

    def _claim(self, env: str, newest: AuditRecord | None) -> int:
        """Claim the number after ``newest``'s (skipping claims abandoned before their record was written)."""
        seq = (newest.seq or 0) + 1 if newest is not None else 1
        for _ in range(_MAX_SKIPPED_CLAIMS):
            if self._registry.claim(env, seq):
                return seq
            claimed_at = self._registry.claimed_at(env, seq)
            if claimed_at is not None and (now_ms() - claimed_at) / 1000 < lease_seconds():
                raise EnvironmentBusyError(
                    f"{env} is being changed by another writer (change {seq} was claimed "
                    f"{(now_ms() - claimed_at) / 1000:.0f} s ago); retry, or wait for it",
                    hints=("wait",),
                )
            later = self._registry.newest_audit(env)
            if later is not None and (later.seq or 0) >= seq:
                raise EnvironmentBusyError(f"{env} changed while this change was prepared; retry")
            seq += 1
        raise EnvironmentBusyError(f"{env}: {_MAX_SKIPPED_CLAIMS} change numbers claimed and never recorded")

    def settle(self, record: AuditRecord) -> AuditRecord:
        """Finish a pending record: ``complete`` when the registry shows its change (finishing the steps
        after the alias), ``abandoned`` when it does not."""
        env = record.environment
        if record.kind == "allowance":
            stored_text = allowance_text(self.stored_allowance(env, record.model))
            state: AuditState = "complete" if stored_text == record.new else "abandoned"
            return self._registry.finish_audit(record, state)
        if record.new is None:
            return self._registry.finish_audit(record, "abandoned")
        name, version = split_key(record.new)
        try:
            holder = self._registry.registered_model(name).aliases.get(env)
        except NotFoundError:
            holder = None
        if holder != version:
            return self._registry.finish_audit(record, "abandoned")
        for loser in strings(record.details.get("losers")):
            with contextlib.suppress(NotFoundError):
                if env in self._registry.registered_model(loser).aliases:
                    self._registry.delete_alias(loser, env)
        stage = record.details.get("stage")
        if isinstance(stage, str) and stage_behind(self.stage_of(name, version), stage):
            self._registry.transition_stage(name, version, stage)
        return self._registry.finish_audit(record, "complete")

    def _settle_quietly(self, record: AuditRecord) -> None:
        """Settle right after a failed write, if the registry can still be reached; else leave it pending."""
        with contextlib.suppress(Exception):
            self.settle(record)

    def _release_quietly(self, env: str, seq: int) -> None:
        # An unreleased claim only shows as one more (deletable) experiment.
        with contextlib.suppress(Exception):
            self._registry.release(env, seq)

    def stored_allowance(self, env: str, model: str | None) -> VersionAllowance | None:
        """The allowance stored exactly at this scope (the model's override, or the default), if any."""
        workspace = self._registry.workspace_tags() if model is None else {}
        model_tags = None if model is None else self._registry.registered_model(model).tags
        effective = resolve_allowance(env, model, workspace, model_tags)
        return None if effective.source == "unset" else effective.allowance

    def stage_of(self, name: str, version: int) -> str | None:
        """The legacy stage of ``name/version`` (``None`` when it has none, or the version is gone)."""
        return next((c.stage for c in self._registry.candidates([name]) if c.version == version), None)


def allowance_text(allowance: VersionAllowance | None) -> str | None:
    """How a record names an allowance: its canonical text, ``None`` for unset."""
    return None if allowance is None else allowance.canonical


def wait_seconds(wait: object) -> float:
    """``wait``, checked to be a number of seconds to wait for another writer (0 or more)."""
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait < math.inf:
        raise InputError(f"Invalid wait {shown(wait)}: expected seconds, 0 or more")
    return wait


def retrying(wait: float, attempt: Callable[[], _T]) -> _T:
    """``attempt()``, again after a pause while another writer holds the environment, up to ``wait`` s."""
    deadline = time.monotonic() + wait_seconds(wait)
    pause = 0.1
    while True:
        try:
            return attempt()
        except EnvironmentBusyError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(left, pause * (0.5 + random.random())))
            pause = min(pause * 2, 2.0)


def lease_seconds() -> float:
    """How long a claim or a pending record counts as held: ``MLFLOW_ALLOWANCE_LEASE_SECONDS``, else 120."""
    text = os.environ.get(LEASE_SECONDS_ENV)
    try:
        return float(text) if text else float(LEASE_SECONDS)
    except ValueError:
        raise InputError(f"Invalid {LEASE_SECONDS_ENV}={shown(text)}: expected seconds, e.g. 120") from None


_STAGE_RANK = {"Production": 2, "Staging": 1}


def stage_behind(current: str | None, mirrored: str) -> bool:
    """Whether a version's stage is behind the one a move mirrored. A stage is the version's, not the
    environment's: after int mirrored Staging, prod may take the same version on to Production."""
    return _STAGE_RANK.get(current or "", 0) < _STAGE_RANK.get(mirrored, 0)


def split_key(key: str) -> tuple[str, int]:
    """``("AImodel", 3)`` from ``"AImodel/3"``."""
    name, _, version = key.rpartition("/")
    return name, int(version)


def current_user() -> str:
    """Who is acting, for the audit trail: ``MLFLOW_ALLOWANCE_USER``, else the login name."""
    user = os.environ.get("MLFLOW_ALLOWANCE_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # getpass raises various errors without a login name (containers)
        return "unknown"


def strings(value: object) -> tuple[str, ...]:
    """The strings of a list or tuple read from a record's details (anything else: none)."""
    if isinstance(value, tuple | list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
