"""The desired IPVS table: keepalived 2.2.7's mapping of virtual/real servers, one rule a test.

Each expectation cites where keepalived does it; tests/integration/test_lvs_guest.py checks
the same configurations against real keepalived on a real kernel.
"""

from __future__ import annotations

import ipaddress

import pytest

from keepalived_py.config.loader import load_text
from keepalived_py.lvs.plan import LiveState, desired_table, real_weight, rs_ref
from keepalived_py.lvs.table import (
    FWD_DROUTE,
    FWD_MASQ,
    FWD_TUNNEL,
    PROTO_SCTP,
    PROTO_TCP,
    PROTO_UDP,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    TUN_F_CSUM,
    TUN_F_REMCSUM,
    TUN_GRE,
    TUN_GUE,
    DestKey,
    ServiceKey,
    Table,
)

A = ipaddress.ip_address


def plan(conf: str, live: LiveState = LiveState()) -> Table:
    loaded = load_text(conf)
    return desired_table(loaded.config, live)


def vs(head: str, body: str) -> str:
    return f"virtual_server {head} {{\n{body}\n}}\n"


def rs(addr: str, port: str = "", body: str = "") -> str:
    return f"real_server {addr} {port} {{\n{body}\n}}\n"


def only(table: Table):
    assert len(table) == 1, list(table)
    svc, dests = next(iter(table))
    return svc, {d.key: d for d in dests}


def key4(addr: str, port: int, proto: int = PROTO_TCP) -> ServiceKey:
    return ServiceKey(4, proto, A(addr), port)


def test_defaults_when_nothing_is_said():
    # validate_check_config: no protocol -> UDP, no scheduler -> wlc, no lb_kind -> NAT,
    # a NAT real server without port takes the virtual server's; weight 1
    svc, dests = only(plan(vs("192.0.2.1 80", rs("192.0.2.2"))))
    assert svc.key == key4("192.0.2.1", 80, PROTO_UDP)
    assert (svc.scheduler, svc.flags, svc.timeout, svc.netmask, svc.pe_name) == ("wlc", 0, 0, 0xFFFFFFFF, "")
    d = dests[DestKey(A("192.0.2.2"), 80)]
    assert (d.fwd, d.weight, d.u_threshold, d.l_threshold) == (FWD_MASQ, 1, 0, 0)


def test_virtual_server_without_real_servers_or_group_is_ignored():
    assert len(plan(vs("192.0.2.1 80", "protocol TCP"))) == 0
    assert len(plan(vs("group NOPE", "protocol TCP\n" + rs("192.0.2.2", "80")))) == 0


@pytest.mark.parametrize("proto,number", [("TCP", PROTO_TCP), ("udp", PROTO_UDP), ("SCTP", PROTO_SCTP)])
def test_protocols(proto, number):
    svc, _ = only(plan(vs("192.0.2.1 80", f"protocol {proto}\n" + rs("192.0.2.2", "80"))))
    assert svc.key.protocol == number


def test_direct_routing_and_tunnel_use_the_service_port():
    # validate_check_config resets a DR/TUN real server's port to the virtual server's
    conf = vs("192.0.2.1 80", "protocol TCP\nlb_kind DR\n" + rs("192.0.2.2", "8080") + rs("192.0.2.3"))
    _, dests = only(plan(conf))
    assert set(dests) == {DestKey(A("192.0.2.2"), 80), DestKey(A("192.0.2.3"), 80)}
    assert {d.fwd for d in dests.values()} == {FWD_DROUTE}


def test_real_server_method_overrides_the_virtual_servers():
    conf = vs("192.0.2.1 80", "protocol TCP\nlb_kind NAT\n" + rs("192.0.2.2", "", "lvs_method DR")
              + rs("192.0.2.3", "8080"))
    _, dests = only(plan(conf))
    assert dests[DestKey(A("192.0.2.2"), 80)].fwd == FWD_DROUTE
    assert dests[DestKey(A("192.0.2.3"), 8080)].fwd == FWD_MASQ


