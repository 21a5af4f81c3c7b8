"""FILE_CHECK: the number in a tracked file (keepalived's track_file: the first 127 bytes
read with strtol(); a missing or empty file is 0; an out-of-range number is ignored).

FILE_CHECK is driven by the track_file watcher (keepalived_py.track.file_watch) rather than
by runs; this probe reads the value once, for start-up and for a poll. `params.track_file` is
the tracked file's name; `target.address` carries its path (the runtime resolves the name
through the track_file blocks)."""

from __future__ import annotations

import asyncio

from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Result, Status
from keepalived_py.track.file_watch import read_value


async def probe(target: Target, params=None) -> Result:
    path = target.address
    loop = asyncio.get_running_loop()
    value, message = await loop.run_in_executor(None, read_value, path)
    if value is None:
        return Result(Status.FAILED, message or f"Invalid number read from {path} - ignoring")
    return Result(Status.OK, f"read {value}", value=value)
