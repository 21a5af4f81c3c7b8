"""Trackers with real scripts, files and processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keepalived_py.track.trackers import Trackers
from tests.unit.track.helpers import Events, config


def make_script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def script_config(tmp_path, chk_body, *, extra="", interval=0.1, timeout=None, track="track_script {\n chk\n }"):
    state = tmp_path / "rc"
    state.write_text("0")
    path = make_script(tmp_path / "chk.sh", chk_body.format(state=state))
    top = f"""
vrrp_script chk {{
    script "{path}"
    {extra}
}}
vrrp_script unused {{
    script "{path}"
}}
"""
    return config(top, track, chk=(interval, timeout)), state


def test_script_rise_fall(tmp_path):
    cfg, state = script_config(tmp_path, "exit $(cat {state})\n", extra="rise 2\n fall 2")

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [True])
        state.write_text("1")
        await ev.wait_for(lambda e: e.of("script", "chk") == [True, False])
        snap = tr.snapshot()
        state.write_text("0")
        await ev.wait_for(lambda e: e.of("script", "chk") == [True, False, True])
        await tr.stop()
        return ev, snap

    ev, snap = asyncio.run(main())
    assert {e.name for e in ev} == {"chk"}  # the unused script never runs
    assert snap["scripts"]["chk"]["status"] == "BAD" and "unused" not in snap["scripts"]
    assert snap["scripts"]["chk"]["init_state"] == "unknown" and snap["scripts"]["chk"]["rise"] == 2


def test_init_fail_is_ignored_as_keepalived_2_2_7_does(tmp_path):
    # alloc_track_script() resets init_state to INIT: the first result is reported as usual
    cfg, state = script_config(tmp_path, "exit $(cat {state})\n", extra="init_fail")
    state.write_text("1")

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg, ev)
        assert ev.of("script", "chk") == []  # nothing before the first run
        await ev.wait_for(lambda e: e.of("script", "chk") == [False])
        assert tr.snapshot()["scripts"]["chk"]["status"] == "BAD"
        state.write_text("0")
        await ev.wait_for(lambda e: e.of("script", "chk") == [False, True])
        await tr.stop()

    asyncio.run(main())


def test_script_timeout_is_failure(tmp_path):
    logs = []
    cfg, _ = script_config(tmp_path, "sleep 5\n", interval=0.5, timeout=0.2)

    async def main():
        ev = Events()
        tr = Trackers(log_fn=logs.append)
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [False])
        await tr.stop()

    asyncio.run(main())
    assert "VRRP_Script(chk) timed_out" in logs


def test_failure_message_and_status_change_log(tmp_path):
    logs = []
    cfg, state = script_config(tmp_path, "exit $(cat {state})\n")
    state.write_text("3")

    async def main():
        ev = Events()
        tr = Trackers(log_fn=logs.append)
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [False])
        await tr.stop()

    asyncio.run(main())
    assert "Script `chk` now returning 3" in logs
    assert "VRRP_Script(chk) failed (exited with status 3)" in logs


def test_overrunning_script_is_skipped(tmp_path):
    logs = []
    cfg, _ = script_config(tmp_path, "sleep 0.35\n", interval=0.1, timeout=2)

    async def main():
        ev = Events()
        tr = Trackers(log_fn=logs.append)
        await tr.start(cfg, ev)
        await ev.wait_for(lambda e: e.of("script", "chk") == [True])
        runs = tr.snapshot()["scripts"]["chk"]["runs"]
        await tr.stop()
        return runs

    assert asyncio.run(main()) == 1
    assert "Track script chk is already running, expect idle - skipping run" in logs


def test_missing_script_disabled(tmp_path):
    logs = []
    top = f'vrrp_script chk {{\n script "{tmp_path}/nope.sh"\n}}\n'
    cfg = config(top, "track_script {\n chk\n }")
    tr = Trackers(log_fn=logs.append)
    assert tr.prepare(cfg) == {("script", "chk")}
    assert "Disabling track script chk since not found/accessible" in logs


# ---------------------------------------------------------------------------- files
def file_config(path, extra=""):
    return config(f"track_file tf {{\n file {path}\n {extra}\n}}\n", "track_file {\n tf\n }")


@pytest.mark.parametrize("inotify", [True, False])
def test_track_file(tmp_path, inotify):
    f = tmp_path / "weight"
    f.write_text("5\n")
    cfg = file_config(f)

    async def main():
        ev = Events()
        tr = Trackers(use_inotify=inotify, file_poll_interval=0.05)
        await tr.start(cfg, ev)
        assert ev.of("file", "tf") == [5]
        f.write_text("-3")
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [-3])
        f.write_text("-3\n")  # same value: no event
        f.write_text("junk")  # no number: 0
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [0])
        f.write_text("0x10")
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [16])
        f.write_text("99999999999")  # out of range: ignored
        await asyncio.sleep(0.2)
        f.unlink()
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [0])
        tmp = tmp_path / "new"
        tmp.write_text("7")
        tmp.rename(f)  # moved in
        await ev.wait_for(lambda e: e.of("file", "tf")[-1:] == [7])
        snap = tr.snapshot()
        await tr.stop()
        return ev.of("file", "tf"), snap

    values, snap = asyncio.run(main())
    assert values == [5, -3, 0, 16, 0, 7]
    assert snap["files"]["tf"] == {"path": str(f), "value": 7}


def test_track_file_absent_and_init_file(tmp_path):
    f = tmp_path / "w"
    g = tmp_path / "g"
    g.write_text("3\n")
    cfg = config(f"track_file tf {{\n file {f}\n init_file 12\n}}\n"
                 f"track_file tg {{\n file {g}\n init_file 4 overwrite\n}}\n"
                 f"track_file th {{\n file {tmp_path}/absent\n}}\n"
                 f"track_file tx {{\n file /nonexistent_dir_kpy/x\n}}\n",
                 "track_file {\n tf\n tg\n th\n tx\n }")

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg, ev)
        await tr.stop()
        return ev, tr

    ev, tr = asyncio.run(main())
    assert f.read_text() == "12\n" and g.read_text() == "4\n"
    assert ev.of("file", "tf") == [12] and ev.of("file", "tg") == [4] and ev.of("file", "th") == [0]
    assert ev.of("file", "tx") == [] and ("file", "tx") in tr.disabled


# ---------------------------------------------------------------------------- processes
def spawn_marker(tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", tag])


def test_track_process_quorum(tmp_path):
    tag = f"kpy-track-{os.getpid()}"
    cfg = config(f'vrrp_track_process tp {{\n process {sys.executable} -c "import time; time.sleep(60)" {tag}\n'
                 " quorum 2\n}\n", "track_process {\n tp\n }")
    procs = []

    async def main():
        ev = Events()
        tr = Trackers(process_scan_interval=0.05)
        await tr.start(cfg, ev)
        assert ev.of("process", "tp") == [False]
        procs.append(spawn_marker(tag))
        await asyncio.sleep(0.3)
        assert ev.of("process", "tp") == [False]
        procs.append(spawn_marker(tag))
        await ev.wait_for(lambda e: e.of("process", "tp") == [False, True])
        assert tr.snapshot()["processes"]["tp"]["count"] == 2
        procs.pop().kill()
        await ev.wait_for(lambda e: e.of("process", "tp") == [False, True, False])
        await tr.stop()

    try:
        asyncio.run(main())
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_track_process_delay(tmp_path):
    tag = f"kpy-delay-{os.getpid()}"
    cfg = config(f'vrrp_track_process tp {{\n process {sys.executable} -c "import time; time.sleep(60)" {tag}\n'
                 " delay 0.5\n}\n", "track_process {\n tp\n }")
    procs = []

    async def main():
        ev = Events()
        tr = Trackers(process_scan_interval=0.05)
        await tr.start(cfg, ev)
        procs.append(spawn_marker(tag))
        await asyncio.sleep(0.3)
        assert ev.of("process", "tp") == [False]  # still within fork_delay
        await ev.wait_for(lambda e: e.of("process", "tp") == [False, True])
        procs.pop().kill()
        await asyncio.sleep(0.2)
        procs.append(spawn_marker(tag))  # back within terminate_delay: no change at all
        await asyncio.sleep(0.8)
        assert ev.of("process", "tp") == [False, True]
        await tr.stop()

    try:
        asyncio.run(main())
    finally:
        for p in procs:
            p.kill()
            p.wait()


# ---------------------------------------------------------------------------- reload
def test_reload_keeps_unchanged_and_carries_status(tmp_path):
    ok = make_script(tmp_path / "ok.sh", "exit 0\n")
    bad = make_script(tmp_path / "bad.sh", "exit 1\n")
    top = (f'vrrp_script a {{\n script "{ok}"\n}}\nvrrp_script b {{\n script "{bad}"\n}}\n'
           f'vrrp_script c {{\n script "{ok}"\n}}\n')
    cfg1 = config(top, "track_script {\n a\n b\n }", a=(0.1, None), b=(0.1, None), c=(0.1, None))
    cfg2 = config(top.replace("vrrp_script b {", "vrrp_script b {\n rise 3\n"),
                  "track_script {\n a\n b\n c\n }", a=(0.1, None), b=(0.1, None), c=(0.1, None))
    cfg3 = config(top, "track_script {\n c\n }", a=(0.1, None), b=(0.1, None), c=(0.1, None))

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg1, ev)
        await ev.wait_for(lambda e: e.of("script", "a") == [True] and e.of("script", "b") == [False])
        a_tracker = tr.scripts["a"]
        ev.clear()
        await tr.reload(cfg2)
        assert tr.scripts["a"] is a_tracker  # unchanged: kept running
        assert tr.scripts["b"].state.ok is False  # changed: status carried
        await ev.wait_for(lambda e: e.of("script", "c") == [True])
        assert ev.of("script", "a") == [True] and ev.of("script", "b") == [False]  # re-reported
        await tr.reload(cfg3)
        assert set(tr.scripts) == {"c"}
        assert a_tracker.task.done()
        await tr.stop()

    asyncio.run(main())


def test_reload_files_and_processes(tmp_path):
    f1, f2 = tmp_path / "one", tmp_path / "two"
    f1.write_text("1")
    f2.write_text("2")
    top1 = f"track_file t1 {{\n file {f1}\n}}\ntrack_file t2 {{\n file {f2}\n}}\n"
    cfg1 = config(top1, "track_file {\n t1\n }")
    cfg2 = config(top1 + "vrrp_track_process tp {\n process no_such_process_kpy\n}\n",
                  "track_file {\n t2\n }\n track_process {\n tp\n }")

    async def main():
        ev = Events()
        tr = Trackers()
        await tr.start(cfg1, ev)
        assert ev.of("file", "t1") == [1] and ev.of("file", "t2") == []
        await tr.reload(cfg2)
        assert ev.of("file", "t2") == [2] and ev.of("process", "tp") == [False]
        f1.write_text("9")  # no longer tracked
        f2.write_text("8")
        await ev.wait_for(lambda e: e.of("file", "t2")[-1:] == [8])
        await asyncio.sleep(0.1)
        assert ev.of("file", "t1") == [1]
        snap = tr.snapshot()
        await tr.stop()
        return snap

    snap = asyncio.run(main())
    assert set(snap["files"]) == {"t2"} and set(snap["processes"]) == {"tp"}


def test_emit_errors_do_not_stop_tracking(tmp_path):
    f = tmp_path / "w"
    f.write_text("1")
    cfg = file_config(f)
    seen = []

    def emit(ev):
        seen.append(ev.value)
        raise RuntimeError("consumer bug")

    async def main():
        tr = Trackers()
        await tr.start(cfg, emit)
        f.write_text("2")
        deadline = asyncio.get_running_loop().time() + 3
        while seen[-1:] != [2] and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        await tr.stop()

    asyncio.run(main())
    assert seen == [1, 2]