def test_tunnel_options_reach_the_kernel_only_for_tun():
    conf = vs("192.0.2.1 80", "protocol TCP\nlb_kind TUN type gue port 6080 csum\n" + rs("192.0.2.2")
              + rs("192.0.2.3", "", "lvs_method TUN type gre remcsum")
              + rs("192.0.2.4", "", "lvs_method TUN type gre csum")
              + rs("192.0.2.5", "8080", "lvs_method NAT"))
    _, dests = only(plan(conf))
    gue = dests[DestKey(A("192.0.2.2"), 80)]
    assert (gue.fwd, gue.tun_type, gue.tun_port, gue.tun_flags) == (FWD_TUNNEL, TUN_GUE, 6080, TUN_F_CSUM)
    # "gre tunnels do not support remote checksum option": keepalived keeps the method only
    bad = dests[DestKey(A("192.0.2.3"), 80)]
    assert (bad.fwd, bad.tun_type, bad.tun_port, bad.tun_flags) == (FWD_TUNNEL, 0, 0, 0)
    gre = dests[DestKey(A("192.0.2.4"), 80)]
    assert (gre.tun_type, gre.tun_port, gre.tun_flags) == (TUN_GRE, 0, TUN_F_CSUM)
    nat = dests[DestKey(A("192.0.2.5"), 8080)]
    assert (nat.fwd, nat.tun_type, nat.tun_port, nat.tun_flags) == (FWD_MASQ, 0, 0, 0)
    gue_rem = plan(vs("192.0.2.1 81", "protocol TCP\n" + rs("192.0.2.6", "", "lvs_method TUN type gue port 7 remcsum")))
    assert only(gue_rem)[1][DestKey(A("192.0.2.6"), 81)].tun_flags == TUN_F_REMCSUM


def test_tunnelled_real_server_may_have_the_other_family():
    conf = vs("192.0.2.1 80", "protocol TCP\nlb_kind TUN\n" + rs("2001:db8::2"))
    _, dests = only(plan(conf))
    assert list(dests) == [DestKey(A("2001:db8::2"), 80)]


def test_non_tunnelled_real_server_of_the_other_family_is_skipped():
    conf = vs("192.0.2.1 80", "protocol TCP\n" + rs("192.0.2.2", "80") + rs("2001:db8::2", "80"))
    _, dests = only(plan(conf))
    assert list(dests) == [DestKey(A("192.0.2.2"), 80)]


def test_duplicate_real_server_keeps_the_first():
    conf = vs("192.0.2.1 80", "protocol TCP\n" + rs("192.0.2.2", "80", "weight 4") + rs("192.0.2.2", "80", "weight 9"))
    _, dests = only(plan(conf))
    assert dests[DestKey(A("192.0.2.2"), 80)].weight == 4


def test_weights_and_thresholds():
    conf = vs("192.0.2.1 80", "protocol TCP\nweight 5\n" + rs("192.0.2.2") + rs("192.0.2.3", "", "weight 0")
              + rs("192.0.2.4", "", "uthreshold 100\nlthreshold 10"))
    _, dests = only(plan(conf))
    assert dests[DestKey(A("192.0.2.2"), 80)].weight == 5          # inherits the virtual server's
    assert dests[DestKey(A("192.0.2.3"), 80)].weight == 0
    d = dests[DestKey(A("192.0.2.4"), 80)]
    assert (d.u_threshold, d.l_threshold) == (100, 10)


# --------------------------------------------------------------------------- service flags
@pytest.mark.parametrize("sched,words,flags", [
    ("sh", "sh-port\nsh-fallback", SVC_F_SCHED2 | SVC_F_SCHED1),
    ("mh", "mh-port", SVC_F_SCHED2),
    ("mh", "mh-fallback", SVC_F_SCHED1),
    ("rr", "sh-port\nmh-fallback\nhashed", 0),        # "only applies to sh scheduler - ignoring"
    ("sh", "mh-port", 0),
    ("rr", "flag-1\nflag-2\nflag-3", SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3),
])
def test_scheduler_flags(sched, words, flags):
    svc, _ = only(plan(vs("192.0.2.1 80", f"protocol TCP\nlb_algo {sched}\n{words}\n" + rs("192.0.2.2", "80"))))
    assert (svc.scheduler, svc.flags) == (sched, flags)


def test_one_packet_scheduling_needs_udp_or_a_fwmark():
    tcp, _ = only(plan(vs("192.0.2.1 80", "protocol TCP\nops\n" + rs("192.0.2.2", "80"))))
    udp, _ = only(plan(vs("192.0.2.1 80", "protocol UDP\nops\n" + rs("192.0.2.2", "80"))))
    fwm, _ = only(plan(vs("fwmark 3", "ops\n" + rs("192.0.2.2", "80"))))
    assert (tcp.flags, udp.flags, fwm.flags) == (0, SVC_F_ONEPACKET, SVC_F_ONEPACKET)


