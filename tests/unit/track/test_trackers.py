"""Trackers on a fake clock: when scripts run, what their results report, overruns,
reloads, the process quorum's delays and track_file polling. No process is started and
nothing sleeps: a FakeRunner stands in for the ScriptRunner and a FakeScheduler for the
event loop's timers. The same trackers against real scripts, files and processes:
test_trackers_io.py."""

from __future__ import annotations

import asyncio
import signal

import pytest

from keepalived_py.scripts.runner import ScriptResult
from keepalived_py.track.process_watch import ProcessSpec, ProcessWatcher
from keepalived_py.track.trackers import Trackers
from tests.fakes.clock import FakeClock, FakeScheduler, run_for
from tests.fakes.scripts import FakeRunner
from tests.unit.track.helpers import Events, config

T0 = 1000.0


def script_cfg(extra: str = "", track: str = "track_script {\n chk\n }", *, interval: int = 1):
    top = (f'vrrp_script chk {{\n script "/kpy/chk.sh"\n interval {interval}\n {extra}\n}}\n'
           'vrrp_script unused {\n script "/kpy/unused.sh"\n}\n')
    return config(top, track)


class Timed(Events):
    """Events with the fake time each arrived at."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.at: list[float] = []

    def __call__(self, ev) -> None:
        super().__call__(ev)
        self.at.append(self.clock.now() - T0)


def rig(outcome=lambda run: 0, **kw):
    sched = FakeScheduler(FakeClock(T0))
    runner = FakeRunner(sched.clock, outcome)
    logs: list[str] = []
    tr = Trackers(runner, clock=sched.clock, scheduler=sched, log_fn=logs.append, **kw)
    return sched, runner, tr, Timed(sched.clock), logs


def statuses(*seq: int):
    """An outcome giving these exit statuses in turn, then the last one for ever."""
    it = iter(seq)
    last = [seq[-1]]

    def outcome(run):
        last[0] = next(it, last[0])
        return last[0]

    return outcome


def test_runs_at_start_then_every_interval():
    sched, runner, tr, ev, _ = rig()

    async def main():
        await tr.start(script_cfg(interval=2), ev)
        await run_for(sched, 6.5)
        await tr.stop()

    asyncio.run(main())
    assert [r.started - T0 for r in runner.runs] == [0, 2, 4, 6]
    assert {r.argv for r in runner.runs} == {("/kpy/chk.sh",)}  # the unused script never runs
    assert runner.runs[0].timeout == 2  # no timeout: the interval
    assert ev.of("script", "chk") == [True] and ev.at == [0]


def test_timeout_is_passed_to_the_runner():
    sched, runner, tr, ev, _ = rig()

    async def main():
        await tr.start(script_cfg("timeout 1", interval=5), ev)
        await run_for(sched, 0)
        await tr.stop()

    asyncio.run(main())
    assert [r.timeout for r in runner.runs] == [1]


def test_rise_and_fall_count_consecutive_results():
    # INIT: the first success reports at once; then 2 failures to fall, 2 successes to rise
    sched, runner, tr, ev, _ = rig(statuses(0, 0, 1, 1, 1, 0, 0))

    async def main():
        await tr.start(script_cfg("rise 2\n fall 2"), ev)
        await run_for(sched, 3.5)
        snap = tr.snapshot()
        await run_for(sched, 3)
        await tr.stop()
        return snap

    snap = asyncio.run(main())
    assert ev.of("script", "chk") == [True, False, True]
    assert ev.at == [0, 3, 6]
    assert snap["scripts"]["chk"]["status"] == "BAD" and "unused" not in snap["scripts"]
    assert snap["scripts"]["chk"]["init_state"] == "unknown" and snap["scripts"]["chk"]["rise"] == 2


def test_init_fail_is_ignored_as_keepalived_2_2_7_does():
    # alloc_track_script() resets init_state to INIT: the first result is reported as usual
    sched, runner, tr, ev, _ = rig(statuses(1, 0))

    async def main():
        await tr.start(script_cfg("init_fail"), ev)
        assert ev.of("script", "chk") == []  # nothing before the first run
        await run_for(sched, 0)
        assert ev.of("script", "chk") == [False]
        assert tr.snapshot()["scripts"]["chk"]["status"] == "BAD"
        await run_for(sched, 1)
        await tr.stop()

    asyncio.run(main())
    assert ev.of("script", "chk") == [False, True] and ev.at == [0, 1]


def test_timed_out_run_is_a_failure():
    sched, runner, tr, ev, logs = rig(lambda run: ScriptResult(7, None, signal.SIGTERM, True))

    async def main():
        await tr.start(script_cfg("timeout 1"), ev)
        await run_for(sched, 0)
        await tr.stop()

    asyncio.run(main())
    assert ev.of("script", "chk") == [False]
    assert "VRRP_Script(chk) timed_out" in logs


def test_failure_message_and_status_change_log():
    sched, runner, tr, ev, logs = rig(lambda run: 3)

    async def main():
        await tr.start(script_cfg(), ev)
        await run_for(sched, 2)
        await tr.stop()

    asyncio.run(main())
    assert ev.of("script", "chk") == [False]
    assert logs.count("Script `chk` now returning 3") == 1  # logged when the status changes
    assert "VRRP_Script(chk) failed (exited with status 3)" in logs


def test_killed_by_a_signal_names_it():
    sched, runner, tr, ev, logs = rig(lambda run: ScriptResult(7, None, signal.SIGKILL, False))

    async def main():
        await tr.start(script_cfg(), ev)
        await run_for(sched, 0)
        await tr.stop()

    asyncio.run(main())
    assert f"VRRP_Script(chk) failed (due to signal {int(signal.SIGKILL)})" in logs


def test_overrunning_script_is_skipped_not_doubled():
    sched, runner, tr, ev, logs = rig(lambda run: None)  # runs stay pending

    async def main():
        await tr.start(script_cfg(), ev)
        await run_for(sched, 2.5)
        assert len(runner.runs) == 1 and tr.snapshot()["scripts"]["chk"]["state"] == "running"
        runner.pending[0].finish(0)
        await run_for(sched, 0.5)  # the run due at 3 s starts
        await tr.stop()

    asyncio.run(main())
    assert logs.count("Track script chk is already running, expect idle - skipping run") == 2
    assert [r.started - T0 for r in runner.runs] == [0, 3]
    assert ev.of("script", "chk") == [True]


def test_missing_script_disabled(tmp_path):
    logs = []
    top = f'vrrp_script chk {{\n script "{tmp_path}/nope.sh"\n}}\n'
    cfg = config(top, "track_script {\n chk\n }")
    tr = Trackers(log_fn=logs.append)
    assert tr.prepare(cfg) == {("script", "chk")}
    assert "Disabling track script chk since not found/accessible" in logs


def test_stop_cancels_the_run_and_the_timer():
    sched, runner, tr, ev, _ = rig(lambda run: None)

    async def main():
        await tr.start(script_cfg(), ev)
        await run_for(sched, 0)
        run = runner.runs[0]
        await tr.stop()
        await run_for(sched, 5)
        return run

    run = asyncio.run(main())
    assert run.future.cancelled()  # the ScriptRunner then kills the script
    assert len(runner.runs) == 1 and sched.pending() == []


# ---------------------------------------------------------------------------- reload
def test_reload_keeps_unchanged_and_carries_status():
    top = ('vrrp_script a {\n script "/kpy/ok"\n}\nvrrp_script b {\n script "/kpy/bad"\n}\n'
           'vrrp_script c {\n script "/kpy/ok"\n interval 2\n}\n')
    cfg1 = config(top, "track_script {\n a\n b\n }")
    cfg2 = config(top.replace("vrrp_script b {", "vrrp_script b {\n rise 3\n"), "track_script {\n a\n b\n c\n }")
    cfg3 = config(top, "track_script {\n c\n }")
    sched, runner, tr, ev, logs = rig(lambda run: 1 if run.argv == ("/kpy/bad",) else 0)

    async def main():
        await tr.start(cfg1, ev)
        await run_for(sched, 0.5)
        assert ev.of("script", "a") == [True] and ev.of("script", "b") == [False]
        a_tracker, b_tracker = tr.scripts["a"], tr.scripts["b"]
        ev.clear()
        await tr.reload(cfg2)
        assert tr.scripts["a"] is a_tracker  # unchanged: kept running, on its own schedule
        assert tr.scripts["b"] is not b_tracker and b_tracker.stopped
        assert tr.scripts["b"].state.ok is False  # changed: status carried
        assert ev.of("script", "a") == [True] and ev.of("script", "b") == [False]  # re-reported
        await run_for(sched, 0)
        assert ev.of("script", "c") == [True]
        await tr.reload(cfg3)
        assert set(tr.scripts) == {"c"} and a_tracker.stopped
        runs = len(runner.runs)
        await run_for(sched, 4)
        assert {r.argv for r in runner.runs[runs:]} == {("/kpy/ok",)} and len(runner.runs) - runs == 2
        await tr.stop()

    asyncio.run(main())
    assert "VRRP_Script(b) considered unsuccessful on reload" in logs


# ---------------------------------------------------------------------------- processes
def qspec(quorum: int = 1, delay: float = 0.0) -> ProcessSpec:
    return ProcessSpec("tp", "x", None, None, False, quorum, 2 ** 32 - 1, delay, delay)


def watcher(counts: dict[str, int], interval: float = 1.0):
    sched = FakeScheduler(FakeClock(T0))
    seen: list[tuple[float, bool]] = []

    async def scanner(specs):
        return {s.name: counts.get(s.name, 0) for s in specs}

    w = ProcessWatcher(lambda name, up: seen.append((sched.clock.now() - T0, up)), interval=interval,
                       clock=sched.clock, scheduler=sched, scanner=scanner, log_fn=lambda m: None)
    return sched, w, seen


def test_process_quorum_follows_the_scans():
    counts = {"tp": 0}
    sched, w, seen = watcher(counts)

    async def main():
        assert await w.add([qspec(quorum=2)]) == {"tp": False}
        w.start()
        counts["tp"] = 1
        await run_for(sched, 1.5)
        assert w.quorums["tp"].count == 1 and seen == []
        counts["tp"] = 2
        await run_for(sched, 1)  # the scan at 2 s
        counts["tp"] = 1
        await run_for(sched, 1)
        await w.close()

    asyncio.run(main())
    assert seen == [(2, True), (3, False)]


def test_process_delays():
    # quorum gained after fork_delay; a process lost and back within terminate_delay
    # changes nothing (the opposite change cancels the pending one)
    counts = {"tp": 0}
    sched, w, seen = watcher(counts)

    async def main():
        await w.add([qspec(delay=2.5)])
        w.start()
        counts["tp"] = 1
        await run_for(sched, 3)  # seen by the scan at 1 s: due at 3.5 s
        assert seen == [] and w.quorums["tp"].timer == ("fork", T0 + 3.5)
        await run_for(sched, 0.5)
        assert seen == [(3.5, True)]
        counts["tp"] = 0
        await run_for(sched, 1.5)  # the scan at 4 s starts the terminate delay
        counts["tp"] = 1
        await run_for(sched, 20)
        await w.close()

    asyncio.run(main())
    assert seen == [(3.5, True)]


def test_process_watcher_close_stops_scanning():
    sched, w, seen = watcher({"tp": 1})

    async def main():
        await w.add([qspec()])
        w.start()
        await w.close()
        await run_for(sched, 5)

    asyncio.run(main())
    assert sched.pending() == [] and seen == []


# ---------------------------------------------------------------------------- files
def file_cfg(path) -> object:
    return config(f"track_file tf {{\n file {path}\n}}\n", "track_file {\n tf\n }")


def test_track_file_polled_without_inotify(tmp_path):
    f = tmp_path / "weight"
    f.write_text("5\n")
    sched, _, tr, ev, logs = rig(use_inotify=False, file_poll_interval=1.0)

    async def main():
        await tr.start(file_cfg(f), ev)
        assert ev.of("file", "tf") == [5]
        f.write_text("-3")
        await run_for(sched, 0.9)
        assert ev.of("file", "tf") == [5]  # not before the next poll
        await run_for(sched, 0.1)
        assert ev.of("file", "tf") == [5, -3]
        # (each write changes the size: a poll compares stat, and two writes within one
        # kernel clock tick can share an mtime)
        f.write_text("junky")  # no number: 0
        await run_for(sched, 1)
        f.write_text("0x10")
        await run_for(sched, 1)
        f.write_text("99999999999")  # out of range: ignored
        await run_for(sched, 1)
        f.unlink()
        await run_for(sched, 1)
        (tmp_path / "new").write_text("7")
        (tmp_path / "new").rename(f)  # moved in
        await run_for(sched, 1)
        snap = tr.snapshot()
        await tr.stop()
        return snap

    snap = asyncio.run(main())
    assert ev.of("file", "tf") == [5, -3, 0, 16, 0, 7]
    assert ev.at == [0, 1, 2, 3, 5, 6]
    assert any(m.startswith("Invalid number 99999999999 read from") for m in logs)
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
    sched, _, tr, ev, _ = rig()

    async def main():
        await tr.start(cfg, ev)
        await tr.stop()

    asyncio.run(main())
    assert f.read_text() == "12\n" and g.read_text() == "4\n"
    assert ev.of("file", "tf") == [12] and ev.of("file", "tg") == [4] and ev.of("file", "th") == [0]
    assert ev.of("file", "tx") == [] and ("file", "tx") in tr.disabled


def test_reload_files(tmp_path):
    f1, f2 = tmp_path / "one", tmp_path / "two"
    f1.write_text("1")
    f2.write_text("2")
    top1 = f"track_file t1 {{\n file {f1}\n}}\ntrack_file t2 {{\n file {f2}\n}}\n"
    cfg1 = config(top1, "track_file {\n t1\n }")
    cfg2 = config(top1, "track_file {\n t2\n }")
    sched, _, tr, ev, _ = rig(use_inotify=False)

    async def main():
        await tr.start(cfg1, ev)
        assert ev.of("file", "t1") == [1] and ev.of("file", "t2") == []
        await tr.reload(cfg2)
        assert ev.of("file", "t2") == [2]
        f1.write_text("9")  # no longer tracked
        f2.write_text("88")
        await run_for(sched, 1)
        snap = tr.snapshot()
        await tr.stop()
        return snap

    snap = asyncio.run(main())
    assert ev.of("file", "t1") == [1] and ev.of("file", "t2") == [2, 88]
    assert set(snap["files"]) == {"t2"}


def test_emit_errors_do_not_stop_tracking(tmp_path):
    f = tmp_path / "w"
    f.write_text("1")
    seen = []

    def emit(ev):
        seen.append(ev.value)
        raise RuntimeError("consumer bug")

    sched, _, tr, _, _ = rig(use_inotify=False)

    async def main():
        await tr.start(file_cfg(f), emit)
        f.write_text("22")
        await run_for(sched, 1)
        f.write_text("333")
        await run_for(sched, 1)
        await tr.stop()

    asyncio.run(main())
    assert seen == [1, 22, 333]


@pytest.fixture(autouse=True)
def event_loop_kind():
    """Fake time: one event loop is enough (test_trackers_io.py runs under both)."""
    yield "asyncio"
