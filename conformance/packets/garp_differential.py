"""Gratuitous ARP schedule: keepalived's frames versus our SendGarp actions.

Why: GARP timing is what moves traffic to a new master; our machine claims keepalived's
schedule (advert first, then garp_master_repeat rounds over every VIP, again after
garp_master_delay, and every garp_master_refresh). keepalived 2.2.7 runs alone in a netns
(becomes MASTER after Master_Down), tcpdump in a second netns records ARP and VRRP; the
bursts, relative to its first advert, are compared with what our instance asks for.

Run as root: .venv/bin/python -m conformance.packets.garp_differential
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import uuid
from ipaddress import IPv4Address
from pathlib import Path

from conformance.packets.timing_differential import read_pcap_ts
from keepalived_py.vrrp.actions import SendAdvert, SendGarp
from keepalived_py.vrrp.events import Start, TimerExpired
from keepalived_py.vrrp.machine import VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams

VIPS = (IPv4Address("192.0.2.100"), IPv4Address("192.0.2.101"))
RUN_S = 13.0  # master at ~3.6 s, second burst at +5 s, refresh at +4 s and +8 s


def params() -> VrrpInstanceParams:
    return VrrpInstanceParams("VI_1", "veth", 51, IPv4Address("192.0.2.1"), priority=100,
                              virtual_ipaddress=VIPS, garp_master_delay_s=5, garp_master_repeat=3,
                              garp_master_refresh_s=4, garp_master_refresh_repeat=2)


CONF = """vrrp_instance VI_1 {{
 interface {ifname}
 virtual_router_id 51
 priority 100
 advert_int 1
 garp_master_delay 5
 garp_master_repeat 3
 garp_master_refresh 4
 garp_master_refresh_repeat 2
 virtual_ipaddress {{
  192.0.2.100
  192.0.2.101
 }}
}}
"""


def ours(until_s: float) -> list[tuple[float, list[str]]]:
    """(offset from the first advert, addresses in order) for each GARP burst we ask for."""
    inst = VrrpInstance(params())
    now = 0.0
    timers: dict[str, float] = {}
    out = []
    first = None

    def run(actions):
        nonlocal first
        for a in actions:
            if isinstance(a, SendAdvert) and first is None:
                first = now
            if isinstance(a, SendGarp):
                out.append((now, [str(x) for _ in range(a.repeat) for x in a.addresses]))
            if hasattr(a, "timer"):
                if a.at is None:
                    timers.pop(a.timer, None)
                else:
                    timers[a.timer] = a.at

    run(inst.handle(Start(), now))
    while timers:
        name, at = min(timers.items(), key=lambda kv: kv[1])
        if first is not None and at - first > until_s:
            break
        del timers[name]
        now = at
        run(inst.handle(TimerExpired(name), now))
    assert first is not None
    return [(t - first, addrs) for t, addrs in out]


def theirs(keepalived: str = "/usr/sbin/keepalived") -> list[tuple[float, list[str]]]:
    tag = f"kpg{os.getpid() % 100000:05d}{uuid.uuid4().hex[:4]}"
    ns_ka, ns_cap, if_ka, if_cap = f"{tag}k", f"{tag}c", f"{tag}a", f"{tag}b"
    work = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    created: list[str] = []
    procs: list[subprocess.Popen] = []

    def run(*cmd: str, check: bool = True):
        return subprocess.run(cmd, capture_output=True, text=True, check=check)

    try:
        for ns in (ns_ka, ns_cap):
            run("ip", "netns", "add", ns)
            created.append(ns)
        run("ip", "-n", ns_ka, "link", "add", if_ka, "type", "veth", "peer", "name", if_cap,
            "netns", ns_cap)
        run("ip", "-n", ns_ka, "addr", "add", "192.0.2.1/24", "dev", if_ka)
        run("ip", "-n", ns_cap, "addr", "add", "192.0.2.2/24", "dev", if_cap)
        run("ip", "-n", ns_ka, "link", "set", if_ka, "up")
        run("ip", "-n", ns_cap, "link", "set", if_cap, "up")
        conf = work / "k.conf"
        conf.write_text(CONF.format(ifname=if_ka))
        pcap = work / "g.pcap"
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns_cap, "tcpdump", "-i", if_cap, "-U", "-n", "-w", str(pcap),
             "arp or ip proto 112"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns_ka, keepalived, "-n", "-l", "-D", "-P", "-f", str(conf),
             "-p", str(work / "1"), "-r", str(work / "2"), "-c", str(work / "3")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(work)}))
        time.sleep(3.7 + RUN_S)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in created:
            run("ip", "netns", "del", ns, check=False)
    first = None
    bursts: list[tuple[float, list[str]]] = []
    for t, f in read_pcap_ts(pcap):
        ethertype = struct.unpack("!H", f[12:14])[0]
        if ethertype == 0x0800 and first is None:
            first = t
        if ethertype != 0x0806 or first is None:
            continue
        addr = str(IPv4Address(f[14 + 24:14 + 28]))
        if bursts and t - first - bursts[-1][0] < 0.2:
            bursts[-1][1].append(addr)
        else:
            bursts.append((t - first, [addr]))
    shutil.rmtree(work, ignore_errors=True)  # kept only when something went wrong
    return [b for b in bursts if b[0] <= RUN_S]


def compare(keepalived: str = "/usr/sbin/keepalived", slack_s: float = 0.05,
            drift: float = 0.02) -> list[str]:
    """Differences in burst count, order or time. keepalived re-arms each advert from the
    moment it fired, so its lateness adds up (1-10 ms per advert seen); hence `drift`, a
    tolerance that grows with the offset. Our machine re-arms from the `now` it is given,
    so a real runtime drifts the same way."""
    mine, real = ours(RUN_S - 0.5), theirs(keepalived)
    real = [b for b in real if b[0] <= RUN_S - 0.5]
    problems = []
    if len(mine) != len(real):
        problems.append(f"{len(real)} bursts from keepalived, {len(mine)} from us: {real} vs {mine}")
    for (t1, a1), (t2, a2) in zip(real, mine, strict=False):
        if abs(t1 - t2) > slack_s + drift * t2 or a1 != a2:
            problems.append(f"keepalived {t1:.3f}s {a1} vs ours {t2:.3f}s {a2}")
    return problems


if __name__ == "__main__":
    print("ours      ", [(round(t, 3), len(a)) for t, a in ours(RUN_S - 0.5)])
    print("keepalived", [(round(t, 3), len(a)) for t, a in theirs()])
