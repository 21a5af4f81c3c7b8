"""The fork machinery (core/forking.py), the in-place restart's pieces (core/inplace.py,
--restart, --signum=RESTART) and the resume/release interface. No root; forks a few
short-lived children of the test process and reaps them."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from conformance.lab.poll import wait_until_async
from keepalived_py.core import forking, inplace
from keepalived_py.core.context import ChildContext
from keepalived_py.core.options import Action, parse_args
from keepalived_py.core.signals import SIGRESTART, SigFunc, func_for_signal, get_signum
from keepalived_py.ipc.messages import Stop, decode, encode


def test_fork_refused_while_a_loop_runs_or_a_thread_lives():
    async def inside() -> str | None:
        return forking.fork_safe()

    assert "event loop" in asyncio.run(inside())
    gate = threading.Event()
    worker = threading.Thread(target=gate.wait)
    worker.start()
    try:
        assert "thread" in (forking.fork_safe() or "")
        with pytest.raises(forking.ForkUnsafe):
            forking.fork(lambda: 0)
    finally:
        gate.set()
        worker.join()
    assert forking.fork_safe() is None


def test_gate_forks_with_the_loop_stopped_and_reports_the_exit_status():
    """The child runs outside any running loop, keeps only the fds it is given, and its
    status reaches the parent's loop through ForkedProcess."""
    r, w = os.pipe()
    stray_r, stray_w = os.pipe()  # a parent fd the child must not keep

    def child() -> int:
        seen = (asyncio.events._get_running_loop() is None,
                threading.active_count() == 1,
                _is_open(stray_r), _is_open(w),
                signal.pthread_sigmask(signal.SIG_BLOCK, []) == set(),
                os.readlink("/proc/self/fd/0") == os.devnull)
        os.write(w, bytes(int(x) for x in seen))
        return 7

    async def main(gate: forking.ForkGate) -> tuple[int, int]:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})  # cleared in the child
        try:
            pid = await gate.fork(child, keep=(w,))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR2})
        proc = forking.ForkedProcess(pid, asyncio.get_running_loop())
        return pid, await proc.wait()

    gate = forking.ForkGate()
    loop = asyncio.new_event_loop()
    try:
        pid, status = gate.drive(loop, main(gate))
    finally:
        loop.close()
    os.close(w)
    seen = os.read(r, 16)
    for fd in (r, stray_r, stray_w):
        os.close(fd)
    assert pid > 0 and status == 7
    # no running loop, one thread, the stray fd closed, the kept one open, empty mask,
    # stdin on /dev/null
    assert seen == bytes([1, 1, 0, 1, 1, 1])


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_forked_process_reports_a_signal_like_asyncio():
    async def main(gate: forking.ForkGate) -> int:
        pid = await gate.fork(lambda: os.kill(os.getpid(), signal.SIGKILL) or 0)
        return await forking.ForkedProcess(pid, asyncio.get_running_loop()).wait()

    gate = forking.ForkGate()
    loop = asyncio.new_event_loop()
    try:
        assert gate.drive(loop, main(gate)) == -signal.SIGKILL
    finally:
        loop.close()


def test_a_raising_child_exits_with_the_program_error_status():
    def boom() -> int:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # keep the traceback off the test log
        raise RuntimeError("bug")

    async def main(gate: forking.ForkGate) -> int:
        pid = await gate.fork(boom)
        return await forking.ForkedProcess(pid, asyncio.get_running_loop()).wait()

    gate = forking.ForkGate()
    loop = asyncio.new_event_loop()
    try:
        assert gate.drive(loop, main(gate)) == forking.EXIT_PROGRAM_ERROR
    finally:
        loop.close()


def test_in_thread_leaves_no_thread_behind():
    async def main() -> int:
        return await forking.in_thread(lambda a, b: a + b, 2, 3)

    before = threading.active_count()
    assert asyncio.run(main()) == 5
    assert threading.active_count() == before

    async def failing() -> None:
        await forking.in_thread(int, "x")

    with pytest.raises(ValueError):
        asyncio.run(failing())
    assert threading.active_count() == before


