"""The harness's pure parts: topology text, pcap reading, comparison and the report's rules."""

from __future__ import annotations

import struct

import pytest

from conformance.lab import Topology, TopologyError, read_pcap, vrrp_adverts
from conformance.lab.pcap import arps
from conformance.report import (
    Outcome,
    Row,
    compare,
    differing_fields,
    exit_status,
    load_differences,
)
from conformance.scenarios import Scenario, load_all, not_supported, unsupported_features


def test_topology_parse_allocates_addresses_per_bridge():
    t = Topology.parse("""
        bridge lan 192.0.2.0/24 2001:db8:0:1::/64   # comment
        bridge back 198.51.100.0/24
        router r1 lan back
        router r2 lan back
        client c1 lan
        backend b1 back=198.51.100.50
    """)
    r1 = t.nodes["r1"]
    assert [(p.ifname, p.bridge) for p in r1.ports] == [("eth0", "lan"), ("eth1", "back")]
    assert str(r1.ports[0].v4) == "192.0.2.1/24" and str(r1.ports[0].v6) == "2001:db8:0:1::1/64"
    assert str(t.nodes["r2"].port("back").v4) == "198.51.100.2/24"
    assert str(t.nodes["c1"].port().v4) == "192.0.2.3/24"
    assert str(t.nodes["b1"].port().v4) == "198.51.100.50/24"
    assert [n.name for n in t.routers()] == ["r1", "r2"]


@pytest.mark.parametrize("text", [
    "bridge lan 10.0.0.0/24\nrouter r1 lan",            # not a documentation range
    "bridge lan 192.0.2.0/24\nrouter r1 wan",           # unknown bridge
    "bridge lan 192.0.2.0/24\nrouter waytoolongname lan",
    "bridge lan 192.0.2.0/24\nrouter r1 lan=198.51.100.1",
    "bridge lan 192.0.2.0/24\nswitch s1 lan",
    "bridge lan 192.0.2.0/24",
])
def test_topology_rejects(text):
    with pytest.raises(TopologyError):
        Topology.parse(text)


