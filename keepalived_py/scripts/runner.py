"""The one way keepalived-py runs an external command (ARCHITECTURE principle 9).

What keepalived 2.2.7 does (lib/notify.c system_call_script(), set_script_env(),
keepalived/vrrp/vrrp_scheduler.c vrrp_script_child_thread()) and what we do:

- the command is an argv (keepalived's quoting rules, scripts/quoting.py), run with
  execve() and keepalived's environment unchanged; only a script that cannot be exec'd
  (no #! line, or a "</path" redirection test) goes through /bin/sh -c with cmd_str()'s
  quoting, as keepalived's system() does; /bin/sh's 126/127 ("Couldn't execute/find
  command") then count as exit 0, and a failed execve() is exit 0 too ("Script errors
  aren't server errors");
- as the script's user and group: setgid, setgroups([gid]), setuid;
- in its own process group (setpgid(0, 0)) so that a kill reaches its children, with
  SIGTERM as parent-death signal for exec'd scripts, stdin/stdout/stderr on /dev/null;
- a timeout sends SIGTERM to the group, SIGKILL 2 s later, and reports "timed out" when the
  script dies of one of those signals (a script that catches SIGTERM and exits keeps its
  exit status, as in keepalived); `kill_only` (notify_stop scripts: child_killed_thread)
  sends SIGKILL straight away;
- never blocks the event loop: asyncio subprocesses; fire-and-forget scripts are reaped
  by a task and killed on `stop()` (script_killall: SIGTERM, then SIGKILL after 1 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from keepalived_py.scripts.quoting import cmd_str, split_command
from keepalived_py.scripts.security import (
    DEFAULT_SCRIPT_USER,
    ScriptCheck,
    ScriptUserError,
    check_script_secure,
    default_script_user,
    resolve_user,
)

log = logging.getLogger("keepalived_py.scripts")

TERM_GRACE = 2.0  # vrrp_script_child_thread: SIGTERM, then SIGKILL 2 s later
KILL_WAIT = 2.0
STOP_GRACE = 1.0  # script_killall: children get 1 s after SIGTERM

_PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - non-Linux
    _prctl = None


def _child_setup(uid: int | None, gid: int | None, pdeathsig: bool) -> Callable[[], None]:
    """What keepalived's child does between fork() and execve() (set_script_env(), then
    setpgid(0, 0), then PR_SET_PDEATHSIG, which a uid change would clear). A preexec_fn
    because uvloop (the children's loop) supports neither user/group nor process_group."""

    def setup() -> None:  # pragma: no cover - runs in the forked child
        if gid is not None:
            os.setgid(gid)
            os.setgroups([gid])
        if uid is not None:
            os.setuid(uid)
        os.setpgid(0, 0)
        # signal_handler_script(): nothing blocked (handlers are reset by execve itself,
        # SIGPIPE/SIGXFSZ by restore_signals)
        signal.pthread_sigmask(signal.SIG_SETMASK, ())
        # If keepalived dies, we want the script to die (system_call_script, execable scripts)
        if pdeathsig and _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return setup


@dataclass(frozen=True, slots=True)
class Script:
    """A command ready to run: argv plus the user and group to run it as."""

    argv: tuple[str, ...]
    uid: int
    gid: int
    #: False: run through /bin/sh -c (keepalived's system() path)
    execable: bool = True
    #: check_script_secure() flags (0 when not checked)
    flags: int = 0

    @property
    def display(self) -> str:
        return cmd_str(self.argv)


@dataclass(frozen=True, slots=True)
class ScriptResult:
    pid: int | None
    #: exit status when the script exited
    status: int | None = None
    #: the signal that ended it
    signal: int | None = None
    #: keepalived's "timed_out": killed by the signals its timeout sent
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass
class _Running:
    proc: asyncio.subprocess.Process
    script: Script
    task: asyncio.Task | None = field(default=None)
    kill_on_stop: bool = True


class ScriptRunner:
    """Runs scripts for one child process; see the module docstring.

    `script_user`/`script_group`: global_defs script_user (None: keepalived_script if it
    exists, else our own user); `script_security`: enable_script_security; `env`: the
    environment to give scripts (default: ours, as keepalived passes `environ`).
    `term_grace`: how long a timed-out script has between SIGTERM and SIGKILL (keepalived:
    2 s; tests shorten it rather than wait).
    """

    def __init__(self, script_user: str | None = None, script_group: str | None = None, *,
                 script_security: bool = False, env: Mapping[str, str] | None = None,
                 log_fn: Callable[[str], None] | None = None, term_grace: float = TERM_GRACE) -> None:
        self.script_user = script_user
        self.script_group = script_group
        self.script_security = script_security
        self.env = dict(env) if env is not None else None
        self.term_grace = term_grace
        self._log = log_fn or log.info
        self._running: dict[int, _Running] = {}
        self._background: set[asyncio.Task] = set()
        self._default: tuple[int, int] | None = None

    @classmethod
    def from_config(cls, config, **kw) -> ScriptRunner:
        """From a KeepalivedConfig (global_defs script_user / enable_script_security)."""
        runner = cls(**kw)
        runner.configure(config)
        return runner

    def configure(self, config) -> None:
        """Take global_defs script_user / enable_script_security from a (new) configuration;
        running scripts are not affected."""
        gd = getattr(config, "global_defs", None)
        su = getattr(gd, "script_user", None) if gd else None
        settings = (su.user if su else None, su.group if su else None,
                    bool(gd and gd.enable_script_security))
        if settings != (self.script_user, self.script_group, self.script_security):
            self.script_user, self.script_group, self.script_security = settings
            self._default = None

    # ------------------------------------------------------------------ preparing
    def default_user(self) -> tuple[int, int]:
        """get_default_script_user(), resolved once (keepalived caches it too, and logs
        "Script user 'keepalived_script' does not exist" once when it falls back)."""
        if self._default is None:
            if self.script_user is None:
                try:
                    resolve_user(DEFAULT_SCRIPT_USER)
                except ScriptUserError as e:
                    self._log(str(e))
            self._default = default_script_user(self.script_user, self.script_group, self.script_security)
        return self._default

    def user_ids(self, user: str | None = None, group: str | None = None) -> tuple[int, int]:
        """(uid, gid) for a script's own `user [group]`, else the default script user."""
        if user is not None:
            return resolve_user(user, group)
        return self.default_user()

    def prepare(self, command: str | Sequence[str], user: str | None = None,
                group: str | None = None, *, check: bool = True) -> tuple[Script | None, ScriptCheck | None]:
        """Split `command` (a keepalived script string, or an argv), resolve the user and run
        check_script_secure(). Returns (None, check) when keepalived would not run it."""
        argv = split_command(command) if isinstance(command, str) else list(command)
        if not argv:
            self._log(f"Unable to parse script '{command}' - ignoring")
            return None, None
        try:
            uid, gid = self.user_ids(user, group)
        except ScriptUserError as e:
            self._log(str(e))
            return None, None
        if not check:
            return Script(tuple(argv), uid, gid), None
        result = check_script_secure(argv, uid, gid, self.script_security)
        for message in result.messages:
            self._log(message)
        if not result.runnable:
            return None, result
        return Script(tuple(result.argv), uid, gid, result.execable, result.flags), result

    # ------------------------------------------------------------------ running
    async def _spawn(self, script: Script, extra_args: Sequence[str]) -> asyncio.subprocess.Process | None:
        argv = list(script.argv) + list(extra_args)
        root = os.geteuid() == 0
        uid = script.uid if script.uid != os.geteuid() else None
        gid = script.gid if root or script.gid != os.getegid() else None
        kwargs: dict = dict(
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, env=self.env, close_fds=True, restore_signals=True,
            preexec_fn=_child_setup(uid, gid, script.execable))
        if script.execable:
            program, args = argv[0], argv
        else:
            program, args = "/bin/sh", ["sh", "-c", cmd_str(argv)]
        try:
            return await asyncio.create_subprocess_exec(program, *args[1:], **kwargs)
        except OSError as e:
            self._log(f"Error exec-ing command '{argv[0]}', error {e.errno}: {e.strerror}")
            return None
        except subprocess.SubprocessError:
            # set_script_env() failed in the child: keepalived's child exits 0
            self._log(f"Couldn't set uid:gid {script.uid}:{script.gid} for script {argv[0]}")
            return None

    def _result(self, script: Script, proc: asyncio.subprocess.Process, killed_with: set[int]) -> ScriptResult:
        rc = proc.returncode
        assert rc is not None
        if rc < 0:
            sig = -rc
            return ScriptResult(proc.pid, None, sig, sig in killed_with)
        if not script.execable:
            if rc == 127:
                self._log(f"Couldn't find command: {cmd_str(script.argv)}")
                rc = 0
            elif rc == 126:
                self._log(f"Couldn't execute command: {cmd_str(script.argv)}")
                rc = 0
            elif rc > 128 and rc - 128 in signal.valid_signals():
                # system() saw the script killed by a signal: keepalived re-raises it
                sig = rc - 128
                return ScriptResult(proc.pid, None, sig, sig in killed_with)
        return ScriptResult(proc.pid, rc, None, False)

    @staticmethod
    def _killpg(proc: asyncio.subprocess.Process, sig: int) -> bool:
        try:
            os.killpg(proc.pid, sig)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            return True

    @staticmethod
    async def _exited(waiter: asyncio.Future, timeout: float | None) -> bool:
        """Whether the process exited within `timeout` (asyncio.wait: unlike wait_for on
        Python 3.11 it never swallows a cancellation, and it leaves `waiter` running)."""
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
        return bool(done)

    async def _wait(self, script: Script, proc: asyncio.subprocess.Process, timeout: float | None,
                    kill_only: bool) -> ScriptResult:
        killed_with: set[int] = set()
        waiter = asyncio.ensure_future(proc.wait())
        try:
            if not await self._exited(waiter, timeout):
                steps = [(signal.SIGKILL, KILL_WAIT)] if kill_only else [
                    (signal.SIGTERM, self.term_grace), (signal.SIGKILL, KILL_WAIT)]
                for sig, grace in steps:
                    killed_with.add(sig)
                    self._killpg(proc, sig)
                    if await self._exited(waiter, grace):
                        break
                else:
                    while not await self._exited(waiter, 10):
                        self._log(f"Script {script.argv[0]} child (PID {proc.pid}) failed to terminate after kill")
                        self._killpg(proc, signal.SIGKILL)
            if proc.returncode == -signal.SIGTERM and signal.SIGTERM in killed_with:
                # it died of our SIGTERM: make sure any children it created have died too
                self._killpg(proc, signal.SIGKILL)
        except asyncio.CancelledError:
            # the caller gave up on it (a tracker stopped or reloaded): keepalived's
            # script_killall() - SIGTERM to the group, SIGKILL if still there after 1 s
            running = self._running.get(proc.pid)
            if proc.returncode is None and (running is None or running.kill_on_stop):
                self._killpg(proc, signal.SIGTERM)
                reaper = asyncio.get_running_loop().create_task(self._reap_killed(proc, waiter))
                self._background.add(reaper)
                reaper.add_done_callback(self._background.discard)
                if running is not None:
                    running.task = reaper  # stays listed until reaped: stop() waits for it
            else:
                self._running.pop(proc.pid, None)
            raise
        self._running.pop(proc.pid, None)
        return self._result(script, proc, killed_with)

    async def _reap_killed(self, proc: asyncio.subprocess.Process, waiter: asyncio.Future) -> None:
        try:
            if not await self._exited(waiter, STOP_GRACE):
                self._killpg(proc, signal.SIGKILL)
                await self._exited(waiter, KILL_WAIT)
        finally:
            if proc.returncode is not None:
                self._running.pop(proc.pid, None)

    async def run(self, script: Script, extra_args: Sequence[str] = (), *, timeout: float | None = None,
                  kill_only: bool = False) -> ScriptResult:
        """Run `script` (with `extra_args` appended) and wait for it; `timeout` in seconds."""
        proc = await self._spawn(script, extra_args)
        if proc is None:
            return ScriptResult(None, 0)
        self._running[proc.pid] = _Running(proc, script)
        return await self._wait(script, proc, timeout, kill_only)

    async def spawn(self, script: Script, extra_args: Sequence[str] = (), *, timeout: float | None = None,
                    kill_only: bool = False, kill_on_stop: bool = True,
                    on_exit: Callable[[ScriptResult], None] | None = None) -> int | None:
        """Start `script` without waiting for it (keepalived's notify_exec()); a task reaps it.
        Returns the pid (None if it could not start). Processes start in call order.
        `kill_on_stop` False: stop() leaves it running, as keepalived leaves the notify
        scripts it does not track as children (only stop/fifo scripts are)."""
        proc = await self._spawn(script, extra_args)
        if proc is None:
            return None
        self._running[proc.pid] = running = _Running(proc, script, kill_on_stop=kill_on_stop)

        async def reap() -> None:
            result = await self._wait(script, proc, timeout, kill_only)
            if on_exit is not None:
                on_exit(result)

        task = asyncio.get_running_loop().create_task(reap())
        running.task = task
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return proc.pid

    def running(self) -> list[tuple[int, tuple[str, ...]]]:
        return [(pid, r.script.argv) for pid, r in self._running.items()]

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """script_killall(): SIGTERM to every running script's group, SIGKILL after `grace`
        (scripts started with kill_on_stop=False are left alone)."""
        await self.terminate([pid for pid, r in self._running.items() if r.kill_on_stop], grace)

    async def terminate(self, pids: Sequence[int | None], grace: float = STOP_GRACE) -> None:
        """SIGTERM to these scripts' groups, SIGKILL after `grace`; waits until reaped."""
        entries = [self._running[p] for p in pids if p is not None and p in self._running]
        procs = [r.proc for r in entries]
        for proc in procs:
            if proc.returncode is None:
                self._killpg(proc, signal.SIGTERM)
        if procs:
            waits = [asyncio.ensure_future(p.wait()) for p in procs]
            _, pending = await asyncio.wait(waits, timeout=grace)
            if pending:
                for proc in procs:
                    if proc.returncode is None:
                        self._killpg(proc, signal.SIGKILL)
                await asyncio.wait(pending, timeout=KILL_WAIT)
        tasks = [r.task for r in entries if r.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=KILL_WAIT)
