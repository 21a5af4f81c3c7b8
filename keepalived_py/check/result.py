"""What one probe reports: the value every checker kind returns and the pure state consumes.

Pure (no I/O): the probes in kinds/ build these, hysteresis.py reads them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Result:
    """One probe's outcome.

    `reason` is keepalived's own wording where a log line shows it (HTTP's "MD5 digest error
    to", SMTP's "Bad HELO response from server [..]:25", DNS's "read timeout from socket");
    `latency` in seconds. MISC_CHECK fills `exit_status` / `signal` (the hysteresis decides
    success from them, misc_dynamic included); FILE_CHECK fills `value`. `detail` tells the
    per-attempt log text apart where keepalived has several (UDP "mismatch").
    """

    status: Status
    reason: str = ""
    latency: float = 0.0
    exit_status: int | None = None
    signal: int | None = None
    value: int | None = None
    detail: str = ""
    #: HTTP: (Content-Length, bytes received) when they differ (keepalived logs it)
    length_mismatch: tuple[int, int] | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def ok(reason: str = "", latency: float = 0.0, **kw) -> Result:
    return Result(Status.OK, reason, latency, **kw)


def failed(reason: str, latency: float = 0.0, **kw) -> Result:
    return Result(Status.FAILED, reason, latency, **kw)


def timeout(reason: str, latency: float = 0.0, **kw) -> Result:
    return Result(Status.TIMEOUT, reason, latency, **kw)