def _pcap(frames: list[tuple[float, bytes]]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for ts, data in frames:
        out += struct.pack("<IIII", int(ts), int(round((ts % 1) * 1e6)), len(data), len(data)) + data
    return out


def _vrrp_frame(prio: int) -> bytes:
    vrrp = bytes([0x21, 51, prio, 1, 0, 1, 0, 0]) + bytes([192, 0, 2, 100])
    ip = bytes([0x45, 0, 0, 20 + len(vrrp), 0, 0, 0, 0, 255, 112, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18])
    return bytes.fromhex("01005e000012" "00005e000133" "0800") + ip + vrrp


def _garp_frame() -> bytes:
    arp = bytes.fromhex("0001080006040001" "00005e000133") + bytes([192, 0, 2, 100]) + bytes(6) \
        + bytes([192, 0, 2, 100])
    return bytes.fromhex("ffffffffffff" "00005e000133" "0806") + arp


def test_pcap_reader_finds_vrrp_and_gratuitous_arp():
    frames = read_pcap(_pcap([(10.25, _vrrp_frame(150)), (11.5, _garp_frame()), (12.0, b"\x00" * 10)]))
    assert [f.ts for f in frames] == [10.25, 11.5, 12.0]
    (adv,) = vrrp_adverts(frames)
    assert (adv.src, adv.dst, adv.ttl, adv.version, adv.vrid, adv.priority, adv.addresses, adv.interval_cs) \
        == ("192.0.2.1", "224.0.0.18", 255, 2, 51, 150, ("192.0.2.100",), 100)
    (garp,) = arps(frames)
    assert garp.gratuitous and garp.sender_ip == "192.0.2.100" and garp.src_mac == "00:00:5e:00:01:33"


def test_pcap_reader_tolerates_a_truncated_last_record():
    data = _pcap([(1.0, _vrrp_frame(100)), (2.0, _vrrp_frame(100))])
    assert len(read_pcap(data[:-5])) == 1


def test_differing_fields_ignores_informational_keys():
    a = {"x": 1, "nested": {"y": [1, 2], "z": "s"}, "_timings": {"t": 1.0}}
    b = {"x": 1, "nested": {"y": [1, 3], "z": "s"}, "_timings": {"t": 2.0}, "extra": True}
    assert differing_fields(a, b) == ["extra", "nested.y"]
    assert differing_fields(a, a) == []
    assert differing_fields({"t": (1, 2)}, {"t": [1, 2]}) == []


def _sc(name="s", features=("vrrp",)) -> Scenario:
    return Scenario(name, lambda *a: {}, features, ("netns",))


def test_unsupported_registry_drives_na_and_is_not_a_pass():
    missing = unsupported_features("keepalived-py")
    assert unsupported_features("keepalived") == {}
    if "vrrp" in missing:
        assert not_supported(_sc(), "keepalived-py").startswith("vrrp: ")
    assert not_supported(_sc(features=("no-such-feature",)), "keepalived-py") is None
    row = Row(_sc(), {"keepalived": Outcome("pass", {"a": 1}), "keepalived-py": Outcome("n/a", reason="x")})
    compare(row, [])
    assert not row.compared and row.match_text() == "n/a" and exit_status([row]) == 0


def test_mismatch_fails_unless_documented():
    def row():
        return Row(_sc("s1"), {"keepalived": Outcome("pass", {"a": 1, "b": 2}),
                               "keepalived-py": Outcome("pass", {"a": 1, "b": 3})})
    r = row()
    compare(r, [])
    assert r.differing == ["b"] and r.match_text() == "NO: b" and exit_status([r]) == 1
    r = row()
    compare(r, [{"scenario": "s1", "field": "b", "reason": "on purpose"}])
    assert r.differing == [] and r.documented == ["b"] and exit_status([r]) == 0
    r = row()
    compare(r, [{"scenario": "other", "field": "*", "reason": "elsewhere"}])
    assert exit_status([r]) == 1


def test_errors_and_reference_failures_fail_the_run():
    r = Row(_sc(), {"keepalived": Outcome("error", reason="boom")})
    assert exit_status([r]) == 1
    r = Row(_sc(), {"keepalived": Outcome("fail", {"a": 1}, ["bad"])})
    compare(r, [])
    assert exit_status([r]) == 1


def test_differences_file_parses_and_scenarios_register():
    for e in load_differences():
        assert {"scenario", "field", "reason"} <= set(e)
    scs = load_all()
    assert {"vrrp_two_router_failover", "ipvs_virtual_server_table"} <= set(scs)
    for sc in scs.values():
        assert sc.features and set(sc.needs) <= {"netns", "guest"}


def test_cli_lists_scenarios_and_rejects_unknown_names():
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-m", "conformance", "--list"], cwd=repo,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "vrrp_two_router_failover" in r.stdout
    assert "ipvs_virtual_server_table" in r.stdout
    r = subprocess.run([sys.executable, "-m", "conformance", "--scenario", "no_such_scenario"],
                       cwd=repo, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "unknown scenario" in r.stderr


def test_guest_daemon_script_and_sections():
    from conformance.guest.daemon import daemon_script, sections
    from conformance.lab import get

    sh = daemon_script(get("keepalived"), "k0", "k0.conf", ready="true", probes={"table": "ipvsadm -Ln"})
    assert "-f /run/kpy/k0.conf" in sh and "-p /tmp/k0/keepalived.pid" in sh and "TMPDIR=/tmp/k0/tmp" in sh
    sec = sections("noise\n=== ready yes\n=== table\nTCP x\n  -> y\n=== exit 0\n=== end\n")
    assert sec == {"ready": "yes", "table": "TCP x\n  -> y", "exit": "0", "end": ""}
