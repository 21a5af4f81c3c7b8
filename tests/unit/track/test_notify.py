"""Notifier: notify scripts with keepalived's arguments, FIFO lines, FIFO scripts."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until_async
from keepalived_py.config import load_text
from keepalived_py.track.notify import STOP_SCRIPT_TIMEOUT, Notifier, fifo_line, notify_args
from keepalived_py.vrrp.actions import RunNotify
from tests.fakes.clock import FakeClock
from tests.fakes.scripts import FakeRunner


def make_script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def recorder(tmp_path: Path, name: str) -> tuple[str, Path]:
    """A script appending its name and arguments, one line per run."""
    out = tmp_path / f"{name}.out"
    path = make_script(tmp_path / f"{name}.sh", f'echo "{name} $*" >> {out}\n')
    return path, out


def load(text: str):
    res = load_text(text)
    assert not res.fatal, [str(d) for d in res.diagnostics]
    return res.config


async def wait_file(path: Path, lines: int, timeout: float = 5.0) -> list[str]:
    """The lines a real script wrote, once there are `lines` of them."""
    def ready():
        return path.exists() and len(text := path.read_text().splitlines()) >= lines and text

    return await wait_until_async(ready, timeout,
                                  what=lambda: f"{path}: {path.read_text() if path.exists() else 'missing'}")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def read_fifo(fd: int) -> list[str]:
    try:
        return os.read(fd, 65536).decode().splitlines()
    except BlockingIOError:
        return []


def test_formats():
    assert fifo_line("INSTANCE", "VI_1", "MASTER", 100) == 'INSTANCE "VI_1" MASTER 100\n'
    assert fifo_line("GROUP", "G 1", "BACKUP", 0) == 'GROUP "G 1" BACKUP 0\n'
    assert fifo_line("INSTANCE", "VI_1", "WHAT", 1) == 'INSTANCE "VI_1" {UNKNOWN} 1\n'
    assert notify_args("INSTANCE", "VI_1", "FAULT", 90) == ["INSTANCE", "VI_1", "FAULT", "90"]


def test_instance_scripts_and_fifo(tmp_path):
    master, master_out = recorder(tmp_path, "master")
    backup, backup_out = recorder(tmp_path, "backup")
    fault, fault_out = recorder(tmp_path, "fault")
    generic, generic_out = recorder(tmp_path, "generic")
    fifo = tmp_path / "fifo"
    cfg = load(f"""
global_defs {{
    vrrp_notify_fifo {fifo}
}}
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_master "{master} a 'b c'"
    notify_backup {backup}
    notify_fault {fault}
    notify {generic}
}}
""")

    async def main():
        n = Notifier()
        await n.start(cfg)
        assert fifo.exists() and fifo.is_fifo()
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        n.handle(RunNotify("INSTANCE", "VI_1", "BACKUP", 100))
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        n.handle(RunNotify("INSTANCE", "VI_1", "PRIORITY", 90))
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER_RX_LOWER_PRI", 90))
        n.handle(RunNotify("INSTANCE", "VI_1", "DELETED", 90))  # no notify_deleted: FAULT
        n.handle(RunNotify("INSTANCE", "VI_9", "MASTER", 100))  # unknown instance: FIFO only
        await n.drain()
        lines = read_fifo(rfd)
        assert await wait_file(master_out, 1) == ["master a b c"]
        assert await wait_file(backup_out, 1) == ["backup "]
        assert await wait_file(fault_out, 1) == ["fault "]
        gen = await wait_file(generic_out, 3)
        await n.stop()
        os.close(rfd)
        assert not fifo.exists()  # we created it: removed on stop
        return lines, gen

    lines, gen = asyncio.run(main())
    assert lines == ['INSTANCE "VI_1" BACKUP 100', 'INSTANCE "VI_1" MASTER 100',
                     'INSTANCE "VI_1" MASTER_PRIORITY 90', 'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 90',
                     'INSTANCE "VI_1" FAULT 90', 'INSTANCE "VI_9" MASTER 100']
    assert sorted(gen) == sorted(["generic INSTANCE VI_1 BACKUP 100", "generic INSTANCE VI_1 MASTER 100",
                                  "generic INSTANCE VI_1 FAULT 90"])


def test_notify_deleted_and_backup_priority(tmp_path):
    deleted, deleted_out = recorder(tmp_path, "deleted")
    generic, generic_out = recorder(tmp_path, "generic")
    fifo = tmp_path / "fifo"
    cfg = load(f"""
