"""sd_notify datagrams."""

from __future__ import annotations

import os
import socket

from keepalived_py.core.sdnotify import Notifier, child_environment


def test_notify_to_path_socket(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(path)
        n = Notifier(path)
        assert n.ready(status="Startup complete") and n.reloading() and n.stopping()
        got = [s.recv(4096).decode() for _ in range(3)]
    assert got[0] == f"READY=1\nMAINPID={os.getpid()}\nSTATUS=Startup complete\n"
    assert got[1] == "RELOADING=1\n" and got[2] == "STOPPING=1\n"


def test_abstract_socket_and_disabled():
    name = f"kpy-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        assert Notifier("@" + name).status("hi")
        assert s.recv(100) == b"STATUS=hi\n"
    assert not Notifier("").ready()


def test_children_do_not_inherit_notify_socket():
    assert "NOTIFY_SOCKET" not in child_environment({"NOTIFY_SOCKET": "/x", "A": "1"})
