"""The reload preview from the reload diff the vrrp child applies (pure, no daemon)."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.observe.preview import preview_text, vrrp_preview
from keepalived_py.vrrpd.plan import plan_all

BASE = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    virtual_ipaddress {{
{vips}
    }}
}}
"""
OTHER = """
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        192.0.2.200/24
    }
}
"""


def plans(prio=100, vips=("192.0.2.100/24",), more=""):
    text = BASE.format(prio=prio, vips="\n".join(f"        {v}" for v in vips)) + more
    return plan_all(load_text(text).config)


def test_unchanged_config_changes_nothing():
    p = vrrp_preview(plans(), plans(), {"VI_1": "MASTER"})
    assert p["changes"] is False
    assert p["instances"] == [{"name": "VI_1", "key": "eth0 vrid 51 IPv4", "action": "unchanged",
                               "state": "MASTER"}]
    assert "no change" in preview_text({"vrrp": p})


def test_changed_added_removed():
    old = plans(vips=("192.0.2.100/24", "192.0.2.101/24"), more=OTHER)
    new = plans(prio=90, vips=("192.0.2.100/24", "192.0.2.102/24"))
    p = vrrp_preview(old, new, {"VI_1": "MASTER", "VI_2": "BACKUP"})
    by = {i["name"]: i for i in p["instances"]}
    vi1, vi2 = by["VI_1"], by["VI_2"]
    assert vi1["action"] == "changed" and vi1["keeps_state"] and vi1["state"] == "MASTER"
    assert vi1["vips_added"] == ["192.0.2.102/24 dev eth0"]
    assert vi1["vips_removed"] == ["192.0.2.101/24 dev eth0"]
    assert "priority 100 -> 90" in vi1["settings"]
    assert vi2["action"] == "removed" and vi2["vips_removed"] == ["192.0.2.200/24 dev eth0"]
    back = vrrp_preview(new, old)
    assert {i["name"]: i["action"] for i in back["instances"]} == {"VI_1": "changed", "VI_2": "added"}
    text = preview_text({"vrrp": p, "config_file": "new.conf", "running_config": "old.conf"})
    assert "  ~ VI_1 (eth0 vrid 51 IPv4): changed, restarted in its current state (MASTER)" in text
    assert "      + VIP 192.0.2.102/24 dev eth0" in text and "      - VIP 192.0.2.101/24 dev eth0" in text
    assert "  - VI_2 (eth0 vrid 52 IPv4): removed" in text
    assert text.endswith("Nothing was applied.\n")


def test_address_option_change_is_a_remove_and_add():
    p = vrrp_preview(plans(vips=("192.0.2.100/24",)), plans(vips=("192.0.2.100/25",)))
    vi1 = p["instances"][0]
    assert vi1["vips_added"] == ["192.0.2.100/25 dev eth0"]
    assert vi1["vips_removed"] == ["192.0.2.100/24 dev eth0"]
