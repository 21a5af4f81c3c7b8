"""checker_* / bfd_* knobs on a running check / bfd child (root, own network namespace,
userspace IPVS backend): its nice value, scheduler, RLIMIT_RTTIME, CPU affinity and locked
memory are what global_defs asked for, read back from /proc and the sched_* calls."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from conformance.lab.poll import wait_until
from tests.envcheck import need_netns

pytestmark = [pytest.mark.root, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]

CONF = """global_defs {{
    router_id kpyprio
{knobs}
}}
virtual_server 192.0.2.10 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.11 8080 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
}}
"""


def _nice(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[16])  # field 19, after comm


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{key} missing")


def _age(pid: int) -> float:
    """Seconds since the process started (/proc/PID/stat starttime against /proc/uptime)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    start_ticks = int(stat[stat.rindex(")") + 2:].split()[19])  # field 22
    return float(Path("/proc/uptime").read_text().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")


def _rttime(pid: int) -> tuple[str, str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max realtime timeout"):
            parts = line.split()
            return parts[3], parts[4]
    raise AssertionError("no realtime limit line")


def _run_child(tmp_path: Path, knobs: str, check, reload: tuple[str, object] | None = None) -> None:
    need_netns()
    ns = f"kpypr{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    d = None
    try:
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", "192.0.2.10/32", "dev", "lo"]):
            subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True)
        conf = tmp_path / "k.conf"
        conf.write_text(CONF.format(knobs=knobs))
        pids = {r: tmp_path / f"{r}.pid" for r in ("main", "vrrp", "check")}
        log = open(tmp_path / "log", "w")  # noqa: SIM115 - closed with the process
        d = subprocess.Popen(["ip", "netns", "exec", ns, str(REPO / ".venv/bin/keepalived-py"), "-n", "-l", "-C",
                              "-f", str(conf), "-p", str(pids["main"]), "-r", str(pids["vrrp"]),
                              "-c", str(pids["check"]), "--lvs-backend=userspace"],
                             stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=str(tmp_path)))
        wait_until(lambda: pids["check"].exists() and pids["check"].read_text().strip(), 30, step=0.2,
                   what="the check child's pid file")
        pid = int(pids["check"].read_text())
        # the knobs are applied right after the configuration is read: poll briefly
        last: list[BaseException] = []

        def ok() -> bool:
            try:
                check(pid)
            except AssertionError as exc:
                last[:] = [exc]
                return False
            return True

        wait_until(ok, 20, step=0.2, what=lambda: f"{last} / {(tmp_path / 'log').read_text()}")
        if reload is not None:  # a HUP with new knobs: reset, then the new ones applied
            conf.write_text(CONF.format(knobs=reload[0]))
            check = reload[1]
            os.kill(int(pids["main"].read_text()), signal.SIGHUP)
            wait_until(ok, 20, step=0.2, what=lambda: f"{last} / {(tmp_path / 'log').read_text()}")
            assert int(pids["check"].read_text()) == pid  # the same process, reloaded
        log_text = (tmp_path / "log").read_text()
        assert "cannot raise priority" not in log_text and "Unable to" not in log_text, log_text
        d.send_signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        if d is not None and d.poll() is None:
            d.kill()
            d.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_nice_lock_and_affinity(tmp_path: Path) -> None:
    cpu = min(os.sched_getaffinity(0))

    def check(pid: int) -> None:
        assert _nice(pid) == -7
        assert os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_OTHER
        assert os.sched_getaffinity(pid) == {cpu}
        assert _status_kb(pid, "VmLck") > 0

    def after_reload(pid: int) -> None:
        assert _nice(pid) == 4
        assert _status_kb(pid, "VmLck") > 0  # keepalived keeps the lock across a reload

    _run_child(tmp_path, f"    checker_priority -7\n    checker_no_swap\n    checker_cpu_affinity {cpu}", check,
               reload=("    checker_priority 4", after_reload))


def test_realtime_priority_and_rttime(tmp_path: Path) -> None:
    def check(pid: int) -> None:
        policy = os.sched_getscheduler(pid)
        assert policy & ~os.SCHED_RESET_ON_FORK == os.SCHED_RR
        assert policy & os.SCHED_RESET_ON_FORK  # scripts it runs do not inherit SCHED_RR
        assert os.sched_getparam(pid).sched_priority == 12
        assert _rttime(pid) == ("50000", "100000")  # soft = half the limit (µs)
        assert _nice(pid) == 0  # a realtime priority takes the place of the nice value

    _run_child(tmp_path, "    checker_rt_priority 12\n    checker_rlimit_rttime 100000\n    checker_priority -5",
               check)


BFD_CONF = """global_defs {{
    router_id kpyprio
    bfd_priority 6
    bfd_cpu_affinity {cpu}
}}
bfd_instance b1 {{
    neighbor_ip 127.0.0.2
    source_ip 127.0.0.1
}}
"""


def test_bfd_child_takes_the_bfd_knobs(tmp_path: Path) -> None:
    need_netns()
    cpu = min(os.sched_getaffinity(0))
    ns = f"kpypb{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    d = None
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        conf = tmp_path / "k.conf"
        conf.write_text(BFD_CONF.format(cpu=cpu))
        pids = {r: tmp_path / f"{r}.pid" for r in ("main", "vrrp", "check", "bfd")}
        log = open(tmp_path / "log", "w")  # noqa: SIM115 - closed with the process
        d = subprocess.Popen(["ip", "netns", "exec", ns, str(REPO / ".venv/bin/keepalived-py"), "-n", "-l",
                              "-f", str(conf), "-p", str(pids["main"]), "-r", str(pids["vrrp"]),
                              "-c", str(pids["check"]), "-b", str(pids["bfd"])],
                             stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=str(tmp_path)))
        wait_until(lambda: pids["bfd"].exists() and pids["bfd"].read_text().strip(), 30, step=0.2,
                   what="the bfd child's pid file")
        pid = int(pids["bfd"].read_text())
        wait_until(lambda: _nice(pid) == 6 and os.sched_getaffinity(pid) == {cpu}, 20, step=0.2,
                   what=lambda: (tmp_path / "log").read_text())
        d.send_signal(signal.SIGTERM)
        assert d.wait(30) == 0
    finally:
        if d is not None and d.poll() is None:
            d.kill()
            d.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)



def test_realtime_priority_alone_keeps_the_child_alive(tmp_path: Path) -> None:
    """checker_rt_priority without checker_rlimit_rttime: keepalived's 10 ms default would
    SIGKILL this runtime at start (DIFFERENCES.md); ours leaves it running its checks."""
    log = tmp_path / "log"

    def check(pid: int) -> None:
        assert os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_RR
        assert _rttime(pid) == ("500000", "1000000")
        assert _age(pid) >= 3.0, "not yet a few delay_loops old"
        text = log.read_text()
        assert "TCP_CHECK on service" in text  # its checker ran (and failed: nobody listens)
        assert "exited due to signal" not in text and "Respawning" not in text, text

    _run_child(tmp_path, "    checker_rt_priority 12", check)
    assert "checker_rlimit_rttime not set: using 1000000" in log.read_text()
