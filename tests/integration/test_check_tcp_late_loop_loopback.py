"""A TCP check is not failed by its own daemon's lateness (issue 14, acceptance 5): the event
loop is deliberately blocked past connect_timeout while the kernel completes the handshake
on loopback, and the check still passes, through the scheduler's launched path, the
coroutine probe and the shared connect() other checkers use. A listener that never accepts
(full backlog) still times out, so the test can fail."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import uvloop

from keepalived_py.check.hysteresis import Kind, Policy
from keepalived_py.check.kinds import tcp
from keepalived_py.check.kinds.base import Target, connect
from keepalived_py.check.quorum import Pool, RsConfig, VsConfig
from keepalived_py.check.result import Status
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.check.spec import CheckerSpec, Endpoint
from keepalived_py.clock import MonotonicClock

VS = ("ip", "127.0.0.1", 80, "TCP")
TIMEOUT = 0.2
BLOCK = 1.5   # > TIMEOUT + the scheduler's GUARD_SLACK
#: the daemon runs uvloop; the old probe passed under asyncio's own loop and failed under it
RUNNERS = pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])


def listener() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def black_hole() -> tuple[list[socket.socket], int]:
    """A listener with backlog 0 filled by connections nobody accepts: SYNs go unanswered."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    out = [s]
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        out.append(c)
    return out, port


def block_loop_soon() -> None:
    """The loop's next turn holds it for BLOCK seconds (a stand-in for a slow reconcile or a
    burst of work), after the connects have been sent."""
    asyncio.get_running_loop().call_soon(time.sleep, BLOCK)


@RUNNERS
def test_probe_and_connect_pass_when_the_loop_was_blocked(run):
    srv = listener()
    holes, hole_port = black_hole()
    port = srv.getsockname()[1]

    async def main():
        target = Target("127.0.0.1", port, timeout=TIMEOUT)
        probe = asyncio.ensure_future(tcp.probe(target))
        shared = asyncio.ensure_future(connect(target, TIMEOUT))
        hole = asyncio.ensure_future(tcp.probe(Target("127.0.0.1", hole_port, timeout=TIMEOUT)))
        await asyncio.sleep(0)          # the connects are sent
        block_loop_soon()
        result, (sock, problem), hole_result = await asyncio.gather(probe, shared, hole)
        if sock is not None:
            sock.close()
        return result, problem, hole_result
    try:
        result, problem, hole_result = run(main())
    finally:
        srv.close()
        for s in holes:
            s.close()
    assert result.status is Status.OK, result
    assert problem is None, problem
    assert hole_result.status is Status.TIMEOUT, hole_result


@RUNNERS
def test_scheduler_keeps_healthy_servers_through_a_blocked_loop(monkeypatch, run):
    import keepalived_py.check.hysteresis as hy
    monkeypatch.setattr(hy, "BOOTSTRAP_DELAY", 0.0)

    good = [listener() for _ in range(50)]
    holes, hole_port = black_hole()
    ports = [s.getsockname()[1] for s in good] + [hole_port]
    specs = []
    for p in ports:
        label = f"[127.0.0.1]:tcp:{p}"
        policy = Policy(Kind.TCP, delay_loop=0.3, retry=0, delay_before_retry=0.1, warmup=0.0,
                        rs_label=label, vs_label="[127.0.0.1]:tcp:80")
        specs.append(CheckerSpec((VS, ("127.0.0.1", p), 0), VS, ("127.0.0.1", p), Kind.TCP, policy,
                                 Endpoint("127.0.0.1", p, TIMEOUT), None))
    servers = [VsConfig(VS, "[127.0.0.1]:tcp:80",
                        tuple(RsConfig(("127.0.0.1", p), f"[127.0.0.1]:tcp:{p}", checkers=(s.id,))
                              for p, s in zip(ports, specs, strict=True)))]
    decisions: list = []

    async def main():
        sched = Scheduler(specs, Pool(servers), clock=MonotonicClock(), emit=decisions.extend)
        assert sched._launchers.get(Kind.TCP) is None   # filled at start()
        sched.start()
        assert sched._launchers[Kind.TCP] is not None, "TCP_CHECK goes the Task-free way"
        task = asyncio.get_running_loop().create_task(sched.run())
        for _ in range(3):               # three blocked turns, each while checks are in flight
            while sched.in_flight == 0:
                await asyncio.sleep(0.001)
            block_loop_soon()
            await asyncio.sleep(0.4)
        runs = sched.runs
        await sched.stop()
        await task
        return runs
    try:
        runs = run(main())
    finally:
        for s in good + holes:
            s.close()
    removed = [d.text for d in decisions if getattr(d, "text", "").startswith("Removing service")]
    assert len(removed) == 1 and f":tcp:{hole_port} from VS" in removed[0], removed
    assert runs >= len(ports) * 2, runs   # every server checked again after the stalls