@pytest.mark.parametrize("algo", ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
                                  "mh", "twos"])
def test_every_scheduler_is_passed_by_name(algo):
    svc, _ = only(plan(vs("192.0.2.1 80", f"protocol TCP\nlb_algo {algo}\n" + rs("192.0.2.2", "80"))))
    assert svc.scheduler == algo


# --------------------------------------------------------------------------- persistence
def test_persistence_timeout_granularity_and_engine():
    svc, _ = only(plan(vs("192.0.2.1 80", "protocol UDP\npersistence_timeout 30\npersistence_engine sip\n"
                                          "persistence_granularity 255.255.255.0\n" + rs("192.0.2.2", "80"))))
    assert (svc.flags, svc.timeout, svc.netmask, svc.pe_name) == (SVC_F_PERSISTENT, 30, 0xFFFFFF00, "sip")


def test_persistence_defaults():
    # no value: 360 (IPVS_SVC_PERSISTENT_TIMEOUT); granularity alone: 360; port 0: 360
    bare, _ = only(plan(vs("192.0.2.1 80", "protocol TCP\npersistence_timeout\n" + rs("192.0.2.2", "80"))))
    gran, _ = only(plan(vs("192.0.2.1 80", "protocol TCP\npersistence_granularity 255.255.0.0\n"
                                           + rs("192.0.2.2", "80"))))
    zero, _ = only(plan(vs("192.0.2.1 0", "protocol TCP\nlb_kind DR\n" + rs("192.0.2.2"))))
    assert (bare.timeout, gran.timeout, zero.timeout) == (360, 360, 360)
    assert gran.netmask == 0xFFFF0000


def test_engine_without_persistence_is_not_sent():
    svc, _ = only(plan(vs("192.0.2.1 80", "protocol UDP\npersistence_engine sip\n" + rs("192.0.2.2", "80"))))
    assert (svc.timeout, svc.pe_name, svc.flags) == (0, "", 0)


def test_ipv6_granularity_is_a_prefix_length():
    svc, _ = only(plan(vs("2001:db8::1 80", "protocol TCP\npersistence_timeout 100\npersistence_granularity 64\n"
                                            + rs("2001:db8::2", "80"))))
    assert (svc.key.family, svc.netmask) == (6, 64)
    plain, _ = only(plan(vs("2001:db8::1 80", "protocol TCP\n" + rs("2001:db8::2", "80"))))
    assert plain.netmask == 128


# --------------------------------------------------------------------------- fwmark
def test_fwmark_services():
    t = plan(vs("fwmark 1", "lb_kind DR\n" + rs("192.0.2.2", "80"))
             + vs("fwmark 2", "lb_kind NAT\n" + rs("192.0.2.3", "8080") + rs("192.0.2.4"))
             + vs("fwmark 3", "ip_family inet6\nlb_kind DR\n" + rs("2001:db8::5"))
             + vs("fwmark 4", "protocol TCP\nlb_kind TUN\n" + rs("2001:db8::6")))
    assert set(t.services) == {ServiceKey(4, fwmark=1), ServiceKey(4, fwmark=2), ServiceKey(6, fwmark=3),
                               ServiceKey(6, fwmark=4)}
    # DR: port cleared; NAT: kept, 0 when none
    assert set(t.destinations(ServiceKey(4, fwmark=1))) == {DestKey(A("192.0.2.2"), 0)}
    assert set(t.destinations(ServiceKey(4, fwmark=2))) == {DestKey(A("192.0.2.3"), 8080), DestKey(A("192.0.2.4"), 0)}


def test_fwmark_with_mixed_tunnelled_families_defaults_to_ipv4():
    t = plan(vs("fwmark 6", "lb_kind TUN\n" + rs("2001:db8::5") + rs("192.0.2.5")))
    assert set(t.services) == {ServiceKey(4, fwmark=6)}


