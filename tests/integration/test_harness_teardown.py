"""Acceptance 2: teardown leaves no namespace, link, process or mount behind, also when a
scenario raises half-way and when the test process itself dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.lab import Lab
from conformance.lab.poll import wait_until
from conformance.lab.state import state_dir
from tests.envcheck import need_netns

pytestmark = [pytest.mark.root]

REPO = Path(__file__).resolve().parents[2]
TOPO = "bridge lan 192.0.2.0/24 2001:db8::/64\nrouter r1 lan\nrouter r2 lan\nbackend b1 lan"


def leftovers(prefix: str, pids: list[int], dirs: list[Path]) -> list[str]:
    found = []
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [f"namespace {line.split()[0]}" for line in ns.splitlines() if prefix in line]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    found += [f"link {line}" for line in links.splitlines() if prefix in line]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line}" for line in mounts.splitlines() if prefix in line]
    if Path("/run/netns").is_dir():
        found += [f"netns file {p}" for p in Path("/run/netns").iterdir() if prefix in p.name]
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(") ")[-1][0] != "Z":
                    found.append(f"process {pid}")
        except FileNotFoundError:
            pass
    found += [f"dir {d}" for d in dirs if d.exists()]
    found += [f"state file {p}" for p in state_dir().glob(f"{prefix}*")] if state_dir().is_dir() else []
    return found


def populate(lab: Lab, keepalived: str | None) -> list[int]:
    """Start everything the harness can start: processes, an observer, a capture."""
    lab.watch_addresses()
    lab.capture("lan", "vrrp or arp")
    lab.spawn("b1", ["sleep", "600"])
    lab.spawn("r2", ["sh", "-c", "sleep 600 & sleep 600"])  # a child and a grandchild
    if keepalived:
        from conformance.lab import get
        conf = "vrrp_instance V { interface eth0\n virtual_router_id 9\n priority 100\n" \
               " virtual_ipaddress { 192.0.2.99/24 } }\n"
        d = lab.start_daemon("r1", get("keepalived"), conf)
        wait_until(lambda: len(d.pids()) >= 2, 10, what="keepalived's pid files")
    pids = []
    for p in lab.procs:
        pids += p.tree()
    return pids


def test_teardown_after_a_scenario_raises_half_way():
    need_netns()
    from conformance.lab.impl import Keepalived
    kbin = Keepalived().binary()
    seen: dict = {}
    with pytest.raises(RuntimeError, match="half-way"), Lab(TOPO) as lab:
        seen["prefix"], seen["dir"] = lab.prefix, lab.workdir
        seen["pids"] = populate(lab, kbin)
        assert lab.ping("r1", lab.addr("b1"))
        assert leftovers(lab.prefix, seen["pids"], [])  # sanity: there was something
        raise RuntimeError("scenario failed half-way")
    assert len(seen["pids"]) >= 5
    assert leftovers(seen["prefix"], seen["pids"], [seen["dir"]]) == []


def test_cleanup_after_the_test_process_was_killed(tmp_path):
    need_netns()
    script = tmp_path / "crash.py"
    script.write_text(f"""
import json, os, signal, sys
sys.path.insert(0, {str(REPO)!r})
from conformance.lab import Lab
lab = Lab({TOPO!r}).__enter__()
lab.capture("lan")
lab.spawn("b1", ["sleep", "600"])
lab.spawn("r2", ["sh", "-c", "sleep 600 & sleep 600"])
pids = [pid for p in lab.procs for pid in p.tree()]
print(json.dumps({{"prefix": lab.prefix, "pids": pids, "dir": str(lab.workdir)}}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)   # the test run crashes: no finally, no atexit
""")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == -9, r.stderr
    import json
    info = json.loads(r.stdout.splitlines()[-1])
    before = leftovers(info["prefix"], info["pids"], [Path(info["dir"])])
    assert any(x.startswith("namespace") for x in before) and any(x.startswith("process") for x in before)
    c = subprocess.run([sys.executable, "-m", "conformance.lab", "--cleanup"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    assert c.returncode == 0, c.stdout + c.stderr
    assert leftovers(info["prefix"], info["pids"], [Path(info["dir"])]) == []


def test_cleanup_leaves_a_live_run_alone(lab):
    lb = lab("bridge lan 192.0.2.0/24\nclient c1 lan")
    c = subprocess.run([sys.executable, "-m", "conformance.lab", "--cleanup"], cwd=REPO,
                       capture_output=True, text=True, timeout=60, env={**os.environ})
    assert c.returncode == 0
    assert lb.exec("c1", ["true"]).returncode == 0


def test_runner_reports_a_raising_scenario_as_error_and_leaves_nothing(tmp_path):
    need_netns()
    from conformance.report import run_scenario
    from conformance.scenarios import Scenario
    from tests.envcheck import keepalived_binary

    keepalived_binary()
    seen: dict = {}

    def broken(impl, ctx):
        with Lab(TOPO, workdir=ctx.workdir / "lab") as lab:
            seen["prefix"] = lab.prefix
            seen["pids"] = populate(lab, None)
            raise ValueError("scenario bug half-way")

    sc = Scenario("harness_selftest_raises", broken, ("harness-selftest",), ("netns",))
    out = run_scenario(sc, ["keepalived"], tmp_path, log=lambda m: None)["keepalived"]
    assert out.status == "error" and "half-way" in out.reason and "ValueError" in out.trace
    assert leftovers(seen["prefix"], seen["pids"], []) == []
