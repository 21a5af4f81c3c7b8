"""track_file / vrrp_track_file: the value in a file, watched with inotify.

keepalived 2.2.7 keepalived/trackers/track_file.c:
- the path is resolved at start-up (realpath; for a missing file, the directory is
  resolved, and a missing directory removes the track file: "Track file directory for %s
  does not exist - removing");
- one inotify watch per directory for IN_CLOSE_WRITE | IN_DELETE | IN_MOVE; a file deleted
  or moved away reads as 0, a file closed after writing or moved in is read again;
- process_track_file(): the first 127 bytes through strtol(buf, NULL, 0) (blanks, sign,
  0x hex, 0 octal, junk after the number ignored, no number is 0); an overflowing value or
  one outside [INT32_MIN, INT32_MAX + 1] is logged "Invalid number ... - ignoring" and the
  previous value stays; a missing or empty file is 0;
- a change is reported only when the value differs (update_track_file_status());
- init_file VALUE [overwrite] writes "VALUE\\n" at start-up when the file is absent (or is a
  regular file and `overwrite`; never on a reload); "Cannot initialise track file %s - it is
  not a regular file".
When inotify cannot be used we poll (POLL_INTERVAL) on the injected scheduler
(keepalived_py/clock.py); a change then shows up within it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import logging
import os
import stat
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.clock import Clock, LoopScheduler, MonotonicClock, Scheduler, Timer
from keepalived_py.config import numbers

log = logging.getLogger("keepalived_py.track.file")

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
POLL_INTERVAL = 1.0

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_DELETE = 0x00000200
IN_MOVE = IN_MOVED_FROM | IN_MOVED_TO
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")


def strtol(text: str) -> tuple[int, bool]:
    """C strtol(text, NULL, 0) on a 64-bit long: (value, overflowed)."""
    c = numbers.strtol(text, 0)
    return c.value, c.erange


def parse_value(data: bytes) -> int | None:
    """process_track_file()'s number, or None when keepalived ignores the read."""
    text = data[:127].split(b"\0", 1)[0].decode("latin-1")
    value, overflow = strtol(text)
    if overflow or value < INT32_MIN or value > INT32_MAX + 1:
        return None
    return value


def read_value(path: str) -> tuple[int | None, str | None]:
    """(value or None to ignore, log message) for the file at `path`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return 0, None
    try:
        data = os.read(fd, 127)
    except OSError:
        data = b""
    finally:
        os.close(fd)
    if not data:
        return 0, None
    value = parse_value(data)
    if value is None:
        shown, _ = strtol(data[:127].split(b"\0", 1)[0].decode("latin-1"))
        return None, f"Invalid number {shown} read from {path} - ignoring"
    return value, None


def resolve_path(path: str) -> str | None:
    """init_track_files(): the absolute path to watch, or None when the directory is missing."""
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    directory, _, name = path.rpartition("/")
    if "/" not in path:
        directory, name = ".", path
    try:
        real_dir = os.path.realpath(directory or "/", strict=True)
        if not stat.S_ISDIR(os.stat(real_dir).st_mode):
            return None
    except OSError:
        return None
    return os.path.join(real_dir, name)


def init_file(path: str, value: int, overwrite: bool, reload: bool = False) -> str | None:
    """track_file init_file: write the initial value; returns an error message or None."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError:
        st = None
    if st is not None:
        if not overwrite:
            return None
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if reload:
            return None
    try:
        # fopen_safe(): no following a symlink planted in place of the file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(f"{value}\n")
    except OSError:
        return "unable"
    return None


