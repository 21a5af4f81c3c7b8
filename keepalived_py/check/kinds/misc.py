"""MISC_CHECK: run misc_path through the shared script runner (keepalived_py.scripts.runner:
its user, process group, SIGTERM then SIGKILL 2 s later on timeout, never blocking the loop).
The time limit is misc_timeout, else the virtual server's delay_loop
(keepalived/check/check_misc.c misc_check_thread). The exit status goes to the hysteresis,
which decides success (0, or 2..255 with misc_dynamic) and weights."""

from __future__ import annotations

import asyncio

from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Result, Status


def prepare(runner, params):
    """The runner's Script for a MISC_CHECK (None: keepalived would not run it)."""
    return prepare_why(runner, params)[0]


def prepare_why(runner, params) -> tuple[object | None, str]:
    """(Script or None, keepalived's reason for disabling it: check_misc_script_security())."""
    from keepalived_py.scripts.security import SC_EXECUTABLE, SC_INHIBIT, SC_NOTFOUND, SC_SYSTEM

    user = params.user or ()
    script, check = runner.prepare(params.misc_path, user[0] if user else None,
                                   user[1] if len(user) > 1 else None)
    if script is not None and check is not None and not check.flags & (SC_EXECUTABLE | SC_SYSTEM):
        script = None
    if script is not None:
        return script, ""
    flags = check.flags if check is not None else SC_NOTFOUND
    name = params.misc_path
    if flags & SC_INHIBIT:
        return None, f"Disabling misc script {name} due to insecure"
    if flags & SC_NOTFOUND:
        return None, f"Disabling misc script {name} since not found/accessible"
    return None, ""


async def probe(target: Target, params) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    runner = target.resources.runner
    if runner is None:
        return Result(Status.FAILED, "no script runner")
    script = target.script if target.script is not None else prepare(runner, params)
    if script is None:
        return Result(Status.FAILED, f"script {params.misc_path} cannot be run")
    res = await runner.run(script, timeout=target.script_timeout or target.timeout)
    latency = loop.time() - start
    if res.timed_out:
        return Result(Status.TIMEOUT, "timed out", latency, signal=res.signal)
    if res.signal is not None:
        return Result(Status.FAILED, f"due to signal {res.signal}", latency, signal=res.signal)
    status = res.status or 0
    return Result(Status.OK if status == 0 else Status.FAILED, f"exited with status {status}", latency,
                  exit_status=status)
