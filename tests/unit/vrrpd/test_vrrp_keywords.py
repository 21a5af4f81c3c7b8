"""VRRP instance keywords that -t used to list as 'parsed, not implemented', each with its
keepalived 2.2.7 meaning, against the runtime's recording fakes."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address, ip_interface

from keepalived_py.config import load_text
from keepalived_py.net.ports import AddressEvent
from keepalived_py.observe.vrrp import data_text
from keepalived_py.observe.vrrp_settings import runtime_snapshots
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrp.packet import parse_ipv4
from keepalived_py.vrrpd.plan import linkbeat_polled, plan_all
from tests.unit.vrrpd.test_runtime import Rig, conf


def test_debug_level_is_in_the_data_dump():
    """vrrp_parser.c vrrp_debug_handler: 0-4 into vrrp->debug, which 2.2.7 only prints in
    keepalived.data ('   Debug level = N' after the authentication lines, when not 0)."""
    async def go():
        r = Rig()
        rt = await r.start(conf(extra="    debug 3"))
        lines = data_text(runtime_snapshots(rt), 0.0).splitlines()
        assert "   Debug level = 3" in lines
        assert lines.index("   Debug level = 3") == lines.index("   Authentication type = none") + 1
        await rt.stop()
        r2 = Rig()
        rt2 = await r2.start(conf())
        assert not any("Debug level" in x for x in data_text(runtime_snapshots(rt2), 0.0).splitlines())
        await rt2.stop()
    asyncio.run(go())


def _linkbeat_rig(r: Rig, probe: dict[str, bool]):
    async def start(config):
        rt = await r.start(config)
        rt.linkbeat_probe = lambda ifname: probe.get(ifname, True)
        return rt
    return start


def test_linkbeat_use_polling_follows_the_probe_not_netlink(caplog):
    """vrrp_if.c: a polled interface's state comes from the probe every second; netlink's
    reports about it are ignored (keepalived_netlink.c); a change says 'Linkbeat reports'."""
    async def go():
        r = Rig()
        probe = {"eth0": True}
        rt = await _linkbeat_rig(r, probe)(conf(prio=255, more="linkbeat_use_polling\n"))
        await r.advance(0.1)
        assert rt.linkbeat_interfaces() == {"eth0"}
        assert rt.state_of("VI_1") == State.MASTER
        r.net.set_link("eth0", False)  # netlink says down: ignored
        await r.settle()
        assert rt.state_of("VI_1") == State.MASTER
        probe["eth0"] = False
        rt.poll_links_once()
        await r.settle()
        assert rt.state_of("VI_1") == State.FAULT
        probe["eth0"] = True
        rt.poll_links_once()
        await r.advance(0.1)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
    with caplog.at_level("INFO"):
        asyncio.run(go())
    text = caplog.text
    assert "Linkbeat reports eth0 down" in text and "Linkbeat reports eth0 up" in text
    assert "Netlink reports eth0" not in text


def test_without_polling_netlink_drives_the_link():
    async def go():
        r = Rig()
        rt = await _linkbeat_rig(r, {"eth0": False})(conf(prio=255))
        await r.advance(0.1)
        assert rt.linkbeat_interfaces() == frozenset()
        rt.poll_links_once()  # nothing polled: the probe is not asked
        assert rt.state_of("VI_1") == State.MASTER
        r.net.set_link("eth0", False)
        await r.settle()
        assert rt.state_of("VI_1") == State.FAULT
        await rt.stop()
    asyncio.run(go())


def test_which_interfaces_are_polled():
    """Instance interfaces under the global or the instance's keyword, linkbeat_interfaces
    entries some instance tracks; never a VMAC, never an interface no instance tracks."""
    cfg = load_text("""
linkbeat_interfaces {
    eth1
    eth9 ETHTOOL
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    linkbeat_use_polling
    track_interface { eth1 }
    virtual_ipaddress { 192.0.2.10 }
}
vrrp_instance B {
    interface eth2
    virtual_router_id 2
    use_vmac
    linkbeat_use_polling
    virtual_ipaddress { 192.0.2.11 }
}
vrrp_instance C {
    interface eth3
    virtual_router_id 3
    virtual_ipaddress { 192.0.2.12 }
}
""").config
    assert linkbeat_polled(cfg, plan_all(cfg).values()) == {"eth0", "eth1"}
    cfg2 = load_text("linkbeat_use_polling\n" + "\n".join(
        f"vrrp_instance I{n} {{\n interface eth{n}\n virtual_router_id {n + 1}\n virtual_ipaddress {{ 192.0.2.{n + 1} }}\n}}"
        for n in range(2))).config
    assert linkbeat_polled(cfg2, plan_all(cfg2).values()) == {"eth0", "eth1"}


SRC_CONF = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 255
    advert_int 1
    mcast_src_ip 192.0.2.1
    {track}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"""


def _src_rig(track: str, extra_addr: str | None = None):
    r = Rig()
    if extra_addr:
        r.net.addrs["eth0"].append(ip_interface(extra_addr))
    return r, load_text(SRC_CONF.format(track=track)).config


