"""check_script_secure() as keepalived's lib/notify.c: the checks that need no root.

Ownership checks (root-owned scripts, chown to other users) are
tests/integration/test_scripts_root.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keepalived_py.scripts.security import (
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


def make(d: Path, name="s.sh", mode=0o755, body="#!/bin/sh\n") -> str:
    p = d / name
    p.write_text(body)
    p.chmod(mode)
    return str(p)


def test_non_root_user_needs_no_protection(tmp_path):
    path = make(tmp_path, mode=0o777)
    res = check_script_secure([path], 65534, 65534, True)
    assert res.runnable and not res.flags & SC_INSECURE


def test_not_executable_disabled(tmp_path):
    path = make(tmp_path, mode=0o644)
    res = check_script_secure([path], 0, 0, True)
    assert not res.runnable
    assert any("is not executable for uid:gid 0:0 - disabling." in m for m in res.messages)


def test_not_found(tmp_path):
    res = check_script_secure([str(tmp_path / "nope")], 0, 0, False)
    assert res.flags == SC_NOTFOUND and not res.runnable
    res = check_script_secure(["no_such_command_kpy"], 0, 0, False)
    assert res.flags == SC_NOTFOUND
    assert res.messages == ["Cannot find script no_such_command_kpy in path - disabling"]


def test_redirection_is_system():
    res = check_script_secure(["<  /dev/tcp/127.0.0.1/80"], 0, 0, True)
    assert res.flags == SC_SYSTEM and res.runnable and not res.execable


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
