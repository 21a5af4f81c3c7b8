"""Pid files at keepalived's paths, written and checked the way keepalived does.

Init scripts, monitoring and `kill $(cat /run/keepalived.pid)` depend on the paths:
/run/keepalived.pid, /run/vrrp.pid, /run/checkers.pid, /run/bfd.pid by default; when the
config names an instance or a network namespace, /run/keepalived/<name>[_<instance>].pid;
-p/-r/-c/-b override each one.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass

RUNSTATEDIR = "/run"
PID_DIR = f"{RUNSTATEDIR}/keepalived"
PID_EXTENSION = ".pid"
# process -> keepalived's base file name
BASE_NAMES = {"parent": "keepalived", "vrrp": "vrrp", "check": "checkers", "bfd": "bfd"}


@dataclass(frozen=True)
class PidPaths:
    """The four pid file paths one keepalived instance uses."""

    parent: str
    vrrp: str
    check: str
    bfd: str
    uses_pid_dir: bool = False

    def for_role(self, role: str) -> str:
        return {"parent": self.parent, "vrrp": self.vrrp, "check": self.check,
                "bfd": self.bfd}[role]


def default_name(role: str, instance_name: str | None, use_pid_dir: bool) -> str:
    base = BASE_NAMES[role]
    if instance_name:
        return f"{PID_DIR}/{base}_{instance_name}{PID_EXTENSION}"
    if use_pid_dir:
        return f"{PID_DIR}/{base}{PID_EXTENSION}"
    return f"{RUNSTATEDIR}/{base}{PID_EXTENSION}"


def resolve(opts: object, instance_name: str | None = None,
            use_pid_dir: bool = False) -> PidPaths:
    """Pid file paths from the options, the config's instance name, and whether the pid
    directory is in use (keepalived: an instance name, a network namespace, or the
    global `use_pid_dir` keyword)."""
    use_dir = bool(instance_name or use_pid_dir)
    given = {
        "parent": getattr(opts, "main_pidfile", None),
        "vrrp": getattr(opts, "vrrp_pidfile", None),
        "check": getattr(opts, "checkers_pidfile", None),
        "bfd": getattr(opts, "bfd_pidfile", None),
    }
    paths = {role: given[role] or default_name(role, instance_name, use_dir) for role in given}
    return PidPaths(uses_pid_dir=use_dir, **paths)


def create_pid_dir() -> bool:
    """mkdir /run/keepalived (rwxr-xr-x); True when we created it (so we remove it)."""
    old = os.umask(0o022)  # rwxr-xr-x whatever the daemon's umask (0177 by default)
    try:
        os.mkdir(PID_DIR, 0o755)
        return True
    except FileExistsError:
        return False
    finally:
        os.umask(old)


def remove_pid_dir() -> None:
    try:
        os.rmdir(PID_DIR)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EBUSY, errno.ENOENT):
            raise


def write(path: str, pid: int | None = None) -> None:
    """Write "<pid>\\n", mode 0644 whatever the umask, never following a symlink."""
    old = os.umask(0o022)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    finally:
        os.umask(old)
    with os.fdopen(fd, "w") as f:
        f.write(f"{os.getpid() if pid is None else pid}\n")


def remove(path: str, only_if_pid: int | None = None) -> None:
    """Unlink; with only_if_pid, leave a file that now names another process."""
    if only_if_pid is not None and read(path) not in (None, only_if_pid):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def read(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().split()
    except OSError:
        return None
    try:
        return int(text[0]) if text else None
    except ValueError:
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_running(path: str, log: object = None) -> bool:
    """keepalived's process_running(): a pid file naming a live process means running;
    a stale ("zombie") or unreadable one is removed."""
    if not os.path.exists(path):
        return False
    pid = read(path)
    if pid is None:
        _info(log, f"Error reading pid file {path}")
        remove(path)
        return True  # keepalived: cannot tell, so assume running
    if not pid_alive(pid):
        _info(log, f"Remove a zombie pid file {path}")
        remove(path)
        return False
    return True


def keepalived_running(paths: PidPaths, roles: list[str], log: object = None) -> bool:
    """True when our parent or one of the children we would start already runs."""
    if process_running(paths.parent, log):
        return True
    return any(process_running(paths.for_role(r), log) for r in roles)


def _info(log: object, message: str) -> None:
    if log is not None:
        log.info(message)  # type: ignore[attr-defined]
