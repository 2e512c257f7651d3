"""The package's one clock: milliseconds since the epoch (UTC), as MLflow and the audit records store time.

One function, so that every record (audit records, leases, dataset records, the dashboard's page) reads the
same clock, and a test can stop it in one place.

>>> now_ms() > 1_700_000_000_000
True
"""

from __future__ import annotations

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)