class _Inotify:
    """Just enough of inotify(7) through libc."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._rm = libc.inotify_rm_watch
        self._rm.argtypes = [ctypes.c_int, ctypes.c_int]
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.fd = fd

    def add_watch(self, path: str, mask: int) -> int:
        wd = self._add(self.fd, os.fsencode(path), mask)
        if wd < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e), path)
        return wd

    def rm_watch(self, wd: int) -> None:
        self._rm(self.fd, wd)

    def read_events(self) -> list[tuple[int, int, str]]:
        events = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return events
            except OSError as e:
                if e.errno == errno.EINTR:
                    continue
                return events
            pos = 0
            while pos + _EVENT.size <= len(buf):
                wd, mask, _cookie, length = _EVENT.unpack_from(buf, pos)
                name = buf[pos + _EVENT.size: pos + _EVENT.size + length].split(b"\0", 1)[0]
                events.append((wd, mask, os.fsdecode(name)))
                pos += _EVENT.size + length

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class WatchedFile:
    name: str
    path: str
    value: int = 0
    wd: int | None = None
    #: for polling: (st_ino, st_mtime_ns, st_size) last seen
    sig: tuple | None = field(default=None, repr=False)


class FileWatcher:
    """Watches track files; calls `on_change(name, value)` when a value changes."""

    def __init__(self, on_change: Callable[[str, int], None], *, poll_interval: float = POLL_INTERVAL,
                 use_inotify: bool = True, clock: Clock | None = None, scheduler: Scheduler | None = None,
                 log_fn: Callable[[str], None] | None = None) -> None:
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.scheduler = scheduler
        self.files: dict[str, WatchedFile] = {}
        self._log = log_fn or log.info
        self._inotify: _Inotify | None = None
        self._dir_wds: dict[str, int] = {}
        self._poll_timer: Timer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if use_inotify:
            try:
                self._inotify = _Inotify()
            except (OSError, AttributeError):
                self._log("Unable to monitor track files")
                self._inotify = None

    @property
    def uses_inotify(self) -> bool:
        return self._inotify is not None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._inotify is not None:
            self._loop.add_reader(self._inotify.fd, self._on_inotify)
        else:
            if self.scheduler is None:
                self.scheduler = LoopScheduler(self._loop, self.clock)
            self._poll_timer = self.scheduler.call_at(self.clock.now() + self.poll_interval, self._poll)

    def add(self, name: str, path: str) -> int | None:
        """Watch `path` (already resolved) for track file `name`; returns its value now."""
        wf = WatchedFile(name, path)
        value, message = read_value(path)
        if message:
            self._log(message)
        wf.value = value if value is not None else 0
        wf.sig = self._sig(path)
        if self._inotify is not None:
            directory = os.path.dirname(path) or "/"
            if directory not in self._dir_wds:
                try:
                    self._dir_wds[directory] = self._inotify.add_watch(
                        directory, IN_CLOSE_WRITE | IN_DELETE | IN_MOVE)
                except OSError as e:
                    self._log(f"Unable to watch track file directory {directory}: {e.strerror}")
            wf.wd = self._dir_wds.get(directory)
        self.files[name] = wf
        return wf.value

    def remove(self, name: str) -> None:
        wf = self.files.pop(name, None)
        if wf is None or self._inotify is None or wf.wd is None:
            return
        if not any(f.wd == wf.wd for f in self.files.values()):
            directory = os.path.dirname(wf.path) or "/"
            self._dir_wds.pop(directory, None)
            with contextlib.suppress(OSError):
                self._inotify.rm_watch(wf.wd)

    def _update(self, wf: WatchedFile, value: int) -> None:
        if value == wf.value:
            return
        wf.value = value
        self.on_change(wf.name, value)

    def _reread(self, wf: WatchedFile) -> None:
        value, message = read_value(wf.path)
        if message:
            self._log(message)
        if value is not None:
            self._update(wf, value)

    def _on_inotify(self) -> None:
        assert self._inotify is not None
        for wd, mask, name in self._inotify.read_events():
            if mask & IN_ISDIR:
                continue
            if not mask & (IN_DELETE | IN_CLOSE_WRITE | IN_MOVE):
                continue
            for wf in list(self.files.values()):
                if wf.wd != wd or os.path.basename(wf.path) != name:
                    continue
                if mask & (IN_MOVED_FROM | IN_DELETE):
                    self._update(wf, 0)
                else:
                    self._reread(wf)

    @staticmethod
    def _sig(path: str) -> tuple | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)

    def _poll(self) -> None:
        """Without inotify: every poll_interval, reread the files whose stat changed."""
        assert self.scheduler is not None
        self._poll_timer = self.scheduler.call_at(self.clock.now() + self.poll_interval, self._poll)
        for wf in list(self.files.values()):
            sig = self._sig(wf.path)
            if sig == wf.sig:
                continue
            wf.sig = sig
            if sig is None:
                self._update(wf, 0)
            else:
                self._reread(wf)

    async def close(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.cancel()
            self._poll_timer = None
        if self._inotify is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._inotify.fd)
            self._inotify.close()
            self._inotify = None
        self.files.clear()
