"""The dataplane bench's large-stream test fills its window: a stream that ends is followed
by the next, so the rate is not a start-up burst and the rate per CPU second (worked out
over the window) is not inflated."""

from __future__ import annotations

import asyncio
import time

import uvloop

from conformance.bench import dataplane


def test_large_streams_follow_each_other_for_the_whole_window():
    served = 0

    class Short(asyncio.Protocol):
        def connection_made(self, t):  # type: ignore[no-untyped-def]
            nonlocal served
            served += 1
            t.write(b"z" * 4096)
            t.write_eof()

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Short, dataplane.VIP, 0)
        port = server.sockets[0].getsockname()[1]
        t0 = time.monotonic()
        try:
            rate = await dataplane._large_rate(port, 0.3)
        finally:
            server.close()
        return rate, time.monotonic() - t0

    rate, took = uvloop.run(main())
    assert took >= 0.3
    assert served > dataplane.CONC_LARGE and rate > 0
