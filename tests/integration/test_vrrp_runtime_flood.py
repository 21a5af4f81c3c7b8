"""Hostile traffic (acceptance (d)): garbage, truncated, wrong-checksum, wrong-TTL and
foreign-VRID VRRP packets at a bounded high rate for 10 s against a master and a backup.
No crash, the master's adverts stay on time, the backup does not take over, and every
dropped packet is counted under its reason."""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import time

import pytest

from conformance.lab import vrrp_adverts
from tests.integration.test_vrrp_runtime_support import VIP, master_down, vrrp_conf, wait_until

pytestmark = [pytest.mark.root, pytest.mark.slow]

TOPO = """
bridge lan 192.0.2.0/24
router r1 lan
router r2 lan
client c1 lan
"""
RATE = 2000  # packets per second, all kinds together
SECONDS = 10

SENDER = textwrap.dedent("""
    import json, os, socket, sys, time
    from ipaddress import IPv4Address
    from keepalived_py.vrrp.packet import VrrpAdvert, build_ipv4, encode
    src, rate, seconds = IPv4Address(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    dst = IPv4Address("224.0.0.18")
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    s.setsockopt(socket.SOL_SOCKET, 25, b"eth0")
    good = encode(VrrpAdvert(2, 51, 50, 100, (IPv4Address("192.0.2.100"),), 0, b"\\0" * 8))
    bad_csum = good[:6] + bytes([good[6] ^ 0xFF, good[7]]) + good[8:]
    foreign = encode(VrrpAdvert(2, 99, 50, 100, (IPv4Address("192.0.2.100"),), 0, b"\\0" * 8))
    kinds = {
        "garbage": build_ipv4(src, dst, bytes([0xF1, 51]) + os.urandom(18)),
        "truncated": build_ipv4(src, dst, bytes([0x21, 51, 50, 1, 0, 1])),
        "checksum": build_ipv4(src, dst, bad_csum),
        "ttl": build_ipv4(src, dst, good, ttl=64),
        "vrid": build_ipv4(src, dst, foreign),
    }
    names = list(kinds)
    sent = dict.fromkeys(names, 0)
    t0 = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        due = int((now - t0) * rate)
        while n < due:
            k = names[n % len(names)]
            s.sendto(kinds[k], (str(dst), 0))
            sent[k] += 1
            n += 1
        time.sleep(0.001)
    print(json.dumps(sent))
""")


def _dump_json(la, daemon) -> list[dict]:
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / "keepalived.json"
    if path.exists():
        path.unlink()
    daemon.signal(int(signal.SIGRTMIN) + 2)
    wait_until(lambda: path.exists() and path.stat().st_size > 0, 5, what="the JSON dump")
    time.sleep(0.1)
    return json.loads(path.read_text())


def _dump_data(la, daemon) -> str:
    path = la.workdir / f"{daemon.node}-{daemon.what}" / "tmp" / "keepalived.data"
    if path.exists():
        path.unlink()
    daemon.signal(signal.SIGUSR1)
    wait_until(lambda: path.exists() and path.stat().st_size > 0, 5, what="the data dump")
    time.sleep(0.1)
    return path.read_text()


def test_flood(lab, implementation):
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips = la.watch_addresses(["r1", "r2"])
    r1 = la.start_daemon("r1", py, vrrp_conf(prio=150, router_id="r1"))
    assert vips.wait_for(VIP, node="r1", timeout=15) is not None
    r2 = la.start_daemon("r2", py, vrrp_conf(prio=100, router_id="r2"))
    assert vips.wait_for(VIP, node="r2", timeout=master_down(100) + 2) is None
    cap = la.capture("lan", "vrrp and src host " + la.addr("r1"))
    t0 = la.note("flood")
    r = la.exec("c1", [sys.executable, "-c", SENDER, la.addr("c1"), str(RATE), str(SECONDS)],
                timeout=SECONDS + 30, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    sent = json.loads(r.stdout.strip().splitlines()[-1])
    time.sleep(1.5)
    frames = cap.stop()
    assert sum(sent.values()) >= RATE * SECONDS * 0.9, sent
    assert r1.alive() and r2.alive()
    # no takeover, no loss of the VIP during the flood
    assert vips.holders(VIP) == {"r1"}
    assert not [e for e in vips.history(VIP) if e.mono >= t0]
    # the master's adverts stay on time
    ads = [a.ts for a in vrrp_adverts(frames)]
    gaps = [b - a for a, b in zip(ads, ads[1:], strict=False)]
    mean = (ads[-1] - ads[0]) / len(gaps)
    print(f"sent {sent}; master advert gaps {min(gaps):.3f}..{max(gaps):.3f} s, mean {mean:.4f} s")
    # capture timestamps. On average exactly on time (no drift: the mean over 10+ intervals
    # is off only by the first and last advert's latency / 10); one advert may be late by
    # the scheduling on a loaded machine, far inside what the protocol allows: the backup
    # waits master_down(100) = 3.6 s before it takes over (asserted above that it did not)
    assert len(ads) >= SECONDS and abs(mean - 1.0) <= 0.03, gaps
    assert all(0.7 <= g <= 1.3 for g in gaps), gaps
    # every drop counted under its reason, on both routers: length and TTL in keepalived.json
    # as keepalived counts them; garbage (vers_err) and bad checksums (chk_err), which
    # keepalived keeps for SNMP only, and unknown VRIDs in our own keepalived.data section
    for d in (r1, r2):
        stats = _dump_json(la, d)[0]["stats"]
        data = _dump_data(la, d)
        unknown = int(data.split("Unknown VRID = ")[1].split()[0])
        words = data.split(" Instance VI_1 drops: ")[1].split("\n")[0].split()
        extra = {k: int(v) for k, v in zip(words[::2], words[1::2], strict=True)}
        got = {"truncated": stats["packet_len_err"], "ttl": stats["ip_ttl_err"], "vrid": unknown,
               "garbage": extra["vers_err"], "checksum": extra["chk_err"]}
        print(d.node, got)
        assert got == {k: sent[k] for k in got}, (d.node, got, sent)