# --------------------------------------------------------------------------- groups
def test_group_ranges_fwmarks_and_what_they_ignore():
    conf = ("virtual_server_group G {\n192.0.2.60-62 80\n198.51.100.8/30 8080\n192.0.2.93-192.0.2.94 99\n"
            "fwmark 61\n}\n"
            + vs("group G", "protocol TCP\nlb_kind DR\npersistence_timeout 60\npersistence_granularity 255.255.255.0\n"
                 + rs("192.0.2.65", "", "weight 3") + rs("192.0.2.66", "8080")))
    t = plan(conf)
    addrs = {(str(k.address), k.port) for k in t.services if not k.fwmark}
    assert addrs == {("192.0.2.60", 80), ("192.0.2.61", 80), ("192.0.2.62", 80), ("198.51.100.8", 8080),
                     ("198.51.100.9", 8080), ("198.51.100.10", 8080), ("198.51.100.11", 8080),
                     ("192.0.2.93", 99), ("192.0.2.94", 99)}
    # ipvs_group_range_cmd / ipvs_group_cmd reset the netmask: granularity does not apply
    assert {s.netmask for s in t.services.values()} == {0xFFFFFFFF}
    assert {s.timeout for s in t.services.values()} == {60}
    # DR: the entry's port; fwmark entry: 0
    assert set(t.destinations(key4("192.0.2.93", 99))) == {DestKey(A("192.0.2.65"), 99), DestKey(A("192.0.2.66"), 99)}
    assert set(t.destinations(ServiceKey(4, fwmark=61))) == {DestKey(A("192.0.2.65"), 0), DestKey(A("192.0.2.66"), 0)}


def test_group_nat_real_server_keeps_its_own_port_even_none():
    conf = ("virtual_server_group G6 {\n2001:db8::60-61 80\nfwmark 62 inet6\n}\n"
            + vs("group G6", "protocol UDP\nlb_kind NAT\n" + rs("2001:db8::65", "8080") + rs("2001:db8::66")))
    t = plan(conf)
    k = ServiceKey(6, PROTO_UDP, A("2001:db8::61"), 80)
    assert set(t.destinations(k)) == {DestKey(A("2001:db8::65"), 8080), DestKey(A("2001:db8::66"), 0)}
    assert ServiceKey(6, fwmark=62) in t.services


def test_ipv6_group_range_counts_its_last_16_bits():
    conf = ("virtual_server_group G {\n2001:db8::1:fffe-2001:db8::1:ffff 81\n}\n"
            + vs("group G", "protocol TCP\n" + rs("2001:db8::5", "81")))
    assert {str(k.address) for k in plan(conf).services} == {"2001:db8::1:fffe", "2001:db8::1:ffff"}


def test_group_zero_port_forces_persistence_and_group_shared_by_protocols():
    conf = ("virtual_server_group GZ {\n192.0.2.90\n}\nvirtual_server_group GS {\n192.0.2.80 80\n}\n"
            + vs("group GZ", "protocol SCTP\n" + rs("192.0.2.92", "99"))
            + vs("group GS", "protocol TCP\n" + rs("192.0.2.81", "8080"))
            + vs("group GS", "protocol UDP\n" + rs("192.0.2.82", "8080")))
    t = plan(conf)
    assert t.services[key4("192.0.2.90", 0, PROTO_SCTP)].timeout == 360
    assert set(t.destinations(key4("192.0.2.80", 80, PROTO_TCP))) == {DestKey(A("192.0.2.81"), 8080)}
    assert set(t.destinations(key4("192.0.2.80", 80, PROTO_UDP))) == {DestKey(A("192.0.2.82"), 8080)}


def test_fwmark_only_group_takes_the_virtual_servers_family():
    conf = "virtual_server_group GF {\nfwmark 63\nfwmark 64 inet6\n}\n" + vs("group GF", "lb_kind DR\n"
                                                                            + rs("2001:db8::67"))
    assert set(plan(conf).services) == {ServiceKey(6, fwmark=63), ServiceKey(6, fwmark=64)}


# --------------------------------------------------------------------------- live state
CHECKED = vs("192.0.2.1 80", "protocol TCP\ninhibit_on_failure\n"
             + rs("192.0.2.2", "80", "weight 3\nTCP_CHECK {\nconnect_port 1\nalpha\n}")
             + rs("192.0.2.3", "80", "inhibit_on_failure off\nTCP_CHECK {\nconnect_port 1\nalpha\n}")
             + rs("192.0.2.4", "80"))


def _refs(conf: str) -> dict[str, tuple]:
    config = load_text(conf).config
    return {str(r.address): rs_ref(v, r) for v in config.virtual_server for r in v.real_server}


def test_alpha_checker_starts_down_inhibit_keeps_weight_zero():
    _, dests = only(plan(CHECKED))
    assert dests[DestKey(A("192.0.2.2"), 80)].weight == 0          # down, inhibit_on_failure
    assert DestKey(A("192.0.2.3"), 80) not in dests                 # down, no inhibit
    assert dests[DestKey(A("192.0.2.4"), 80)].weight == 1          # no checker: up


