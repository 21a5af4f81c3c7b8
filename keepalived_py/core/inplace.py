"""Restart in place (keepalived-py's, keepalived has none): `keepalived-py --restart`, or
SIGRESTART (`--signum=RESTART`) sent to the parent.

The parent checks the file as a reload would, stops its children WITHOUT releasing (no
priority-0 advert, VIPs, routes and IPVS left as they are), then re-executes itself: same
pid, same pid file, not daemonised again, so systemd and `ps` see the same main process.
A marker in the environment (naming that pid) tells the new image it is resuming; its
children start with resume=True and adopt what runs. An upgrade of keepalived-py's code
takes effect this way without a failover.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import Any

#: set to the parent's pid across the exec; read (and removed) by the new image
MARKER_ENV = "KEEPALIVED_PY_RESTARTED"


def take_marker(env: MutableMapping[str, str] | None = None) -> bool:
    """True when this process is the re-executed image of itself; the marker is removed
    so scripts and children never see it."""
    env = os.environ if env is None else env
    value = env.pop(MARKER_ENV, None)
    return value is not None and value == str(os.getpid())


def exec_args() -> tuple[str, list[str], dict[str, str]]:
    """(program, argv, environment) that start this same command line again. The package
    root joins PYTHONPATH: the daemon runs in / and may have been started as `-m`."""
    import keepalived_py

    env = dict(os.environ)
    env[MARKER_ENV] = str(os.getpid())
    root = os.path.dirname(os.path.dirname(os.path.abspath(keepalived_py.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    return sys.executable, argv, env


def reexec() -> None:
    """Replace this process with a fresh start of itself; returns only on failure."""
    program, argv, env = exec_args()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(program, argv, env)
    except OSError as exc:
        sys.stderr.write(f"keepalived-py: restart in place failed: {exc}\n")


def restart_command(opts: Any) -> int:
    """`keepalived-py --restart`: send SIGRESTART to the running parent (from its pid file,
    -p and the instance's pid dir as for a start)."""
    from keepalived_py.core import pidfile
    from keepalived_py.core.signals import SIGRESTART

    path = pidfile.resolve(opts).parent
    try:
        with open(path) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, SIGRESTART)
    except (OSError, ValueError, IndexError) as exc:
        sys.stderr.write(f"keepalived-py --restart: no running daemon found through {path} ({exc})\n")
        return 1
    return 0
