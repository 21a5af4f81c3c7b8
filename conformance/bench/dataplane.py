"""Dataplane benchmark: the userspace balancer beside HAProxy (TCP mode) on the same backends.

`python -m conformance.bench.dataplane [--seconds S]` starts, each in its own process, on
loopback: the backends (uvloop: 127.0.0.2), keepalived-py's userspace dataplane
(UserspaceIpvs, one process, uvloop) and HAProxy 2.6 (`mode tcp`, one thread), then drives
both with the same load generator and prints a markdown table:
- conn/s: new connections per second (the backend sends 64 bytes and closes);
- small: 128-byte request/response exchanges per second on 16 persistent connections;
- large: MB/s of 4 connections at a time, each receiving 64 MiB streams one after another;
- CPU: the balancer process's user+system seconds during the test, and the rate per CPU
  second (fairer on a shared machine than the raw rate).
Each test lasts --seconds (default 3). Without
haproxy installed, only the userspace column is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST_BACKEND = "127.0.0.2"
VIP = "127.0.0.1"
SMALL = 128
LARGE = 64 << 20
CONC_CONN = 32
CONC_SMALL = 16
CONC_LARGE = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind((VIP, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------- backends
async def _backends(ports: tuple[int, int, int]) -> None:
    loop = asyncio.get_running_loop()
    payload = b"x" * 64
    chunk = memoryview(b"y" * (1 << 20))

    class Hello(asyncio.Protocol):
        def connection_made(self, t):  # type: ignore[no-untyped-def]
            t.write(payload)
            t.close()

    class Echo(asyncio.Protocol):
        def connection_made(self, t):  # type: ignore[no-untyped-def]
            self.t = t

        def data_received(self, data):  # type: ignore[no-untyped-def]
            self.t.write(data)

    class Blast(asyncio.Protocol):
        def connection_made(self, t):  # type: ignore[no-untyped-def]
            self.t, self.left, self.paused = t, LARGE, False
            t.set_write_buffer_limits(4 << 20)
            self.pump()

        def pump(self) -> None:
            while self.left > 0 and not self.paused:
                n = min(len(chunk), self.left)
                self.t.write(chunk[:n])
                self.left -= n
            if self.left <= 0:
                self.t.write_eof()

        def pause_writing(self) -> None:
            self.paused = True

        def resume_writing(self) -> None:
            self.paused = False
            self.pump()

        def connection_lost(self, exc):  # type: ignore[no-untyped-def]
            self.left = 0

    for proto, port in zip((Hello, Echo, Blast), ports, strict=True):
        await loop.create_server(proto, HOST_BACKEND, port, backlog=4096)
    await asyncio.Event().wait()


async def _userspace(vports: tuple[int, int, int], rports: tuple[int, int, int]) -> None:
    import ipaddress

    from keepalived_py.lvs.diff import AddDest, AddService
    from keepalived_py.lvs.table import PROTO_TCP, Destination, DestKey, Service, ServiceKey
    from keepalived_py.lvs.userspace.port import UserspaceIpvs

    port = UserspaceIpvs(max_conns=100_000)
    ops = []
    for v, r in zip(vports, rports, strict=True):
        key = ServiceKey(4, PROTO_TCP, ipaddress.ip_address(VIP), v)
        ops += [AddService(Service(key, "wlc")), AddDest(key, Destination(DestKey(ipaddress.ip_address(HOST_BACKEND), r)))]
    failed = await port.apply(ops)
    assert not failed, failed
    await port.set_timeouts(__import__("keepalived_py.lvs.kernel", fromlist=["Timeouts"]).Timeouts(tcpfin=1))
    print("ready", flush=True)
    await asyncio.Event().wait()


def _haproxy_config(vports: tuple[int, int, int], rports: tuple[int, int, int]) -> str:
    out = ["global", "    nbthread 1", "    maxconn 8000", "defaults", "    mode tcp",
           "    timeout connect 5s", "    timeout client 60s", "    timeout server 60s"]
    for i, (v, r) in enumerate(zip(vports, rports, strict=True)):
        out += [f"listen l{i}", f"    bind {VIP}:{v}", f"    server s{i} {HOST_BACKEND}:{r}"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- load
async def _conn_rate(port: int, seconds: float) -> float:
    """CONC_CONN connections in flight, each replaced when the balancer closes it. Bare
    protocols, not streams: with StreamReader/Writer the generator, not the balancer, was
    the limit on a 2-core machine (HAProxy idled at a quarter of a core)."""
    loop = asyncio.get_running_loop()
    done = 0
    end = time.monotonic() + seconds
    finished = loop.create_future()
    running = 0

    class Client(asyncio.Protocol):
        def connection_made(self, t):  # type: ignore[no-untyped-def]
            self.t = t

        def eof_received(self) -> bool:
            self.t.close()
            return False

        def connection_lost(self, exc):  # type: ignore[no-untyped-def]
            nonlocal done
            done += 1
            start_one()

    def started(fut: asyncio.Future) -> None:
        if fut.exception() is not None:
            start_one()

    def start_one() -> None:
        nonlocal running
        if time.monotonic() >= end:
            running -= 1
            if running == 0 and not finished.done():
                finished.set_result(None)
            return
        loop.create_task(loop.create_connection(Client, VIP, port)).add_done_callback(started)

    start = time.monotonic()
    running = CONC_CONN
    for _ in range(CONC_CONN):
        start_one()
    await finished
    return done / (time.monotonic() - start)


async def _small_rate(port: int, seconds: float) -> float:
    done = 0
    end = time.monotonic() + seconds
    msg = b"m" * SMALL

    async def worker() -> None:
        nonlocal done
        r, w = await asyncio.open_connection(VIP, port)
        while time.monotonic() < end:
            w.write(msg)
            await r.readexactly(SMALL)
            done += 1
        w.close()
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONC_SMALL)))
    return done / (time.monotonic() - start)


async def _large_rate(port: int, seconds: float) -> float:
    got = 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        """Streams one after another until the window ends: four single 64 MiB streams took
        0.2-0.3 s, so the rate was a start-up burst and the CPU per second was divided by
        the whole window."""
        nonlocal got
        loop = asyncio.get_running_loop()
        buf = bytearray(1 << 20)
        while time.monotonic() < end:
            sock = socket.socket()
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, (VIP, port))
                while time.monotonic() < end:
                    n = await loop.sock_recv_into(sock, buf)
                    if not n:
                        break
                    got += n
            finally:
                sock.close()
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONC_LARGE)))
    return got / (time.monotonic() - start) / 1e6


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, vports: tuple[int, int, int], seconds: float) -> dict[str, tuple[float, float]]:
    """Each test: (rate, CPU seconds of the balancer process)."""
    import uvloop

    out = {}
    for name, fn, port in (("conn/s", _conn_rate, vports[0]), ("small req/s", _small_rate, vports[1]),
                           ("large MB/s", _large_rate, vports[2])):
        before = _cpu(pid)
        rate = uvloop.run(fn(port, seconds))
        out[name] = (rate, _cpu(pid) - before)
        time.sleep(0.5)
    return out


def _wait_port(port: int, host: str = VIP, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((host, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {VIP}:{port}")


OURS_NAME, HAPROXY_NAME = "keepalived-py userspace", "HAProxy 2.6 (tcp, 1 thread)"
TESTS = (("conn/s", "new connections", "per s", "per CPU s"), ("small req/s", "small requests", "per s", "per CPU s"),
         ("large MB/s", "large streams", "MB/s", "MB per CPU s"))
ROW_PREFIX = "dataplane (keepalived column: HAProxy 2.6, tcp, 1 thread)"


def add_metrics(results: dict[str, dict[str, list[float]]], seconds: float, metrics: dict) -> None:
    """One run's {balancer: {test: (rate, CPU s)}} into the bench's rows: the rate (issue 18's
    target is on it) and the rate per CPU second, HAProxy in the reference (keepalived) column."""
    from .stats import Metric

    for impl, name in (("keepalived-py", OURS_NAME), ("keepalived", HAPROXY_NAME)):
        for test, label, unit, cpu_unit in TESTS:
            got = results.get(name, {}).get(test)
            if got is None:
                continue
            rate, cpu = got
            key = f"{ROW_PREFIX}: {label}"
            metrics.setdefault(key, Metric(key, unit)).add(impl, rate)
            key = f"{ROW_PREFIX}: {label} per CPU second of the balancer"
            metrics.setdefault(key, Metric(key, cpu_unit)).add(impl, rate * seconds / cpu if cpu > 0 else None)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", action="store_true", help="print the results as JSON (for make bench)")
    ap.add_argument("--role", choices=("backends", "userspace"), help=argparse.SUPPRESS)
    ap.add_argument("--ports", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import uvloop

    if args.role:
        ports = tuple(int(p) for p in args.ports.split(","))
        if args.role == "backends":
            uvloop.run(_backends(ports[:3]))  # type: ignore[arg-type]
        else:
            uvloop.run(_userspace(ports[:3], ports[3:]))  # type: ignore[arg-type]
        return 0

    rports = (free_port(), free_port(), free_port())
    uports = (free_port(), free_port(), free_port())
    hports = (free_port(), free_port(), free_port())
    me = [sys.executable, "-m", "conformance.bench.dataplane"]
    procs: list[subprocess.Popen] = []
    results: dict[str, dict[str, tuple[float, float]]] = {}
    tmp = tempfile.mkdtemp(prefix="kpy-bench-")
    try:
        procs.append(subprocess.Popen(me + ["--role", "backends", "--ports", ",".join(map(str, rports))]))
        _wait_port(rports[0], HOST_BACKEND)
        us = subprocess.Popen(me + ["--role", "userspace", "--ports", ",".join(map(str, uports + rports))],
                              stdout=subprocess.PIPE, text=True)
        procs.append(us)
        assert us.stdout is not None and us.stdout.readline().strip() == "ready"
        _wait_port(uports[0])
        results[OURS_NAME] = measure(us.pid, uports, args.seconds)
        haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
        if haproxy:
            cfg = Path(tmp) / "haproxy.cfg"
            cfg.write_text(_haproxy_config(hports, rports))
            hp = subprocess.Popen([haproxy, "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL)
            procs.append(hp)
            _wait_port(hports[0])
            results[HAPROXY_NAME] = measure(hp.pid, hports, args.seconds)
        else:
            print("haproxy not installed (make apt): only the userspace column", file=sys.stderr)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
        return 0
    names = list(results)
    print("| test | " + " | ".join(f"{n} | CPU s | per CPU s" for n in names) + " |" +
          (" ratio | ratio per CPU s |" if len(names) == 2 else ""))
    print("|---" * (1 + 3 * len(names) + 2 * (len(names) == 2)) + "|")
    for test in ("conn/s", "small req/s", "large MB/s"):
        cells = []
        raw, per = [], []
        for n in names:
            rate, cpu = results[n][test]
            rate_per_cpu = rate * args.seconds / cpu if cpu > 0 else float("nan")
            raw.append(rate)
            per.append(rate_per_cpu)
            cells += [f"{rate:,.0f}", f"{cpu:.2f}", f"{rate_per_cpu:,.0f}"]
        extra = [f"{raw[0] / raw[1]:.0%}", f"{per[0] / per[1]:.0%}"] if len(per) == 2 and raw[1] and per[1] else []
        print("| " + " | ".join([test] + cells + extra) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