def test_restart_marker_names_this_process_and_is_consumed():
    env = {inplace.MARKER_ENV: str(os.getpid())}
    assert inplace.take_marker(env) and inplace.MARKER_ENV not in env
    assert not inplace.take_marker({inplace.MARKER_ENV: "1"})  # another process's
    assert not inplace.take_marker({})
    program, argv, new_env = inplace.exec_args()
    assert new_env[inplace.MARKER_ENV] == str(os.getpid()) and argv and program


def test_restart_signal_and_option():
    assert get_signum("RESTART") == SIGRESTART == signal.SIGRTMIN + 6
    # none of keepalived's own signals
    assert SIGRESTART not in (signal.SIGRTMIN + 2, signal.SIGRTMAX, signal.SIGRTMAX - 1)
    assert func_for_signal(SIGRESTART) is SigFunc.RESTART
    assert parse_args(["--restart"]).action is Action.RESTART
    assert parse_args(["--restart", "-p", "/run/x.pid"]).main_pidfile == "/run/x.pid"


def test_restart_command_signals_the_pid_in_the_pid_file(tmp_path, monkeypatch):
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    pid_file = tmp_path / "k.pid"
    pid_file.write_text("4242\n")
    assert inplace.restart_command(parse_args(["--restart", "-p", str(pid_file)])) == 0
    assert sent == [(4242, SIGRESTART)]
    assert inplace.restart_command(parse_args(["--restart", "-p", str(tmp_path / "none")])) == 1


def test_stop_release_round_trips_and_sticks_in_the_context():
    assert decode(encode(Stop())) == Stop(release=True)
    assert decode(encode(Stop(release=False))) == Stop(release=False)
    ctx = ChildContext(role="vrrp", options=None, config=None, log=None, pid_file="")  # type: ignore[arg-type]
    assert ctx.release and not ctx.resume
    ctx.request_stop(release=False)
    ctx.request_stop()  # a later TERM does not turn the quiet exit into a releasing one
    assert ctx.stopping and not ctx.release


def test_child_spec_hands_over_the_parsed_config_only_at_first_start():
    """A first child takes the parent's parse; a respawn reads the file again (as
    keepalived's children do) and resumes; an in-place restart resumes from the start."""
    import logging
    from types import SimpleNamespace

    from keepalived_py.core.pidfile import PidPaths
    from keepalived_py.core.supervisor import Supervisor

    result = SimpleNamespace(config=None)
    paths = PidPaths("/run/p.pid", "/run/v.pid", "/run/c.pid", "/run/b.pid")

    async def specs(resume: bool) -> list:
        sup = Supervisor(SimpleNamespace(), result, paths, logging.getLogger("t"), resume=resume)
        first, respawn = sup._child_spec("vrrp", 9, 0), sup._child_spec("vrrp", 9, 1)
        sup.reloads = 1  # a child a reload starts reads the (new) file itself
        return [first, respawn, sup._child_spec("check", 9, 0)]

    first, respawn, after_reload = asyncio.run(specs(False))
    assert first.preloaded is result and not first.resume and first.pid_file == "/run/v.pid"
    assert respawn.preloaded is None and respawn.resume and respawn.start_count == 1
    assert after_reload.preloaded is None and not after_reload.resume
    first, respawn, _ = asyncio.run(specs(True))
    assert first.resume and first.preloaded is result and respawn.resume


def test_gate_waits_for_a_worker_thread_before_forking():
    """A respawn asked for while a reload's parse runs on its thread forks only once that
    thread has ended (a fork beside a live thread could inherit its locks)."""
    release = threading.Event()
    order: list[str] = []

    def parse() -> str:
        release.wait()
        order.append("parse done")
        return "parsed"

    async def main(gate: forking.ForkGate) -> int:
        parsing = asyncio.ensure_future(forking.in_thread(parse))
        await asyncio.sleep(0)  # the worker thread runs
        forked = asyncio.ensure_future(gate.fork(lambda: 0))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not forked.done()  # held back: the worker thread is alive
        release.set()
        assert await parsing == "parsed"
        pid = await forked
        order.append("forked")
        return await forking.ForkedProcess(pid, asyncio.get_running_loop()).wait()

    gate = forking.ForkGate()
    loop = asyncio.new_event_loop()
    try:
        assert gate.drive(loop, main(gate)) == 0
    finally:
        loop.close()
    assert order == ["parse done", "forked"]