def test_live_state_decides_who_is_in():
    refs = _refs(CHECKED)
    live = LiveState(alive={refs["192.0.2.2"]: True, refs["192.0.2.3"]: True, refs["192.0.2.4"]: False},
                     weights={refs["192.0.2.3"]: 1 << 40})
    _, dests = only(plan(CHECKED, live))
    assert dests[DestKey(A("192.0.2.2"), 80)].weight == 3
    assert dests[DestKey(A("192.0.2.3"), 80)].weight == real_weight(1 << 40) == 0x7FFFFFFF
    assert dests[DestKey(A("192.0.2.4"), 80)].weight == 0          # inherits inhibit_on_failure


def test_real_weight_clamps():
    assert (real_weight(-5), real_weight(7), real_weight(1 << 33)) == (0, 7, 0x7FFFFFFF)


SORRY = vs("192.0.2.1 80", "protocol TCP\nquorum 4\nsorry_server 192.0.2.9 8080\n"
           + rs("192.0.2.2", "80", "weight 2") + rs("192.0.2.3", "80", "weight 2\ninhibit_on_failure"))


def test_sorry_server_replaces_alive_servers_while_quorum_is_down():
    refs = _refs(SORRY)
    _, up = only(plan(SORRY))
    assert set(up) == {DestKey(A("192.0.2.2"), 80), DestKey(A("192.0.2.3"), 80)}
    live = LiveState(alive={refs["192.0.2.2"]: False})
    _, down = only(plan(SORRY, live))                       # 2 < quorum 4
    assert down[DestKey(A("192.0.2.9"), 8080)].weight == 1
    assert DestKey(A("192.0.2.2"), 80) not in down
    assert down[DestKey(A("192.0.2.3"), 80)].weight == 0   # alive, but inhibited while the sorry server serves
    # the quorum state is the checkers' (hysteresis): an explicit state wins
    config = load_text(SORRY).config
    _, held = only(desired_table(config, LiveState(alive={refs["192.0.2.2"]: False},
                                                   quorum_up={config.virtual_server[0].key: True})))
    assert DestKey(A("192.0.2.9"), 8080) not in held


def test_zero_total_weight_starts_with_the_sorry_server():
    # quorum is cut to the total weight 0, hysteresis to 0 - 1 (unsigned): never up
    _, dests = only(plan(vs("192.0.2.1 80", "protocol TCP\nsorry_server 192.0.2.9 8080\n"
                                            + rs("192.0.2.2", "80", "weight 0"))))
    assert set(dests) == {DestKey(A("192.0.2.9"), 8080)}


def test_inhibited_sorry_server_waits_with_weight_zero():
    _, dests = only(plan(vs("192.0.2.1 80", "protocol TCP\nsorry_server 192.0.2.9 8080\nsorry_server_inhibit\n"
                                            + rs("192.0.2.2", "80"))))
    assert dests[DestKey(A("192.0.2.9"), 8080)].weight == 0
    assert dests[DestKey(A("192.0.2.2"), 80)].weight == 1


def test_dr_sorry_server_uses_the_service_port():
    _, dests = only(plan(vs("192.0.2.1 84", "protocol TCP\nlb_kind DR\nsorry_server 192.0.2.9\n"
                                            + rs("192.0.2.2", "", "weight 0"))))
    assert dests[DestKey(A("192.0.2.9"), 84)].fwd == FWD_DROUTE


def test_possible_entries_cover_every_live_state():
    from keepalived_py.lvs.plan import possible_entries

    config = load_text(SORRY + CHECKED.replace("192.0.2.1 80", "192.0.2.1 81")).config
    owned = possible_entries(config)
    refs = _refs(SORRY)
    for live in (LiveState(), LiveState(alive={refs["192.0.2.2"]: False}),
                 LiveState(alive=dict.fromkeys(refs.values(), False))):
        t = desired_table(config, live)
        assert set(t.services) <= owned.services
        assert {(k, d) for k in t.services for d in t.destinations(k)} <= owned.dests
    assert (key4("192.0.2.1", 80), DestKey(A("192.0.2.9"), 8080)) in owned.dests   # the sorry server
    assert (key4("192.0.2.1", 81), DestKey(A("192.0.2.3"), 80)) in owned.dests     # down, not inhibited
