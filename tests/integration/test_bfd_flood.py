"""A bounded flood of malformed BFD packets (about 2000 a second for 10 s, each kind of
malformation in turn) at keepalived-py while its 50 ms x 3 session with real keepalived
runs: the daemon survives, the session never goes Down falsely (on the wire and in the
log), and the keepalived_bfd.data dump counts the drops by reason.

A Down is false when keepalived's own Control packets kept reaching the wire within the
detection time before it. keepalived runs beside the flooder in its namespace; on a
loaded 2-core CI machine it can fall silent for longer than 150 ms, and then our Down
(diagnostic 1, detection time expired) is the protocol doing its job: the capture of both
sides tells the two apart, so load cannot fail the test for keepalived's silence."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import Diag, State
from tests.integration.test_bfd_support import TWO, bfd_conf, bfd_frames

pytestmark = [pytest.mark.root, pytest.mark.slow]

RATE = 2000
SECONDS = 10.0
DETECTION_S = 0.15  # 50 ms x 3, keepalived's side of bfd_conf
SLACK_S = 0.005  # capture timestamps of two packets, a few hundred microseconds apart at most

# One malformation per dump reason; the sender counts what it sent of each.
FLOODER = r'''
import json, os, socket, struct, sys, time
dst, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
def pkt(vd=0x20, flags=0xC0, mult=3, length=24, my=0x1234, your=0x5678, tail=b""):
    return struct.pack("!BBBBIIIII", vd, flags, mult, length, my, your, 50000, 50000, 0) + tail
kinds = {
    "too_short": (pkt()[:20], 255),
    "bad_version": (pkt(vd=0x40), 255),
    "bad_length": (pkt(length=40), 255),
    "zero_multiplier": (pkt(mult=0), 255),
    "multipoint": (pkt(flags=0xC1), 255),
    "zero_my_discr": (pkt(my=0), 255),
    "zero_your_discr": (pkt(your=0), 255),
    "poll_and_final": (pkt(flags=0xF0), 255),
    "bad_diag": (pkt(vd=0x3F), 255),
    "bad_auth_section": (pkt(flags=0xC4, length=27, tail=b"\x01\x09\x00"), 255),
    "no_session": (pkt(your=0xDEADBEEF), 255),
    "ttl": (pkt(flags=0x40, your=0), 1),
}
socks = {}
for ttl in (255, 1):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    else:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
    socks[ttl] = s
sent = dict.fromkeys(kinds, 0)
names = list(kinds)
start = time.monotonic()
n = 0
while True:
    now = time.monotonic() - start
    if now >= seconds:
        break
    due = int(now * rate)
    while n < due:
        name = names[n % len(names)]
        data, ttl = kinds[name]
        try:
            socks[ttl].sendto(data, (dst, 3784))
            sent[name] += 1
        except OSError:
            pass
        n += 1
    time.sleep(0.002)
print(json.dumps(sent))
'''


def test_malformed_flood(lab, implementation, keepalived_impl):
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    cap = la.capture("lan", "udp port 3784")
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1))
    r2 = la.start_daemon("r2", keepalived_impl, bfd_conf("b2", a1, a2))

    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    # our own Up packets prove we are Up
    wait_until(lambda: any(f.pkt is not None and f.pkt.state == State.UP and f.src == a1 for f in frames()), 20,
               what="keepalived-py Up")
    r = la.exec("r2", [sys.executable, "-c", FLOODER, a1, str(RATE), str(SECONDS)], timeout=60)
    sent = json.loads(r.stdout)
    time.sleep(0.5)
    assert r1.alive(), r1.output()[-3000:]
    got = cap.stop()
    seen = bfd_frames(got)
    ours = [f for f in seen if f.src == a1 and f.pkt is not None]
    up_at = min(f.ts for f in ours if f.pkt.state == State.UP)
    peer_discr = next(f.pkt.your_discr for f in ours if f.pkt.state == State.UP)
    mine = next(f.pkt.my_discr for f in ours if f.pkt.state == State.UP)
    # keepalived's Control packets: from r2, its discriminator, addressed to our session
    # (the flood's packets carry My Discriminator 0x1234 or none that decodes)
    theirs = [f.ts for f in seen if f.src == a2 and f.pkt is not None and f.pkt.my_discr == peer_discr
              and f.pkt.your_discr == mine]
    downs = [f for f in ours if f.ts > up_at and f.pkt.state != State.UP]
    if downs:
        first = downs[0]
        before = [t for t in theirs if t < first.ts]
        silent = first.ts - before[-1] if before else float("inf")
        print(f"our Down at +{first.ts - up_at:.3f} s (diag {first.pkt.diag!r}); keepalived silent "
              f"{silent * 1000:.0f} ms before it")
        assert silent >= DETECTION_S - SLACK_S and first.pkt.diag == Diag.EXPIRED, \
            f"false Down during the flood: keepalived's last packet {silent * 1000:.0f} ms before it"
    else:
        out = r1.output()
        assert "Entering Down state" not in out and "Expired after" not in out, out[-3000:]
    gaps = [b - a for a, b in zip(theirs, theirs[1:], strict=False)]
    print(f"keepalived's packets captured: {len(theirs)}, longest gap {max(gaps) * 1000:.0f} ms")

    pid = r1.pidfiles.read()["main"]
    data = la.workdir / "r1-keepalived-py" / "tmp" / "keepalived_bfd.data"
    os.kill(pid, signal.SIGUSR1)
    text = wait_until(lambda: data.exists() and "receive drops" in (t := data.read_text()) and t, 10,
                      what="keepalived_bfd.data")
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^ (\w+) = (\d+)$", text, re.M)}
    print("sent", sent, "\ncounted", counts)
    for reason, n in sent.items():
        assert n > 0
        # the socket may lose some under load, but never count more than were sent
        assert 0.9 * n <= counts.get(reason, 0) <= n, (reason, n, counts.get(reason))
    assert r2.alive()
