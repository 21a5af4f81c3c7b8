"""From keepalived.conf to pool decisions with the real probes and clock: real servers are
listeners on loopback addresses; when one stops listening it leaves the pool within
delay_loop x (retry + 1) + connect_timeout, and comes back when it listens again."""

from __future__ import annotations

import asyncio
import time

import pytest

from keepalived_py.check import spec as specmod
from keepalived_py.check.quorum import DestChanged, Log, NotifyVs, Pool
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.clock import MonotonicClock
from keepalived_py.config.loader import load_text

pytestmark = [pytest.mark.slow]

CONF = """
virtual_server 192.0.2.1 {port} {{
    delay_loop 0.2
    protocol TCP
    quorum 2
    sorry_server 127.0.0.9 {port}
    real_server 127.0.0.2 {port} {{
        TCP_CHECK {{
            connect_timeout 0.2
            retry 1
            delay_before_retry 0.1
            warmup 0
        }}
    }}
    real_server 127.0.0.3 {port} {{
        HTTP_GET {{
            url {{
                path /
                status_code 200
            }}
            connect_timeout 0.2
            retry 0
            warmup 0
        }}
    }}
}}
"""


async def http_ok(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def wait_for(predicate, timeout: float) -> float:
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


def test_listener_stops_and_returns(monkeypatch):
    import keepalived_py.check.hysteresis as hy
    monkeypatch.setattr(hy, "BOOTSTRAP_DELAY", 0.0)

    async def main():
        tcp_srv = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.2", 0)
        port = tcp_srv.sockets[0].getsockname()[1]
        http_srv = await asyncio.start_server(http_ok, "127.0.0.3", port)
        result = load_text(CONF.format(port=port))
        assert not result.fatal, result.diagnostics
        servers, specs = specmod.build(result.config)
        out: list = []
        sched = Scheduler(specs, Pool(servers), clock=MonotonicClock(), emit=out.extend)
        vs = servers[0].key
        sched.start()
        task = asyncio.get_running_loop().create_task(sched.run())
        try:
            both = {("127.0.0.2", port): 1, ("127.0.0.3", port): 1}
            assert sched.pool.destinations(vs) == both       # not alpha: in the pool from the start

            def logged(text):
                return lambda: any(isinstance(d, Log) and d.text == text for d in out)
            await wait_for(logged(f"TCP connection to [127.0.0.2]:tcp:{port} success."), 2.0)
            await wait_for(logged(f"Remote Web server [127.0.0.3]:tcp:{port} succeed on service."), 2.0)

            tcp_srv.close()
            await tcp_srv.wait_closed()
            # delay_loop x (retry + 1) + connect_timeout, plus slack for a loaded machine
            took = await wait_for(lambda: ("127.0.0.2", port) not in sched.pool.destinations(vs), 0.2 * 2 + 0.2 + 1.0)
            assert sched.pool.destinations(vs) == {("127.0.0.9", port): 1}   # quorum 2 lost: sorry server
            texts = [d.text for d in out if isinstance(d, Log)]
            assert f"TCP_CHECK on service [127.0.0.2]:tcp:{port} failed after 1 retries." in texts
            assert f"Lost quorum 2-0=2 > 1 for VS [192.0.2.1]:tcp:{port}" in texts
            assert NotifyVs(vs, False, False, f"VS [192.0.2.1]:tcp:{port} DOWN\n") in out

            tcp_srv2 = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.2", port)
            await wait_for(lambda: sched.pool.destinations(vs) == both, 2.0)
            assert DestChanged(vs, ("127.0.0.9", port), None) in out
            tcp_srv2.close()
            return took
        finally:
            await sched.stop()
            await task
            http_srv.close()
    took = asyncio.run(main())
    assert took < 1.6
