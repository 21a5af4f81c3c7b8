"""Config models -> InstancePlan / VrrpInstanceParams, with global_defs defaults."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_interface

from keepalived_py.config import load_text
from keepalived_py.vrrp.packet import AuthType, Family
from keepalived_py.vrrpd.plan import IFA_F_NODAD, plan_all, static_addresses


def _plans(text: str):
    return plan_all(load_text(text).config)


BASE = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    {body}
}}
"""


def _one(body: str = "", glob: str = ""):
    text = (f"global_defs {{\n{glob}\n}}\n" if glob else "") + BASE.format(body=body)
    plans = _plans(text)
    assert len(plans) == 1
    return next(iter(plans.values()))


def test_key_and_defaults():
    p = _one("virtual_ipaddress {\n 192.0.2.100/24\n}")
    assert p.key == ("eth0", 51, 4)
    params = p.params(IPv4Address("192.0.2.1"))
    assert params.priority == 100 and params.version == 2 and params.advert_int_s == 1.0
    assert params.garp_master_delay_s == 5 and params.garp_master_repeat == 5
    assert params.virtual_ipaddress == (IPv4Address("192.0.2.100"),)
    assert params.mcast_group == IPv4Address("224.0.0.18")
    assert not params.nopreempt and not params.lower_prio_no_advert
    assert p.unicast_ttl == 255 and p.accept


def test_global_defaults_apply():
    p = _one("virtual_ipaddress {\n 192.0.2.100/24\n}",
             "    vrrp_version 3\n    vrrp_garp_master_delay 2\n    vrrp_garp_master_repeat 3\n"
             "    vrrp_skip_check_adv_addr\n    vrrp_garp_interval 0.01\n    vrrp_gna_interval 0.02\n"
             "    vrrp_mcast_group4 224.0.0.19")
    params = p.params(IPv4Address("192.0.2.1"))
    assert params.version == 3
    assert params.garp_master_delay_s == 2 and params.garp_master_repeat == 3
    assert params.skip_check_adv_addr
    assert params.mcast_group == IPv4Address("224.0.0.19")
    assert p.garp_interval_s == 0.01 and p.gna_interval_s == 0.02


def test_instance_overrides_global():
    p = _one("garp_master_delay 1\n garp_master_repeat 2\n version 2\n nopreempt\n"
             "virtual_ipaddress {\n 192.0.2.100/24\n}", "    vrrp_version 3")
    params = p.params(IPv4Address("192.0.2.1"))
    assert params.version == 2 and params.garp_master_delay_s == 1 and params.garp_master_repeat == 2
    assert params.nopreempt


def test_strict_mode_defaults():
    p = _one("virtual_ipaddress {\n 192.0.2.100/24\n}", "    vrrp_strict")
    params = p.params(IPv4Address("192.0.2.1"))
    assert p.strict and not p.accept
    # keepalived 2.2.7 vrrp.c: strict mode sets lower_prio_no_advert and forces
    # higher_prio_send_advert off ("strict mode requires higher_prio_send_advert to be clear")
    assert params.lower_prio_no_advert and not params.higher_prio_send_advert


def test_address_options_kept():
    p = _one("virtual_ipaddress {\n 192.0.2.100/24 dev eth1 brd + scope link label eth1:vip\n"
             " 192.0.2.101/24 no_track\n}\nvirtual_ipaddress_excluded {\n 198.51.100.5/32\n}")
    spec = p.addresses[IPv4Address("192.0.2.100")]
    assert spec.ifname == "eth1" and spec.label == "eth1:vip" and spec.scope == 253
    assert spec.broadcast == IPv4Address("192.0.2.255")
    assert p.addresses[IPv4Address("192.0.2.101")].ifname == "eth0"
    assert IPv4Address("192.0.2.101") in p.address_no_track
    params = p.params(IPv4Address("192.0.2.1"))
    assert params.virtual_ipaddress_excluded == (IPv4Address("198.51.100.5"),)


