"""TCP_CHECK: a connection that completes within connect_timeout is success, then closed
(keepalived/check/check_tcp.c tcp_connect_thread / tcp_check_thread)."""

from __future__ import annotations

import asyncio

from keepalived_py.check.kinds.base import Target, connect
from keepalived_py.check.result import Result, Status


async def probe(target: Target, params=None) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    sock, problem = await connect(target, target.timeout)
    latency = loop.time() - start
    if problem is not None:
        return Result(problem.status, problem.reason, latency, detail=problem.detail)
    assert sock is not None
    sock.close()
    return Result(Status.OK, "connected", latency)