global_defs {{
    notify_fifo {fifo}
}}
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_deleted {deleted}
    notify {generic}
}}
""")

    async def main():
        n = Notifier()
        await n.start(cfg)
        rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        n.handle(RunNotify("INSTANCE", "VI_1", "FAULT", 100))
        n.handle(RunNotify("INSTANCE", "VI_1", "PRIORITY", 80))
        n.handle(RunNotify("INSTANCE", "VI_1", "DELETED", 80))
        await n.drain()
        lines = read_fifo(rfd)
        assert await wait_file(deleted_out, 1) == ["deleted "]
        gen = await wait_file(generic_out, 2)
        await n.stop()
        os.close(rfd)
        return lines, gen

    lines, gen = asyncio.run(main())
    assert lines == ['INSTANCE "VI_1" FAULT 100', 'INSTANCE "VI_1" BACKUP_PRIORITY 80',
                     'INSTANCE "VI_1" DELETED 80']
    assert sorted(gen) == ["generic INSTANCE VI_1 DELETED 80", "generic INSTANCE VI_1 FAULT 100"]


def test_group_notify_and_fifo_script(tmp_path):
    gmaster, gmaster_out = recorder(tmp_path, "gmaster")
    generic, generic_out = recorder(tmp_path, "generic")
    fifo = tmp_path / "fifo"
    fifo_out = tmp_path / "fifo.out"
    reader = make_script(tmp_path / "reader.sh",
                         f'echo "args $*" > {fifo_out}\nwhile read line; do echo "$line" >> {fifo_out}; done < "$1"\n')
    cfg = load(f"""
