"""TCP_CHECK: a connection that completes within connect_timeout is success, then closed
(keepalived/check/check_tcp.c tcp_connect_thread / tcp_check_thread).

`launch` is the scheduler's Task-free path (check.connectbatch: one private epoll for every
check in flight); `probe` is the same check as a coroutine (check.fastconnect), for callers
that await one."""

from __future__ import annotations

import asyncio
from typing import Any

from keepalived_py.check import connectbatch
from keepalived_py.check.fastconnect import ConnectCheck
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Result


def launch(loop: Any, target: Target, done, token: Any = None) -> connectbatch.Pending:
    """Start one check on `loop`; `done(check, result, None)` later, unless cancelled."""
    engine = connectbatch.active
    if engine is None or engine.loop is not loop:
        engine = connectbatch.engine_for(loop)
    return engine.start(target, done, token)


def launcher(loop: Any):
    """The scheduler's starter on `loop`: the loop's engine's start(target, done, token)."""
    return connectbatch.engine_for(loop).start


def burster(loop: Any):
    """The scheduler's batch starter on `loop` for steady checks: the engine's burst (see
    connectbatch.ConnectEngine.burst)."""
    return connectbatch.engine_for(loop).burst


async def probe(target: Target, params=None) -> Result:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Result] = loop.create_future()

    def done(_check: ConnectCheck, result: Result, _sock: Any) -> None:
        if not fut.done():
            fut.set_result(result)

    check = ConnectCheck(loop, target, done)
    try:
        return await fut
    finally:
        check.cancel()


probe.launch = launch  # type: ignore[attr-defined]
probe.launcher = launcher  # type: ignore[attr-defined]
probe.burster = burster  # type: ignore[attr-defined]
