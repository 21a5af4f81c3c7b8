"""The systemd unit works with keepalived-py: the same command line, signals and sd_notify
traffic the Debian unit (Type=notify) produces, with NOTIFY_SOCKET pointed at a test
socket we read, since there is no systemd to run it here.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until
from tests.integration.test_core_process import (  # noqa: F401 - kpy_netns is a fixture
    VRRP_CONF,
    Daemon,
    alive,
    kpy_netns,
)

pytestmark = [pytest.mark.slow, pytest.mark.root]

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_UNIT = Path("/lib/systemd/system/keepalived.service")
OUR_UNIT = ROOT / "examples" / "keepalived-py.service"


def unit_service(path: Path) -> dict[str, str]:
    """The [Service] keys of a unit file (last one wins, as good enough here)."""
    section, out = None, {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def expand(command: str, env: dict[str, str]) -> list[str]:
    """systemd's $VAR expansion: an unquoted $VAR splits into words."""
    words: list[str] = []
    for word in shlex.split(command):
        if word.startswith("$") and word[1:] in env:
            words.extend(shlex.split(env[word[1:]]))
        elif word.startswith("$"):
            continue
        else:
            words.append(word)
    return words


def test_example_unit_mirrors_debian_unit():
    ours = unit_service(OUR_UNIT)
    assert ours["Type"] == "notify"
    assert ours["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert ours["EnvironmentFile"] == "-/etc/default/keepalived"
    assert expand(ours["ExecStart"], {"DAEMON_ARGS": ""})[1:] == ["--dont-fork"]
    if DEBIAN_UNIT.exists():
        theirs = unit_service(DEBIAN_UNIT)
        for key in ("Type", "ExecReload", "EnvironmentFile"):
            assert ours[key] == theirs[key], key
        assert ours["ExecStart"].split()[1:] == theirs["ExecStart"].split()[1:]


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[str] = []

    def wait(self, needle: str, timeout: float = 15.0) -> str:
        """The first message containing `needle` (taken off the list), waiting for it."""

        def found() -> str | None:
            for msg in self.messages:
                if needle in msg:
                    self.messages.remove(msg)
                    return msg
            try:  # the socket's 0.1 s timeout paces the polling
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                pass
            return None

        return wait_until(found, timeout, step=0,
                          what=lambda: f"an sd_notify message with {needle!r}; got {self.messages}")

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("unit", [OUR_UNIT, DEBIAN_UNIT], ids=["example-unit", "debian-unit"])
def test_unit_command_line_signals_and_notify(tmp_path, unit, kpy_netns):  # noqa: F811
    if not unit.exists():
        pytest.skip(f"{unit} not installed")
    d = Daemon(tmp_path, VRRP_CONF)
    # what /etc/default/keepalived would hold for this test instance
    daemon_args = (f"-l -G -s {kpy_netns} -f {d.conf} -p {d.pids['parent']} -r {d.pids['vrrp']} "
                   f"-c {d.pids['check']} -b {d.pids['bfd']}")
    service = unit_service(unit)
    argv = expand(service["ExecStart"], {"DAEMON_ARGS": daemon_args})
    # ExecStart pointed at keepalived-py (here: this checkout's module)
    argv = [sys.executable, "-m", "keepalived_py.cli", *argv[1:]]
    notify = NotifySocket(tmp_path / "notify")
    env = dict(os.environ, TMPDIR=str(tmp_path), NOTIFY_SOCKET=notify.path)
    with open(d.logfile, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    d.proc = proc
    try:
        ready = notify.wait("READY=1")
        assert f"MAINPID={proc.pid}" in ready
        vrrp = d.child_pid("vrrp")
        assert alive(vrrp)
        # systemctl reload: ExecReload with $MAINPID
        reload_cmd = expand(service["ExecReload"], {"MAINPID": str(proc.pid)})
        subprocess.run(reload_cmd, check=True, timeout=10)
        notify.wait("RELOADING=1")
        assert "READY=1" in notify.wait("READY=1")
        assert d.child_pid("vrrp") == vrrp
        # systemctl stop (KillMode=control-group): SIGTERM to the main process, then to
        # the rest of the cgroup
        os.kill(proc.pid, signal.SIGTERM)
        if alive(vrrp):
            os.kill(vrrp, signal.SIGTERM)
        notify.wait("STOPPING=1")
        assert proc.wait(15) == 0
        wait_until(lambda: not any(p.exists() for p in d.pids.values()), 5)
        assert "Stopped Keepalived v2.2.7" in d.log()
        # only the main process talks to systemd (children never see NOTIFY_SOCKET)
        with contextlib.suppress(TimeoutError, OSError):
            while True:
                notify.messages.append(notify.sock.recv(4096).decode())
        assert all(f"MAINPID={proc.pid}" in m for m in notify.messages if "MAINPID" in m)
    finally:
        d.cleanup()
        notify.close()