async def _drop_source(r: Rig, rt) -> None:
    r.net.addrs["eth0"] = [a for a in r.net.addrs["eth0"] if str(a.ip) != "192.0.2.1"]
    await rt.on_address_event(AddressEvent("eth0", ip_address("192.0.2.1"), added=False))
    await r.settle()


def test_track_src_ip_faults_while_the_source_address_is_gone(caplog):
    """keepalived_netlink.c: the configured source address deleted from an interface
    left without an IPv4 address downs the instance; added back, it comes up."""
    async def go():
        r, cfg = _src_rig("track_src_ip")
        rt = await r.start(cfg)
        await r.advance(0.1)
        assert rt.state_of("VI_1") == State.MASTER
        await _drop_source(r, rt)
        assert rt.state_of("VI_1") == State.FAULT
        r.net.addrs["eth0"].append(ip_interface("192.0.2.1/24"))
        await rt.on_address_event(AddressEvent("eth0", ip_address("192.0.2.1"), added=True))
        await r.advance(0.1)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
    with caplog.at_level("INFO"):
        asyncio.run(go())
    assert "Deassigned address 192.0.2.1 from interface eth0" in caplog.text


def test_track_src_ip_needs_the_interface_left_without_address():
    """Another IPv4 address stays on the interface: keepalived moves on, no fault."""
    async def go():
        r, cfg = _src_rig("track_src_ip", extra_addr="198.51.100.7/24")
        rt = await r.start(cfg)
        await r.advance(0.1)
        await _drop_source(r, rt)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
    asyncio.run(go())


def test_without_track_src_ip_a_configured_source_is_not_watched():
    async def go():
        r, cfg = _src_rig("")
        rt = await r.start(cfg)
        await r.advance(0.1)
        await _drop_source(r, rt)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
    asyncio.run(go())


def test_track_src_ip_without_a_configured_source_is_cleared():
    cfg = load_text(SRC_CONF.format(track="track_src_ip").replace("mcast_src_ip 192.0.2.1", "")).config
    assert [o for o in plan_all(cfg)[("eth0", 51, 4)].tracked if o.kind == "saddr"] == []


def test_track_src_ip_source_missing_at_start_is_a_fault():
    async def go():
        r = Rig()
        cfg = load_text(SRC_CONF.format(track="track_src_ip").replace("192.0.2.1\n", "192.0.2.9\n")).config
        rt = await r.start(cfg)
        await r.advance(5.0)
        assert rt.state_of("VI_1") == State.FAULT
        r.net.addrs["eth0"].append(ip_interface("192.0.2.9/24"))
        await rt.on_address_event(AddressEvent("eth0", ip_address("192.0.2.9"), added=True))
        await r.advance(5.0)
        assert rt.state_of("VI_1") == State.MASTER
        await rt.stop()
    asyncio.run(go())


