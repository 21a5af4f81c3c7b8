"""The two implementations a scenario runs against, behind one small interface.

An `Implementation` knows how to build its command line from a config file and its own
pid files and log options, whether it is available on this machine, and how to stop a
running instance.  Both take keepalived's options:

    -n (don't fork)  -l (log to console)  -D (detailed log)  -f CONF
    -p PID  -r VRRP_PID  -c CHECK_PID  -b BFD_PID

so a scenario never knows which one it is driving.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PidFiles:
    main: Path
    vrrp: Path
    check: Path
    bfd: Path

    @classmethod
    def in_dir(cls, d: Path) -> PidFiles:
        return cls(d / "keepalived.pid", d / "vrrp.pid", d / "checkers.pid", d / "bfd.pid")

    def read(self) -> dict[str, int]:
        """pids from the pid files that exist now: {"main": 123, "vrrp": 124, ...}"""
        out = {}
        for key in ("main", "vrrp", "check", "bfd"):
            try:
                out[key] = int(getattr(self, key).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return out


@dataclass(frozen=True)
class Implementation:
    name: str

    def argv_prefix(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def unavailable(self) -> str | None:
        """None when this implementation can run here, else the reason it cannot."""
        raise NotImplementedError  # pragma: no cover

    def command(self, conf: Path | str, pids: PidFiles, *, log_detail: bool = True,
                extra: tuple[str, ...] = ()) -> list[str]:
        argv = [*self.argv_prefix(), "-n", "-l"]
        if log_detail:
            argv.append("-D")
        argv += ["-f", str(conf), "-p", str(pids.main), "-r", str(pids.vrrp),
                 "-c", str(pids.check), "-b", str(pids.bfd), *extra]
        return argv

    def env(self, tmpdir: Path | str) -> dict[str, str]:
        """Environment for one instance: its own TMPDIR (keepalived writes its dumps there)."""
        env = dict(os.environ)
        env["TMPDIR"] = str(tmpdir)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def stop(self, proc: subprocess.Popen, timeout: float = 10.0) -> int | None:
        """Graceful stop: SIGTERM to the main process (it tells its children), wait."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop_shell(self, pid: str, timeout_s: int = 30) -> str:
        """The same graceful stop as a shell snippet, for the guest: `pid` is a shell word
        (e.g. "$KPID") naming a child of that shell, so `wait` reaps it.  Leaves the
        daemon's exit status in $_rc (137: it had to be killed after `timeout_s`)."""
        return (f"kill -TERM {pid}; (sleep {timeout_s}; kill -KILL {pid} 2>/dev/null) & _w=$!; "
                f"wait {pid}; _rc=$?; kill $_w 2>/dev/null")


@dataclass(frozen=True)
class Keepalived(Implementation):
    name: str = "keepalived"

    def binary(self) -> str | None:
        env = os.environ.get("KPY_KEEPALIVED")
        if env:
            return env
        return shutil.which("keepalived") or (
            "/usr/sbin/keepalived" if os.path.exists("/usr/sbin/keepalived") else None)

    def argv_prefix(self) -> list[str]:
        b = self.binary()
        if b is None:
            raise RuntimeError(self.unavailable())
        return [b]

    def unavailable(self) -> str | None:
        if self.binary() is None:
            return "keepalived is not installed (apt-get install keepalived; `make install` does it)"
        return None


@dataclass(frozen=True)
class KeepalivedPy(Implementation):
    name: str = "keepalived-py"

    def argv_prefix(self) -> list[str]:
        script = REPO / ".venv" / "bin" / "keepalived-py"
        if script.exists():
            return [str(script)]
        return [sys.executable, "-m", "keepalived_py"]

    def unavailable(self) -> str | None:
        try:
            spec = importlib.util.find_spec("keepalived_py.cli")
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return "keepalived_py.cli (the daemon's entry point) does not exist yet"
        return None


IMPLEMENTATIONS: dict[str, Implementation] = {
    "keepalived": Keepalived(),
    "keepalived-py": KeepalivedPy(),
}
REFERENCE = "keepalived"


def get(name: str) -> Implementation:
    try:
        return IMPLEMENTATIONS[name]
    except KeyError:
        raise KeyError(f"unknown implementation {name!r}; known: {', '.join(IMPLEMENTATIONS)}") from None
