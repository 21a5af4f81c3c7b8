"""The scheduler with the real probes, the real clock and uvloop against hundreds of loopback
listeners, some refusing and some never accepting: healthy servers keep being checked at
their cadence, failed ones leave the pool, nothing stalls (acceptance 2 of issue 14)."""

from __future__ import annotations

import asyncio
import collections
import socket
import time

import pytest

from keepalived_py.check.hysteresis import Kind, Policy
from keepalived_py.check.quorum import Pool, RsConfig, VsConfig
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.check.spec import CheckerSpec, Endpoint
from keepalived_py.clock import MonotonicClock

pytestmark = [pytest.mark.slow]

VS = ("ip", "127.0.0.1", 80, "TCP")


def listeners(n: int) -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.setblocking(False)
        out.append(s)
    return out


def black_holes(n: int) -> tuple[list[socket.socket], list[int]]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(0)
        port = s.getsockname()[1]
        socks.append(s)
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            socks.append(c)
        ports.append(port)
    return socks, ports


def spec_for(port: int) -> CheckerSpec:
    label = f"[127.0.0.1]:tcp:{port}"
    policy = Policy(Kind.TCP, delay_loop=0.2, retry=0, delay_before_retry=0.1, warmup=0.2,
                    rs_label=label, vs_label="[127.0.0.1]:tcp:80")
    return CheckerSpec((VS, ("127.0.0.1", port), 0), VS, ("127.0.0.1", port), Kind.TCP, policy,
                       Endpoint("127.0.0.1", port, 0.3), None)


def test_hundreds_of_tcp_checks_with_bad_servers_mixed_in(monkeypatch):
    import uvloop

    import keepalived_py.check.hysteresis as hy
    monkeypatch.setattr(hy, "BOOTSTRAP_DELAY", 0.0)   # no 1 s wait before the first runs

    good = listeners(300)
    good_ports = [s.getsockname()[1] for s in good]
    holes, hole_ports = black_holes(60)
    closed = []
    for _ in range(40):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        closed.append(s.getsockname()[1])
        s.close()
    ports = good_ports + hole_ports + closed
    specs = [spec_for(p) for p in ports]
    servers = [VsConfig(VS, "[127.0.0.1]:tcp:80",
                        tuple(RsConfig(("127.0.0.1", p), f"[127.0.0.1]:tcp:{p}", checkers=(s.id,))
                              for p, s in zip(ports, specs, strict=True)))]
    decisions: list = []

    async def accept_all():
        loop = asyncio.get_running_loop()

        def drain(sock):
            try:
                while True:
                    c, _ = sock.accept()
                    c.close()
            except BlockingIOError:
                pass
        for s in good:
            loop.add_reader(s.fileno(), drain, s)

    async def main():
        await accept_all()
        sched = Scheduler(specs, Pool(servers), clock=MonotonicClock(), emit=decisions.extend,
                          max_in_flight=64)
        sched.start()
        task = asyncio.get_running_loop().create_task(sched.run())
        t0 = time.monotonic()
        await asyncio.sleep(2.0)
        table = sched.pool.destinations(VS)
        runs = sched.runs
        await sched.stop()
        await task
        return table, runs, time.monotonic() - t0

    try:
        table, runs, took = uvloop.run(main())
    finally:
        for s in good + holes:
            s.close()
    assert set(table) == {("127.0.0.1", p) for p in good_ports}, "only the healthy servers stay"
    # 300 healthy servers every ~0.2 s for ~1.8 s after warm-up: many runs despite 60 servers
    # that hold a slot for 0.3 s each time and 40 that refuse
    assert runs > 300 * 4, runs
    removed = collections.Counter(
        int(d.text.split()[2].rsplit(":", 1)[1]) for d in decisions
        if getattr(d, "text", "").startswith("Removing service"))
    # every bad server goes exactly once; a healthy one may time out once on a loaded machine
    # (0.3 s connect timeout), but it is back in the table above
    bad = set(hole_ports) | set(closed)
    assert {p: removed[p] for p in bad} == dict.fromkeys(bad, 1), removed
