"""A recording stand-in for ScriptRunner (keepalived_py/scripts/runner.py): no process is
started; each run's outcome comes from the test, at once or when the test says.

    runner = FakeRunner(clock, outcome=lambda run: 0)     # every run exits 0 at once
    runner.outcome = lambda run: None                     # runs stay pending ...
    runner.pending[0].finish(status=1)                    # ... until finished by hand
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keepalived_py.clock import Clock
from keepalived_py.scripts.runner import Script, ScriptResult


@dataclass
class FakeRun:
    argv: tuple[str, ...]
    timeout: float | None
    kill_only: bool
    started: float
    future: asyncio.Future = field(repr=False)

    def finish(self, status: int | None = 0, *, signal: int | None = None, timed_out: bool = False) -> None:
        if not self.future.done():
            self.future.set_result(ScriptResult(4242, status, signal, timed_out))


#: what a run returns: an exit status, a ScriptResult, or None to leave it pending
Outcome = Callable[[FakeRun], int | ScriptResult | None]


class FakeRunner:
    """ScriptRunner's interface as Trackers and Notifier use it."""

    def __init__(self, clock: Clock, outcome: Outcome = lambda run: 0) -> None:
        self.clock = clock
        self.outcome = outcome
        self.runs: list[FakeRun] = []
        self.script_security = False
        self.stopped = False
        #: spawn()ed runs and whether stop() would kill them
        self.spawned: list[tuple[FakeRun, bool]] = []

    @property
    def pending(self) -> list[FakeRun]:
        return [r for r in self.runs if not r.future.done()]

    def configure(self, config) -> None:
        pass

    def prepare(self, command: str | Sequence[str], user: str | None = None, group: str | None = None,
                *, check: bool = True) -> tuple[Script | None, None]:
        argv = tuple(command.split()) if isinstance(command, str) else tuple(command)
        return Script(argv, 0, 0), None

    async def run(self, script: Script, extra_args: Sequence[str] = (), *, timeout: float | None = None,
                  kill_only: bool = False) -> ScriptResult:
        run = FakeRun(script.argv + tuple(extra_args), timeout, kill_only, self.clock.now(),
                      asyncio.get_running_loop().create_future())
        self.runs.append(run)
        result = self.outcome(run)
        if isinstance(result, ScriptResult):
            run.future.set_result(result)
        elif result is not None:
            run.finish(result)
        return await run.future

    async def spawn(self, script: Script, extra_args: Sequence[str] = (), *, timeout: float | None = None,
                    kill_only: bool = False, kill_on_stop: bool = True,
                    on_exit: Callable[[ScriptResult], None] | None = None) -> int | None:
        """Fire and forget, as ScriptRunner.spawn(): the run is recorded (with how it
        would be killed in `spawned`); `on_exit` gets its result once it finishes."""
        run = FakeRun(script.argv + tuple(extra_args), timeout, kill_only, self.clock.now(),
                      asyncio.get_running_loop().create_future())
        self.runs.append(run)
        self.spawned.append((run, kill_on_stop))
        if on_exit is not None:
            run.future.add_done_callback(lambda f: f.cancelled() or on_exit(f.result()))
        result = self.outcome(run)
        if isinstance(result, ScriptResult):
            run.future.set_result(result)
        elif result is not None:
            run.finish(result)
        return 4242

    async def stop(self) -> None:
        self.stopped = True
        for run in self.pending:
            run.future.cancel()

    async def terminate(self, pids: Sequence[int | None], grace: float = 1.0) -> None:
        pass
