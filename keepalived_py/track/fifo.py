"""keepalived's notify FIFOs, for both children: made if missing (and chowned to the FIFO's
user), its script started, opened non-blocking read-write so a write never waits for a
reader; unlinked at close only when we made it. Lines to a FIFO that cannot take them are
dropped, as keepalived's writes are."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class NotifyFifo:
    label: str  # "" for notify_fifo, "vrrp_" / "lvs_" for the child's own FIFO
    name: str
    fd: int = -1
    created: bool = False
    script_pid: int | None = None


async def open_fifo(label: str, name: str, script: Any, runner: Any, log: Callable[[str], None],
                    exit_text: str, ids: tuple[int, int] | None = None) -> NotifyFifo | None:
    """Make and open one FIFO, starting `script` on it; None (logged) when it cannot be had.
    `ids`: the uid/gid a FIFO we make is given (None: left as made)."""
    fifo = NotifyFifo(label, name)
    try:
        os.mkfifo(name, 0o644)
        fifo.created = True
        if ids is not None and ids != (os.geteuid(), os.getegid()):
            uid, gid = ids
            try:
                os.chown(name, uid if uid != os.geteuid() else -1, gid if gid != os.getegid() else -1)
            except OSError:
                log(f"Failed to set uid:gid for fifo {name}")
    except OSError as e:
        if e.errno != errno.EEXIST:
            log(f"Unable to create {label}notify fifo {name}")
            return None
    if script is not None:
        fifo.script_pid = await runner.spawn(script, [name], on_exit=lambda _r: log(exit_text))
    try:
        fifo.fd = os.open(name, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as e:
        log(f"Unable to open {label}notify fifo {name} - errno {e.errno}")
        if fifo.created:
            with contextlib.suppress(OSError):
                os.unlink(name)
        return None
    return fifo


def close_fifos(fifos: list[NotifyFifo]) -> None:
    for fifo in fifos:
        # unlink first, so that a script that reopens the FIFO when it closes cannot
        # find it again
        if fifo.created:
            with contextlib.suppress(OSError):
                os.unlink(fifo.name)
        if fifo.fd != -1:
            os.close(fifo.fd)
            fifo.fd = -1


def write_fifos(fifos: list[NotifyFifo], line: str) -> bool:
    """Write `line` to every open FIFO; True when there was one to write to."""
    data = line.encode("utf-8", "surrogateescape")
    for fifo in fifos:
        if fifo.fd == -1:
            continue
        with contextlib.suppress(OSError):
            os.write(fifo.fd, data)
    return bool(fifos)
