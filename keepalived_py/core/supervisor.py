"""The parent process: start the children the configuration needs, watch them, respawn
one that dies (capped backoff, keepalived's log lines), forward reloads and dumps, stop.

It only supervises. Children are forked like keepalived's (core/forking.py: with the
parent's loop stopped, after the imports they share and, at first start, after the
configuration is read), run core/child.py's `run()`, and share nothing mutable with the
parent but a socketpair carrying ipc.messages. Log lines and the
restart rule follow keepalived's main.c / *_daemon.c so monitoring keeps matching.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.core import child as child_process
from keepalived_py.core import configload, pidfile
from keepalived_py.core import reload as reloading
from keepalived_py.core.forking import ForkedProcess, ForkGate, OneShotExecutor, in_thread
from keepalived_py.core.pidfile import PidPaths
from keepalived_py.core.sdnotify import Notifier
from keepalived_py.core.signals import HANDLED, SigFunc, func_for_signal, take_early
from keepalived_py.ipc.channel import Channel, make_pair
from keepalived_py.ipc.messages import (
    BfdState,
    DumpReply,
    DumpRequest,
    IpcError,
    Ready,
    Reload,
    ReloadDone,
    Stop,
)
from keepalived_py.log import IDENT_BY_ROLE
from keepalived_py.observe import dumps

#: Names in keepalived's lines: "Starting VRRP child process", "Healthcheck child process(N)"
ROLE_TITLES = {"vrrp": "VRRP", "check": "Healthcheck", "bfd": "BFD"}
#: children_term[].short_name: "vrrp process failed to die - forcing termination"
SHORT_NAMES = {"vrrp": "vrrp", "check": "checker", "bfd": "bfd"}
#: Exit statuses after which keepalived does not respawn but stops (lib/scheduler.h).
PERMANENT_EXITS = {1: "FATAL", 2: "CONFIG", 4: "missing permission"}
DUMP_TIMEOUT = 5.0
#: A reload a child has not confirmed by then is declared complete (so later reloads are
#: not queued forever behind a hung child); start-up has no such limit: systemd's own
#: start timeout judges a child that never gets ready.
RELOAD_CONFIRM_TIMEOUT = 60.0
RESPAWN_GRACE = 0.05

_SIGNAL_KINDS = {SigFunc.DATA: dumps.DATA, SigFunc.STATS: dumps.STATS,
                 SigFunc.STATS_CLEAR: dumps.STATS_CLEAR, SigFunc.JSON: dumps.JSON}


def restart_delay(started: float, now: float, next_delay: int) -> tuple[int, int, bool]:
    """keepalived's calc_restart_delay(): (delay now, next delay, log it?). A child that ran
    a minute or more restarts at once; otherwise 0, 1, 2, 4 ... 32, 60 seconds."""
    if now - started >= 60:
        return 0, 0, False
    delay = next_delay
    if not next_delay:
        following = 1
    elif next_delay > 30:
        following = 60
    else:
        following = next_delay * 2
    return delay, following, True


def exit_cause(returncode: int, pid: int, name: str | None = None) -> tuple[str | None, int]:
    """keepalived's report_child_status(): (log line or None, permanent exit status or 0)."""
    prog = name or f"pid {pid}"
    if returncode >= 0:
        if returncode in PERMANENT_EXITS:
            return (f"{prog} exited with permanent error {PERMANENT_EXITS[returncode]}. "
                    "Terminating", returncode)
        if returncode:
            return f"{prog} exited with status {returncode}", 0
        return None, 0
    sig = -returncode
    try:
        desc = signal.strsignal(sig) or f"signal {sig}"
    except ValueError:
        desc = f"signal {sig}"
    extra = " - has rlimit_rttime been exceeded?" if sig == signal.SIGKILL else ""
    return f"{prog} exited due to signal {sig} ({desc}){extra}", 0


@dataclass
class Child:
    """One running (or restarting) child process as the parent sees it."""

    role: str
    proc: Any = None  # forking.ForkedProcess
    channel: Channel | None = None
    started: float = 0.0
    next_delay: int = 0
    starts: int = 0
    replies: dict[int, asyncio.Future[DumpReply]] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return int(self.proc.pid) if self.proc is not None else 0

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


