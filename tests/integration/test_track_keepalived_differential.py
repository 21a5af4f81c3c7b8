"""Against real keepalived 2.2.7: one router in a namespace lab tracks a vrrp_script and a
track_file, with notify scripts and a vrrp_notify_fifo with its _script. Meanwhile our
Trackers watch the same script and file: the effective priorities that tracking.py computes
from our events must be keepalived's ("Changing effective priority from X to Y"), and our
Notifier, given the same notifications, must write the same FIFO lines and run the same
scripts with the same arguments."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until, wait_until_async
from keepalived_py.config import load_text
from keepalived_py.track.notify import Notifier
from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrp.actions import RunNotify
from keepalived_py.vrrp.tracking import TrackedObject, Tracking, clamp_priority
from tests.envcheck import keepalived_binary, need_netns

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

CONFIG = """
global_defs {{
    vrrp_notify_fifo {d}/fifo
    vrrp_notify_fifo_script {d}/reader.sh
    script_user root
    enable_script_security
}}
vrrp_script chk {{
    script "{d}/chk.sh"
    interval 1
    weight -20
}}
vrrp_script chk2 {{
    script "{d}/chk2.sh"
    interval 1
    rise 2
    fall 3
    weight 10
}}
vrrp_script chk3 {{
    script "{d}/chk3.sh"
    interval 3
    timeout 2
    weight -5
    init_fail
}}
vrrp_script chk4 {{
    script "{d}/chk4.sh"
    interval 3
    timeout 2
    weight -1
}}
track_file tf {{
    file {d}/tf
    weight 2
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    notify_priority_changes
    notify_master "{d}/rec.sh master 'a b'"
    notify_backup "{d}/rec.sh backup"
    notify_fault "{d}/rec.sh fault"
    notify_stop "{d}/rec.sh stop"
    notify {d}/rec.sh
    track_script {{
        chk
        chk2
        chk3
        chk4
    }}
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"""


def setup_dir() -> Path:
    d = Path(tempfile.mkdtemp(dir="/tmp", prefix="kpy-notify-"))
    d.chmod(0o755)

    def sc(name, body):
        p = d / name
        p.write_text("#!/bin/sh\n" + body)
        p.chmod(0o755)

    sc("rec.sh", f'echo "$*" >> {d}/scripts.out\n')
    sc("chk.sh", f"exit $(cat {d}/state)\n")
    sc("chk2.sh", f"exit $(cat {d}/state2)\n")
    sc("chk3.sh", "sleep 1\nexit 0\n")
    sc("chk4.sh", "exec sleep 5\n")
    (d / "state2").write_text("0")
    sc("reader.sh", f'echo "args $*" >> {d}/fifo.out\nwhile read line; do echo "$line" >> {d}/fifo.out; done < "$1"\n')
    (d / "state").write_text("0")
    (d / "tf").write_text("0\n")
    return d


def lines(p: Path) -> list[str]:
    return p.read_text().splitlines() if p.exists() else []


def play(impl: str, *, with_trackers: bool) -> dict:
    """The scenario against daemon `impl` (with our Trackers watching the same files)."""
    from conformance.lab import Lab, get

    d = setup_dir()
    text = CONFIG.format(d=d)
    prios: list[int] = []
    tracking = Tracking((TrackedObject("script", "chk", -20, initially_ok=None),
                         TrackedObject("script", "chk2", 10, initially_ok=None),
                         TrackedObject("script", "chk3", -5, initially_ok=None),
                         TrackedObject("script", "chk4", -1, initially_ok=None),
                         TrackedObject("file", "tf", 2, initially_ok=None)))
    our_logs: list[str] = []

    def on_event(ev):
        tracking.update(ev.kind, ev.name, ev.ok, ev.value)
        p = clamp_priority(100, tracking.total_weight())
        if (prios[-1] if prios else 100) != p:
            prios.append(p)

    async def ours(stop: asyncio.Event):
        tr = Trackers(log_fn=our_logs.append)
        await tr.start(load_text(text).config, on_event)
        await stop.wait()
        await tr.stop()

    async def scenario():
        stop = asyncio.Event()
        task = asyncio.create_task(ours(stop)) if with_trackers else None
        with Lab("bridge lan 192.0.2.0/24\nrouter r1 lan\n") as lab:
            daemon = lab.start_daemon("r1", get(impl), text)
            # the steps below are timed from the daemon being up (Python start-up takes 1-4 s
            # on a loaded machine): by then + 4 s every script has its first result (chk4
            # times out at 2 s), before chk starts failing
            await asyncio.to_thread(wait_until, lambda: "Entering BACKUP STATE" in daemon.output(), 30,
                                    what=lambda: daemon.output()[-2000:])
            await asyncio.sleep(4)
            (d / "state").write_text("1")
            await asyncio.sleep(2.5)
            (d / "tf").write_text("5\n")
            await asyncio.sleep(1)
            (d / "state").write_text("0")
            await asyncio.sleep(2.5)
            (d / "state2").write_text("1")
            await asyncio.sleep(4.5)
            (d / "state2").write_text("0")
            await asyncio.sleep(3.5)
            await asyncio.to_thread(daemon.stop)
            await asyncio.sleep(1)
            log = daemon.output()
        stop.set()
        if task is not None:
            await task
        return log

    try:
        log = asyncio.run(scenario())
        theirs = [int(m) for m in re.findall(r"Changing effective priority from \d+ to (\d+)", log)]
        return {"dir": d, "log": log, "scripts": lines(d / "scripts.out"), "fifo": lines(d / "fifo.out"),
                "their_prios": theirs, "our_prios": prios, "our_logs": our_logs}
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def run():
    need_netns()
    keepalived_binary()
    return play("keepalived", with_trackers=True)


@pytest.fixture(scope="module")
def run_py():
    """The same scenario with keepalived-py itself (its runtime drives our modules)."""
    need_netns()
    return play("keepalived-py", with_trackers=False)


def test_priorities_match(run):
    # chk2 +10 (first success), chk3's success changes nothing (keepalived 2.2.7 ignores
    # init_fail), chk4 -1 (timed out at 2 s), chk -20, file +10, chk +20, chk2 -10 (3
    # failures), chk2 +10 (2 successes)
    assert run["their_prios"] == [110, 109, 89, 99, 119, 109, 119], run["log"]
    assert run["our_prios"] == run["their_prios"]


def script_lines(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"(VRRP_Script\((\w+)\) .*|Script `(\w+)` now returning \d+)$", text, re.M):
        out.setdefault(m.group(2) or m.group(3), []).append(m.group(1))
    return out


def test_script_log_lines_match(run):
    assert script_lines("\n".join(run["our_logs"])) == script_lines(run["log"])


def _without_args(fifo: list[str]) -> list[str]:
    return [ln for ln in fifo if not ln.startswith("args ")]


def test_keepalived_py_daemon_matches(run, run_py):
    """Whole daemon: same priorities, same FIFO lines in the same order (keepalived may lose
    its last line, STOP, when its FIFO reader is killed first), same notify script runs,
    same VRRP_Script log lines."""
    assert run_py["their_prios"] == run["their_prios"], run_py["log"]
    theirs, ours = _without_args(run["fifo"]), _without_args(run_py["fifo"])
    assert run_py["fifo"][0] == f"args {run_py['dir']}/fifo"
    if ours[-1:] == ['INSTANCE "VI_1" STOP 119'] and theirs[-1:] != ours[-1:]:
        ours = ours[:-1]
    assert ours == theirs
    assert sorted(run_py["scripts"]) == sorted(run["scripts"])
    assert script_lines(run_py["log"]) == script_lines(run["log"])


def test_notifier_replays_keepalived(run, tmp_path):
    fifo = [ln for ln in run["fifo"] if not ln.startswith("args ")]
    assert run["fifo"][0] == f"args {run['dir']}/fifo"
    actions = []
    for ln in fifo:
        kind, name, state, prio = re.fullmatch(r'(\w+) "([^"]+)" (\S+) (\d+)', ln).groups()
        actions.append(RunNotify(kind, name, "PRIORITY" if state.endswith("_PRIORITY") else state, int(prio)))
    # keepalived's FIFO reader may be killed before it reads the STOP line: take it from the
    # generic notify script's arguments
    stop = [ln for ln in run["scripts"] if ln.startswith("INSTANCE VI_1 STOP")]
    if stop and not any(a.state == "STOP" for a in actions):
        actions.append(RunNotify("INSTANCE", "VI_1", "STOP", int(stop[0].split()[-1])))
        fifo.append(f'INSTANCE "VI_1" STOP {stop[0].split()[-1]}')

    d = setup_dir()
    try:
        cfg = load_text(CONFIG.format(d=d)).config

        async def main():
            n = Notifier()
            await n.start(cfg)
            for a in actions:
                n.handle(a)
            await n.drain()
            # the FIFO's reader script is stopped with the Notifier: let it read every line
            await wait_until_async(lambda: len(lines(d / "fifo.out")) >= len(fifo) + 1, 5)
            await n.stop()

        asyncio.run(main())
        wait_until(lambda: len(lines(d / "scripts.out")) >= len(run["scripts"]), 5,
                   what=lambda: f"the notify scripts' lines: {lines(d / 'scripts.out')}")
        assert [ln for ln in lines(d / "fifo.out") if not ln.startswith("args ")] == fifo
        assert sorted(lines(d / "scripts.out")) == sorted(run["scripts"])
    finally:
        shutil.rmtree(d, ignore_errors=True)


SYNC_CONFIG = """
global_defs {{
    vrrp_notify_fifo {d}/fifo
    vrrp_notify_fifo_script {d}/reader.sh
    script_user root
    enable_script_security
}}
vrrp_script chk {{
    script "{d}/chk.sh"
    interval 1
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
        VI_2
    }}
    notify "{d}/rec.sh group"
    notify_master "{d}/rec.sh gmaster"
    notify_fault "{d}/rec.sh gfault"
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    notify "{d}/rec.sh inst"
    track_script {{
        chk
    }}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 90
    advert_int 1
    notify "{d}/rec.sh inst"
    virtual_ipaddress {{
        192.0.2.101/24
    }}
}}
"""


def play_sync(impl: str) -> dict:
    from conformance.lab import Lab, get

    d = setup_dir()
    try:
        with Lab("bridge lan 192.0.2.0/24\nrouter r1 lan\n") as lab:
            daemon = lab.start_daemon("r1", get(impl), SYNC_CONFIG.format(d=d))
            # from both instances being MASTER (a Python start-up takes 1-4 s when loaded)
            wait_until(lambda: all(f"({i}) Entering MASTER STATE" in daemon.output() for i in ("VI_1", "VI_2")),
                       30, what=lambda: daemon.output()[-2000:])
            time.sleep(1)
            (d / "state").write_text("1")
            time.sleep(3)
            (d / "state").write_text("0")
            time.sleep(6)
            daemon.stop()
            time.sleep(1)
            log = daemon.output()
        return {"log": log, "fifo": _without_args(lines(d / "fifo.out")), "scripts": lines(d / "scripts.out")}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sync_group_notifications_match_keepalived():
    need_netns()
    keepalived_binary()
    theirs, ours = play_sync("keepalived"), play_sync("keepalived-py")
    # keepalived's FIFO reader can be killed before it reads the STOP lines
    strip = [ln for ln in ours["fifo"] if " STOP " not in ln]
    assert strip == [ln for ln in theirs["fifo"] if " STOP " not in ln]
    assert sorted(ours["scripts"]) == sorted(theirs["scripts"])
