"""What a HUP with a new configuration would change, from the reload diff the daemon applies.

`vrrp_preview(old, new, states)` runs vrrpd.reload.diff on the running and the new
instance plans (the same pure function the vrrp child's reload runs) and says, per
instance, what happens: kept untouched, removed (stopped, addresses released), changed
(restarted from its current state: a MASTER stays MASTER, giving up only what the new plan
lacks) or added; and the VIPs, virtual routes and rules that would appear or go. The
check child computes its part (IPVS services and real servers added, removed, reweighted:
observe/ipvs_preview.py) and it is shown beside "vrrp". Nothing is applied. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keepalived_py.vrrpd.plan import InstancePlan, Key
from keepalived_py.vrrpd.reload import diff


def _key_text(key: Key) -> str:
    ifname, vrid, family = key
    return f"{ifname} vrid {vrid} IPv{family}"


def _addresses(plan: InstancePlan | None) -> dict[str, str]:
    if plan is None:
        return {}
    return {str(ip): f"{spec.address} dev {spec.ifname}" for ip, spec in plan.addresses.items()}


def _changes(old: InstancePlan | None, new: InstancePlan | None) -> dict[str, list[str]]:
    """Addresses, routes and rules the instance would add or remove (as MASTER)."""
    a_old, a_new = _addresses(old), _addresses(new)
    r_old = set(old.routes) if old is not None else set()
    r_new = set(new.routes) if new is not None else set()
    u_old = set(old.rules) if old is not None else set()
    u_new = set(new.rules) if new is not None else set()
    return {
        "vips_added": [a_new[k] for k in a_new if a_old.get(k) != a_new[k]],
        "vips_removed": [a_old[k] for k in a_old if a_new.get(k) != a_old[k]],
        "routes_added": sorted(r_new - r_old), "routes_removed": sorted(r_old - r_new),
        "rules_added": sorted(u_new - u_old), "rules_removed": sorted(u_old - u_new),
    }


def _settings_changed(old: InstancePlan, new: InstancePlan | None) -> list[str]:
    """The instance parameters that differ, 'priority 150 -> 140'."""
    if new is None:
        return []
    a, b = old.base_params, new.base_params
    return [f"{k} {a.get(k)!s} -> {b.get(k)!s}" for k in sorted(set(a) | set(b))
            if k not in ("virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules")
            and a.get(k) != b.get(k)]


def vrrp_preview(old: Mapping[Key, InstancePlan], new: Mapping[Key, InstancePlan],
                 states: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The VRRP side of a reload preview. `states`: instance name -> current state word."""
    states = states or {}
    delta = diff(old, new)
    instances: list[dict[str, Any]] = []
    for plan in delta.keep:
        instances.append({"name": plan.name, "key": _key_text(plan.key), "action": "unchanged",
                          "state": states.get(plan.name)})
    for r in delta.retire:
        state = states.get(r.old.name)
        entry: dict[str, Any] = {"name": r.old.name, "key": _key_text(r.key),
                                 "action": "removed" if r.removed else "changed", "state": state,
                                 **_changes(r.old, r.replacement)}
        if r.removed:
            entry["note"] = "stopped: priority 0 sent, its addresses released"
        else:
            entry["settings"] = _settings_changed(r.old, r.replacement)
            entry["keeps_state"] = True
            entry["note"] = (f"restarted in its current state ({state})" if state
                             else "restarted in its current state")
            if r.replacement is not None and r.replacement.name != r.old.name:
                entry["new_name"] = r.replacement.name
            if r.remove_vmac:
                entry["vmac_rebuilt"] = True
        instances.append(entry)
    retired = {r.key for r in delta.retire}
    for plan in delta.start:
        if plan.key in retired:
            continue  # a changed instance's replacement: reported above
        instances.append({"name": plan.name, "key": _key_text(plan.key), "action": "added",
                          "state": None, **_changes(None, plan)})
    return {"instances": instances, "changes": not delta.empty}


IPVS_LINES = (("services_added", "+ service"), ("services_changed", "~ service"),
              ("services_removed", "- service"), ("destinations_added", "+ real server"),
              ("destinations_reweighted", "~ real server"), ("destinations_changed", "~ real server"),
              ("destinations_removed", "- real server"))


def _ipvs_lines(ipvs: Mapping[str, Any] | None) -> list[str]:
    """The check child's part (observe/ipvs_preview.py), when it runs."""
    if ipvs is None:
        return []
    if ipvs.get("error"):
        return [f"  IPVS: not previewed: {ipvs['error']}"]
    if not ipvs.get("changes"):
        return ["  IPVS: no change (a HUP would leave the table as it is)"]
    lines = ["  IPVS:"]
    for field, word in IPVS_LINES:
        lines += [f"    {word} {item}" for item in ipvs.get(field, [])]
    return lines


def preview_text(preview: Mapping[str, Any]) -> str:
    """The -t --reload-preview report."""
    vrrp = preview.get("vrrp") or {}
    lines = [f"Reload preview for {preview.get('config_file', '?')} "
             f"(running: {preview.get('running_config', '?')})"]
    if not vrrp.get("changes"):
        lines.append("  VRRP: no change (a HUP would keep every instance as it runs)")
    for inst in vrrp.get("instances", []):
        if inst["action"] == "unchanged":
            lines.append(f"  = {inst['name']} ({inst['key']}): unchanged, keeps running"
                         + (f" as {inst['state']}" if inst.get("state") else ""))
            continue
        mark = {"added": "+", "removed": "-", "changed": "~"}[inst["action"]]
        lines.append(f"  {mark} {inst['name']} ({inst['key']}): {inst['action']}"
                     + (f", {inst['note']}" if inst.get("note") else ""))
        lines += [f"      * {item}" for item in inst.get("settings", [])]
        for field, word in (("vips_added", "+ VIP"), ("vips_removed", "- VIP"),
                            ("routes_added", "+ route"), ("routes_removed", "- route"),
                            ("rules_added", "+ rule"), ("rules_removed", "- rule")):
            lines += [f"      {word} {item}" for item in inst.get(field, [])]
        if inst.get("vmac_rebuilt"):
            lines.append("      VMAC rebuilt")
    lines += _ipvs_lines(preview.get("ipvs"))
    lines.append("Nothing was applied.")
    return "\n".join(lines) + "\n"
