"""The bfd process as keepalived runs it: started by the parent for bfd_instance blocks
with its own pid file (-b), not started with -B, gone (pid file removed) after a stop;
and a reload that changes min_tx on an Up session runs a Poll Sequence with the peer
(real keepalived) instead of dropping the session."""

from __future__ import annotations

import os
import signal
import time

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import State
from tests.integration.test_bfd_support import TWO, bfd_conf, bfd_frames, settled

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_bfd_child_pid_file_and_dash_B(lab, implementation):
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    conf = bfd_conf("b1", la.addr("r2"), la.addr("r1"))
    d = la.start_daemon("r1", py, conf)
    assert d.wait_pidfiles(("main", "bfd")), d.output()[-3000:]
    pids = d.pids()
    assert pids["bfd"] != pids["main"] and os.path.exists(f"/proc/{pids['bfd']}")
    assert f"Starting BFD child process, pid={pids['bfd']}" in d.output()
    assert d.stop() == 0
    assert not d.pidfiles.bfd.exists() and not d.pidfiles.main.exists()

    off = la.start_daemon("r1", py, conf, name="nobfd", extra=("-B",))
    assert off.wait_pidfiles(("main",)), off.output()[-3000:]
    time.sleep(1.5)
    assert "bfd" not in off.pids() and "Starting BFD child process" not in off.output(), off.output()[-3000:]
    assert off.stop() == 0


def test_reload_interval_change_polls_and_stays_up(lab, implementation, keepalived_impl):
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    cap = la.capture("lan", "udp port 3784")
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1))
    la.start_daemon("r2", keepalived_impl, bfd_conf("b2", a1, a2))

    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    wait_until(lambda: len(settled(frames(), a1)) > 5 and len(settled(frames(), a2)) > 5, 20,
               what="Up with intervals agreed")
    t_reload = time.time()
    r1.conf.write_text(bfd_conf("b1", a2, a1, interval_ms=100).replace("min_rx 100", "min_rx 50"))
    os.kill(r1.pids()["main"], signal.SIGHUP)
    wait_until(lambda: any(f.src == a1 and f.pkt is not None and f.pkt.desired_min_tx_us == 100_000
                           and f.pkt.state == State.UP and not f.pkt.poll and f.ts > t_reload
                           for f in frames()), 10, what="the new interval in use")
    # a few packets at the new rate, to measure it
    wait_until(lambda: sum(1 for f in frames() if f.src == a1 and f.pkt is not None and f.ts > t_reload
                           and f.pkt.desired_min_tx_us == 100_000 and not f.pkt.poll) > 8, 10)
    got = [f for f in bfd_frames(cap.stop()) if f.ts > t_reload and f.pkt is not None]
    ours = [f for f in got if f.src == a1]
    assert all(f.pkt.state == State.UP for f in got), "the session went down across the reload"
    polls = [f for f in ours if f.pkt.poll]
    assert polls and polls[0].pkt.desired_min_tx_us == 100_000
    finals = [f for f in got if f.src == a2 and f.pkt.final and f.ts > polls[0].ts]
    assert finals, "keepalived answered no Final"
    after = [f for f in ours if f.ts > finals[0].ts + 0.01 and not f.pkt.final]
    gaps = [b.ts - a.ts for a, b in zip(after, after[1:], strict=False)]
    assert gaps and 0.075 - 0.01 <= sum(gaps) / len(gaps) <= 0.100 + 0.01, gaps
    assert "Reloading" in r1.output()


def test_passive_waits_for_the_peer_and_idle_tx_is_advertised(lab, implementation, keepalived_impl):
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = la.addr("r1"), la.addr("r2")
    cap = la.capture("lan", "udp port 3784")
    r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, extra="    passive\n    idle_tx 2000\n"))
    assert r1.wait_pidfiles(("main", "bfd")), r1.output()[-3000:]

    def frames():
        return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

    time.sleep(2.5)  # a passive session sends nothing, whatever the wait
    assert not [f for f in frames() if f.src == a1], "a passive session spoke first"
    t_peer = time.time()
    la.start_daemon("r2", keepalived_impl, bfd_conf("b2", a1, a2))
    wait_until(lambda: len(settled(frames(), a1)) > 5, 20, what="Up with intervals agreed")
    ours = [f for f in frames() if f.src == a1 and f.pkt is not None]
    first_peer = min(f.ts for f in frames() if f.src == a2)
    assert ours[0].ts >= first_peer >= t_peer - 0.5
    before_up = [f for f in ours if f.pkt.state != State.UP]
    assert before_up and all(f.pkt.desired_min_tx_us == 2_000_000 for f in before_up)
    assert all(f.pkt.desired_min_tx_us == 50_000 for f in ours if f.pkt.state == State.UP)