global_defs {{
    vrrp_notify_fifo {fifo}
    vrrp_notify_fifo_script {reader}
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
    }}
    notify_master {gmaster}
    notify {generic}
}}
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
}}
""")
    logs = []

    async def main():
        n = Notifier(log_fn=logs.append)
        await n.start(cfg)
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        n.handle(RunNotify("GROUP", "G1", "MASTER", 0))
        n.handle(RunNotify("GROUP", "G1", "STOP", 0))
        await n.drain()
        got = await wait_file(fifo_out, 4)
        assert await wait_file(gmaster_out, 1) == ["gmaster "]
        gen = await wait_file(generic_out, 2)
        await n.stop()
        return got, gen

    got, gen = asyncio.run(main())
    assert got == [f"args {fifo}", 'INSTANCE "VI_1" MASTER 100', 'GROUP "G1" MASTER 0', 'GROUP "G1" STOP 0']
    assert sorted(gen) == ["generic GROUP G1 MASTER 0", "generic GROUP G1 STOP 0"]
    assert "vrrp notify fifo script terminated" in logs


def test_existing_fifo_kept_and_global_script_left_to_checker(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    marker = tmp_path / "ran"
    script = make_script(tmp_path / "s.sh", f"touch {marker}\n")
    cfg = load(f"global_defs {{\n notify_fifo {fifo}\n notify_fifo_script {script}\n}}\n")

    async def main(checker):
        n = Notifier(checker_running=checker)
        await n.start(cfg)
        pids = [f.script_pid for f in n.fifos]
        if not checker:
            await wait_until_async(marker.exists, 5)
        await n.stop()
        return pids

    assert asyncio.run(main(True)) == [None]  # the checker process runs it, not us
    assert fifo.exists() and not marker.exists()  # not created by us: left in place
    assert asyncio.run(main(False)) != [None]
    assert marker.exists()


def test_scripts_get_keepalived_timeouts():
    # STOP scripts: killed (SIGKILL, no SIGTERM first) after 1 s, and waited for at stop;
    # the others: notify_timeout (none by default), and left running at stop
    cfg = load("""
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100
    }
    notify_stop /kpy/stop.sh
    notify_master /kpy/master.sh
}
""")
    runner = FakeRunner(FakeClock(), lambda run: 0)

    async def main():
        n = Notifier(runner)
        await n.start(cfg)
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        n.handle(RunNotify("INSTANCE", "VI_1", "STOP", 100))
        await n.stop()

    asyncio.run(main())
    got = {run.argv[0]: (run.timeout, run.kill_only, kill_on_stop) for run, kill_on_stop in runner.spawned}
    assert got == {"/kpy/master.sh": (None, False, False), "/kpy/stop.sh": (STOP_SCRIPT_TIMEOUT, True, True)}
    assert STOP_SCRIPT_TIMEOUT == 1.0 and Notifier().stop_timeout == STOP_SCRIPT_TIMEOUT


def test_stop_script_killed_after_its_timeout(tmp_path):
    pidfile = tmp_path / "pid"
    stop = make_script(tmp_path / "stop.sh", f"echo $$ > {pidfile}\nexec sleep 30\n")
    cfg = load(f"""
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_stop {stop}
}}
""")

    async def main():
        n = Notifier(stop_timeout=0.2)  # keepalived's 1 s: test_scripts_get_keepalived_timeouts
        await n.start(cfg)
        t0 = time.monotonic()
        n.handle(RunNotify("INSTANCE", "VI_1", "STOP", 100))
        await n.stop()  # waits for the STOP script, killed at 0.2 s
        return time.monotonic() - t0

    assert asyncio.run(main()) >= 0.2  # no upper bound: a loaded machine is slow, not wrong
    assert gone(int(pidfile.read_text()))


def test_other_notify_scripts_outlive_stop(tmp_path):
    pidfile = tmp_path / "pid"
    master = make_script(tmp_path / "m.sh", f"echo $$ > {pidfile}\nexec sleep 30\n")
    cfg = load(f"""
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_master {master}
}}
""")

    async def main():
        n = Notifier()
        await n.start(cfg)
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        await n.drain()
        await wait_until_async(lambda: pidfile.exists() and pidfile.read_text().strip(), 5)
        await n.stop()

    asyncio.run(main())
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, 0)  # still alive: keepalived does not track notify_exec() children
    finally:
        os.kill(pid, signal.SIGKILL)


def test_handle_before_start():
    with pytest.raises(RuntimeError):
        Notifier().handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))


def test_missing_notify_script_dropped(tmp_path):
    cfg = load(f"""
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_master {tmp_path}/missing.sh
}}
""")
    n = Notifier()
    n.prepare(cfg)
    assert n.instances["VI_1"].by_state == {}


def test_notify_timeout_and_reload(tmp_path):
    pidfile = tmp_path / "pid"
    slow = make_script(tmp_path / "slow.sh", f"echo $$ > {pidfile}\nexec sleep 30\n")
    rec, rec_out = recorder(tmp_path, "rec")
    inst = """
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    notify_master {script}
}}
"""

    async def main():
        n = Notifier(notify_timeout=0.3)
        await n.start(load(inst.format(script=slow)))
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        await n.drain()
        await wait_until_async(lambda: (pid := pidfile.read_text().strip() if pidfile.exists() else "")
                               and gone(int(pid)), 5,
                               what="the notify script killed at its notify_timeout (0.3 s)")
        await n.reload(load(inst.format(script=rec)))
        n.handle(RunNotify("INSTANCE", "VI_1", "MASTER", 100))
        await n.drain()
        assert await wait_file(rec_out, 1) == ["rec "]
        await n.stop()

    asyncio.run(main())


def test_shared_runner(tmp_path):
    from keepalived_py.scripts.runner import ScriptRunner
    from keepalived_py.track.trackers import Trackers

    fifo = tmp_path / "fifo"
    fifo_out = tmp_path / "fifo.out"
    reader = make_script(tmp_path / "reader.sh",
                         f'while read line; do echo "$line" >> {fifo_out}; done < "$1"\n')
    chk = make_script(tmp_path / "chk.sh", "exit 0\n")
    cfg = load(f"""
global_defs {{
    vrrp_notify_fifo {fifo}
    vrrp_notify_fifo_script {reader}
}}
vrrp_script chk {{
    script {chk}
}}
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    virtual_ipaddress {{
        192.0.2.100
    }}
    track_script {{
        chk
    }}
}}
""")

    async def main():
        runner = ScriptRunner()
        n = Notifier(runner)
        tr = Trackers(runner)
        await n.start(cfg)
        await tr.start(cfg, lambda ev: None)
        await wait_until_async(lambda: tr.scripts["chk"].runs >= 1, 5)
        await tr.stop()  # the shared runner, and so the FIFO script, keep going
        n.handle(RunNotify("INSTANCE", "VI_1", "STOP", 100))
        await n.drain()
        got = await wait_file(fifo_out, 1)
        await n.stop()
        assert runner.running() == []
        return got

    assert asyncio.run(main()) == ['INSTANCE "VI_1" STOP 100']