def test_parent_default_executor_leaves_no_idle_thread_to_hold_forks_back():
    """run_in_executor(None) / asyncio.to_thread in the parent (the metrics exposition)
    used a pool whose idle workers outlived the call: every later fork (a respawn) then
    waited for ever. With the one-shot executor the fork follows the call."""

    async def main(gate: forking.ForkGate) -> int:
        assert await asyncio.to_thread(lambda: 7) == 7
        assert await asyncio.get_running_loop().run_in_executor(None, lambda: 8) == 8
        pid = await asyncio.wait_for(gate.fork(lambda: 0), 10)
        return await forking.ForkedProcess(pid, asyncio.get_running_loop()).wait()

    before = threading.active_count()
    gate = forking.ForkGate()
    loop = asyncio.new_event_loop()
    loop.set_default_executor(forking.OneShotExecutor())
    try:
        assert gate.drive(loop, main(gate)) == 0
    finally:
        loop.close()
    assert threading.active_count() == before


def test_gate_says_which_thread_holds_a_fork_back():
    warnings: list[str] = []
    release = threading.Event()
    lingering = threading.Thread(target=release.wait, name="lingering-worker", daemon=True)

    async def main(gate: forking.ForkGate) -> int:
        lingering.start()
        forked = asyncio.ensure_future(gate.fork(lambda: 0))
        await wait_until_async(lambda: warnings, 10, step=0.005, what="the gate's warning")
        release.set()
        pid = await forked
        return await forking.ForkedProcess(pid, asyncio.get_running_loop()).wait()

    gate = forking.ForkGate(warn=warnings.append)
    gate.WARN_AFTER = 0.05
    loop = asyncio.new_event_loop()
    try:
        assert gate.drive(loop, main(gate)) == 0
    finally:
        loop.close()
    assert len(warnings) == 1 and "lingering-worker" in warnings[0]


def test_fork_collects_garbage_first_unless_told_not_to(monkeypatch):
    """A first child (the parent has just loaded the configuration, collector off) skips
    the full collection that a respawn or a reload's child gets before gc.freeze()."""
    calls: list[int] = []
    real_collect = forking.gc.collect
    monkeypatch.setattr(forking.gc, "collect", lambda *a: calls.append(1) or real_collect(*a))
    try:
        for collect, expected in ((True, 1), (False, 0)):
            calls.clear()
            pid = forking.fork(lambda: 0, collect=collect)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert len(calls) == expected, collect
    finally:
        forking.gc.unfreeze()


def test_a_signal_while_the_loop_is_stopped_for_a_fork_is_not_lost(monkeypatch):
    """uvloop gives its signal wake-up fd back whenever the loop stops, so a signal that
    arrives while the gate has it stopped for a fork ran only uvloop's no-op handler: a
    SIGTERM then never stopped a starting daemon (seen in CI). Here the "fork" itself
    sends the signal, exactly inside that window."""
    import uvloop

    def fork_sending_a_signal(target, keep=(), collect=True) -> int:
        # to this (the main) thread: a process-directed kill could go to a thread pytest-xdist
        # runs outside `threading`, which has it unblocked; the daemon has no such thread
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)
        return 999_999

    monkeypatch.setattr(forking, "fork", fork_sending_a_signal)
    got: list[int] = []

    async def main(gate: forking.ForkGate) -> list[int]:
        loop = asyncio.get_running_loop()
        seen = asyncio.Event()
        loop.add_signal_handler(signal.SIGUSR2, lambda: (got.append(1), seen.set()))
        try:
            assert await gate.fork(lambda: 0) == 999_999
            await asyncio.wait_for(seen.wait(), 5)
        finally:
            loop.remove_signal_handler(signal.SIGUSR2)
        return got

    loop = uvloop.new_event_loop()
    try:
        gate = forking.ForkGate()
        assert gate.drive(loop, main(gate)) == [1]
    finally:
        loop.close()
    assert signal.SIGUSR2 not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
