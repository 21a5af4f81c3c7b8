"""A sync group already in FAULT at start, beside keepalived 2.2.7: the FIFO lines of the
members come before the group's (vrrp_complete_init notifies the faulted instances, then
vrrp_init_state the group), and the STOP lines at shutdown; same lines, same order."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.integration.test_vrrp_notify_lab import ONE_ROUTER, FifoReader, group_conf, lines
from tests.integration.test_vrrp_runtime_support import wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]


def run_fault_start(la, impl, work: Path) -> list[str]:
    out = work / f"{impl.name}-r1-faultstart.fifo.log"
    reader = FifoReader(out)
    try:
        la.link_down("r1", "eth1")  # VI_1 tracks eth1, VI_2 runs on it
        track = "    track_interface {\n        eth1\n    }\n"
        r1 = la.start_daemon("r1", impl, group_conf("r1", 150, out, track))
        wait_until(lambda: any(x.startswith("GROUP") for x in lines(out)), 15,
                   what=lambda: f"{lines(out)} {r1.output()[-2000:]}")
        time.sleep(1.0)  # anything else it would write at start
        r1.signal(signal.SIGTERM)
        assert r1.wait(15) == 0, r1.output()[-3000:]
        wait_until(lambda: 'GROUP "G1" STOP 0' in lines(out), 5, what=lambda: lines(out))
        return lines(out)
    finally:
        reader.close()


def test_group_in_fault_at_start_writes_members_first_like_keepalived(lab, implementation, keepalived_impl,
                                                                       tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run_fault_start(lab(ONE_ROUTER), keepalived_impl, tmp_path)
    ours = run_fault_start(lab(ONE_ROUTER), py, tmp_path)
    print("keepalived:", ka)
    print("keepalived-py:", ours)
    assert ka[:3] == ['INSTANCE "VI_1" FAULT 150', 'INSTANCE "VI_2" FAULT 150', 'GROUP "G1" FAULT 0'], ka
    assert ours == ka
