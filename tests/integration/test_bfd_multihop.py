"""Multi-hop (RFC 5883, port 4784) and keepalived's max_hops: a Down packet that arrives
on 4784 with TTL 250 brings a session with `max_hops 10` to Init (our next packets name
the sender's discriminator); with the default max_hops 0 the same packet is a TTL drop
(counted in keepalived_bfd.data) and the session stays Down."""

from __future__ import annotations

import os
import re
import signal
import sys
import time

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import State
from tests.integration.test_bfd_support import TWO, bfd_conf, bfd_frames

pytestmark = [pytest.mark.root, pytest.mark.slow]

SENDER = r'''
import socket, struct, sys, time
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 250)
s.bind(("", 49999))
pkt = struct.pack("!BBBBIIIII", 0x20, 0x40, 3, 24, 0x0BADCAFE, 0, 1000000, 1000000, 0)
for _ in range(3):
    s.sendto(pkt, (dst, 4784))
    time.sleep(0.2)
'''


@pytest.mark.parametrize("max_hops", [10, 0])
def test_multihop_port_and_max_hops(lab, implementation, max_hops):
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    cap = la.capture("lan", f"udp and src host {a1}")
    extra = f"    max_hops {max_hops}\n    idle_tx 1000\n"
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, extra=extra))
    assert r1.wait_pidfiles(("main", "bfd")), r1.output()[-3000:]

    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    wait_until(lambda: frames(), 10, what="our first Down packet")
    la.exec("r2", [sys.executable, "-c", SENDER, a1])
    if max_hops:
        init = wait_until(lambda: [f for f in frames() if f.pkt is not None and f.pkt.state == State.INIT], 5,
                          what="Init towards the multi-hop sender")
        assert init[0].pkt.your_discr == 0x0BADCAFE and init[0].dport == 3784
        return
    time.sleep(1.5)
    assert all(f.pkt.state == State.DOWN and f.pkt.your_discr == 0 for f in frames() if f.pkt is not None)
    data = la.workdir / "r1-keepalived-py" / "tmp" / "keepalived_bfd.data"
    os.kill(r1.pids()["main"], signal.SIGUSR1)
    text = wait_until(lambda: data.exists() and "receive drops" in (t := data.read_text()) and t, 10)
    assert re.search(r"^ ttl = 3$", text, re.M), text
