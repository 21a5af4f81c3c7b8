"""Forking a child from the parent the way keepalived does (fork, no exec), with the care
Python needs so the child starts clean and shares the parent's pages.

The parent forks only at points where no event loop runs and no other thread exists
(`ForkGate` stops the parent's loop to fork): a forked child has one thread, so no lock
held by another thread and no half-run loop can be inherited. Before the fork the heap is
collected and frozen (`gc.freeze()`), so the child's collector never writes to the pages
it shares with the parent. In the child, before the role runs:

- the signal mask is emptied, the parent's handlers and its loop's wakeup fd dropped, and
  the reload/dump signals ignored until the child's own loop handles them;
- every descriptor the parent had open is closed except stdout/stderr and the ones the
  child is given (its ipc socket); stdin becomes /dev/null. Descriptors that the C
  libraries' at-fork hooks re-created in the child (libuv's signal lock pipe) are told
  apart by their inode and kept;
- NOTIFY_SOCKET leaves the environment: only the parent talks to systemd.

The child never returns into the parent's code: `os._exit()` with the role's status, so
no parent `finally`, atexit hook or finaliser runs twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from keepalived_py.core.sdnotify import ENV as NOTIFY_ENV
from keepalived_py.core.signals import HANDLED

#: the status a child exits with when its target raises (a bug: the parent respawns it)
EXIT_PROGRAM_ERROR = 70


class ForkUnsafe(RuntimeError):
    """fork() asked for while an event loop runs or another thread exists."""


def open_fds() -> dict[int, tuple[int, int]]:
    """This process's open descriptors -> (st_dev, st_ino), to tell them apart after fork."""
    found: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            st = os.fstat(fd)
        except OSError:  # the listing's own descriptor, already closed
            continue
        found[fd] = (st.st_dev, st.st_ino)
    return found


def fork_safe() -> str | None:
    """None when forking is safe now, else why not."""
    if asyncio._get_running_loop() is not None:
        return "an event loop is running"
    if threading.active_count() > 1:
        return f"{threading.active_count() - 1} other thread(s) alive"
    return None