class Supervisor:
    """Runs until stopped; `run()` returns the parent's exit status."""

    def __init__(self, opts: Any, result: Any, paths: PidPaths, log: Any,
                 notifier: Notifier | None = None,
                 clock: Callable[[], float] = time.monotonic, resume: bool = False) -> None:
        self.opts = opts
        self.result = result
        self.config = result.config
        self.paths = paths
        self.log = log
        self.notifier = notifier or Notifier()
        self.clock = clock
        self.children: dict[str, Child] = {}
        self.tracker = reloading.ReloadTracker()
        self.stopping = False
        self.exit_status = 0
        self._done = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seq = 0
        #: last BfdState per bfd_instance, replayed to a vrrp/check child that (re)starts
        self.bfd_states: dict[str, BfdState] = {}
        #: for the metrics endpoint / control socket (core/control.py)
        self.reloads = 0
        self.reload_failures = 0
        self.observers: Any = None
        #: where children are forked (with the loop stopped): see drive()
        self.gate = ForkGate(warn=self.log.warning)
        #: an in-place restart: the first children adopt what the old ones left running
        self.resume = resume
        #: set by SIGRESTART once the file checked out: run() returns for a re-exec
        self.restarting = False

    # ---------- helpers ----------
    def _spawn_task(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _child_spec(self, role: str, fd: int, start_count: int) -> child_process.ChildSpec:
        """A first start (or an in-place restart) gets the configuration this parent has
        just read; a respawn reads the file again, as keepalived's children do."""
        return child_process.ChildSpec(
            role=role, opts=self.opts, ipc_fd=fd, parent_pid=os.getpid(),
            pid_file=self.paths.for_role(role), start_count=start_count,
            resume=self.resume or start_count > 0,
            preloaded=self.result if start_count == 0 and self.reloads == 0 else None)

    def naming(self) -> dumps.DumpNaming:
        return dumps.DumpNaming.current(
            bool(configload.global_setting(self.config, "data_use_instance", False)),
            configload.instance_name(self.config),
            configload.network_namespace(self.config, self.opts),
            # keepalived 2.3.3's state_dump_file (newer than 2.2.7): keepalived_parent.data's place
            configload.global_setting(self.config, "state_dump_file", None))

    # ---------- children ----------
    def preload(self, role: str) -> None:
        """Import the role's runtime here, before forking: the children share those pages
        and a respawned child starts without importing it again."""
        try:
            child_process.resolve_role(role)
        except Exception as exc:  # noqa: BLE001 - the child reports it the same way
            self.log.debug(f"{ROLE_TITLES[role]} runtime not preloaded: {exc!r}")

    async def start_child(self, role: str) -> Child:
        child = self.children.get(role) or Child(role)
        self.children[role] = child
        parent_end, child_end = make_pair()
        spec = self._child_spec(role, child_end.fileno(), child.starts)
        try:
            # the first children follow the configuration's load, which leaves no garbage
            # to collect (forking.fork); a respawn or a reload's new child may follow some
            pid = await self.gate.fork(lambda: child_process.run(spec), keep=(child_end.fileno(),),
                                       collect=spec.preloaded is None)
        except OSError as exc:
            parent_end.close()
            child_end.close()
            self.log.info(f"{ROLE_TITLES[role]} child process: fork error({exc.strerror or exc})")
            raise
        child_end.close()
        proc = ForkedProcess(pid, asyncio.get_running_loop())
        child.starts += 1
        child.proc = proc
        child.started = self.clock()
        child.channel = await Channel.open(parent_end)
        self.log.info(f"Starting {ROLE_TITLES[role]} child process, pid={proc.pid}")
        self._spawn_task(self._read_child(child, child.channel))
        self._spawn_task(self._watch_child(child, proc))
        return child

    async def _read_child(self, child: Child, channel: Channel) -> None:
        while True:
            try:
                msg = await channel.recv()
            except IpcError as exc:
                self.log.info(f"Bad message from {ROLE_TITLES[child.role]} child: {exc}")
                return
            if msg is None:
                return
            if isinstance(msg, Ready):
                self._confirmed(child.role)
                for state in list(self.bfd_states.values()):
                    self._forward_bfd(state, only=child.role)
            elif isinstance(msg, BfdState):
                if child.role == "bfd":
                    self.bfd_states[msg.name] = msg
                    self._forward_bfd(msg)
            elif isinstance(msg, ReloadDone):
                if not msg.ok:
                    self.log.info(f"{ROLE_TITLES[child.role]} child kept its running "
                                  f"configuration: {msg.error}")
                if msg.seq == self.tracker.seq:
                    self._confirmed(child.role)
            elif isinstance(msg, DumpReply):
                fut = child.replies.pop(msg.seq, None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)

    def _forward_bfd(self, msg: BfdState, only: str | None = None) -> None:
        """keepalived's bfd event pipes: to the vrrp child and/or the check child."""
        for role, wanted in (("vrrp", msg.vrrp), ("check", msg.checker)):
            target = self.children.get(role)
            if wanted and (only is None or only == role) and target is not None \
                    and target.alive and target.channel is not None:
                self._spawn_task(target.channel.send(msg))

    async def _watch_child(self, child: Child, proc: Any) -> None:
        returncode = await proc.wait()
        if child.channel is not None:
            child.channel.close()
        for fut in child.replies.values():
            if not fut.done():
                fut.cancel()
        child.replies.clear()
        # A stop sent to the whole group (Ctrl-C, systemd's control-group kill) reaches
        # the children too: let a pending TERM/INT for us be handled before respawning.
        await asyncio.sleep(RESPAWN_GRACE)
        if self.stopping or child.proc is not proc:
            return
        pid = proc.pid
        pidfile.remove(self.paths.for_role(child.role), only_if_pid=pid)
        line, permanent = exit_cause(returncode, pid)
        if line:
            self.log.info(line)
        # A start-up or reload round waiting for this child is confirmed by its successor's
        # Ready (a respawned child reads the current file); the daemon stops otherwise.
        title = ROLE_TITLES[child.role]
        if permanent:
            self.notifier.errno(errno.EPERM if permanent == 4 else errno.EINVAL)
            self.request_stop(permanent)
            return
        if self.opts.dont_respawn:
            self.log.critical(f"{title} child process({pid}) died: Exiting")
            self.request_stop(0)
            return
        self.log.critical(f"{title} child process({pid}) died: Respawning")
        self.notifier.status(f"{title} child process({pid}) died: Respawning")
        delay, child.next_delay, say = restart_delay(child.started, self.clock(), child.next_delay)
        if say:
            self.log.info(f"Restart of {title} process delayed {delay} seconds to limit respawn rate")
        if delay:
            await asyncio.sleep(delay)
        if not self.stopping and not child.alive:  # a reload may have started it meanwhile
            await self.start_child(child.role)

    # ---------- start-up / reload confirmation ----------
    def _confirmed(self, role: str) -> None:
        if self.tracker.done(role):
            self._complete()

    def _complete(self) -> None:
        line = self.tracker.finish()
        self.log.info(line)
        self.notifier.ready(status=line)
        if self.tracker.take_queued():
            self.log.info("Processing queued reload")
            self._spawn_task(self.reload())

    # ---------- signals ----------
    def on_signal(self, signum: int) -> None:
        func = func_for_signal(signum)
        if func is SigFunc.STOP:
            self.request_stop(0)
        elif func is SigFunc.RELOAD:
            if self.stopping:
                return
            if self.tracker.busy:
                self.log.debug("Reload already in progress, request queued")
                self.tracker.queued = True
            else:
                self._spawn_task(self.reload())
        elif func is SigFunc.RESTART:
            if not self.stopping and not self.restarting:
                self._spawn_task(self.restart_in_place())
        elif func in _SIGNAL_KINDS:
            self._spawn_task(self.dump(_SIGNAL_KINDS[func]))

    async def restart_in_place(self) -> None:
        """SIGRESTART (keepalived-py's): if the file would reload, stop the children
        WITHOUT releasing anything and leave `run()` so the caller re-executes this
        process (same pid, pid file kept); the new children start with resume=True."""
        self.log.info("Restart in place requested")
        self.restarting = True
        try:
            result = await in_thread(configload.load, self.opts)
        except Exception as exc:  # noqa: BLE001
            verdict = reloading.ReloadVerdict(False, [f"Restart failed: {exc!r}"], "restart failed")
        else:
            verdict = reloading.judge(self.config, result, self.opts)
        if not verdict.ok or self.stopping:
            for line in verdict.lines:
                self.log.info(line)
            self.log.info("Restart in place refused, continuing with the running daemon")
            self.restarting = False
            return
        self.request_stop(0)

    def request_stop(self, status: int = 0) -> None:
        if not self.stopping:
            self.stopping = True
            self.exit_status = status
            self._done.set()

    # ---------- reload ----------
    async def reload(self) -> None:
        """Validate the file, then have each child reconcile to it (or keep everything)."""
        self.tracker.busy = True
        self.log.info("Reloading ...")
        self.notifier.reloading(status="Reloading")
        try:
            result = await in_thread(configload.load, self.opts)
        except Exception as exc:  # noqa: BLE001 - a crash in the parser must not stop us
            verdict = reloading.ReloadVerdict(False, [f"Reload failed: {exc!r}"], "reload failed")
        else:
            verdict = reloading.judge(self.config, result, self.opts)
        for line in verdict.lines:
            self.log.info(line)
        if not verdict.ok:
            self.reload_failures += 1
        if not verdict.ok or self.stopping:
            self.tracker.busy = False
            self.notifier.ready(status=verdict.reason or "Reload abandoned")
            if self.tracker.take_queued() and not self.stopping:
                self._spawn_task(self.reload())
            return
        self.result, self.config = result, result.config
        self.reloads += 1
        gc.unfreeze()  # the old configuration, frozen at the last fork, may now be freed
        if self.opts.dump_conf:
            self.log_config_dump()
        running = {r for r, c in self.children.items() if c.alive}
        wanted = set(configload.roles_to_run(self.config, self.opts))
        seq = self.tracker.begin(running | (wanted - running))
        for role in sorted(running):
            channel = self.children[role].channel
            if channel is None or not await channel.send(Reload(seq=seq, config_file=self.opts.conf_file)):
                self._confirmed(role)
        for role in sorted(wanted - running):
            try:
                await self.start_child(role)  # its Ready message confirms it
            except OSError:
                self._confirmed(role)
        if not self.tracker.pending and self.tracker.busy:
            self._complete()
        elif self.tracker.busy:
            self._spawn_task(self._reload_watchdog(seq))

    async def _reload_watchdog(self, seq: int) -> None:
        await asyncio.sleep(RELOAD_CONFIRM_TIMEOUT)
        if self.tracker.busy and self.tracker.seq == seq and not self.stopping:
            waiting = ", ".join(ROLE_TITLES[r] for r in sorted(self.tracker.pending))
            self.log.info(f"Reload not confirmed by {waiting} child within "
                          f"{RELOAD_CONFIRM_TIMEOUT:g} seconds")
            self._complete()

    def log_config_dump(self) -> None:
        try:
            from keepalived_py.config.dump import dump_text

            for line in dump_text(self.config).splitlines():
                self.log.info(line)
        except Exception as exc:  # noqa: BLE001
            self.log.info(f"Unable to dump the configuration: {exc}")

    # ---------- dumps ----------
    def parent_data(self) -> str:
        text = "------< Global definitions >------\n"
        try:
            from keepalived_py.config.dump import dump_text

            text += dump_text(self.config)
        except Exception as exc:  # noqa: BLE001
            text += f"(configuration dump unavailable: {exc})\n"
        return text

    async def ask(self, role: str, kind: str, timeout: float) -> DumpReply | None:
        """One DumpRequest to `role`'s child; None when it runs not or answers not in time."""
        child = self.children.get(role)
        if child is None or not child.alive or child.channel is None:
            return None
        self._seq += 1
        seq = self._seq
        fut: asyncio.Future[DumpReply] = asyncio.get_running_loop().create_future()
        child.replies[seq] = fut
        if not await child.channel.send(DumpRequest(seq=seq, kind=kind)):
            child.replies.pop(seq, None)
            return None
        try:
            return await asyncio.wait_for(fut, timeout)
        except (TimeoutError, asyncio.CancelledError):
            child.replies.pop(seq, None)
            return None

    async def dump(self, kind: str) -> None:
        """USR1: parent + every child's data; USR2/STATS_CLEAR/JSON: the VRRP child's."""
        naming = self.naming()
        if kind == dumps.DATA:
            self.log.info(dumps.PRINT_LINES[("parent", kind)].format(pid=os.getpid()))
            try:
                dumps.write_section("parent", kind, self.parent_data(), naming)
            except OSError as exc:
                self.log.info(f"Unable to write parent data: {exc}")
        for role in dumps.ROLES_FOR_KIND[kind]:
            child = self.children.get(role)
            if child is None or not child.alive or child.channel is None:
                continue
            self._seq += 1
            fut: asyncio.Future[DumpReply] = asyncio.get_running_loop().create_future()
            child.replies[self._seq] = fut
            if not await child.channel.send(DumpRequest(seq=self._seq, kind=kind)):
                child.replies.pop(self._seq, None)
                continue
            try:
                reply = await asyncio.wait_for(fut, DUMP_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                self.log.info(f"No {kind} dump from {ROLE_TITLES[role]} child within "
                              f"{DUMP_TIMEOUT:g} seconds")
                continue
            content = reply.json if kind == dumps.JSON else reply.text
            try:
                dumps.write_section(role, kind, content, naming)
            except OSError as exc:
                self.log.info(f"Unable to write {kind} dump: {exc}")

    # ---------- run / stop ----------
    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Unhandled errors in callbacks go to our log (stderr is /dev/null once daemonised)."""
        exc = context.get("exception")
        self.log.error(f"Internal error: {context.get('message', '')}"
                       + (f": {exc!r}" if exc else ""))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        for num in HANDLED:
            loop.add_signal_handler(num, self.on_signal, num)
        for num in take_early():
            self.on_signal(num)
        roles = [] if self.stopping else configload.roles_to_run(self.config, self.opts)
        if self.opts.dump_conf:
            self.log_config_dump()
        self.tracker.begin(set(roles))
        for role in roles:
            self.preload(role)
        if roles:
            save_code_cache()
        for role in roles:
            try:
                await self.start_child(role)
            except OSError:
                self._confirmed(role)
        # only the children that replace the old image's resume; a role a later reload
        # starts has no predecessor (a respawn resumes through its start count)
        self.resume = False
        if not roles and not self.stopping:
            self.log.info("Warning - keepalived has no configuration to run")
            self._complete()
        from keepalived_py.core.control import ParentObservers

        self.observers = ParentObservers(self)
        await self.observers.start()
        try:
            await self._done.wait()
        finally:
            await self.observers.close()
        await self.stop_children()
        return self.exit_status

    async def stop_children(self) -> None:
        """keepalived's sigend(): TERM each child, wait child_wait_time, then KILL."""
        live = {r: c for r, c in self.children.items() if c.alive}
        if self.restarting:
            self.log.info("Restarting in place: children stop without releasing")
            self.notifier.reloading(status="Restarting in place")
            for child in live.values():
                if child.channel is None or not await child.channel.send(Stop(release=False)):
                    # SIGKILL leaves everything in place too; TERM would release
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child.pid, signal.SIGKILL)
        else:
            self.log.info("Stopping")
            self.notifier.stopping(status="Stopping")
            for child in live.values():
                try:
                    os.kill(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        waits = {asyncio.ensure_future(c.proc.wait()): c for c in live.values()}
        if waits:
            await asyncio.wait(waits, timeout=configload.child_wait_time(self.config))
        for fut, child in waits.items():
            if fut.done():
                line, _ = exit_cause(child.proc.returncode, child.pid, IDENT_BY_ROLE[child.role])
                if line:
                    self.log.info(line)
            else:
                self.log.info(f"{SHORT_NAMES[child.role]} process failed to die - forcing termination")
                try:
                    os.kill(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                await child.proc.wait()
            pidfile.remove(self.paths.for_role(child.role), only_if_pid=child.pid)
        for task in list(self._tasks):
            task.cancel()


def save_code_cache() -> None:
    """Keep the code @dataclass generated for the role runtimes just preloaded (the vrrp
    core, ipc, tracking: ~580 classes' methods) in the config package's cache, as .pyc files
    are kept: the config package saves only its own classes' code, so every start compiled
    the runtimes' again, ~0.1 s of the parent's work before the first fork. Written (once,
    atomically) unless bytecode writing is off; the config package is loaded by then."""
    from keepalived_py.config import codecache

    # readable by all, as the .pyc files beside it, not under the daemon's 0177 umask: a
    # `-t` run by another user reads it too (no other thread runs yet to see this umask)
    old = os.umask(0o022)
    try:
        codecache.save()
    finally:
        os.umask(old)


def drive(sup: Supervisor) -> int:
    """Run the supervisor on a fresh uvloop until it stops, forking children in between
    turns of the loop (ForkGate); the loop is closed when this returns."""
    import uvloop

    loop = uvloop.new_event_loop()
    loop.set_default_executor(OneShotExecutor())
    asyncio.set_event_loop(loop)
    try:
        return int(sup.gate.drive(loop, sup.run()))
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


def cpu_usage_line() -> str:
    """The -D line keepalived logs before "Stopped ..."."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (f"CPU usage (self/children) user: {me.ru_utime:.6f}/{kids.ru_utime:.6f} "
            f"system: {me.ru_stime:.6f}/{kids.ru_stime:.6f}")
