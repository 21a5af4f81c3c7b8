"""ScriptRunner with real subprocesses (it is the adapter that starts and kills them).

Grace periods are shortened through the runner's parameters rather than waited for, and
no test asserts an upper bound on elapsed time: which signal ended a script says whether
SIGTERM or the later SIGKILL did it, and a loaded machine is slow, not wrong."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until, wait_until_async
from keepalived_py.scripts.runner import TERM_GRACE, Script, ScriptRunner


def run(coro):
    return asyncio.run(coro)


def script_file(tmp_path: Path, name: str, body: str, mode: int = 0o755) -> str:
    p = tmp_path / name
    p.write_text(body)
    p.chmod(mode)
    return str(p)


def me() -> tuple[int, int]:
    return os.geteuid(), os.getegid()


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie (an orphan waits for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_exit_status_and_args(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "s.sh", f'#!/bin/sh\nprintf "%s|" "$@" > {out}\nexit 3\n')
    runner = ScriptRunner()
    res = run(runner.run(Script((path, "a b"), *me()), ["INSTANCE", "VI_1"]))
    assert (res.status, res.signal, res.timed_out, res.ok) == (3, None, False, False)
    assert out.read_text() == "a b|INSTANCE|VI_1|"


def test_success():
    res = run(ScriptRunner().run(Script(("/bin/true",), *me())))
    assert res.ok and res.status == 0


def test_timeout_sigterm(tmp_path):
    path = script_file(tmp_path, "slow.sh", "#!/bin/sh\nsleep 30\n")
    t0 = time.monotonic()
    res = run(ScriptRunner().run(Script((path,), *me()), timeout=0.3))
    # SIGTERM, not the SIGKILL TERM_GRACE later
    assert res.timed_out and res.signal == signal.SIGTERM and res.status is None and not res.ok
    assert time.monotonic() - t0 >= 0.3


def test_timeout_kills_whole_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    path = script_file(tmp_path, "fork.sh", f"#!/bin/sh\nsleep 30 &\necho $! > {pidfile}\nwait\n")
    res = run(ScriptRunner().run(Script((path,), *me()), timeout=0.3))
    assert res.timed_out
    child = int(pidfile.read_text())
    wait_until(lambda: gone(child), 5, what="the script's child killed with its group")


def test_timeout_ignoring_sigterm_gets_sigkill(tmp_path):
    assert TERM_GRACE == 2.0 and ScriptRunner().term_grace == TERM_GRACE  # keepalived's
    path = script_file(tmp_path, "stubborn.sh", "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 0.1; done\n")
    t0 = time.monotonic()
    res = run(ScriptRunner(term_grace=0.3).run(Script((path,), *me()), timeout=0.2))
    assert res.timed_out and res.signal == signal.SIGKILL
    assert time.monotonic() - t0 >= 0.2 + 0.3


def test_catching_sigterm_keeps_exit_status(tmp_path):
    # keepalived: WIFEXITED after our SIGTERM is an ordinary exit, not "timed_out"
    path = script_file(tmp_path, "polite.sh", "#!/bin/sh\ntrap 'exit 0' TERM\nsleep 30 & wait\n")
    res = run(ScriptRunner().run(Script((path,), *me()), timeout=0.3))
    assert res.status == 0 and not res.timed_out


def test_kill_only(tmp_path):
    path = script_file(tmp_path, "slow.sh", "#!/bin/sh\nsleep 30\n")
    res = run(ScriptRunner().run(Script((path,), *me()), timeout=0.2, kill_only=True))
    assert res.signal == signal.SIGKILL and res.timed_out


def test_own_process_group_and_dev_null(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "pg.sh",
                       f"#!/bin/sh\nps -o pgid= -p $$ | tr -d ' ' > {out}\necho $$ >> {out}\n"
                       f"readlink /proc/$$/fd/0 >> {out}\nreadlink /proc/$$/fd/2 >> {out}\n")
    run(ScriptRunner().run(Script((path,), *me())))
    pgid, pid, fd0, fd1 = out.read_text().split()
    assert pgid == pid and fd0 == fd1 == "/dev/null"


def test_environment_passed(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "env.sh", f'#!/bin/sh\necho "$KPY_TEST_VAR" > {out}\n')
    run(ScriptRunner(env={"KPY_TEST_VAR": "hello", "PATH": "/usr/bin:/bin"}).run(Script((path,), *me())))
    assert out.read_text() == "hello\n"


def test_no_shebang_goes_through_shell(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "plain", f"echo ran > {out}\nexit 4\n")
    runner = ScriptRunner()
    script, check = runner.prepare(path)
    assert script is not None and not script.execable
    res = run(runner.run(script))
    assert res.status == 4 and out.read_text() == "ran\n"


def test_shell_127_counts_as_success(tmp_path):
    # keepalived's system() path: "Couldn't find command" then exit(0)
    logs = []
    runner = ScriptRunner(log_fn=logs.append)
    res = run(runner.run(Script(("/nonexistent/cmd",), *me(), execable=False)))
    assert res.status == 0
    assert logs == ["Couldn't find command: '/nonexistent/cmd'"]


def test_redirection_test_runs_through_shell(tmp_path):
    runner = ScriptRunner()
    script, _ = runner.prepare("</dev/null")
    assert script is not None and not script.execable
    assert run(runner.run(script)).ok


def test_exec_failure_is_exit_0():
    logs = []
    res = run(ScriptRunner(log_fn=logs.append).run(Script(("/nonexistent/x",), *me())))
    assert res.status == 0 and logs and logs[0].startswith("Error exec-ing command '/nonexistent/x'")


def test_spawn_runs_each_and_stop_terminates(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "a.sh", f"#!/bin/sh\necho $1 >> {out}\n")
    slow = script_file(tmp_path, "slow.sh", "#!/bin/sh\nsleep 30\n")
    results = []

    async def main():
        runner = ScriptRunner()
        for i in range(5):
            await runner.spawn(Script((path,), *me()), [str(i)])
        await runner.spawn(Script((slow,), *me()), on_exit=results.append)
        assert len(runner.running()) >= 1
        await runner.stop(grace=30)  # SIGTERM ends it: stop() does not wait for the grace
        assert runner.running() == []
        await wait_until_async(lambda: len(out.read_text().split()) == 5 if out.exists() else False, 5)

    run(main())
    assert sorted(out.read_text().split()) == ["0", "1", "2", "3", "4"]
    assert results and results[0].signal == signal.SIGTERM


def test_prepare_splits_and_checks(tmp_path):
    path = script_file(tmp_path, "x.sh", "#!/bin/sh\n")
    runner = ScriptRunner()
    script, check = runner.prepare(f"{path} 'a b' c")
    assert script is not None and script.argv == (path, "a b", "c")
    assert runner.prepare("'unterminated")[0] is None
    assert runner.prepare(str(tmp_path / "missing"))[0] is None


def test_bare_name_is_path_searched():
    logs = []
    script, _ = ScriptRunner(log_fn=logs.append).prepare("true")
    assert script is not None and script.argv[0].endswith("/true")
    assert any("resolved by path search" in m for m in logs)


def test_unknown_user_refused():
    logs = []
    script, _ = ScriptRunner(log_fn=logs.append).prepare("/bin/true", user="no_such_user_kpy")
    assert script is None and logs == ["Script user 'no_such_user_kpy' does not exist"]


def test_cancelled_run_kills_the_script(tmp_path):
    pidfile = tmp_path / "pid"
    path = script_file(tmp_path, "slow.sh", f"#!/bin/sh\necho $$ > {pidfile}\nsleep 30\n")

    async def main():
        runner = ScriptRunner()
        task = asyncio.get_running_loop().create_task(runner.run(Script((path,), *me())))
        # the shell creates the file before echo writes to it: wait for the pid itself
        await wait_until_async(lambda: pidfile.exists() and pidfile.read_text().strip(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await runner.stop()
        assert runner.running() == []

    asyncio.run(main())
    pid = int(pidfile.read_text())
    wait_until(lambda: gone(pid), 5, what="the cancelled script killed")


def test_signal_mask_cleared_and_sigpipe_default(tmp_path):
    out = tmp_path / "out"
    path = script_file(tmp_path, "sig.sh", f"#!/bin/sh\nexec grep -E '^Sig(Blk|Ign):' /proc/self/status > {out}\n")

    async def main():
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            await ScriptRunner().run(Script((path,), *me()))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    run(main())
    fields = dict(line.split(":\t") for line in out.read_text().splitlines())
    assert int(fields["SigBlk"], 16) == 0
    assert not int(fields["SigIgn"], 16) & (1 << (signal.SIGPIPE - 1))