def test_wrong_family_vip_ignored_and_ipv6_instance():
    p = _one("virtual_ipaddress {\n 2001:db8::100/64\n 192.0.2.9/24\n}")
    assert p.key == ("eth0", 51, 6)
    params = p.params(IPv6Address("fe80::1"))
    assert params.family is Family.INET6 and params.version == 3
    assert params.virtual_ipaddress == (IPv6Address("2001:db8::100"),)
    spec = p.addresses[IPv6Address("2001:db8::100")]
    assert spec.flags & IFA_F_NODAD


def test_unicast_and_auth():
    p = _one("unicast_src_ip 192.0.2.1\nunicast_peer {\n 192.0.2.2 min_ttl 250\n 192.0.2.3\n}\n"
             "authentication {\n auth_type PASS\n auth_pass secret\n}\n"
             "virtual_ipaddress {\n 192.0.2.100/24\n}")
    params = p.params(p.source)
    assert p.source == IPv4Address("192.0.2.1")
    assert [u.address for u in params.unicast_peers] == [IPv4Address("192.0.2.2"), IPv4Address("192.0.2.3")]
    assert params.unicast_peers[0].min_ttl == 250 and params.check_unicast_src
    assert params.auth_type == AuthType.PASS and params.auth_pass == "secret"


def test_vmac_plan():
    p = _one("use_vmac\nvirtual_ipaddress {\n 192.0.2.100/24\n}")
    assert p.vmac is not None and p.vmac.name == "vrrp.51" and p.vmac.mac == bytes.fromhex("00005e000133")
    assert p.interface == "vrrp.51" and p.xmit_interface == "vrrp.51" and p.key[0] == "eth0"
    assert p.addresses[IPv4Address("192.0.2.100")].ifname == "vrrp.51"
    p2 = _one("use_vmac vip1\nvmac_xmit_base\nvirtual_ipaddress {\n 192.0.2.100/24\n}")
    assert p2.vmac.name == "vip1" and p2.xmit_interface == "eth0"


def test_routes_rules_and_tracking():
    p = _one("virtual_ipaddress {\n 192.0.2.100/24\n}\nvirtual_routes {\n 198.51.100.0/24 via 192.0.2.254 dev eth0\n}\n"
             "virtual_rules {\n from 192.0.2.100 table 100 priority 10\n}\n"
             "track_interface {\n eth1 weight -20\n eth2\n}")
    params = p.params(IPv4Address("192.0.2.1"))
    assert len(params.virtual_routes) == 1 and params.virtual_routes[0] in p.routes
    assert len(params.virtual_rules) == 1 and params.virtual_rules[0] in p.rules
    tracked = {(o.kind, o.name): o.weight for o in p.tracked}
    assert tracked == {("interface", "eth1"): -20, ("interface", "eth2"): 0}


def test_disabled_tracked_objects_dropped():
    text = BASE.format(body="track_script {\n chk\n}\nvirtual_ipaddress {\n 192.0.2.100/24\n}")
    text = "vrrp_script chk {\n script \"/bin/true\"\n}\n" + text
    cfg = load_text(text).config
    assert [o.name for o in next(iter(plan_all(cfg).values())).tracked] == ["chk"]
    assert next(iter(plan_all(cfg, {("script", "chk")}).values())).tracked == ()


def test_same_as_ignores_positions():
    a = _one("virtual_ipaddress {\n 192.0.2.100/24\n}")
    b = next(iter(_plans("\n\n" + BASE.format(body="virtual_ipaddress {\n 192.0.2.100/24\n}")).values()))
    assert a.same_as(b)
    c = _one("priority 120\nvirtual_ipaddress {\n 192.0.2.100/24\n}")
    assert not a.same_as(c)


def test_static_addresses():
    cfg = load_text("static_ipaddress {\n 203.0.113.1/24 dev eth0\n}\n").config
    specs = static_addresses(cfg)
    assert [(s.ifname, s.address) for s in specs] == [("eth0", ip_interface("203.0.113.1/24"))]


def test_vrrp_min_garp():
    params = _one("virtual_ipaddress {\n 192.0.2.100/24\n}", "    vrrp_min_garp").params(IPv4Address("192.0.2.1"))
    assert params.garp_master_repeat == 1 and params.garp_master_delay_s == 0
    params = _one("virtual_ipaddress {\n 192.0.2.100/24\n}",
                  "    vrrp_garp_master_repeat 3\n    vrrp_min_garp").params(IPv4Address("192.0.2.1"))
    assert params.garp_master_repeat == 3 and params.garp_master_delay_s == 0


