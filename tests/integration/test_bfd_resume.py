"""BFD sessions across keepalived-py's bfd child respawn (kill -9) and in-place restart
(SIGRESTART to the parent), in the netns lab beside a keepalived 2.2.7 peer (and a
keepalived-py one): the peer never leaves Up - no packet from it but Up after the event -
r1 goes on with the same discriminator, and r1's packets never pause as long as the
peer's detection time (3 x the interval), judged on capture timestamps.

The intervals give the restart room on a loaded machine, within what is measured here:
a respawn is back in under 0.15 s, an in-place restart re-executes Python and forks
again (about 1-1.5 s at load 5), so 200 ms x 3 for the respawn and 1 s x 3 for the
restart. A shorter detection time than the restart's gap goes Down at the peer (README
"Restarts without a failover")."""

from __future__ import annotations

import os
import signal
import time

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import State
from tests.integration.test_bfd_support import TWO, bfd_conf, bfd_frames, both_up
from tests.integration.test_vrrp_resume import _restart_signal

pytestmark = [pytest.mark.root, pytest.mark.slow]


@pytest.mark.parametrize("peer", ["keepalived", "keepalived-py"])
@pytest.mark.parametrize(("how", "interval_ms"), [("kill -9", 200), ("in-place restart", 1000)])
def test_bfd_session_stays_up_across_restart(lab, implementation, peer, how, interval_ms):
    py = implementation("keepalived-py", features=("bfd",))
    other = implementation(peer, features=("bfd",))
    sig = _restart_signal() if how == "in-place restart" else signal.SIGKILL
    detect = 3 * interval_ms / 1000
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    cap = la.capture("lan", "udp port 3784")
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, interval_ms=interval_ms))
    r2 = la.start_daemon("r2", other, bfd_conf("b2", a1, a2, interval_ms=interval_ms))
    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    wait_until(lambda: both_up(frames(), a1, a2), 20, what="both sides sending Up")
    time.sleep(2 * detect)  # past the Poll that brings the intervals down to min_tx
    assert r1.wait_pidfiles(("main", "bfd")), r1.output()[-3000:]
    old, parent = r1.pids()["bfd"], r1.pid
    wall = time.time()
    os.kill(old if sig == signal.SIGKILL else parent, sig)
    wait_until(lambda: r1.pids().get("bfd") not in (None, old), 60, what="a new bfd child")
    wait_until(lambda: "(b1) Resumed Up state" in r1.output(), 30, what="the session resumed")
    time.sleep(2 * detect + 1)  # a Down at the peer would show in this time
    got = cap.stop()
    got = bfd_frames(got)
    before = [f for f in got if f.ts < wall and f.pkt is not None]
    after = [f for f in got if f.ts >= wall and f.pkt is not None]
    discr = {f.pkt.my_discr for f in before if f.src == a1 and f.pkt.state == State.UP}
    assert len(discr) == 1, discr
    mine = sorted(f.ts for f in got if f.src == a1 and f.ts >= wall - detect)
    gaps = [b - a for a, b in zip(mine, mine[1:], strict=False)]
    print(f"{how}, {interval_ms} ms x 3, peer {peer}: r1's longest gap {max(gaps) * 1000:.0f} ms "
          f"(peer's detection time {detect * 1000:.0f} ms)")
    out1, out2 = r1.output(), r2.output()
    assert not [f for f in after if f.src == a2 and f.pkt.state != State.UP], (out1[-3000:], out2[-3000:])
    assert {(f.pkt.state, f.pkt.my_discr) for f in after if f.src == a1} == {(State.UP, *discr)}
    assert max(gaps) < detect, gaps
    assert "Entering Down state" not in out2, out2[-3000:]
    if how == "in-place restart":
        assert r1.alive() and r1.pids().get("main") == parent
