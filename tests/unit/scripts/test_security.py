"""check_script_secure() as keepalived's lib/notify.c."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from keepalived_py.scripts.security import (
    SC_EXECUTABLE,
    SC_INHIBIT,
    SC_INSECURE,
    SC_ISSCRIPT,
    SC_NOTFOUND,
    SC_SYSTEM,
    ScriptUserError,
    check_script_secure,
    default_script_user,
    is_executable,
    resolve_user,
    security_violation,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="ownership checks need root")


@pytest.fixture
def rootdir():
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


def test_non_root_user_needs_no_protection(rootdir):
    path = make(rootdir, mode=0o777)
    res = check_script_secure([path], 65534, 65534, True)
    assert res.runnable and not res.flags & SC_INSECURE


def test_not_executable_disabled(rootdir):
    path = make(rootdir, mode=0o644)
    res = check_script_secure([path], 0, 0, True)
    assert not res.runnable
    assert any("is not executable for uid:gid 0:0 - disabling." in m for m in res.messages)


def test_not_found(rootdir):
    res = check_script_secure([str(rootdir / "nope")], 0, 0, False)
    assert res.flags == SC_NOTFOUND and not res.runnable
    res = check_script_secure(["no_such_command_kpy"], 0, 0, False)
    assert res.flags == SC_NOTFOUND
    assert res.messages == ["Cannot find script no_such_command_kpy in path - disabling"]


def test_redirection_is_system():
    res = check_script_secure(["<  /dev/tcp/127.0.0.1/80"], 0, 0, True)
    assert res.flags == SC_SYSTEM and res.runnable and not res.execable


def test_symlink_keeps_called_name(rootdir):
    target = make(rootdir, "real.sh")
    link = rootdir / "alias"
    link.symlink_to(target)
    res = check_script_secure([str(link), "x"], 0, 0, True)
    # the file name part differs: keepalived keeps the directory of the target but the
    # called name, unless that is another file; here 'alias' in rootdir is the link itself
    assert res.argv[1:] == ["x"] and res.runnable


def test_is_executable():
    class St:
        st_mode = 0o100710
        st_uid = 5
        st_gid = 6
    assert is_executable(St, 0, 0)
    assert is_executable(St, 5, 9)
    assert is_executable(St, 7, 6)
    assert not is_executable(St, 7, 8)


def test_users():
    assert resolve_user("root") == (0, 0)
    assert resolve_user("nobody", "root") == (65534, 0)
    with pytest.raises(ScriptUserError, match="Script user 'zz_no' does not exist"):
        resolve_user("zz_no")
    with pytest.raises(ScriptUserError, match="Script group 'zz_no' does not exist"):
        resolve_user("root", "zz_no")
    # no keepalived_script user here: our own ids, unless script security is on
    try:
        resolve_user("keepalived_script")
    except ScriptUserError:
        assert default_script_user() == (os.geteuid(), os.getegid())
        with pytest.raises(ScriptUserError, match="Unable to set default user keepalived_script"):
            default_script_user(script_security=True)
    assert default_script_user("nobody") == resolve_user("nobody")


def test_violation_message():
    assert security_violation(SC_ISSCRIPT, False) == (
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled.")
    assert security_violation(SC_ISSCRIPT | SC_INSECURE, False).endswith(" There are insecure scripts.")
    assert security_violation(SC_ISSCRIPT, True) is None
    assert security_violation(SC_SYSTEM, False) is None


@pytest.fixture(autouse=True)
def event_loop_kind():
    """No event loop here."""
    yield None
