"""Our IPVS plan against real keepalived 2.2.7 on a real IPVS kernel (the qemu guest).

One guest boot for every case of conformance/scenarios/ipvs_plan_parity.py: per case real
keepalived programs the table from the config, then keepalived-py's plan is applied through
the netlink adapter (lvs.kernel); both tables are read back (`ipvsadm -S -n` sorted, and
every attribute through the adapter's dump) and must be equal. Also checked live in the kernel: adopting
keepalived's table needs no operation, and changing every weight and threshold is done with
IPVS_CMD_SET_DEST alone, deleting destinations and then all our services leaves exactly the
foreign entries.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.scenarios.ipvs_plan_parity import CASES, SETUP
from tests.envcheck import keepalived_binary
from tests.guestcheck import need_guest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def guest_results() -> dict[str, dict]:
    need_guest()
    keepalived_binary()
    from conformance.guest import run_in_guest

    names = list(CASES)
    cmd = f"cd {REPO} && {REPO}/.venv/bin/python -m conformance.scenarios.ipvs_plan_parity {' '.join(names)}"
    res = run_in_guest([SETUP, cmd], timeout=240, keep_going=True)
    print(f"guest: boot {res.boot_seconds and round(res.boot_seconds, 1)} s, total {res.seconds:.1f} s")
    out: dict[str, dict] = {}
    for line in res.steps[1].output.splitlines():
        if line.startswith("KPY-LVS-CASE "):
            r = json.loads(line[len("KPY-LVS-CASE "):])
            out[r["case"]] = r
    for name, r in out.items():
        same = "error" not in r and r["py_rules"] == r["ka_rules"] and r["py_table"] == r["ka_table"]
        print(f"  {name}: {'match' if same else 'MISMATCH'}  {r.get('seconds', '')}")
    if os.environ.get("KPY_LVS_GUEST_DUMP"):
        Path(os.environ["KPY_LVS_GUEST_DUMP"]).write_text(json.dumps(out, indent=1))
    if not out:
        pytest.fail(f"no case ran in the guest (rc {res.returncode}):\n{res.steps[0].output[-2000:]}\n"
                    f"{res.steps[1].output[-3000:]}\n{res.console[-2000:]}")
    return out


def _report(r: dict) -> str:
    return ("keepalived rules:\n  " + "\n  ".join(r.get("ka_rules", [])) + "\nours:\n  "
            + "\n  ".join(r.get("py_rules", [])) + "\nkeepalived table:\n  " + "\n  ".join(r.get("ka_table", []))
            + "\nours:\n  " + "\n  ".join(r.get("py_table", [])) + "\nour refused operations:\n  " + "\n  ".join(r.get("py_failures", []))
            + f"\nkeepalived log tail:\n{r.get('ka_log', '')}")


@pytest.mark.parametrize("case", list(CASES))
def test_plan_matches_keepalived(guest_results: dict[str, dict], case: str) -> None:
    r = guest_results.get(case)
    assert r is not None, f"{case} did not run"
    assert "error" not in r, r["error"]
    assert r["ka_rules"], f"keepalived programmed nothing:\n{r['ka_log']}"
    assert r["py_rules"] == r["ka_rules"], _report(r)
    assert r["py_table"] == r["ka_table"], _report(r)
    assert r["py_timeouts"] == r["ka_timeouts"]


@pytest.mark.parametrize("case", list(CASES))
def test_adopt_edit_delete_and_remove_in_the_kernel(guest_results: dict[str, dict], case: str) -> None:
    r = guest_results.get(case)
    assert r is not None and "error" not in r, r
    assert r["adopt_ok"], r["adopt_ops"]
    assert r["adopt_ops"] == [], "keepalived's table differs from the plan: " + "\n".join(r["adopt_ops"])
    assert r["edit_all_set"]
    assert r["edit_failures"] == []
    assert r["edit_ok"]
    assert r["delete_failures"] == [] and r["delete_ok"]
    assert r["remove_failures"] == [] and r["remove_ok"]


def test_reload_changes_in_place(guest_results: dict[str, dict]) -> None:
    """After a reload only what left the config is deleted: the scheduler, persistence and
    weight changes are sets, the removed real server and virtual server the only deletions."""
    r = guest_results["reload"]
    kinds = [op.split("(", 1)[0] for op in r["reload_ops"]]
    assert kinds.count("DelService") == 1 and "port=82" in next(o for o in r["reload_ops"] if o.startswith("DelService"))
    assert kinds.count("DelDest") == 1 and "192.0.2.162" in next(o for o in r["reload_ops"] if o.startswith("DelDest"))
    assert kinds.count("SetService") == 3 and kinds.count("SetDest") == 2
