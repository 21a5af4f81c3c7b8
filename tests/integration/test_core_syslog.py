"""Syslog as keepalived does it: ident Keepalived / Keepalived_vrrp ..., LOG_PID, the -S
facility, nothing with -G. The daemon runs in a private mount namespace whose /dev/log is
a datagram socket this test reads (the host has no syslog daemon to ask)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until
from tests.envcheck import need_root
from tests.integration.test_core_process import EMPTY_CONF, Daemon

pytestmark = [pytest.mark.slow, pytest.mark.root]
ROOT = Path(__file__).resolve().parents[2]
SETUP = ("mount --make-rprivate / && mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 "
         "&& mknod -m 666 /dev/urandom c 1 9 && touch /dev/log && mount --bind {sock} /dev/log "
         "&& exec \"$@\"")


class SyslogSink:
    """Reads /dev/log datagrams in a thread: a full socket queue would block syslog()."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            try:
                self.messages.append(self.sock.recv(8192).decode(errors="replace"))
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> list[str]:
        time.sleep(0.2)  # let the last datagrams in
        self.done.set()
        self.thread.join(5)
        self.sock.close()
        return list(self.messages)


def run_with_syslog(tmp_path: Path, extra: tuple[str, ...]) -> tuple[list[str], str, int]:
    need_root()
    if not shutil.which("unshare"):
        pytest.skip("needs util-linux unshare")
    sock_path = tmp_path / "devlog"
    sink = SyslogSink(sock_path)
    d = Daemon(tmp_path, EMPTY_CONF, ("--all", *extra))
    cmd = [c for c in d.command() if c not in ("-l", "-G")] + (["-G"] if "-G" in extra else [])
    argv = ["unshare", "-m", "sh", "-c", SETUP.format(sock=sock_path), "sh", *cmd]
    try:
        with open(d.logfile, "wb") as out:
            d.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=d.env, cwd=ROOT)
        for role in ("vrrp", "check", "bfd"):
            wait_until(lambda r=role: d.child_pid(r), 20)
        if "-G" not in extra:
            wait_until(lambda: any("Startup complete" in m for m in sink.messages), 20)
        os.kill(d.proc.pid, signal.SIGTERM)
        status = d.proc.wait(15)
        return sink.close(), d.log(), status
    finally:
        d.cleanup()
        sink.close()


def test_syslog_ident_pid_and_facility(tmp_path):
    messages, _, status = run_with_syslog(tmp_path, ("-S", "3"))
    assert status == 0
    pri = 19 * 8 + 6  # LOG_LOCAL3, LOG_INFO
    start = [m for m in messages if "Starting Keepalived v2.2.7" in m]
    assert start and re.match(rf"<{pri}>\w{{3}} [ \d]\d \d\d:\d\d:\d\d Keepalived\[\d+\]: ", start[0])
    for ident in ("Keepalived_vrrp", "Keepalived_healthcheckers", "Keepalived_bfd"):
        assert any(re.search(rf" {ident}\[\d+\]: ", m) for m in messages), ident
    assert any("Stopped Keepalived v2.2.7" in m for m in messages)
    died = [m for m in messages if "died" in m]
    assert not died


def test_no_syslog_with_G(tmp_path):
    messages, log, status = run_with_syslog(tmp_path, ("-G",))
    assert status == 0 and messages == []


def test_default_facility_is_daemon(tmp_path):
    messages, _, status = run_with_syslog(tmp_path, ())
    assert status == 0
    assert any(m.startswith(f"<{3 * 8 + 6}>") and "Starting Keepalived" in m for m in messages)
    assert sys.platform.startswith("linux")
