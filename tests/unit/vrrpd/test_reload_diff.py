"""The reload decision is a pure diff of instance plans by key: no asyncio, no runtime.
Examples from real configurations; the properties are in
tests/property/test_vrrp_reload_diff.py."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.vrrpd.ops import RemoveRoute
from keepalived_py.vrrpd.plan import InstancePlan, Key, plan_all
from keepalived_py.vrrpd.reload import ReloadDelta, diff

INSTANCE = """
vrrp_instance {name} {{
    interface {ifname}
    virtual_router_id {vrid}
    priority {prio}
    virtual_ipaddress {{
{vips}
    }}
{extra}
}}
"""


def inst(name: str, vrid: int, prio: int = 100, vips: str = "192.0.2.100/24", ifname: str = "eth0",
         extra: str = "") -> str:
    lines = "\n".join(f"        {v}" for v in vips.split(";"))
    return INSTANCE.format(name=name, ifname=ifname, vrid=vrid, prio=prio, vips=lines, extra=extra)


def plans(*instances: str) -> dict[Key, InstancePlan]:
    return plan_all(load_text("".join(instances)).config)


def keys(delta: ReloadDelta) -> tuple[list, list, list]:
    return ([p.key for p in delta.keep], [(r.key, r.removed) for r in delta.retire],
            [p.key for p in delta.start])


# ------------------------------------------------------------------ examples


def test_unchanged_removed_added():
    old = plans(inst("VI_1", 51), inst("VI_2", 52, vips="192.0.2.101/24"))
    new = plans(inst("VI_1", 51), inst("VI_3", 53, vips="192.0.2.103/24"))
    d = diff(old, new)
    assert keys(d) == ([("eth0", 51, 4)], [(("eth0", 52, 4), True)], [("eth0", 53, 4)])
    assert d.retire[0].release == () and d.retire[0].remove_vmac
    assert d.keep[0] is new[("eth0", 51, 4)]  # the new plan (its model's source position)


def test_same_config_at_another_line_is_unchanged():
    old = plans(inst("VI_1", 51))
    new = plans("\n\n\n" + inst("VI_1", 51))
    d = diff(old, new)
    assert d.empty and d.keep == tuple(new.values())


def test_changed_instance_releases_only_what_was_dropped():
    extra = ("    virtual_ipaddress_excluded {\n        198.51.100.50/32\n    }\n"
             "    virtual_routes {\n        198.51.100.0/24 via 192.0.2.254\n"
             "        203.0.113.0/24 via 192.0.2.254\n    }\n"
             "    virtual_rules {\n        from 192.0.2.100 table 100\n    }")
    new_extra = "    virtual_routes {\n        198.51.100.0/24 via 192.0.2.254\n    }"
    old = plans(inst("VI_1", 51, prio=200, vips="192.0.2.100/24;192.0.2.101/24", extra=extra))
    new = plans(inst("VI_1", 51, prio=180, vips="192.0.2.100/24;192.0.2.101/24 label eth0:x",
                     extra=new_extra))
    d = diff(old, new)
    assert keys(d) == ([], [(("eth0", 51, 4), False)], [("eth0", 51, 4)])
    ret = d.retire[0]
    assert ret.replacement is new[("eth0", 51, 4)] and not ret.remove_vmac
    released = {(type(op).__name__, str(getattr(op, "spec", None) and op.spec.address.ip)) for op in ret.release}
    assert released == {("RemoveAddress", "192.0.2.101"), ("RemoveAddress", "198.51.100.50"),
                        ("RemoveRoute", "None"), ("RemoveRule", "None")}
    route = next(op for op in ret.release if isinstance(op, RemoveRoute)).route
    assert str(route.dst) == "203.0.113.0/24"
    assert all(op.owner == "VI_1" for op in ret.release)


def test_vmac_change_rebuilds_the_vmac():
    old = plans(inst("VI_1", 51))
    new = plans(inst("VI_1", 51, extra="    use_vmac"))
    assert diff(old, new).retire[0].remove_vmac
    assert not diff(new, plans(inst("VI_1", 51, prio=150, extra="    use_vmac"))).retire[0].remove_vmac


def test_order_follows_each_configuration():
    old = plans(inst("A", 1), inst("B", 2), inst("C", 3))
    new = plans(inst("D", 4), inst("C", 3, prio=50), inst("A", 1))
    d = diff(old, new)
    assert [k[1] for k, _ in keys(d)[1]] == [2, 3]  # old order: B removed, C changed
    assert [k[1] for k in keys(d)[2]] == [4, 3]  # new order: D, then C's replacement