IPVLAN_CONF = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 255
    advert_int 1
    use_ipvlan {line}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"""


def test_use_ipvlan_makes_the_link_with_its_address_and_runs_on_it():
    """vrrp_vmac.c netlink_link_add_ipvlan: an ipvlan on the instance's interface (the
    base's MAC), with the line's address (the instance's source); adverts on it; the VIPs
    on the configured interface (vrrp.c puts a VIP on the instance's interface only for
    VRRP_VMAC_BIT, which use_ipvlan does not set); removed at stop."""
    async def go():
        r = Rig()
        rt = await r.start(load_text(IPVLAN_CONF.format(line="ipv1 192.0.2.50/24 private")).config)
        await r.advance(5.0)
        assert ("add_ipvlan", ("ipv1", "eth0", "private")) in r.net.calls
        assert r.net.has("ipv1", "192.0.2.50")
        assert rt.state_of("VI_1") == State.MASTER
        assert r.net.has("eth0", "192.0.2.100") and not r.net.has("ipv1", "192.0.2.100")
        sent = r.sock("ipv1").sent
        assert sent and parse_ipv4(sent[-1][0])[0].src == ip_address("192.0.2.50")
        assert r.net.links["ipv1"].mac == r.net.links["eth0"].mac
        await rt.stop()
        assert ("delete_link", "ipv1") in r.net.calls
    asyncio.run(go())


def test_use_ipvlan_default_name_and_ipv4_without_address_is_a_fault():
    async def go():
        r = Rig()
        rt = await r.start(load_text(IPVLAN_CONF.format(line="")).config)
        await r.advance(5.0)
        assert ("add_ipvlan", ("vrrp.51", "eth0", None)) in r.net.calls
        assert rt.state_of("VI_1") == State.FAULT
        await rt.stop()
    asyncio.run(go())


def test_ipvlan_request_bytes():
    """RTM_NEWLINK as keepalived builds it: IFLA_LINK, IFLA_IFNAME, then IFLA_LINKINFO
    {kind ipvlan, data {mode L2, flags}}, IFF_UP set, create exclusive."""
    from keepalived_py.net.ipvlan import ipvlan_request
    req = ipvlan_request("ipv1", 7, "vepa")
    assert req.type == 16 and req.flags == 0x1 | 0x4 | 0x400 | 0x200
    p = req.payload
    assert p[:16] == bytes(8) + (1).to_bytes(4, "little") + (1).to_bytes(4, "little")
    attrs = p[16:]
    assert attrs[:8] == (8).to_bytes(2, "little") + (5).to_bytes(2, "little") + (7).to_bytes(4, "little")
    assert attrs[8:20] == (9).to_bytes(2, "little") + (3).to_bytes(2, "little") + b"ipv1\0\0\0\0"
    info = attrs[20:]
    assert info[2:4] == (18).to_bytes(2, "little")
    assert b"ipvlan" in info
    assert info.endswith((6).to_bytes(2, "little") + (2).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\0\0")


VMAC_ADDR_CONF = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 255
    advert_int 1
    {opts}
    virtual_ipaddress {{
        192.0.2.100/24
        198.51.100.100/24 dev eth1
    }}
    virtual_ipaddress_excluded {{
        2001:db8::100/64
    }}
}}
"""


def _addr_plan(opts: str, more: str = ""):
    cfg = load_text(VMAC_ADDR_CONF.format(opts=opts) + more).config
    return plan_all(cfg)[("eth0", 51, 4)]


def test_use_vmac_addr_gives_vips_elsewhere_their_own_vmac():
    """vrrp.c: with use_vmac_addr a VIP on another interface, and an eVIP of the other
    family on the instance's, live on a VMAC of the VRID on that interface (00:00:5e:00:01:51
    / 00:00:5e:00:02:51), named past the instance's own VMAC (vrrp.51 -> vrrp1.51; IPv6
    tries vrrp6 first)."""
    p = _addr_plan("use_vmac\n    use_vmac_addr")
    assert p.vmac is not None and p.vmac.name == "vrrp.51"
    assert p.addresses[ip_address("192.0.2.100")].ifname == "vrrp.51"
    extra = {v.name: (v.base, v.mac.hex()) for v in p.addr_vmacs}
    assert extra == {"vrrp1.51": ("eth1", "00005e000133"), "vrrp6.51": ("eth0", "00005e000233")}
    assert p.addresses[ip_address("198.51.100.100")].ifname == "vrrp1.51"
    assert p.addresses[ip_address("2001:db8::100")].ifname == "vrrp6.51"


def test_without_use_vmac_addr_vips_stay_where_configured():
    p = _addr_plan("use_vmac")
    assert p.addr_vmacs == ()
    assert p.addresses[ip_address("198.51.100.100")].ifname == "eth1"
    assert p.addresses[ip_address("2001:db8::100")].ifname == "eth0"
    # without the instance's VMAC, use_vmac_addr names from vrrp.51; vmac_addr_prefix first
    p = _addr_plan("use_vmac_addr", "global_defs {\n vmac_addr_prefix va\n}\n")
    assert {v.name: v.base for v in p.addr_vmacs} == {"va.51": "eth1", "va6.51": "eth0"}


def test_use_vmac_addr_vmacs_are_made_and_removed():
    async def go():
        r = Rig()
        rt = await r.start(load_text(VMAC_ADDR_CONF.format(opts="use_vmac_addr")).config)
        await r.advance(5.0)
        made = [c[1][:3] for c in r.net.calls if c[0] == "add_macvlan"]
        assert ("vrrp.51", "eth1", bytes.fromhex("00005e000133")) in made
        assert rt.state_of("VI_1") == State.MASTER
        assert r.net.has("vrrp.51", "198.51.100.100") and r.net.has("eth0", "192.0.2.100")
        await rt.stop()
        assert ("delete_link", "vrrp.51") in r.net.calls
    asyncio.run(go())


def test_dump_lines_for_ipvlan_and_vmac_addr():
    """vrrp_data.c: 'Use IPVLAN, i/f ..., type T' and 'Interface = X, ipvlan on BASE';
    'Use VMAC for VIPs on other interfaces' for use_vmac_addr."""
    async def go():
        r = Rig()
        rt = await r.start(load_text(IPVLAN_CONF.format(line="ipv1 192.0.2.50/24 private")).config)
        lines = data_text(runtime_snapshots(rt), 0.0).splitlines()
        assert "   Use IPVLAN, i/f ipv1, is_up = true, i/f address = 192.0.2.50/24, type private" in lines
        assert "   Interface = ipv1, ipvlan on eth0" in lines
        assert not any("Use VMAC" in x for x in lines)
        await rt.stop()
        r2 = Rig()
        rt2 = await r2.start(load_text(VMAC_ADDR_CONF.format(opts="use_vmac_addr")).config)
        lines = data_text(runtime_snapshots(rt2), 0.0).splitlines()
        assert "   Use VMAC for VIPs on other interfaces" in lines
        assert "   Interface = eth0" in lines
        await rt2.stop()
    asyncio.run(go())
