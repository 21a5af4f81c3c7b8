"""Real keepalived and keepalived-py send the same adverts (issue 6): one router, the same
configuration, each run in turn in the same lab under tcpdump; every VRRP field (version,
type, vrid, priority, address count, auth type and data, advert interval, the addresses, a
valid checksum) and the IP header fields that matter (TTL / hop limit 255, source,
destination, protocol 112) are equal, both send an advert every configured interval (10 ms),
and both announce the VIP with the same gratuitous ARPs / unsolicited NAs on becoming MASTER."""

from __future__ import annotations

import ipaddress
import statistics
import struct
import time

import pytest

from conformance.lab import arps, neighbor_adverts
from conformance.lab.pcap import parse_vrrp
from tests.integration.test_vrrp_runtime_support import VIP, VIP6, master_down, vrrp_conf

pytestmark = [pytest.mark.root, pytest.mark.slow]
ONE_ROUTER = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
router r1 lan
"""
PRIO = 150
# consecutive MASTER adverts to look at (the first ~4.6 s as MASTER); the gaps are timed from
# the 2nd on. Not longer: 5 s after becoming MASTER keepalived repeats its GARPs / NAs
# (garp_master_delay) and that advert was seen up to 23 ms late (IPv6).
ADVERTS = 5
AUTH = "    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }"
VARIANTS = {
    "v2_pass": dict(version=2, vips=(f"{VIP}/24", "192.0.2.101/24"), extra=AUTH),
    "v3_ipv4": dict(version=3, vips=(f"{VIP}/24", "192.0.2.101/24")),
    "v3_ipv6": dict(version=3, vips=(f"{VIP6}/64", "2001:db8:0:1::101/64")),
}


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s  # 0xFFFF when the packet's checksum is right


def _fields(frame, adv) -> dict:
    ip = frame.data[14:]  # lab bridges carry untagged Ethernet
    raw, n = adv.raw, adv.raw[3]
    v6 = ip[0] >> 4 == 6
    alen = 16 if v6 else 4
    f = {"version": adv.version, "type": adv.type, "vrid": adv.vrid, "priority": adv.priority,
         "count": n, "interval_cs": adv.interval_cs, "addresses": adv.addresses,
         "ttl": adv.ttl, "src": adv.src, "dst": adv.dst, "proto": ip[6] if v6 else ip[9],
         "dst_mac": ":".join(f"{b:02x}" for b in frame.data[:6])}
    if adv.version == 2:
        body = raw[:8 + n * alen + 8]
        f["auth_type"] = raw[4]
        f["auth_data"] = raw[8 + n * alen:8 + n * alen + 8]
        f["length"] = len(body)
        f["checksum_ok"] = _csum(body) == 0xFFFF
    else:
        body = raw[:8 + n * alen]
        f["rsvd"] = raw[4] >> 4
        f["length"] = len(body)
        src, dst = ipaddress.ip_address(adv.src).packed, ipaddress.ip_address(adv.dst).packed
        pseudo = (src + dst + struct.pack("!I3xB", len(body), 112) if v6
                  else src + dst + struct.pack("!xBH", 112, len(body)))
        f["checksum_ok"] = _csum(pseudo + body) == 0xFFFF
    # IPv4 TOS / IPv6 traffic class: compared last, apart (see the end of the test)
    f["tos"] = ip[1] if not v6 else ((ip[0] & 0x0F) << 4) | (ip[1] >> 4)
    return f


def _run(la, impl, conf: str, vip: str, v6: bool) -> dict:
    """Run `impl` alone in r1 until it has sent ADVERTS adverts as MASTER; what it sent."""
    vips = la.watch_addresses(["r1"])
    cap = la.capture("lan", "ip6" if v6 else "vrrp or arp")
    t0 = la.note(f"start {impl.name}")
    d = la.start_daemon("r1", impl, conf)
    got = vips.wait_for(vip, node="r1", after=t0, timeout=master_down(PRIO) + 10)
    assert got is not None, d.output()[-3000:]
    # ADVERTS - 1 intervals after the VIP, plus slack for the last one to be captured
    assert vips.wait_for(vip, node="r1", added=False, after=t0, timeout=ADVERTS - 1 + 0.6) is None
    t_stop = la.terminate(d)
    assert d.wait(10) == 0, d.output()[-3000:]
    assert vips.wait_for(vip, node="r1", added=False, after=t_stop, timeout=3) is not None
    time.sleep(0.5)  # tcpdump hands packets over in blocks
    frames = cap.stop()
    vips.stop()
    pairs = [(fr, a) for fr in frames if (a := parse_vrrp(fr)) is not None and a.priority == PRIO]
    assert len(pairs) >= ADVERTS, (impl.name, len(pairs), d.output()[-3000:])
    pairs = pairs[:ADVERTS]
    first = pairs[0][1].ts
    if v6:
        ann = [(n.target, n.src, n.override) for n in neighbor_adverts(frames)
               if n.unsolicited and first - 0.5 <= n.ts <= first + 3]
    else:
        ann = [(a.target_ip, a.sender_ip, a.op) for a in arps(frames)
               if a.gratuitous and first - 0.5 <= a.ts <= first + 3]
    return {"fields": [_fields(fr, a) for fr, a in pairs],
            # steady state: the first gap follows the transition to MASTER (GARPs / NAs,
            # address setup), where even keepalived was seen at 1.0092 s
            "gaps": [b.ts - a.ts for (_, a), (_, b) in zip(pairs[1:], pairs[2:], strict=False)],
            "announce": ann}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_capture_compare(lab, implementation, keepalived_impl, variant):
    py = implementation("keepalived-py", features=("vrrp",))
    kw = VARIANTS[variant]
    v6 = variant.endswith("ipv6")
    vip = VIP6 if v6 else VIP
    conf = vrrp_conf(prio=PRIO, router_id="r1", **kw)
    la = lab(ONE_ROUTER)
    ka = _run(la, keepalived_impl, conf, vip, v6)
    kp = _run(la, py, conf, vip, v6)

    for name, r in (("keepalived", ka), ("keepalived-py", kp)):
        print(f"{variant} {name}: gaps {[round(g, 4) for g in r['gaps']]}, "
              f"fields {r['fields'][0]}, announce {len(r['announce'])}x {sorted(set(r['announce']))}")
    ref = ka["fields"][0]
    # keepalived's own adverts are all alike (sanity), and what the acceptance pins
    assert all(f == ref for f in ka["fields"]), ka["fields"]
    assert ref["ttl"] == 255 and ref["proto"] == 112 and ref["checksum_ok"]
    assert ref["dst"] == ("ff02::12" if v6 else "224.0.0.18")
    # field by field: every keepalived-py advert equals keepalived's
    for i, f in enumerate(kp["fields"]):
        diff = {k: (ref[k], f.get(k)) for k in ref if k != "tos" and ref[k] != f.get(k)}
        assert not diff, f"advert {i}: (keepalived, keepalived-py) differ in {diff}"
    # one advert per configured interval (1 s): the median gap within 10 ms, for both. One
    # advert sent late on a loaded machine (CI runs a software-emulated guest beside this)
    # moves two gaps by the lateness; the bound for each gap is the protocol's: a backup
    # (priority 100) waits 3 intervals plus its skew time, so a gap off by less than the
    # skew time cannot cost the master its role. The precision itself is a `make bench` figure.
    skew = (256 - 100) / 256
    for name, r in (("keepalived", ka), ("keepalived-py", kp)):
        assert abs(statistics.median(r["gaps"]) - 1.0) <= 0.010, (name, r["gaps"])
        assert all(abs(g - 1.0) < skew for g in r["gaps"]), (name, r["gaps"])
    # the announcements on becoming MASTER: same count, same targets
    assert ka["announce"], "keepalived sent no gratuitous ARP / unsolicited NA (capture problem?)"
    assert len(kp["announce"]) == len(ka["announce"]), (ka["announce"], kp["announce"])
    assert sorted(kp["announce"]) == sorted(ka["announce"])
    print(f"median gap keepalived {statistics.median(ka['gaps']):.4f}s, keepalived-py "
          f"{statistics.median(kp['gaps']):.4f}s")
    # last, so that everything above is checked first: the precedence bits. keepalived sends
    # its adverts as internetwork control (0xc0), over IPv4 (vrrp_build_ip4) and over IPv6
    # alike (the capture shows traffic class 0xc0); keepalived-py sets it for IPv4 only.
    assert {f["tos"] for f in kp["fields"]} == {ref["tos"]}, \
        f"IPv4 TOS / IPv6 traffic class: keepalived {ref['tos']:#x}, keepalived-py {kp['fields'][0]['tos']:#x}"
