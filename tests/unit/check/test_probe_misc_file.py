"""MISC_CHECK through the shared script runner, FILE_CHECK's read, and the probe registry."""

from __future__ import annotations

import asyncio
import signal

from keepalived_py.check.hysteresis import Kind
from keepalived_py.check.kinds import file as filek
from keepalived_py.check.kinds import misc, probe_for
from keepalived_py.check.kinds.base import Resources, Target
from keepalived_py.check.result import Status
from keepalived_py.config.model.checkers import MiscCheck
from keepalived_py.scripts.runner import ScriptRunner


def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def run_misc(path, timeout=0.5, dynamic=False):
    async def main():
        runner = ScriptRunner(log_fn=lambda _m: None)
        params = MiscCheck(misc_path=path, misc_dynamic=dynamic)
        target = Target("", None, 1.0, script_timeout=timeout, resources=Resources(runner=runner))
        try:
            return await misc.probe(target, params)
        finally:
            await runner.stop()
    return asyncio.run(main())


def test_misc_exit_statuses(tmp_path):
    assert run_misc(script(tmp_path, "ok", "exit 0")).status is Status.OK
    r = run_misc(script(tmp_path, "bad", "exit 3"))
    assert r.status is Status.FAILED and r.exit_status == 3
    r = run_misc(script(tmp_path, "dyn", "exit 7"), dynamic=True)
    assert r.exit_status == 7     # the hysteresis turns it into a weight


def test_misc_timeout_kills_the_script(tmp_path):
    marker = tmp_path / "still-running"
    path = script(tmp_path, "slow", f"sleep 3; touch {marker}")
    r = run_misc(path, timeout=0.2)
    assert r.status is Status.TIMEOUT and r.signal == signal.SIGTERM
    assert not marker.exists()


def test_misc_killed_by_signal(tmp_path):
    r = run_misc(script(tmp_path, "sig", "kill -KILL $$"))
    assert r.status is Status.FAILED and r.signal == signal.SIGKILL


def test_misc_args_are_passed(tmp_path):
    out = tmp_path / "args"
    path = script(tmp_path, "args", f'echo "$1 $2" > {out}')
    assert run_misc(f"{path} one two").ok
    assert out.read_text().strip() == "one two"


def test_file_values(tmp_path):
    f = tmp_path / "weight"

    def read():
        return asyncio.run(filek.probe(Target(str(f))))
    assert read().value == 0             # missing: 0
    f.write_text("12\n")
    assert read().value == 12
    f.write_text("0x10 junk")
    assert read().value == 16
    f.write_text("99999999999")
    r = read()
    assert r.status is Status.FAILED and "Invalid number" in r.reason


def test_every_kind_but_bfd_has_a_probe():
    for kind in set(Kind) - {Kind.BFD}:   # BFD_CHECK follows the bfd child's reports
        assert asyncio.iscoroutinefunction(probe_for(kind))