def fork(target: Callable[[], int], keep: Iterable[int] = (), collect: bool = True) -> int:
    """Fork; the parent gets the child's pid, the child runs `target()` after cleaning
    up what it inherited and exits with its status.

    `collect`: a full collection first, so garbage is not frozen (and kept) for ever. The
    first children, forked right after the configuration was read, pass False: the loader
    runs with the collector off and leaves no cyclic garbage (a collection there freed 5
    objects after a 14-line file, none after 80,000 lines), while walking the heap cost
    ~20 ms on the small file and ~90 ms on the large one, on the way to the first state."""
    why = fork_safe()
    if why is not None:
        raise ForkUnsafe(why)
    keep_set = {1, 2, *keep}
    before = open_fds()
    if collect:
        gc.collect()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    status = EXIT_PROGRAM_ERROR
    try:
        _clean_child(before, keep_set)
        status = int(target() or 0)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else EXIT_PROGRAM_ERROR
    except BaseException:  # noqa: BLE001 - whatever happens, never return into the parent
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def _clean_child(before: dict[int, tuple[int, int]], keep: set[int]) -> None:
    """Signals, descriptors and environment as a freshly exec'd child would have them."""
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for num in HANDLED:
        if num not in (signal.SIGTERM, signal.SIGINT):
            signal.signal(num, signal.SIG_IGN)
    for num in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
        signal.signal(num, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    asyncio.events._set_running_loop(None)
    with contextlib.suppress(Exception):
        asyncio.set_event_loop(None)
    now = open_fds()
    for fd, ident in before.items():
        if fd in keep or fd == 0:
            continue
        if now.get(fd) == ident:  # inherited, not re-created by an at-fork hook
            with contextlib.suppress(OSError):
                os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    if null != 0:
        os.dup2(null, 0)
        os.close(null)
    os.environ.pop(NOTIFY_ENV, None)


class ForkGate:
    """Where the parent's coroutines ask for a fork: they queue a target and await the
    pid; `drive()` runs the loop, stops it whenever forks are waiting (and no thread is
    alive), forks with the loop stopped, and resumes it."""

    POLL = 0.01  # while a worker thread (a reload's parse) is still alive
    WARN_AFTER = 5.0  # seconds a fork may wait on other threads before it is said

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        self._queue: list[tuple[Callable[[], int], tuple[int, ...], bool, asyncio.Future[int]]] = []
        self._wake: asyncio.Future[None] | None = None
        self._warn = warn

    async def fork(self, target: Callable[[], int], keep: Iterable[int] = (), collect: bool = True) -> int:
        """The child's pid, once forked; raises OSError when fork() fails."""
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((target, tuple(keep), collect, fut))
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        return await fut

    async def _next_turn(self, main: asyncio.Future[Any]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if main.done():
                return
            if self._queue:
                waited, warned = 0.0, False
                while threading.active_count() > 1 and not main.done():
                    await asyncio.sleep(self.POLL)
                    waited += self.POLL
                    if self._warn is not None and not warned and waited >= self.WARN_AFTER:
                        warned = True
                        # a thread that never ends would hold every fork back: say which
                        names = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
                        self._warn(f"fork of a child waits on thread(s) {', '.join(names)}")
                if not main.done():
                    # uvloop hands its signal wake-up fd back when the loop stops, so a
                    # signal arriving while it is stopped for the fork would run only
                    # uvloop's no-op handler and be lost (a SIGTERM then never stopped the
                    # daemon): hold the handled signals pending until the loop runs again
                    signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
                return
            self._wake = loop.create_future()
            wake = self._wake

            def _woken(_f: Any, wake: asyncio.Future[None] = wake) -> None:
                if not wake.done():
                    wake.set_result(None)

            main.add_done_callback(_woken)
            try:
                await wake
            finally:
                main.remove_done_callback(_woken)

    def _run_queue(self) -> None:
        queue, self._queue = self._queue, []
        for target, keep, collect, fut in queue:
            if fut.done():
                continue
            try:
                fut.set_result(fork(target, keep, collect))
            except (OSError, ForkUnsafe) as exc:
                fut.set_exception(exc if isinstance(exc, OSError) else OSError(str(exc)))

    def drive(self, loop: asyncio.AbstractEventLoop, main: Any) -> Any:
        """Run coroutine `main` on `loop` to completion, forking in between; its result."""
        task = loop.create_task(main)
        while True:
            loop.run_until_complete(self._next_turn(task))
            if task.done():
                return task.result()
            self._run_queue()
            # delivered once uvloop listens again (see _next_turn)
            loop.call_soon(signal.pthread_sigmask, signal.SIG_UNBLOCK, HANDLED)


class ForkedProcess:
    """A forked child as the parent's loop sees it (the part of asyncio's Process the
    supervisor uses): `pid`, `returncode` (-N when killed by signal N) and `wait()`.
    Its exit is noticed through a pidfd, so nothing reaps other processes' children."""

    POLL = 0.05  # without pidfd_open (kernels before 5.3)

    def __init__(self, pid: int, loop: asyncio.AbstractEventLoop) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._loop = loop
        self._done: asyncio.Future[int] = loop.create_future()
        self._pidfd: int | None = None
        try:
            self._pidfd = os.pidfd_open(pid)
        except (OSError, AttributeError):
            self._poller = loop.create_task(self._poll())
        else:
            loop.add_reader(self._pidfd, self._reap)
        self._reap()  # it may have gone already

    async def _poll(self) -> None:
        while self.returncode is None:
            await asyncio.sleep(self.POLL)
            self._reap()

    def _reap(self) -> None:
        if self.returncode is not None:
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere: its status is lost
            pid, status = self.pid, 255 << 8
        if pid == 0:
            return
        self.returncode = os.waitstatus_to_exitcode(status)
        if self._pidfd is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        if not self._done.done():
            self._done.set_result(self.returncode)

    async def wait(self) -> int:
        return await asyncio.shield(self._done)


class OneShotExecutor(concurrent.futures.ThreadPoolExecutor):
    """The parent loop's default executor (run_in_executor(None, ...), asyncio.to_thread):
    a thread per call that ends with the call. A pool's idle workers would outlive their
    work and hold every later fork back (ForkGate forks only with no other thread alive)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def _work() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
                fut.set_exception(exc)

        threading.Thread(target=_work, name="keepalived-py-oneshot", daemon=True).start()
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing pooled to stop: each thread ends with its call."""


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run blocking `func` (a config parse) off the loop on a thread that ends with it: a
    pool's idle threads would outlive the call and make every later fork wait."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()

    def _deliver(ok: bool, value: Any) -> None:
        if fut.done():
            return
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)

    def _work() -> None:
        try:
            value, ok = func(*args), True
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
            value, ok = exc, False
        with contextlib.suppress(RuntimeError):  # loop closed meanwhile
            loop.call_soon_threadsafe(_deliver, ok, value)

    thread = threading.Thread(target=_work, name="keepalived-py-worker", daemon=True)
    thread.start()
    try:
        result = await fut
    except asyncio.CancelledError:  # the thread finishes on its own, its result dropped
        raise
    except BaseException:
        thread.join()  # it has delivered: ends at once
        raise
    thread.join()
    return result
