"""Pid file paths and handling follow keepalived."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from keepalived_py.core import pidfile
from keepalived_py.core.options import parse_args


def test_default_paths():
    p = pidfile.resolve(parse_args([]))
    assert (p.parent, p.vrrp, p.check, p.bfd) == (
        "/run/keepalived.pid", "/run/vrrp.pid", "/run/checkers.pid", "/run/bfd.pid")


def test_instance_and_pid_dir_paths():
    p = pidfile.resolve(parse_args([]), "inst")
    assert p.parent == "/run/keepalived/keepalived_inst.pid" and p.vrrp == "/run/keepalived/vrrp_inst.pid"
    p = pidfile.resolve(parse_args([]), None, use_pid_dir=True)
    assert p.check == "/run/keepalived/checkers.pid" and p.uses_pid_dir


def test_overrides_win():
    p = pidfile.resolve(parse_args(["-p", "/a", "-r", "/b", "-c", "/c", "-b", "/d"]), "inst")
    assert (p.parent, p.vrrp, p.check, p.bfd) == ("/a", "/b", "/c", "/d")


def test_write_read_remove(tmp_path):
    path = str(tmp_path / "x.pid")
    old = os.umask(0o077)
    try:
        pidfile.write(path, 1234)
    finally:
        os.umask(old)
    assert Path(path).read_text() == "1234\n"
    assert os.stat(path).st_mode & 0o777 == 0o644
    pidfile.remove(path, only_if_pid=999)
    assert os.path.exists(path)
    pidfile.remove(path, only_if_pid=1234)
    assert not os.path.exists(path)


def test_symlink_not_followed(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link.pid"
    link.symlink_to(target)
    try:
        pidfile.write(str(link))
    except OSError:
        pass
    assert target.read_text() == "keep"


def test_stale_pid_file_is_removed(tmp_path):
    proc = subprocess.Popen(["true"])
    proc.wait()
    path = str(tmp_path / "stale.pid")
    pidfile.write(path, proc.pid)
    assert not pidfile.process_running(path)
    assert not os.path.exists(path)
    pidfile.write(path)  # ourselves: alive
    paths = pidfile.resolve(parse_args(["-p", path, "-r", str(tmp_path / "r")]))
    assert pidfile.keepalived_running(paths, ["vrrp"])
