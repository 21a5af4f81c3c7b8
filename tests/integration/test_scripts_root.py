"""Script checks and runs that need root: check_script_secure() on root-owned files and
files chown'ed to other users (keepalived's lib/notify.c), a tracker disabling an insecure
script, and a script run as another user.

The checks that need no root are in tests/unit/scripts/test_security.py.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from keepalived_py.scripts.runner import Script, ScriptRunner
from keepalived_py.scripts.security import (
    SC_EXECUTABLE,
    SC_INHIBIT,
    SC_INSECURE,
    SC_ISSCRIPT,
    check_script_secure,
)
from keepalived_py.track.trackers import Trackers
from tests.envcheck import need_root
from tests.unit.track.helpers import config

pytestmark = [pytest.mark.root]


@pytest.fixture
def rootdir():
    """A root-owned directory outside pytest's (whose parents are private to the user)."""
    need_root()
    d = Path(tempfile.mkdtemp(dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def make(d: Path, name="s.sh", mode=0o755, body="#!/bin/sh\n") -> str:
    p = d / name
    p.write_text(body)
    p.chmod(mode)
    return str(p)


def test_secure_root_script(rootdir):
    path = make(rootdir)
    res = check_script_secure([path], 0, 0, True)
    assert res.flags & SC_ISSCRIPT and res.flags & SC_EXECUTABLE
    assert not res.flags & (SC_INSECURE | SC_INHIBIT) and res.runnable and res.execable


@pytest.mark.parametrize("mode", [0o775, 0o757])
def test_writable_script_insecure(rootdir, mode):
    path = make(rootdir, mode=mode)
    os.chown(path, 0, 65534 if mode == 0o775 else 0)
    res = check_script_secure([path], 0, 0, True)
    assert res.flags & SC_INSECURE and res.flags & SC_INHIBIT and not res.runnable
    assert f"Unsafe permissions found for script '{path}' - disabling." in res.messages
    # without enable_script_security: reported insecure but still run
    res = check_script_secure([path], 0, 0, False)
    assert res.flags & SC_INSECURE and not res.flags & SC_INHIBIT and res.runnable
    assert f"Unsafe permissions found for script '{path}'." in res.messages


def test_group_write_for_root_group_is_fine(rootdir):
    path = make(rootdir, mode=0o775)  # group root
    assert not check_script_secure([path], 0, 0, True).flags & SC_INSECURE


def test_writable_directory_insecure(rootdir):
    sub = rootdir / "sub"
    sub.mkdir()
    sub.chmod(0o777)
    path = make(sub)
    assert check_script_secure([path], 0, 0, True).flags & SC_INHIBIT
    sub.chmod(0o1777)  # sticky: fine, as /tmp
    assert not check_script_secure([path], 0, 0, True).flags & SC_INSECURE


def test_non_root_owner_insecure(rootdir):
    path = make(rootdir)
    os.chown(path, 65534, 0)
    assert check_script_secure([path], 0, 0, True).flags & SC_INHIBIT


def test_symlink_keeps_called_name(rootdir):
    target = make(rootdir, "real.sh")
    link = rootdir / "alias"
    link.symlink_to(target)
    res = check_script_secure([str(link), "x"], 0, 0, True)
    # the file name part differs: keepalived keeps the directory of the target but the
    # called name, unless that is another file; here 'alias' in rootdir is the link itself
    assert res.argv[1:] == ["x"] and res.runnable


def test_insecure_script_disabled_with_script_security(rootdir):
    rootdir.chmod(0o777)
    path = make(rootdir, "chk.sh", body="#!/bin/sh\nexit 0\n")
    top = f'global_defs {{\n script_user root\n enable_script_security\n}}\nvrrp_script chk {{\n script "{path}"\n}}\n'
    logs = []
    tr = Trackers(log_fn=logs.append)
    assert tr.prepare(config(top, "track_script {\n chk\n }")) == {("script", "chk")}
    assert "Disabling track script chk due to insecure" in logs
    # without enable_script_security it runs, and keepalived complains
    top = top.replace(" enable_script_security\n", "")
    tr = Trackers(log_fn=logs.append)
    assert tr.prepare(config(top, "track_script {\n chk\n }")) == set()
    assert tr.security_violation() == ("SECURITY VIOLATION - scripts are being executed but "
                                       "script_security not enabled. There are insecure scripts.")


def test_runs_as_user(rootdir):
    nobody = pwd.getpwnam("nobody")
    rootdir.chmod(0o777)
    out = rootdir / "out"
    path = make(rootdir, "id.sh", body=f"#!/bin/sh\nid -u > {out}\nid -g >> {out}\nid -G >> {out}\n")
    runner = ScriptRunner("nobody")
    res = asyncio.run(runner.run(Script((path,), *runner.default_user())))
    assert res.ok
    assert out.read_text().split() == [str(nobody.pw_uid), str(nobody.pw_gid), str(nobody.pw_gid)]
