"""Trackers against the real world, without root: a real script through the ScriptRunner,
a track file watched with inotify, processes counted from /proc. Timing rules are tested
on the fake clock (test_trackers.py); here only that the I/O reaches them. Waits poll
against a deadline; none asserts on elapsed time."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from conformance.lab.poll import wait_until_async
from keepalived_py.track.trackers import Trackers
from tests.unit.track.helpers import Events, config


def make_script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_real_script_rise_and_fall(tmp_path):
    state = tmp_path / "rc"
    state.write_text("0")
    path = make_script(tmp_path / "chk.sh", f"exit $(cat {state})\n")
    cfg = config(f'vrrp_script chk {{\n script "{path}"\n rise 2\n fall 2\n}}\n', "track_script {\n chk\n }",
                 chk=(0.05, None))

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [True])
        state.write_text("1")
        await ev.wait_for(lambda e: e.of("script", "chk") == [True, False])
        state.write_text("0")
        await ev.wait_for(lambda e: e.of("script", "chk") == [True, False, True])
        runs = tr.snapshot()["scripts"]["chk"]["runs"]
        await tr.stop()
        return runs

    assert asyncio.run(main()) >= 5  # 1 + 2 failures + 2 successes at least


def test_real_script_timeout_is_a_failure(tmp_path):
    logs: list[str] = []
    path = make_script(tmp_path / "slow.sh", "exec sleep 30\n")
    cfg = config(f'vrrp_script chk {{\n script "{path}"\n}}\n', "track_script {\n chk\n }", chk=(5, 0.1))

    async def main():
        ev = Events()
        tr = Trackers(log_fn=logs.append)
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [False])
        await tr.stop()

    asyncio.run(main())
    assert "VRRP_Script(chk) timed_out" in logs


def test_track_file_with_inotify(tmp_path):
    f = tmp_path / "weight"
    f.write_text("5\n")
    cfg = config(f"track_file tf {{\n file {f}\n}}\n", "track_file {\n tf\n }")
    logs: list[str] = []

    async def main():
        ev = Events()
        tr = Trackers(log_fn=logs.append)
        await tr.start(cfg, ev)
        assert tr.files is not None and tr.files.uses_inotify
        assert ev.of("file", "tf") == [5]
        f.write_text("-3")
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [-3])
        f.write_text("-3\n")  # same value: no event
        f.write_text("junk")  # no number: 0
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [0])
        f.write_text("0x10")
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [16])
        f.write_text("99999999999")  # out of range: logged and ignored
        await wait_until_async(lambda: any(m.startswith("Invalid number 99999999999") for m in logs), 5)
        f.unlink()
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [0])
        tmp = tmp_path / "new"
        tmp.write_text("7")
        tmp.rename(f)  # moved in
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [7])
        await tr.stop()
        return ev.of("file", "tf")

    assert asyncio.run(main()) == [5, -3, 0, 16, 0, 7]


def test_track_process_counts_real_processes(tmp_path):
    tag = f"kpy-track-{os.getpid()}"
    argv = [sys.executable, "-c", "import time; time.sleep(60)", tag]
    cfg = config(f'vrrp_track_process tp {{\n process {sys.executable} -c "import time; time.sleep(60)" {tag}\n'
                 " quorum 2\n}\n", "track_process {\n tp\n }")
    procs: list[subprocess.Popen] = []

    async def main():
        ev = Events()
        tr = Trackers(process_scan_interval=0.05)
        await tr.start(cfg, ev)
        assert ev.of("process", "tp") == [False]
        procs.append(subprocess.Popen(argv))
        await wait_until_async(lambda: tr.snapshot()["processes"]["tp"]["count"] == 1, 5)
        assert ev.of("process", "tp") == [False]  # one is below the quorum
        procs.append(subprocess.Popen(argv))
        await ev.wait_for(lambda e: e.of("process", "tp") == [False, True])
        procs.pop().kill()
        await ev.wait_for(lambda e: e.of("process", "tp") == [False, True, False])
        await tr.stop()

    try:
        asyncio.run(main())
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_reload_adds_a_process_tracker(tmp_path):
    f = tmp_path / "one"
    f.write_text("1")
    top = f"track_file t1 {{\n file {f}\n}}\nvrrp_track_process tp {{\n process no_such_process_kpy\n}}\n"

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(config(top, "track_file {\n t1\n }"), ev)
        assert ev.of("process", "tp") == []
        await tr.reload(config(top, "track_file {\n t1\n }\n track_process {\n tp\n }"))
        assert ev.of("process", "tp") == [False] and ev.of("file", "t1") == [1, 1]  # re-reported
        snap = tr.snapshot()
        await tr.stop()
        return snap

    snap = asyncio.run(main())
    assert set(snap["processes"]) == {"tp"} and set(snap["files"]) == {"t1"}
