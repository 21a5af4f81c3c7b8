"""A child process (vrrp, check or bfd): the process machinery around a role's runtime.

The parent forks one per subsystem (core/forking.py) and calls `run(ChildSpec)` in it:
the child has the parent's imports, options and, at first start, its parsed
configuration. For a child run by hand (or by a test) the same runs from

    python -m keepalived_py.core.child --role vrrp --ipc-fd N --parent-pid P -- <argv>

with keepalived's command line after `--`, read exactly as the parent read it. Like
keepalived's children it dies with its parent (PR_SET_PDEATHSIG), logs under its own
syslog ident, writes and removes its own pid file, and handles the signals itself
(TERM/INT stop, HUP reload, USR1/USR2/STATS_CLEAR/JSON dump to its keepalived file).
From the parent it takes typed messages (reload, dump request, stop) over the socketpair.

The runtime is `daemon:run(ctx)` in the role's package (ROLE_PACKAGES). See core/context.py
for the interface.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keepalived_py import log as kalog
from keepalived_py.core import configload, pidfile, process_priority
from keepalived_py.core.context import ChildContext
from keepalived_py.core.options import parse_args
from keepalived_py.core.signals import HANDLED, SigFunc, func_for_signal
from keepalived_py.ipc.channel import Channel
from keepalived_py.ipc.messages import (
    DumpReply,
    DumpRequest,
    IpcError,
    Ready,
    Reload,
    ReloadDone,
    Stop,
)
from keepalived_py.observe import dumps

if TYPE_CHECKING:
    import argparse

# keepalived's exit statuses the parent understands (lib/scheduler.h)
EXIT_OK = 0
EXIT_FATAL = 1  # permanent: the parent stops too
EXIT_CONFIG = 2  # permanent: the parent stops too
EXIT_PROGRAM_ERROR = 70  # a bug: the parent respawns us

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
_PROCESS_NAMES = {"vrrp": "keepalived_vrr", "check": "keepalived_chk", "bfd": "keepalived_bfd"}

# The package that holds each role's daemon module: the vrrp child's I/O lives in vrrpd/,
# apart from the pure VRRP core in vrrp/.
ROLE_PACKAGES = {"vrrp": "vrrpd", "check": "check", "bfd": "bfd"}

RoleEntry = Callable[[ChildContext], Awaitable[int]]

_DUMP_KINDS = {SigFunc.DATA: dumps.DATA, SigFunc.STATS: dumps.STATS,
               SigFunc.STATS_CLEAR: dumps.STATS_CLEAR, SigFunc.JSON: dumps.JSON}


def _prctl(option: int, value: Any) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def resolve_role(role: str) -> RoleEntry:
    """The role package's `daemon:run` (every role has its runtime now: no stand-in to fall
    back to, so a missing one is an error, not a child that silently runs no protocol)."""
    module = importlib.import_module(f"keepalived_py.{ROLE_PACKAGES.get(role, role)}.daemon")
    return module.run


class ChildProcess:
    """Runs one role: signals, IPC with the parent, reload and dump plumbing."""

    def __init__(self, ctx: ChildContext, channel_sock: socket.socket | None) -> None:
        self.ctx = ctx
        self.sock = channel_sock
        self.channel: Channel | None = None
        self._reload_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- signals sent straight to this child (kill -USR1 $(cat /run/vrrp.pid)) ---
    def _on_signal(self, signum: int) -> None:
        func = func_for_signal(signum)
        if func is SigFunc.STOP:
            self.ctx.request_stop()
        elif func is SigFunc.RELOAD:
            self._spawn(self.reload(self.ctx.options.conf_file, seq=None))
        elif func is not None and func in _DUMP_KINDS:  # RESTART is the parent's alone
            self._spawn(self.dump_to_file(_DUMP_KINDS[func]))

    def naming(self) -> dumps.DumpNaming:
        cfg = self.ctx.config
        return dumps.DumpNaming.current(
            bool(configload.global_setting(cfg, "data_use_instance", False)),
            configload.instance_name(cfg),
            configload.network_namespace(cfg, self.ctx.options),
            # keepalived 2.3.3's *_dump_file (newer than 2.2.7)
            configload.global_setting(cfg, "state_dump_file", None),
            configload.global_setting(cfg, "stats_dump_file", None),
            configload.global_setting(cfg, "json_dump_file", None))

    async def section(self, kind: str) -> Any:
        if dumps.is_query(kind):  # asked at every scrape / --status / preview: no log line
            return await self.ctx.dump(kind)
        line = dumps.PRINT_LINES.get((self.ctx.role, kind))
        if line is None:
            return None
        self.ctx.log.info(line.format(pid=os.getpid()))
        return await self.ctx.dump(kind)

    async def dump_to_file(self, kind: str) -> None:
        if (self.ctx.role, kind) not in dumps.FILE_NAMES:
            return
        try:
            content = await self.section(kind)
            dumps.write_section(self.ctx.role, kind, content, self.naming())
        except Exception as exc:  # noqa: BLE001
            self.ctx.log.info(f"Unable to write {kind} dump: {exc}")

    async def reload(self, path: str, seq: int | None) -> None:
        """Load `path`; if usable, hand it to the role's reconciliation hook."""
        async with self._reload_lock:
            self.ctx.log.info("Reloading")
            loop = asyncio.get_running_loop()
            ok, error = True, ""
            try:
                result = await loop.run_in_executor(None, configload.load, self.ctx.options, path)
                blocking = configload.blocking_diagnostics(result)
                if seq is None:  # the parent has not logged these for us
                    for diag in result.diagnostics:
                        self.ctx.log.info(str(diag))
                if blocking:
                    ok, error = False, str(blocking[0])
                else:
                    process_priority.reset_for_reload()  # keepalived reloads at standard scheduling
                    try:
                        await self.ctx.apply_reload(result.config)
                    finally:
                        process_priority.apply_for_role(self.ctx.role, self.ctx.config, self.ctx.log.info)
            except Exception as exc:  # noqa: BLE001 - keep running the old config
                ok, error = False, f"{type(exc).__name__}: {exc}"
            if not ok:
                self.ctx.log.info(f"Reload refused, continuing with the running configuration: {error}")
            if seq is not None and self.channel is not None:
                await self.channel.send(ReloadDone(seq=seq, ok=ok, error=error))

    async def _receive(self) -> None:
        assert self.channel is not None
        while True:
            try:
                msg = await self.channel.recv()
            except IpcError as exc:
                self.ctx.log.info(f"Bad message from parent ({exc}); stopping")
                msg = None
            if msg is None:  # parent gone: keepalived's children die with the parent
                self.ctx.request_stop()
                return
            if isinstance(msg, Stop):
                self.ctx.request_stop(release=msg.release)
            elif isinstance(msg, Reload):
                self._spawn(self.reload(msg.config_file, msg.seq))
            elif isinstance(msg, DumpRequest):
                self._spawn(self._answer_dump(msg))
            else:  # forwarded to the role (BfdState for the vrrp and check children)
                try:
                    self.ctx.deliver(msg)
                except Exception:  # noqa: BLE001
                    self.ctx.log.exception(f"{type(msg).__name__} handling failed")

    async def _answer_dump(self, msg: DumpRequest) -> None:
        assert self.channel is not None
        try:
            content = await self.section(msg.kind)
        except Exception as exc:  # noqa: BLE001
            content = f"(dump failed: {exc})"
        if msg.kind == dumps.JSON or dumps.is_query(msg.kind):
            reply = DumpReply(seq=msg.seq, kind=msg.kind, json=content)
        else:
            reply = DumpReply(seq=msg.seq, kind=msg.kind, text=str(content or ""))
        try:
            await self.channel.send(reply)
        except (IpcError, TypeError, ValueError) as exc:  # too large, or not JSON-able
            await self.channel.send(DumpReply(seq=msg.seq, kind=msg.kind,
                                              text=f"(dump not sent: {exc})\n"))

    async def serve(self, entry: RoleEntry, install_signals: bool = True) -> int:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(
            lambda _loop, context: self.ctx.log.error(
                f"Internal error: {context.get('message', '')} {context.get('exception')!r}"))
        if install_signals:
            for num in HANDLED:
                loop.add_signal_handler(num, self._on_signal, num)
        if self.sock is not None:
            self.channel = await Channel.open(self.sock)
        if self.channel is not None:
            channel = self.channel
            self.ctx._ready_cb = lambda: self._spawn(
                channel.send(Ready(role=self.ctx.role, pid=os.getpid())))
            self.ctx._send_cb = lambda msg: self._spawn(channel.send(msg))
            self._spawn(self._receive())
        run_task = asyncio.ensure_future(entry(self.ctx))
        try:
            status = await run_task
        except Exception:  # noqa: BLE001
            self.ctx.log.exception(f"{self.ctx.role} runtime failed")
            status = EXIT_PROGRAM_ERROR
        for task in list(self._tasks):
            task.cancel()
        if self.channel is not None:
            self.channel.close()
        return int(status or 0)


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    import argparse  # a child run by hand only: a forked child never parses a command line

    if "--" in argv:
        cut = argv.index("--")
        own, passthrough = argv[:cut], argv[cut + 1:]
    else:
        own, passthrough = argv, []
    parser = argparse.ArgumentParser(prog="keepalived_py.core.child")
    parser.add_argument("--role", required=True, choices=configload.ROLES)
    parser.add_argument("--ipc-fd", type=int, default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--pid-file", default=None)
    parser.add_argument("--start-count", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    return parser.parse_args(own), passthrough


class _EarlyStop(BaseException):
    """TERM/INT before the loop runs: leave cleanly (pid file removed), status 0. A
    BaseException, so library code catching Exception cannot swallow it."""


_stop_seen = False


def _early_stop(_signum: int, _frame: object) -> None:
    global _stop_seen
    _stop_seen = True  # in case some code swallows the exception anyway
    raise _EarlyStop


def _write_pid(path: str, role: str, logger: Any) -> bool:
    try:
        pidfile.write(path)
    except OSError as exc:
        logger.info(f"{role} child process: cannot write pidfile {path}: {exc}")
        return False
    return True


@dataclass
class ChildSpec:
    """What a child needs from whoever starts it: the forking parent, or `main()` when a
    child is run by hand (python -m keepalived_py.core.child)."""

    role: str
    opts: Any
    ipc_fd: int | None = None
    parent_pid: int | None = None
    pid_file: str | None = None
    start_count: int = 0
    #: a predecessor's VIPs/IPVS may be in place: adopt them (ChildContext.resume)
    resume: bool = False
    #: the parent's parsed configuration (LoadResult) for a first start: keepalived's
    #: children read the file again, a respawned one too; a first-start child forked
    #: right after the parent read it gets the same result without parsing again
    preloaded: Any = None


def _start(spec: ChildSpec, logger: Any, written: list[str]) -> int:
    """Read the configuration (unless handed over), then run the role until it stops."""
    role, opts = spec.role, spec.opts
    result = spec.preloaded if spec.preloaded is not None else configload.load(opts)
    if result.fatal:
        for diag in result.diagnostics:
            logger.info(str(diag))
        return EXIT_CONFIG
    name = configload.instance_name(result.config)
    netns = configload.network_namespace(result.config, opts)
    if name or netns:  # keepalived's make_syslog_ident()
        ident = kalog.IDENT_BY_ROLE[role] + (f"_{netns}" if netns else "") + (f"_{name}" if name else "")
        logger = kalog.setup(kalog.LogSettings(ident, not opts.no_syslog, opts.log_facility,
                                               opts.log_console and opts.dont_fork, opts.log_detail))
    if not written:
        use_dir = bool(netns or configload.global_setting(result.config, "use_pid_dir", False))
        path = pidfile.resolve(opts, name, use_dir).for_role(role)
        if not _write_pid(path, role, logger):
            return EXIT_OK
        written.append(path)

    sock = socket.socket(fileno=spec.ipc_fd) if spec.ipc_fd is not None else None
    entry = resolve_role(role)
    # checker_* / bfd_* scheduling knobs, once the configuration is read (start_check())
    process_priority.apply_for_role(role, result.config, logger.info)
    import uvloop

    if _stop_seen:
        return EXIT_OK

    async def _main() -> int:
        ctx = ChildContext(role=role, options=opts, config=result.config, log=logger,
                           pid_file=written[0], start_count=spec.start_count,
                           resume=spec.resume)
        if _stop_seen:
            ctx.request_stop()
        return await ChildProcess(ctx, sock).serve(entry)

    return uvloop.run(_main())


#: test hook: a folder where each child writes, as it starts, what it inherited
REPORT_ENV = "KEEPALIVED_PY_CHILD_REPORT"


def _report(spec: ChildSpec) -> None:
    """Proof for the process tests that the child was forked cleanly: the config models
    already imported, one thread, the fds it kept, an empty signal mask, resume."""
    folder = os.environ.get(REPORT_ENV)
    if not folder:
        return
    import json
    import threading

    info = {
        "pid": os.getpid(), "ppid": os.getppid(), "role": spec.role,
        "config_models_loaded": "keepalived_py.config.model" in sys.modules,
        "config_preloaded": spec.preloaded is not None,
        "threads": threading.active_count(),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "fd_links": {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                     if os.path.exists(f"/proc/self/fd/{fd}")},
        "ipc_fd": spec.ipc_fd,
        "sigmask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "resume": spec.resume, "start_count": spec.start_count,
        "gc_frozen": __import__("gc").get_freeze_count(),
    }
    path = os.path.join(folder, f"child-{spec.role}-{os.getpid()}.json")
    with open(path, "w") as f:
        json.dump(info, f)


def run(spec: ChildSpec) -> int:
    """The child process's life, from fork (or exec) to its exit status."""
    role = spec.role
    opts = spec.opts
    _report(spec)
    signal.signal(signal.SIGTERM, _early_stop)
    signal.signal(signal.SIGINT, _early_stop)
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if spec.parent_pid is not None and os.getppid() != spec.parent_pid:
        return EXIT_OK  # the parent died between fork and here
    _prctl(_PR_SET_NAME, ctypes.c_char_p(_PROCESS_NAMES[role].encode()))
    if opts.umask is not None:  # otherwise the parent's umask, inherited
        os.umask(opts.umask)
    logger = kalog.setup(kalog.LogSettings.from_options(opts, role))
    written: list[str] = []
    # like keepalived, the pid file exists before the configuration is read
    if spec.pid_file:
        if not _write_pid(spec.pid_file, role, logger):
            return EXIT_OK  # keepalived exits 0 here (and is then respawned)
        written.append(spec.pid_file)
    status = EXIT_PROGRAM_ERROR
    try:
        status = _start(spec, logger, written)
    except _EarlyStop:
        status = EXIT_OK
    except Exception as exc:  # noqa: BLE001
        logger.exception(f"{role} child failed: {exc!r}")
    finally:
        for path in written:
            pidfile.remove(path, only_if_pid=os.getpid())
        if opts.log_detail:
            import resource

            ru = resource.getrusage(resource.RUSAGE_SELF)
            logger.info(f"Stopped - used {ru.ru_utime:.6f} user time, {ru.ru_stime:.6f} system time")
        else:
            logger.info("Stopped")
    return status


def main(argv: list[str] | None = None) -> int:
    """A child run by hand (or by a test): the options after `--` are keepalived's."""
    args, passthrough = _parse(sys.argv[1:] if argv is None else argv)
    return run(ChildSpec(role=args.role, opts=parse_args(passthrough), ipc_fd=args.ipc_fd,
                         parent_pid=args.parent_pid, pid_file=args.pid_file,
                         start_count=args.start_count,
                         resume=args.resume or args.start_count > 0))


if __name__ == "__main__":
    sys.exit(main())