def test_sync_group_members_and_owners_run_no_floating_priority():
    """vrrp.c vrrp_complete_instance(): in a sync group without sync_group_tracking_weight
    (or as address owner) weighted tracking is neutralised as keepalived does."""
    from keepalived_py.config import load_text
    from keepalived_py.vrrpd.plan import plan_all

    def tracked(group_extra: str, prio: int = 100):
        text = f"""
vrrp_script chk {{
    script "/bin/true"
    weight 10
}}
vrrp_script flat {{
    script "/bin/true"
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {prio}
    track_interface {{
        eth1 weight 20
        eth2
    }}
    track_script {{
        chk
        flat
    }}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
vrrp_sync_group G1 {{
    group {{
        VI_1
    }}
{group_extra}
}}
"""
        (plan,) = plan_all(load_text(text).config).values()
        return {(o.kind, o.name): o.weight for o in plan.tracked}

    assert tracked("") == {("interface", "eth1"): 0, ("interface", "eth2"): 0, ("script", "flat"): 0}
    assert tracked("    sync_group_tracking_weight") == {
        ("interface", "eth1"): 20, ("interface", "eth2"): 0, ("script", "chk"): 10, ("script", "flat"): 0}
    # an owner (even with the group's weights kept) stops tracking weighted objects
    assert tracked("    sync_group_tracking_weight", prio=255) == {("interface", "eth2"): 0, ("script", "flat"): 0}


BFD_AND_GROUP = """
bfd_instance B1 {
    neighbor_ip 192.0.2.2
    weight -30 reverse
}
bfd_instance B2 {
    neighbor_ip 192.0.2.3
}
vrrp_script S1 {
    script "/bin/true"
    weight 10
}
vrrp_track_file F1 {
    file /tmp/kpy-test-track-file
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance VI_3 {
    interface eth2
    virtual_router_id 53
    track_bfd {
        B1
        B2 weight 20
    }
    virtual_ipaddress {
        203.0.113.100/24
    }
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    virtual_ipaddress {
        198.51.100.100/24
    }
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    track_script {
        S1
    }
    track_file {
        F1 weight 0
    }
    track_bfd {
        B1
    }
}
"""


def test_track_bfd_takes_the_bfd_instance_weight_unless_the_line_gives_one():
    plans = {p.name: p for p in _plans(BFD_AND_GROUP).values()}
    tracked = {(o.kind, o.name): (o.weight, o.reverse) for o in plans["VI_3"].tracked}
    assert tracked[("bfd", "B1")] == (-30, True)  # alloc_track_bfd: the instance's weight
    assert tracked[("bfd", "B2")] == (20, False)


def test_sync_group_tracks_every_kind_with_the_objects_weights():
    from keepalived_py.config import load_text
    from keepalived_py.vrrpd.plan import sync_groups

    ((name, members, tracked),) = sync_groups(load_text(BFD_AND_GROUP).config)
    assert (name, members) == ("G1", ("VI_1", "VI_2"))
    assert {(o.kind, o.name): (o.weight, o.reverse) for o in tracked} == {
        ("script", "S1"): (10, False), ("file", "F1"): (0, False), ("bfd", "B1"): (-30, True)}


def test_a_static_address_without_dev_goes_on_the_default_interface():
    # vrrp_ipaddress.c: static_addr && !ifp -> get_default_if(): default_interface, else eth0
    text = "static_ipaddress {\n 192.0.2.7/24\n 192.0.2.8/24 dev eth1\n}\n"
    specs = static_addresses(load_text(text).config)
    assert [(s.ifname, str(s.address)) for s in specs] == [("eth0", "192.0.2.7/24"), ("eth1", "192.0.2.8/24")]
    specs = static_addresses(load_text("global_defs {\n default_interface eth2\n}\n" + text).config)
    assert [s.ifname for s in specs] == ["eth2", "eth1"]
