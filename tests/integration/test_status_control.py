"""The control socket and `keepalived-py --status` without a lab (root: the socket answers
root only and is made root-owned).

- the socket is created 0600, root:root, and answers {"cmd": "status"};
- a non-root client (a child process that drops to nobody) is refused: by the file mode,
  and by the server's SO_PEERCRED check when it gets through anyway;
- `--status` as non-root, and with no daemon running, exits 1 with a clear message;
- a stale socket file left by a dead daemon is replaced, a live one is not taken over.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys

import pytest

from keepalived_py.core.control import ControlServer, control_path, query
from tests.envcheck import need_root

pytestmark = [pytest.mark.root]

NOBODY = 65534


async def _status(_req):
    return {"view": {"vrrp": {"instances": []}, "parent": {"pid": os.getpid()}}}


@pytest.fixture
def open_dir():
    """A folder nobody can traverse (pytest's tmp_path sits under a 0700 folder)."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="kpy-ctl-", dir="/tmp")
    os.chmod(d, 0o755)
    yield __import__("pathlib").Path(d)
    shutil.rmtree(d, ignore_errors=True)


def _as_nobody(code: str) -> subprocess.CompletedProcess[str]:
    # everything imported while still root: nobody may not read the Python installation
    pre = ("import os, socket, sys, json, struct\n"
           "import keepalived_py.cli, keepalived_py.core.control, keepalived_py.core.pidfile\n"
           "import keepalived_py.observe.status\n"
           f"os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})\n")
    return subprocess.run([sys.executable, "-c", pre + code], capture_output=True, text=True, timeout=30,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_socket_mode_owner_answers_and_refuses_non_root(open_dir):
    tmp_path = open_dir
    need_root()
    path = str(tmp_path / "ka.ctl")

    async def go():
        srv = ControlServer(path, {"status": _status})
        await srv.start()
        try:
            st = os.stat(path)
            assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
            assert (st.st_uid, st.st_gid) == (0, 0)
            reply = await asyncio.to_thread(query, path, {"cmd": "status"})
            assert reply["ok"] and reply["view"]["parent"]["pid"] == os.getpid()
            bad = await asyncio.to_thread(query, path, {"cmd": "reboot"})
            assert not bad["ok"] and "unknown command" in bad["error"]
            # nobody cannot even connect (mode 0600) ...
            r = await asyncio.to_thread(_as_nobody, f"s = socket.socket(socket.AF_UNIX); s.connect({path!r})")
            assert r.returncode != 0 and "PermissionError" in r.stderr
            # ... and if the mode were opened, the server still refuses by peer credentials
            os.chmod(path, 0o666)
            r = await asyncio.to_thread(_as_nobody, "from keepalived_py.core.control import query; "
                                                    f"print(query({path!r}, {{'cmd': 'status'}}))")
            assert "permission denied" in r.stdout, r
        finally:
            await srv.close()
        assert not os.path.exists(path)
    asyncio.run(go())


def test_stale_socket_replaced_live_one_kept(tmp_path):
    need_root()
    path = str(tmp_path / "ka.ctl")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(path)
    dead.close()  # the file stays, nobody listens: a daemon that died

    async def go():
        srv = ControlServer(path, {"status": _status})
        await srv.start()
        try:
            other = ControlServer(path, {"status": _status})
            with pytest.raises(OSError, match="another daemon"):
                await other.start()
            assert (await asyncio.to_thread(query, path, {"cmd": "status"}))["ok"]
        finally:
            await srv.close()
    asyncio.run(go())


def test_status_command_refusals(open_dir):
    tmp_path = open_dir
    need_root()
    exe = [sys.executable, "-m", "keepalived_py.cli"]
    pid = str(tmp_path / "none.pid")
    r = subprocess.run([*exe, "--status", "-p", pid], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "no keepalived-py daemon is running" in r.stderr and control_path(None, pid) in r.stderr
    r = _as_nobody(f"sys.exit(keepalived_py.cli.main(['--status', '-p', {pid!r}]))")
    assert r.returncode == 1 and "permission denied: only root" in r.stderr


def test_control_path_beside_the_pid_file():
    assert control_path(None, "/run/keepalived.pid") == "/run/keepalived.ctl"
    assert control_path(None, "/run/keepalived/keepalived_x.pid") == "/run/keepalived/keepalived_x.ctl"

    class Opts:
        control_socket = "/tmp/x.sock"
    assert control_path(Opts(), "/run/keepalived.pid") == "/tmp/x.sock"
