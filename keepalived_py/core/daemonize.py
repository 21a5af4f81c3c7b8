"""Becoming a daemon without -n, as keepalived's xdaemon(): fork, the parent exits 0,
the child becomes session leader, moves to / and points stdin/out/err at /dev/null.

Must run before any event loop or thread exists: fork() copies only the calling thread.
"""

from __future__ import annotations

import os


def detach_std_fds() -> None:
    """stdin/stdout/stderr -> /dev/null (keepalived's set_std_fd())."""
    fd = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(fd, target)
    if fd > 2:
        os.close(fd)


def daemonize() -> int:
    """Fork into the background. Returns in the daemon only; the caller's process
    exits 0 as soon as the child exists (keepalived does not wait for start-up)."""
    pid = os.fork()
    if pid > 0:
        os._exit(0)
    os.setsid()
    try:
        os.chdir("/")
    except OSError:
        pass
    detach_std_fds()
    return os.getpid()
