"""Acceptance 1: the first scenarios pass through the harness with real keepalived, and
the guest API returns outputs and exit statuses."""

from __future__ import annotations

import pytest

from conformance.report import Row, compare, exit_status, run_scenario
from conformance.scenarios import load_all
from tests.envcheck import keepalived_binary, need_netns
from tests.guestcheck import need_guest

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]


def _run(name, tmp_path):
    sc = load_all()[name]
    outcomes = run_scenario(sc, ["keepalived", "keepalived-py"], tmp_path, log=print)
    row = Row(sc, outcomes)
    compare(row, [])
    k = outcomes["keepalived"]
    assert k.status == "pass", (k.reason, k.problems, k.trace)
    # keepalived-py either ran and matched, or is n/a by the registry (never a pass)
    py = outcomes["keepalived-py"]
    assert py.status in ("pass", "n/a"), (py.reason, py.problems)
    if py.status == "n/a":
        assert py.reason.startswith("not implemented yet: ") and not row.compared
    assert exit_status([row]) == 0, row.match_text()
    return k.result


def test_vrrp_two_router_failover_with_keepalived(tmp_path):
    need_netns()
    keepalived_binary()
    r = _run("vrrp_two_router_failover", tmp_path)
    assert r["initial_master"] == "r1" and r["takeover"] and r["takeover_in_window"]
    assert r["holders_after_fault"] == ["r1", "r2"]  # kill -9 leaves r1's address behind
    assert [a["priority"] for a in r["adverts_after_fault"]] == [100]


def test_vrrp_graceful_stop_with_keepalived(tmp_path):
    need_netns()
    keepalived_binary()
    r = _run("vrrp_graceful_stop", tmp_path)
    assert r["holders_after_fault"] == ["r2"] and r["stopped_exit_status"] == 0
    assert sorted((a["from"], a["priority"]) for a in r["adverts_after_fault"]) == [("r1", 0), ("r2", 100)]


@pytest.mark.guest
def test_ipvs_virtual_server_table_in_the_guest(tmp_path):
    need_guest()
    keepalived_binary()
    r = _run("ipvs_virtual_server_table", tmp_path)
    assert r["table"][0] == "TCP 192.0.2.10:80 wlc persistent 300"
    assert r["table_after_sigterm"] == []


@pytest.mark.guest
def test_guest_runs_commands_and_returns_output_and_status(guest):
    r = guest(["uname -r; cat /proc/sys/kernel/osrelease", "grep -c ip_vs /proc/modules",
               "cat $KPY_SCRATCH/note; echo err >&2; exit 3", "echo never"],
              files={"note": "hello from the host\n"}, timeout=60)
    assert r.returncode == 3 and not r.timed_out
    assert [s.returncode for s in r.steps] == [0, 0, 3, None]
    assert r.steps[2].output == "hello from the host\nerr\n"
    assert r.steps[0].output.split()[0] == r.steps[0].output.split()[1]
    assert "never" not in r.stdout
    assert r.boot_seconds is not None and r.boot_seconds < r.seconds
    print(f"guest boot {r.boot_seconds:.1f}s, total {r.seconds:.1f}s")
