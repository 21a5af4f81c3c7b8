"""PING_CHECK (ICMP and ICMPv6 echo) between two network namespaces made here: a peer that
answers, an address nobody has (timeout), over the unprivileged datagram ICMP socket and over
the raw socket used when ping_group_range forbids the former."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.lab.poll import watch
from tests.envcheck import need_netns

pytestmark = [pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import asyncio, json, sys
from keepalived_py.check.kinds import ping
from keepalived_py.check.kinds.base import Target
async def main():
    out = {}
    for addr in sys.argv[1:]:
        r = await ping.probe(Target(addr, None, 0.5))
        out[addr] = [r.status.value, r.reason]
    print(json.dumps(out))
asyncio.run(main())
"""


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check)


@pytest.fixture
def two_namespaces():
    need_netns()
    tag = f"{os.getpid() % 100000}"
    a, b = f"kpyck-a{tag}", f"kpyck-b{tag}"
    va, vb = f"kpya{tag}", f"kpyb{tag}"
    try:
        sh("ip", "netns", "add", a)
        sh("ip", "netns", "add", b)
        sh("ip", "link", "add", va, "netns", a, "type", "veth", "peer", "name", vb, "netns", b)
        for ns, dev, n in ((a, va, 1), (b, vb, 2)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "addr", "add", f"198.51.100.{n}/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", f"2001:db8:51::{n}/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        yield a
    finally:
        sh("ip", "netns", "del", a, check=False)
        sh("ip", "netns", "del", b, check=False)


def probe_in(ns: str, *addrs: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", PROBE, *addrs],
                         capture_output=True, text=True, env=env, timeout=30, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("group_range", ["0 2147483647", "1 0"], ids=["dgram", "raw"])
def test_ping_up_and_timeout(two_namespaces, group_range):
    ns = two_namespaces
    sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv4.ping_group_range={group_range}")
    last: list[dict] = []

    def up() -> dict | None:  # the veth pair needs a moment before the first echo gets through
        last[:] = [probe_in(ns, "198.51.100.2", "2001:db8:51::2", "198.51.100.3", "2001:db8:51::3")]
        return last[0] if last[0]["198.51.100.2"][0] == "ok" and last[0]["2001:db8:51::2"][0] == "ok" else None
    res = watch(up, 5) or last[0]
    assert res["198.51.100.2"][0] == "ok", res
    assert res["2001:db8:51::2"][0] == "ok", res
    assert res["198.51.100.3"][0] in ("timeout", "failed"), res
    assert res["2001:db8:51::3"][0] in ("timeout", "failed"), res
