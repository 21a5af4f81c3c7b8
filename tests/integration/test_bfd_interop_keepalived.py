"""keepalived-py's BFD against real keepalived 2.2.7's bfd_instance, single hop, IPv4 and
IPv6, in network namespaces: the session comes Up, both sides agree on 50 ms intervals
(checked on the captured packets, field by field), and after kill -9 of either side the
survivor sends Down with diagnostic 1 within the detection time (3 x 50 ms) + 50 ms of
the last packet it heard, judged on capture timestamps."""

from __future__ import annotations

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import Diag, State
from tests.integration.test_bfd_support import (
    TWO,
    bfd_conf,
    bfd_frames,
    both_up,
    expired_down_seen,
    settled,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]

DETECT = 0.150
SLACK = 0.050


def _up(la, cap_frames, a, b, timeout=15.0):
    def seen():
        return both_up(bfd_frames(cap_frames()), a, b)
    wait_until(seen, timeout, what="both sides sending Up")


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("killed", ["keepalived", "keepalived-py"])
def test_interop_keepalived(lab, implementation, keepalived_impl, v6, killed):
    py = implementation("keepalived-py", features=("bfd",))
    ka = keepalived_impl
    la = lab(TWO)
    a1, a2 = la.addr("r1", v6=v6), la.addr("r2", v6=v6)
    cap = la.capture("lan", "udp port 3784")
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1))
    r2 = la.start_daemon("r2", ka, bfd_conf("b2", a1, a2))
    def frames():
        return read_pcap(cap.path) if cap.path.exists() else []

    try:
        _up(la, frames, a1, a2)
        wait_until(lambda: len(settled(bfd_frames(frames()), a1)) > 10
                   and len(settled(bfd_frames(frames()), a2)) > 10, 10, what="intervals agreed")
    except Exception:
        print(r1.output()[-4000:], r2.output()[-4000:])
        raise
    victim, survivor = (r2, a1) if killed == "keepalived" else (r1, a2)
    dead_addr = a2 if survivor == a1 else a1
    la.kill(victim)
    wait_until(lambda: expired_down_seen(bfd_frames(frames()), survivor), 5, what="the survivor's Down")
    got = bfd_frames(cap.stop())
    out1, out2 = r1.output(), r2.output()

    last_heard = max(f.ts for f in got if f.src == dead_addr)
    before = [f for f in got if f.ts <= last_heard]
    # field by field, once the intervals are agreed
    for src, other, ttl in ((a1, a2, 64 if v6 else 255), (a2, a1, 64 if v6 else 255)):
        ups = settled(before, src)
        assert ups, (src, out1[-3000:], out2[-3000:])
        theirs = {f.pkt.my_discr for f in settled(before, other)}
        assert len(theirs) == 1
        for f in ups:
            assert f.pkt.version == 1 and f.pkt.detect_mult == 3 and not f.pkt.auth
            assert f.pkt.desired_min_tx_us == 50_000 and f.pkt.required_min_rx_us == 50_000
            assert f.pkt.your_discr in theirs and f.pkt.diag == Diag.NONE
            assert f.ttl == ttl and f.dport == 3784 and 49152 <= f.sport <= 65535
        gaps = [b.ts - a.ts for a, b in zip(ups, ups[1:], strict=False)]
        # a loaded 2-core machine may delay one packet; the protocol's bound is the
        # peer's detection time (no false Down), the rate is judged on the mean
        assert max(gaps) < DETECT, (src, max(gaps))
        assert sum(gaps) / len(gaps) < 0.050

    downs = [f for f in got if f.src == survivor and f.ts > last_heard and f.pkt is not None
             and f.pkt.state == State.DOWN and f.pkt.diag == Diag.EXPIRED]
    assert downs, (out1[-3000:], out2[-3000:])
    delay = downs[0].ts - last_heard
    print(f"{killed} killed: the survivor sent Down/diag 1 {delay * 1000:.1f} ms after the last packet")
    assert delay <= DETECT + SLACK, delay
    if survivor == a1:
        assert "(b1) Entering Up state" in out1 and "(b1) Expired after" in out1, out1[-3000:]
        assert ("(b1) Entering Down state (Local diagnostic - Control Detection Time Expired, "
                "Remote diagnostic - No Diagnostic)") in out1
    # the -D timer dump, as keepalived writes it on both sides
    for out, name in ((out1, "b1"), (out2, "b2")):
        assert f"({name}) ---------------< Session parameters >--------------" in out
        assert " " * (len(name) + 12) + "min_tx  min_rx  tx_intv  mult  detect_time" in out
