"""Notify scripts and the notify FIFO against keepalived 2.2.7, through the real daemons.

1. `-V` (--dont-release-vrrp): on TERM the VIPs stay and no priority 0 advert goes out, but
   keepalived's notify_shutdown() still runs: every instance's STOP (notify_stop, notify,
   FIFO), then every sync group's. Same FIFO lines in the same order, same script lines.
2. A sync group of two instances on two interfaces, two routers: a tracked interface of one
   member going down on the master moves the whole group to the other router; the FIFO
   lines on both routers are keepalived's, in keepalived's order (up to which member
   moves first, a race on the wire: see segments()).
"""

from __future__ import annotations

import collections
import os
import select
import signal
import threading
import time
from pathlib import Path

import pytest

from conformance.lab import vrrp_adverts
from tests.integration.test_vrrp_runtime_support import VIP, master_down, wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

TWO_LANS = """
bridge lan 192.0.2.0/24 2001:db8:0:1::/64
bridge back 198.51.100.0/24
router r1 lan back
router r2 lan back
"""
ONE_ROUTER = """
bridge lan 192.0.2.0/24
bridge back 198.51.100.0/24
router r1 lan back
"""
VIP2 = "198.51.100.100"


def group_conf(node: str, prio: int, out: Path, track: str = "") -> str:
    fifo = out.with_suffix(".fifo")
    notify = out.with_suffix(".notify")
    sh = f"/bin/sh -c 'echo $* >> {notify}' sh"
    return f"""
global_defs {{
    router_id {node}
    vrrp_notify_fifo {fifo}
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    notify "{sh} GROUP-NOTIFY"
    notify_stop "{sh} GROUP-STOP"
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority {prio}
    advert_int 1
    notify "{sh} NOTIFY"
    notify_stop "{sh} STOP"
    notify_master "{sh} MASTER"
{track}    virtual_ipaddress {{
        {VIP}/24
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority {prio}
    advert_int 1
    notify "{sh} NOTIFY"
    virtual_ipaddress {{
        {VIP2}/24
    }}
}}
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


class FifoReader:
    """Reads the notify FIFO from the test (a notify_fifo_script would be killed at
    shutdown with the other scripts, before the STOP lines): the FIFO is made here, kept
    open for reading, and what comes is appended to `out`."""

    def __init__(self, out: Path) -> None:
        self.fifo = out.with_suffix(".fifo")
        self.out = out
        if self.fifo.exists():
            self.fifo.unlink()
        os.mkfifo(self.fifo)
        self.fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        buf = b""
        while not self.done.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            chunk = os.read(self.fd, 4096)
            if not chunk:
                time.sleep(0.02)  # no writer now; one may open it later
                continue
            buf += chunk
            *whole, buf = buf.split(b"\n")
            with self.out.open("a") as f:
                f.writelines(x.decode() + "\n" for x in whole)

    def close(self) -> None:
        self.done.set()
        self.thread.join(2)
        os.close(self.fd)


def run_dont_release(la, impl, work: Path) -> tuple[list[str], list[str]]:
    out = work / f"{impl.name}-r1.fifo.log"
    vips = la.watch_addresses(["r1"])
    cap = la.capture("lan", "vrrp")
    reader = FifoReader(out)
    try:
        return _dont_release_steps(la, impl, out, vips, cap)
    finally:
        reader.close()


def _dont_release_steps(la, impl, out: Path, vips, cap) -> tuple[list[str], list[str]]:
    r1 = la.start_daemon("r1", impl, group_conf("r1", 150, out), extra=("-V",))
    assert vips.wait_for(VIP, node="r1", timeout=15) is not None, r1.output()[-3000:]
    assert vips.wait_for(VIP2, node="r1", timeout=5) is not None, r1.output()[-3000:]
    wait_until(lambda: "GROUP \"G1\" MASTER 0" in lines(out), 5, what=lambda: f"{lines(out)} {r1.output()[-2000:]}")
    time.sleep(0.5)
    t = la.terminate(r1)
    assert r1.wait(15) == 0, r1.output()[-3000:]
    wait_until(lambda: sum("STOP" in x for x in lines(out)) >= 3, 5, what=lambda: f"{lines(out)} {r1.output()[-2000:]}")
    time.sleep(1.0)  # the last scripts finish
    assert vips.wait_for(VIP, node="r1", added=False, after=t, timeout=0.5) is None
    assert vips.holders(VIP) == {"r1"} and vips.holders(VIP2) == {"r1"}
    frames = cap.stop()
    assert not [a for a in vrrp_adverts(frames) if a.priority == 0], "-V sends no priority 0 advert"
    return lines(out), lines(out.with_suffix(".notify"))


def test_dont_release_runs_the_stop_notifies_as_keepalived(lab, implementation, keepalived_impl, tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka_fifo, ka_scripts = run_dont_release(lab(ONE_ROUTER), keepalived_impl, tmp_path)
    py_fifo, py_scripts = run_dont_release(lab(ONE_ROUTER), py, tmp_path)
    print("keepalived:", ka_fifo, ka_scripts)
    print("keepalived-py:", py_fifo, py_scripts)
    stops = [x for x in ka_fifo if "STOP" in x]
    assert stops == ['INSTANCE "VI_1" STOP 150', 'INSTANCE "VI_2" STOP 150', 'GROUP "G1" STOP 0'], ka_fifo
    assert py_fifo == ka_fifo
    # scripts run in parallel: compare what ran, not the order the lines landed in
    assert collections.Counter(py_scripts) == collections.Counter(ka_scripts)
    assert any(x.startswith("STOP") for x in ka_scripts) and any(x.startswith("GROUP-STOP") for x in ka_scripts)


def run_group_failover(la, impl, work: Path) -> dict[str, list[str]]:
    outs = {n: work / f"{impl.name}-{n}-group.fifo.log" for n in ("r1", "r2")}
    readers = [FifoReader(p) for p in outs.values()]
    try:
        return _group_steps(la, impl, outs)
    finally:
        for reader in readers:
            reader.close()


def _group_steps(la, impl, outs: dict[str, Path]) -> dict[str, list[str]]:
    vips = la.watch_addresses(["r1", "r2"])
    track = "    track_interface {\n        eth1\n    }\n"
    r1 = la.start_daemon("r1", impl, group_conf("r1", 150, outs["r1"], track))
    assert vips.wait_for(VIP, node="r1", timeout=15) is not None, r1.output()[-3000:]
    assert vips.wait_for(VIP2, node="r1", timeout=5) is not None, r1.output()[-3000:]
    r2 = la.start_daemon("r2", impl, group_conf("r2", 100, outs["r2"], track))
    time.sleep(master_down(100) + 1.0)
    assert vips.holders(VIP) == {"r1"} and vips.holders(VIP2) == {"r1"}, r2.output()[-3000:]
    t = la.note("eth1 of r1 goes down")  # before: keepalived may react before link_down returns
    la.link_down("r1", "eth1")
    assert vips.wait_for(VIP, node="r2", after=t, timeout=master_down(100) + 3) is not None, r2.output()[-3000:]
    assert vips.wait_for(VIP2, node="r2", after=t, timeout=3) is not None, r2.output()[-3000:]
    assert vips.wait_for(VIP, node="r1", added=False, after=t, timeout=3) is not None, r1.output()[-3000:]
    time.sleep(1.0)
    assert vips.holders(VIP) == {"r2"} and vips.holders(VIP2) == {"r2"}
    t2 = la.note("eth1 of r1 comes back")
    la.link_up("r1", "eth1")
    assert vips.wait_for(VIP, node="r1", after=t2, timeout=master_down(150) + 5) is not None, r1.output()[-3000:]
    assert vips.wait_for(VIP2, node="r1", after=t2, timeout=3) is not None, r1.output()[-3000:]
    time.sleep(1.5)
    # r1 stops first (priority 0): r2 takes the group over before it is stopped too, however
    # fast r1's own shutdown is (keepalived's took longer than r2's skew time, ours need not)
    t3 = la.note("r1 stops")
    r1.signal(signal.SIGTERM)
    assert r1.wait(15) == 0, r1.output()[-3000:]
    assert vips.wait_for(VIP, node="r2", after=t3, timeout=master_down(100) + 3) is not None, r2.output()[-3000:]
    assert vips.wait_for(VIP2, node="r2", after=t3, timeout=3) is not None, r2.output()[-3000:]
    wait_until(lambda: lines(outs["r2"])[-1:] == ['GROUP "G1" MASTER 0'], 5, what=lambda: lines(outs["r2"]))
    r2.signal(signal.SIGTERM)
    assert r2.wait(15) == 0, r2.output()[-3000:]
    time.sleep(0.5)
    return {n: lines(p) for n, p in outs.items()}


def test_sync_group_moves_whole_on_tracked_interface_like_keepalived(lab, implementation, keepalived_impl,
                                                                       tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run_group_failover(lab(TWO_LANS), keepalived_impl, tmp_path)
    ours = run_group_failover(lab(TWO_LANS), py, tmp_path)
    print("keepalived:", ka)
    print("keepalived-py:", ours)
    assert any("GROUP \"G1\" FAULT" in x for x in ka["r1"]), ka
    assert {n: segments(v) for n, v in ours.items()} == {n: segments(v) for n, v in ka.items()}


def segments(lines_: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """The FIFO as keepalived's ordering rules fix it: each GROUP line with the INSTANCE
    lines since the previous one (members before their group; a group's first state before
    any member). Which member moves first is the wire's race (whose advert lands first),
    so within a segment the lines are ordered by instance, each instance's own kept."""
    out, current = [], []
    for line in lines_:
        if line.startswith("GROUP"):
            out.append((tuple(sorted(current, key=lambda x: x.split()[1])), line))
            current = []
        else:
            current.append(line)
    out.append((tuple(sorted(current, key=lambda x: x.split()[1])), ""))
    return out
