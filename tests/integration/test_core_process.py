"""Process tests for the core: start/stop, daemonising, pid files, respawn, reload, dumps.

Each test runs keepalived-py with its own temporary folder (config, pid files, TMPDIR),
waits by polling against a deadline, and ends only the processes it started (the parent
by its PID, and children only when their pid file names one of our child processes).
The VRRP runtime is not part of this: children run whatever role runtime exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.root]

IFACE = "kv0"  # a veth inside the test's namespace: keepalived refuses lo for VRRP
VRRP_CONF = f"""\
global_defs {{
    router_id test
}}
vrrp_instance VI_1 {{
    interface {IFACE}
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.1/32
    }}
}}
"""
EMPTY_CONF = "global_defs {\n    router_id test\n}\n"


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


#: the names the children give themselves (prctl PR_SET_NAME), as keepalived's
CHILD_NAMES = {"vrrp": "keepalived_vrr", "check": "keepalived_chk", "bfd": "keepalived_bfd"}


def comm(pid: int | None) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def is_our_child(pid: int | None) -> bool:
    return comm(pid) in CHILD_NAMES.values()


class Daemon:
    """One keepalived-py under test, in its own folder."""

    def __init__(self, tmp: Path, conf: str = VRRP_CONF, args: tuple[str, ...] = (),
                 fork: bool = False, env: dict[str, str] | None = None) -> None:
        self.dir = tmp
        self.conf = tmp / "keepalived.conf"
        self.conf.write_text(conf)
        self.pids = {r: tmp / f"{r}.pid" for r in ("parent", "vrrp", "check", "bfd")}
        self.logfile = tmp / "console.log"
        self.args = list(args)
        self.fork = fork
        self.env = dict(os.environ, TMPDIR=str(tmp), **(env or {}))
        self.env.pop("NOTIFY_SOCKET", None) if not env or "NOTIFY_SOCKET" not in env else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.seen_children: set[int] = set()

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "keepalived_py.cli"]
        if not self.fork:
            base += ["-n", "-l"]
        return base + ["-G", "-f", str(self.conf), "-p", str(self.pids["parent"]),
                       "-r", str(self.pids["vrrp"]), "-c", str(self.pids["check"]),
                       "-b", str(self.pids["bfd"]), *self.args]

    def start(self) -> Daemon:
        with open(self.logfile, "wb") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env,
                                         cwd=Path(__file__).resolve().parents[2])
        return self

    @property
    def parent_pid(self) -> int | None:
        return read_pid(self.pids["parent"]) if self.fork else (self.proc.pid if self.proc else None)

    def child_pid(self, role: str) -> int | None:
        pid = read_pid(self.pids[role])
        if pid and is_our_child(pid):
            self.seen_children.add(pid)
        return pid

    def log(self) -> str:
        return self.logfile.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 10.0, after: int = 0) -> str:
        wait_until(lambda: text in self.log()[after:], timeout)
        return self.log()

    def wait_ready(self, roles: tuple[str, ...] = ("vrrp",), timeout: float = 15.0) -> None:
        for role in roles:
            wait_until(lambda r=role: alive(self.child_pid(r)), timeout)
        if not self.fork:
            self.wait_log("Startup complete", timeout)
        else:
            wait_until(lambda: alive(self.parent_pid), timeout)

    def signal(self, sig: int) -> None:
        pid = self.parent_pid
        assert pid and alive(pid)
        os.kill(pid, sig)

    def wait_exit(self, timeout: float = 15.0) -> int | None:
        if self.fork:
            pid = self.parent_pid
            wait_until(lambda: not alive(pid), timeout)
            return None
        assert self.proc is not None
        return self.proc.wait(timeout)

    def cleanup(self) -> None:
        """End what we started: the parent, then any child of ours still alive."""
        pid = self.parent_pid
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
        elif self.fork and pid and alive(pid) and pid != os.getpid():
            os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(AssertionError):
                wait_until(lambda: not alive(pid), 10)
        for role in ("vrrp", "check", "bfd"):
            self.child_pid(role)
        for cpid in self.seen_children:
            if alive(cpid) and is_our_child(cpid):
                os.kill(cpid, signal.SIGKILL)


@pytest.fixture(scope="module")
def kpy_netns():
    """A network namespace with a veth pair (kv0/kv1) for the daemons to run in (-s), so
    VRRP configs name a real, non-loopback interface and nothing touches the host."""
    from tests.envcheck import need_netns

    need_netns()
    name = f"kpyt{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", IFACE, "type", "veth", "peer", "name",
                        "kv1"], check=True)
        for link in ("lo", IFACE, "kv1"):
            subprocess.run(["ip", "-n", name, "link", "set", link, "up"], check=True)
        # an IPv4 address, so a VRRP runtime (when present) can run rather than FAULT
        subprocess.run(["ip", "-n", name, "addr", "add", "192.0.2.5/24", "dev", IFACE], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def daemons(tmp_path, kpy_netns):
    started: list[Daemon] = []

    def make(conf: str = VRRP_CONF, *args: str, fork: bool = False, sub: str = "d",
             env: dict[str, str] | None = None) -> Daemon:
        folder = tmp_path / f"{sub}{len(started)}"
        folder.mkdir()
        d = Daemon(folder, conf, ("-s", kpy_netns, *args), fork, env)
        started.append(d)
        return d

    try:
        yield make
    finally:
        for d in started:
            d.cleanup()


def test_foreground_start_and_stop(daemons):
    d = daemons().start()
    d.wait_ready()
    log = d.log()
    assert "Starting Keepalived v2.2.7" in log
    assert "Running on Linux" in log and "Command line: " in log
    vrrp = d.child_pid("vrrp")
    assert f"Starting VRRP child process, pid={vrrp}" in log
    assert read_pid(d.pids["parent"]) == d.proc.pid
    # only the children the config has work for
    assert not d.pids["check"].exists() and not d.pids["bfd"].exists()
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    log = d.log()
    assert "Stopping" in log and "Stopped Keepalived v2.2.7" in log
    assert not any(p.exists() for p in d.pids.values())
    assert not alive(vrrp)


def test_sigint_stops_too(daemons):
    d = daemons().start()
    d.wait_ready()
    d.signal(signal.SIGINT)
    assert d.wait_exit() == 0
    assert not d.pids["parent"].exists()


def test_daemonises_without_n(daemons):
    d = daemons(fork=True).start()
    assert d.proc.wait(15) == 0  # the launcher returns at once
    d.wait_ready()
    pid = d.parent_pid
    assert pid != d.proc.pid
    assert os.getsid(pid) == pid  # session leader
    assert os.readlink(f"/proc/{pid}/cwd") == "/"
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    vrrp = d.child_pid("vrrp")
    d.signal(signal.SIGTERM)
    d.wait_exit()
    wait_until(lambda: not any(p.exists() for p in d.pids.values()))
    assert not alive(vrrp)


def test_all_starts_every_child_and_none_without_work(daemons):
    d = daemons(EMPTY_CONF, "--all").start()
    d.wait_ready(("vrrp", "check", "bfd"))
    log = d.log()
    for title in ("VRRP", "Healthcheck", "BFD"):
        assert f"Starting {title} child process, pid=" in log
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert not any(p.exists() for p in d.pids.values())

    e = daemons(EMPTY_CONF).start()
    e.wait_log("Warning - keepalived has no configuration to run")
    assert "child process" not in e.log()
    e.signal(signal.SIGTERM)
    assert e.wait_exit() == 0


@pytest.mark.parametrize("role,title", [("vrrp", "VRRP"), ("check", "Healthcheck"), ("bfd", "BFD")])
def test_killed_child_is_respawned_at_once(daemons, role, title):
    d = daemons(EMPTY_CONF, "--all").start()
    d.wait_ready(("vrrp", "check", "bfd"))
    old = d.child_pid(role)
    before = len(d.log())
    os.kill(old, signal.SIGKILL)
    d.wait_log(f"{title} child process({old}) died: Respawning", timeout=5, after=before)
    log = d.wait_log(f"Starting {title} child process, pid=", timeout=5, after=before)
    # at once: the parent says how long it waits ("delayed 0 seconds" for a first death,
    # as keepalived; 1 s for a child that dies again within a minute, see
    # test_backoff_then_reload_starts_exactly_one_child); no elapsed-time bound, which a
    # loaded machine could break without anything being wrong
    delays = re.findall(rf"Restart of {title} process delayed (\d+) seconds", log[before:])
    assert all(int(n) == 0 for n in delays), delays
    assert f"pid {old} exited due to signal 9 (Killed)" in log
    new = wait_until(lambda: (p := d.child_pid(role)) != old and alive(p) and p, 5)
    assert f"Starting {title} child process, pid={new}" in d.log()
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_dont_respawn_stops_the_daemon(daemons):
    d = daemons(VRRP_CONF, "-R").start()
    d.wait_ready()
    old = d.child_pid("vrrp")
    os.kill(old, signal.SIGKILL)
    assert d.wait_exit() == 0
    log = d.log()
    assert f"VRRP child process({old}) died: Exiting" in log
    assert "Respawning" not in log
    assert not any(p.exists() for p in d.pids.values())


def test_reload_with_broken_config_keeps_running(daemons):
    d = daemons().start()
    d.wait_ready()
    vrrp = d.child_pid("vrrp")
    d.conf.write_text(VRRP_CONF + "garbage {\n")
    before = len(d.log())
    d.signal(signal.SIGHUP)
    log = d.wait_log("continuing with the running configuration", after=before)[before:]
    assert "Reloading ..." in log
    assert f"({d.conf}: Line 12)" in log
    assert "Reload complete" not in log
    assert d.child_pid("vrrp") == vrrp and alive(vrrp)
    # a good file is then handed to the (same) child
    d.conf.write_text(VRRP_CONF.replace("priority 100", "priority 150"))
    before = len(d.log())
    d.signal(signal.SIGHUP)
    d.wait_log("Reload complete", after=before)
    assert d.child_pid("vrrp") == vrrp and alive(vrrp)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_reload_starts_a_child_the_new_config_needs(daemons):
    d = daemons(EMPTY_CONF).start()
    d.wait_log("Warning - keepalived has no configuration to run")
    d.conf.write_text(VRRP_CONF)
    before = len(d.log())
    d.signal(signal.SIGHUP)
    d.wait_log("Reload complete", after=before)
    assert "Starting VRRP child process" in d.log()[before:]
    assert alive(d.child_pid("vrrp"))
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_dump_signals_write_keepalived_files(daemons):
    d = daemons().start()
    d.wait_ready()
    files = {n: d.dir / n for n in ("keepalived_parent.data", "keepalived.data",
                                    "keepalived.stats", "keepalived.json")}
    d.signal(signal.SIGUSR1)
    wait_until(lambda: files["keepalived_parent.data"].exists() and files["keepalived.data"].exists())
    d.signal(signal.SIGUSR2)
    wait_until(lambda: files["keepalived.stats"].exists())
    d.signal(signal.SIGRTMIN + 2)  # JSON
    wait_until(lambda: files["keepalived.json"].exists())
    assert isinstance(json.loads(files["keepalived.json"].read_text()), list)
    files["keepalived.stats"].unlink()
    d.signal(signal.SIGRTMAX - 1)  # STATS_CLEAR
    wait_until(lambda: files["keepalived.stats"].exists())
    log = d.log()
    for line in ("Printing parent data for process(", "Printing VRRP data for process(",
                 "Printing VRRP stats for process(", "Printing VRRP as json for process(",
                 "Printing and clearing VRRP stats for process("):
        assert line in log
    # a signal sent straight to the child is handled by the child
    files["keepalived.data"].unlink()
    os.kill(d.child_pid("vrrp"), signal.SIGUSR1)
    wait_until(lambda: files["keepalived.data"].exists())
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_second_instance_refuses_to_start(daemons):
    d = daemons().start()
    d.wait_ready()
    twin = Daemon(d.dir, VRRP_CONF, tuple(d.args))
    twin.logfile = d.dir / "twin.log"
    twin.start()
    assert twin.proc.wait(15) == 0
    assert "daemon is already running" in twin.log()
    assert alive(d.parent_pid)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_missing_config_file_exits_like_keepalived(daemons):
    d = daemons()
    d.conf.unlink()
    d.start()
    assert d.proc.wait(15) == 6  # KEEPALIVED_EXIT_NO_CONFIG
    assert not d.pids["parent"].exists()


def test_config_test_mode(tmp_path, kpy_netns):
    good = tmp_path / "good.conf"
    good.write_text(VRRP_CONF)
    run = subprocess.run([sys.executable, "-m", "keepalived_py.cli", "-t", "-s", kpy_netns,
                          "-f", str(good)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text(VRRP_CONF + "garbage {\n")
    log = tmp_path / "t.log"
    run = subprocess.run([sys.executable, "-m", "keepalived_py.cli", f"--config-test={log}",
                          "-f", str(bad)], capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert f"({bad}: Line 12)" in log.read_text()


CHECK_BFD_CONF = """\
virtual_server 192.0.2.10 80 {
    protocol TCP
    real_server 192.0.2.20 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
bfd_instance b1 {
    neighbor_ip 192.0.2.2
}
"""


def test_children_follow_the_config_and_P_C_B(daemons):
    d = daemons(CHECK_BFD_CONF).start()
    d.wait_ready(("check", "bfd"))
    log = d.log()
    assert "Starting Healthcheck child process" in log and "Starting BFD child process" in log
    assert "Starting VRRP child process" not in log and not d.pids["vrrp"].exists()
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    # -B: no BFD child even though the config has a bfd_instance
    e = daemons(CHECK_BFD_CONF, "-B").start()
    e.wait_ready(("check",))
    assert "Starting BFD child process" not in e.log()
    e.signal(signal.SIGTERM)
    assert e.wait_exit() == 0


def test_dump_conf_logs_the_configuration(daemons):
    d = daemons(VRRP_CONF, "-d").start()
    d.wait_ready()
    log = d.log()
    assert "vrrp_instance VI_1" in log and "virtual_router_id 51" in log
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_namespace_option_runs_children_in_it(daemons):
    from tests.envcheck import need_netns

    need_netns()
    name = f"kpyc{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        d = daemons(EMPTY_CONF, "--all", "-s", name).start()
        d.wait_ready(("vrrp", "check", "bfd"))
        want = os.stat(f"/run/netns/{name}").st_ino
        assert os.stat(f"/proc/{d.parent_pid}/ns/net").st_ino == want
        assert os.stat(f"/proc/{d.child_pid('vrrp')}/ns/net").st_ino == want
        assert f"Changing syslog ident to Keepalived_{name}" in d.log()
        d.signal(signal.SIGTERM)
        assert d.wait_exit() == 0
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_children_stop_when_the_parent_is_killed(daemons):
    d = daemons(EMPTY_CONF, "--all").start()
    d.wait_ready(("vrrp", "check", "bfd"))
    kids = [d.child_pid(r) for r in ("vrrp", "check", "bfd")]
    d.proc.kill()
    d.proc.wait(5)
    for pid in kids:
        wait_until(lambda p=pid: not alive(p), 5)
    for role in ("vrrp", "check", "bfd"):
        assert not d.pids[role].exists()


def test_child_config_error_is_permanent(daemons):
    d = daemons().start()
    d.wait_ready()
    old = d.child_pid("vrrp")
    # the respawned child reads the file again, as keepalived's do, and finds it unusable
    d.conf.write_text(VRRP_CONF.replace(IFACE, "nosuchif0"))
    os.kill(old, signal.SIGKILL)
    assert d.wait_exit() == 2  # KEEPALIVED_EXIT_CONFIG, passed on by the parent
    assert "exited with permanent error CONFIG. Terminating" in d.log()
    assert not any(p.exists() for p in d.pids.values())


def test_dump_files_follow_keepalived_umask(daemons):
    d = daemons().start()
    d.wait_ready()
    d.signal(signal.SIGUSR1)
    data = d.dir / "keepalived.data"
    wait_until(data.exists)
    assert data.stat().st_mode & 0o777 == 0o600  # default umask 0177
    assert d.pids["parent"].stat().st_mode & 0o777 == 0o644
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def children_of(ppid: int, role: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read().split(")")[-1].split()
        except OSError:
            continue
        if int(stat[1]) == ppid and stat[0] != "Z" and comm(int(entry)) == CHILD_NAMES[role]:
            found.append(int(entry))
    return found


def test_backoff_then_reload_starts_exactly_one_child(daemons):
    d = daemons().start()
    d.wait_ready()
    first = d.child_pid("vrrp")
    os.kill(first, signal.SIGKILL)
    second = wait_until(lambda: (p := d.child_pid("vrrp")) != first and alive(p) and p, 5)
    before = len(d.log())
    os.kill(second, signal.SIGKILL)  # died within a minute again: 1 s backoff
    d.wait_log("Restart of VRRP process delayed 1 seconds to limit respawn rate", 5, before)
    d.signal(signal.SIGHUP)  # the reload starts the missing child at once
    d.wait_log("Reload complete", 10, before)
    time.sleep(1.5)  # past the backoff: the delayed restart must not add a second child
    assert len(children_of(d.proc.pid, "vrrp")) == 1
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0


def test_stop_while_children_are_starting(daemons):
    d = daemons(EMPTY_CONF, "--all").start()
    wait_until(lambda: all(d.pids[r].exists() for r in ("vrrp", "check", "bfd")), 15)
    d.signal(signal.SIGTERM)  # children are still reading their configuration
    assert d.wait_exit(15) == 0
    log = d.log()
    assert "failed to die" not in log and "Respawning" not in log
    assert not any(p.exists() for p in d.pids.values())


def test_stop_releases_vips_when_the_vrrp_runtime_exists(daemons, kpy_netns):
    import importlib.util

    if importlib.util.find_spec("keepalived_py.vrrpd.daemon") is None:
        pytest.skip("no VRRP runtime yet: the vrrp child is the idle stand-in")

    def vips() -> str:
        return subprocess.run(["ip", "-n", kpy_netns, "-4", "addr", "show", IFACE],
                              capture_output=True, text=True, check=True).stdout

    d = daemons().start()
    d.wait_ready()
    d.wait_log("(VI_1) Entering MASTER STATE", 20)
    wait_until(lambda: "192.0.2.1/32" in vips(), 5)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    assert "192.0.2.1/32" not in vips()
    assert not any(p.exists() for p in d.pids.values())
