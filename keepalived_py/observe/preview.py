"""What a HUP with a new configuration would change, from the reload diff the daemon applies.

`vrrp_preview(old, new, states)` runs vrrpd.reload.diff on the running and the new
instance plans (the same pure function the vrrp child's reload runs) and says, per
instance, what happens: kept untouched, removed (stopped, addresses released), changed
(restarted; Retire.keeps_state says whether in its current state: a MASTER stays MASTER,
giving up only what the new plan lacks) or added; and the VIPs, virtual routes and rules
that would appear or go, read from the diff: a changed instance's removals are its
Retire.release, its additions reload.released() the other way round. The
check child computes its part (IPVS services and real servers added, removed, reweighted:
observe/ipvs_preview.py) and it is shown beside "vrrp". Nothing is applied. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrpd.ops import RemoveAddress, RemoveRoute, RemoveRule
from keepalived_py.vrrpd.plan import InstancePlan, Key, plan_all, route_key, rule_key
from keepalived_py.vrrpd.reload import Release, diff, released

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


def reload_plans(config: KeepalivedConfig) -> dict[Key, InstancePlan]:
    """The plans the vrrp child's reload diffs for `config`: plan_all() without the
    track_script / track_file lines its trackers disable (a script not found or unsafe, a
    track file's missing folder: vrrpd/daemon.py _disabled), checked now as a load checks
    them. Without that, a disabled script counted as awaited: keeps_state said no."""
    return plan_all(config, Trackers(log_fn=lambda _m: None).prepare(config))


def _key_text(key: Key) -> str:
    ifname, vrid, family = key
    return f"{ifname} vrid {vrid} IPv{family}"


def _texts(ops: tuple[Release, ...]) -> dict[str, list[str]]:
    """Addresses, routes and rules as the preview names them, in the diff's order."""
    out: dict[str, list[str]] = {"vips": [], "routes": [], "rules": []}
    for op in ops:
        if isinstance(op, RemoveAddress):
            out["vips"].append(f"{op.spec.address} dev {op.spec.ifname}")
        elif isinstance(op, RemoveRoute):
            out["routes"].append(route_key(op.route))
        elif isinstance(op, RemoveRule):
            out["rules"].append(rule_key(op.rule))
    return out


def _everything(plan: InstancePlan) -> tuple[Release, ...]:
    """All a plan installs as MASTER: released() against the same plan holding nothing."""
    return released(plan, dataclasses.replace(plan, addresses={}, routes={}, rules={}))


def _changes(removed: tuple[Release, ...], added: tuple[Release, ...]) -> dict[str, list[str]]:
    """What the instance, as MASTER, would remove and add (added: the reverse release,
    what the new plan installs that the old one did not install the same way)."""
    gone, new = _texts(removed), _texts(added)
    return {"vips_added": new["vips"], "vips_removed": gone["vips"],
            "routes_added": new["routes"], "routes_removed": gone["routes"],
            "rules_added": new["rules"], "rules_removed": gone["rules"]}


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
                                 "action": "removed" if r.removed else "changed", "state": state}
        if r.replacement is None:
            entry.update(_changes(_everything(r.old), ()))
            entry["note"] = "stopped: priority 0 sent, its addresses released"
        else:
            # removed: the diff's release (what the runtime takes from a MASTER); added:
            # the same function the other way round
            entry.update(_changes(r.release, released(r.replacement, r.old)))
            entry["settings"] = _settings_changed(r.old, r.replacement)
            entry["keeps_state"] = r.keeps_state(state)
            if entry["keeps_state"]:
                entry["note"] = f"restarted in its current state ({state})"
            else:  # Retire.keeps_state says why not: trackers awaited, FAULT, a new owner
                entry["note"] = "restarted afresh" + (f", not kept as {state}" if state else "") + \
                    ": its state is decided again"
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
                          "state": None, **_changes((), _everything(plan))})
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
