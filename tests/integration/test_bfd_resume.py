"""BFD sessions across keepalived-py's bfd child respawn (kill -9) and in-place restart
(SIGRESTART to the parent), in the netns lab beside a keepalived 2.2.7 peer, FRR's bfdd
and a keepalived-py one: the peer never leaves Up - no packet from it but Up after the event -
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
import tempfile
import time
from pathlib import Path

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import State
from tests.integration.test_bfd_interop_frr import frr_peer, need_frr, start_frr
from tests.integration.test_bfd_support import TWO, bfd_conf, bfd_frames, both_up
from tests.integration.test_vrrp_resume import _restart_signal

pytestmark = [pytest.mark.root, pytest.mark.slow]


CASES = [("kill -9", 200), ("in-place restart", 1000)]


def _restart(la, r1, sig: int, detect: float, frames) -> tuple[float, int, int]:
    """Both sides Up with their intervals agreed, then the kill or the restart; returns
    (wall time of the event, the main pid, the old bfd child's pid) once r1 resumed."""
    a1, a2 = la.addr("r1"), la.addr("r2")
    wait_until(lambda: both_up(frames(), a1, a2), 30,
               what=lambda: f"both sides sending Up; r1: {r1.output()[-2000:]}")
    time.sleep(2 * detect)  # past the Poll that brings the intervals down to min_tx
    assert r1.wait_pidfiles(("main", "bfd")), r1.output()[-3000:]
    old, parent = r1.pids()["bfd"], r1.pid
    wall = time.time()
    os.kill(old if sig == signal.SIGKILL else parent, sig)
    wait_until(lambda: r1.pids().get("bfd") not in (None, old), 60, what="a new bfd child")
    wait_until(lambda: "(b1) Resumed Up state" in r1.output(), 30, what="the session resumed")
    time.sleep(2 * detect + 1)  # a Down at the peer would show in this time
    return wall, parent, old


def _judge(la, got, wall: float, detect: float, what: str) -> None:
    """On the capture: no packet from the peer but Up after the event, r1 Up with its one
    discriminator throughout, r1's longest gap under the peer's detection time."""
    a1, a2 = la.addr("r1"), la.addr("r2")
    got = bfd_frames(got)
    before = [f for f in got if f.ts < wall and f.pkt is not None]
    after = [f for f in got if f.ts >= wall and f.pkt is not None]
    discr = {f.pkt.my_discr for f in before if f.src == a1 and f.pkt.state == State.UP}
    assert len(discr) == 1, discr
    mine = sorted(f.ts for f in got if f.src == a1 and f.ts >= wall - detect)
    gaps = [b - a for a, b in zip(mine, mine[1:], strict=False)]
    print(f"{what}: r1's longest gap {max(gaps) * 1000:.0f} ms (peer's detection time {detect * 1000:.0f} ms)")
    assert not [f for f in after if f.src == a2 and f.pkt.state != State.UP], what
    assert {(f.pkt.state, f.pkt.my_discr) for f in after if f.src == a1} == {(State.UP, *discr)}
    assert max(gaps) < detect, gaps


@pytest.mark.parametrize("peer", ["keepalived", "keepalived-py"])
@pytest.mark.parametrize(("how", "interval_ms"), CASES)
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

    wall, parent, _old = _restart(la, r1, sig, detect, frames)
    _judge(la, cap.stop(), wall, detect, f"{how}, {interval_ms} ms x 3, peer {peer}")
    out2 = r2.output()
    assert "Entering Down state" not in out2, out2[-3000:]
    if how == "in-place restart":
        assert r1.alive() and r1.pids().get("main") == parent


@pytest.mark.parametrize(("how", "interval_ms"), CASES)
def test_bfd_session_stays_up_at_frr(lab, implementation, how, interval_ms):
    need_frr()
    py = implementation("keepalived-py", features=("bfd",))
    sig = _restart_signal() if how == "in-place restart" else signal.SIGKILL
    detect = 3 * interval_ms / 1000
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    rundir = Path(tempfile.mkdtemp(prefix="kpy-bfd-frr-")) / "run"
    rundir.parent.chmod(0o755)
    cap = la.capture("lan", "udp port 3784")
    start_frr(la, "r2", a1, a2, rundir, interval_ms=interval_ms)
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, interval_ms=interval_ms))

    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    wall, _parent, _old = _restart(la, r1, sig, detect, frames)
    _judge(la, cap.stop(), wall, detect, f"{how}, {interval_ms} ms x 3, peer FRR bfdd")
    peer = frr_peer(la, "r2", rundir)
    assert peer.get("status") == "up", peer
    # bfdd counts the session's time Up: it never restarted over the event
    assert peer.get("uptime", 0) >= time.time() - wall - 1, peer
