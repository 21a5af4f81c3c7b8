"""Process model: children are forked from the parent (not fresh interpreters), start
clean, and come back with resume=True after a crash or an in-place restart.

Each child writes what it inherited to a report folder (core/child.py REPORT_ENV) as it
starts; the tests read those reports and /proc. Daemons run in the test's namespace with
their own folder, as in test_core_process.py, whose helpers these reuse.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until
from tests.integration.test_core_process import (  # noqa: F401 - fixtures
    CHILD_NAMES,
    EMPTY_CONF,
    VRRP_CONF,
    alive,
    comm,
    daemons,
    kpy_netns,
    read_pid,
)

pytestmark = [pytest.mark.slow, pytest.mark.root]

ROLES = ("vrrp", "check", "bfd")


def reports(folder: Path, role: str) -> list[dict]:
    found = []
    for path in sorted(folder.glob(f"child-{role}-*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except ValueError:  # being written
            continue
    return found


def report_for(folder: Path, role: str, pid: int) -> dict:
    return wait_until(lambda: next((r for r in reports(folder, role) if r["pid"] == pid), None), 10)


def ppid_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().split(")")[-1].split()[1])


def start(daemons, conf: str, *args: str):  # noqa: F811 - the imported fixture
    d = daemons(conf, *args)
    folder = d.dir / "reports"
    folder.mkdir()
    d.env["KEEPALIVED_PY_CHILD_REPORT"] = str(folder)
    return d.start(), folder


def test_children_are_forked_clean_and_share_the_parents_imports(daemons):  # noqa: F811 - the imported fixture
    d, folder = start(daemons, EMPTY_CONF, "--all")
    d.wait_ready(ROLES)
    parent = d.proc.pid
    with open(f"/proc/{parent}/cmdline", "rb") as f:
        parent_cmdline = f.read()
    parent_fds = {os.readlink(f"/proc/{parent}/fd/{fd}") for fd in os.listdir(f"/proc/{parent}/fd")}
    for role in ROLES:
        pid = d.child_pid(role)
        assert ppid_of(pid) == parent  # the main keepalived process is its parent
        assert comm(pid) == CHILD_NAMES[role]
        # forked without exec: the parent's program and command line, no
        # "python -m keepalived_py.core.child"
        assert os.readlink(f"/proc/{pid}/exe") == os.readlink(f"/proc/{parent}/exe")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert f.read() == parent_cmdline
        rep = report_for(folder, role, pid)
        # the config models came with the fork (a fresh interpreter would import them
        # again) and the parent's parsed configuration was handed over
        assert rep["config_models_loaded"] and rep["config_preloaded"]
        assert rep["gc_frozen"] > 0
        assert rep["threads"] == 1
        assert rep["sigmask"] == []
        # stdio and the ipc socket; besides, only what the C libraries' at-fork hooks made
        # anew in the child (libuv's signal lock pipe): nothing of the parent's (its loop,
        # the other children's channels, control/metrics sockets)
        extra = {fd: link for fd, link in rep["fd_links"].items()
                 if int(fd) not in (0, 1, 2, rep["ipc_fd"])}
        assert all(link.startswith("pipe:") and link not in parent_fds
                   for link in extra.values()), (extra, parent_fds)
        assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
        assert not rep["resume"] and rep["start_count"] == 0
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert not any(p.exists() for p in d.pids.values())


def test_respawned_child_is_told_to_resume(daemons):  # noqa: F811 - the imported fixture
    d, folder = start(daemons, EMPTY_CONF, "--all")
    d.wait_ready(ROLES)
    old = d.child_pid("vrrp")
    os.kill(old, signal.SIGKILL)
    new = wait_until(lambda: (p := d.child_pid("vrrp")) != old and alive(p) and p, 10)
    rep = report_for(folder, "vrrp", new)
    assert rep["resume"] and rep["start_count"] == 1
    assert rep["config_models_loaded"] and not rep["config_preloaded"]  # reads the file
    assert rep["threads"] == 1 and ppid_of(new) == d.proc.pid
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def restart_command(d) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keepalived_py.cli", "--restart",
                           "-p", str(d.pids["parent"])],
                          capture_output=True, text=True, timeout=30, env=d.env)


def test_restart_in_place_keeps_the_parent_and_resumes_the_children(daemons):  # noqa: F811 - the imported fixture
    d, folder = start(daemons, EMPTY_CONF, "--all")
    d.wait_ready(ROLES)
    parent = d.proc.pid
    old = {role: d.child_pid(role) for role in ROLES}
    before = len(d.log())
    run = restart_command(d)
    assert run.returncode == 0, run.stderr
    d.wait_log("Restarted in place", 30, before)
    d.wait_log("Startup complete", 30, before)
    log = d.log()[before:]
    assert "Restarting in place: children stop without releasing" in log
    assert "Stopped Keepalived" not in log  # not a stop: the same process carries on
    assert d.proc.poll() is None and read_pid(d.pids["parent"]) == parent
    for role in ROLES:
        new = wait_until(lambda r=role: (p := d.child_pid(r)) != old[r] and alive(p) and p, 10)
        assert not alive(old[role])
        assert ppid_of(new) == parent
        rep = report_for(folder, role, new)
        assert rep["resume"] and rep["start_count"] == 0 and rep["config_preloaded"]
    # the old children were stopped, not killed, and did not respawn
    assert "Respawning" not in log and "failed to die" not in log
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert not any(p.exists() for p in d.pids.values())


def test_restart_in_place_refused_when_the_file_would_not_reload(daemons):  # noqa: F811 - the imported fixture
    d, _folder = start(daemons, VRRP_CONF)
    d.wait_ready()
    vrrp = d.child_pid("vrrp")
    d.conf.write_text(VRRP_CONF + "garbage {\n")
    before = len(d.log())
    d.signal(signal.SIGRTMIN + 6)  # --signum=RESTART
    d.wait_log("Restart in place refused", 15, before)
    assert d.child_pid("vrrp") == vrrp and alive(vrrp)
    assert d.proc.poll() is None
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_restart_in_place_of_a_daemonised_parent_does_not_fork_it_again(daemons):  # noqa: F811 - the imported fixture
    d = daemons(EMPTY_CONF, "--all", fork=True)
    folder = d.dir / "reports"
    folder.mkdir()
    d.env["KEEPALIVED_PY_CHILD_REPORT"] = str(folder)
    d.start()
    assert d.proc.wait(15) == 0  # the launcher returns at once
    d.wait_ready(ROLES)
    parent = d.parent_pid
    old = d.child_pid("vrrp")
    run = restart_command(d)
    assert run.returncode == 0, run.stderr
    new = wait_until(lambda: (p := d.child_pid("vrrp")) != old and alive(p) and p, 30)
    rep = report_for(folder, "vrrp", new)
    assert rep["resume"] and ppid_of(new) == parent
    # the same daemon: same pid in the same pid file, still its own session leader
    assert alive(parent) and read_pid(d.pids["parent"]) == parent and os.getsid(parent) == parent
    d.signal(signal.SIGTERM)
    d.wait_exit()
    wait_until(lambda: not any(p.exists() for p in d.pids.values()))
