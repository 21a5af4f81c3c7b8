"""Metrics from the runtime's state view: keepalived-exporter's names and labels, our extras,
parsed back with prometheus_client's own text parser (fake clock, no root)."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from keepalived_py.observe.metrics import EXPORTER_COUNTERS, exposition
from keepalived_py.observe.status import status_table, vrrp_view
from keepalived_py.observe.vrrp_settings import runtime_snapshots
from tests.unit.observe.test_vrrp_json import EXTRA, _run
from tests.unit.vrrpd.test_dump_views import WALL_OFFSET, WallRig
from tests.unit.vrrpd.test_runtime import _advert, conf


def _samples(view) -> dict[tuple[str, tuple], float]:
    text = exposition(view).decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _view(rt, snaps, parent=None):
    return {"vrrp": vrrp_view(snaps, rt.wall_offset(),
                              trackers={"scripts": {"chk": {"status": "GOOD", "state": "idle", "result": 3}}},
                              sockets={"rx_total": 7, "rx_unknown_vrid": 2}),
            "parent": parent or {"config_file": "/etc/k.conf", "config_hash": "ab" * 32, "reloads": 2,
                                 "reload_failures": 1, "children": {"vrrp": {"alive": True, "respawns": 3}}}}


def test_exporter_names_and_labels_with_our_extras():
    rt, snaps = _run(EXTRA, advance=5.0)
    s = _samples(_view(rt, snaps))
    common = (("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51"))
    assert s[("keepalived_up", ())] == 1
    # one keepalived_vrrp_state series per VIP, ip_address and intf read from the address line
    assert s[("keepalived_vrrp_state", tuple(sorted(
        (("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51"), ("ip_address", "192.0.2.100/24")))))] == 2
    assert s[("keepalived_vrrp_excluded_state", tuple(sorted(
        (("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51"), ("ip_address", "2001:db8::5/64")))))] == 2
    for name, _key, _ in EXPORTER_COUNTERS:
        assert (f"{name}_total", common) in s, name
    assert s[("keepalived_become_master_total", common)] == 1
    assert s[("keepalived_gratuitous_arp_delay_total", common)] == 2
    assert s[("keepalived_script_status", (("name", "chk"),))] == 1
    assert s[("keepalived_script_state", (("name", "chk"),))] == 0
    assert s[("keepalived_vrrp_effective_priority", common)] == 100
    assert s[("keepalived_vrrp_base_priority", common)] == 100
    assert s[("keepalived_vrrp_last_transition_timestamp_seconds", common)] == \
        snaps[0].last_transition + WALL_OFFSET
    assert s[("keepalived_vrrp_socket_dropped_total", (("reason", "unknown_vrid"),))] == 2
    assert s[("keepalived_daemon_child_respawns_total", (("role", "vrrp"),))] == 3
    assert s[("keepalived_daemon_reloads_total", ())] == 2
    assert s[("keepalived_daemon_reload_failures_total", ())] == 1
    assert s[("keepalived_daemon_config_info", (("file", "/etc/k.conf"), ("sha256", "ab" * 32)))] == 1


def test_dropped_packets_by_reason_follow_the_receive_checks():
    async def go():
        r = WallRig()
        rt = await r.start(conf(prio=100))
        await r.advance(1.0)
        r.sock().inject(_advert(200, ttl=64))
        r.sock().inject(_advert(200, ttl=64))
        await r.settle()
        return rt, runtime_snapshots(rt)
    rt, snaps = asyncio.run(go())
    s = _samples(_view(rt, snaps))
    key = tuple(sorted((("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51"), ("reason", "ip_ttl_err"))))
    assert s[("keepalived_vrrp_dropped_packets_total", key)] == 2
    assert s[("keepalived_ip_ttl_errors_total", (("iname", "VI_1"), ("intf", "eth0"), ("vrid", "51")))] == 2


def test_no_vrrp_answer_is_keepalived_up_zero_and_no_instance_series():
    s = _samples({"vrrp": None, "parent": {}})
    assert s[("keepalived_up", ())] == 0
    assert not [k for k in s if k[0].startswith("keepalived_vrrp_state")]


def test_instance_without_vips_gets_one_state_series_with_empty_address():
    rt, snaps = _run("", advance=5.0)
    view = _view(rt, snaps)
    view["vrrp"]["instances"][0]["vips"] = []
    s = _samples(view)
    assert s[("keepalived_vrrp_state", (("iname", "VI_1"), ("intf", "eth0"), ("ip_address", ""),
                                        ("vrid", "51")))] == 2


def test_status_table_rows():
    rt, snaps = _run(EXTRA, advance=5.0)
    view = _view(rt, snaps)
    now = snaps[0].last_transition + WALL_OFFSET + 75.0
    text = status_table(view, now)
    header, row = text.splitlines()[:2]
    assert header.split() == ["INSTANCE", "STATE", "PRIO", "(BASE)", "INTERFACE", "VRID", "MASTER", "VIPS", "SINCE"]
    assert row.split() == ["VI_1", "MASTER", "100", "(100)", "eth0", "51", "self", "(192.0.2.1)",
                           "192.0.2.100/24", "1m15s"]
    assert "reloads 2 (failed 1)" in text
    assert "(no VRRP child running)" in status_table({"vrrp": None, "parent": {}}, now)


def test_tracked_script_file_and_process_results():
    """What no exporter sees (issue 19): vrrp_script results, track_file values and
    track_process quorums, from the trackers' snapshot (its shape: tests/unit/track)."""
    rt, snaps = _run("", advance=5.0)
    view = _view(rt, snaps)
    view["vrrp"]["trackers"] = {
        "scripts": {"chk": {"status": "BAD", "state": "running", "result": 1}},
        "files": {"tf": {"path": "/run/w", "value": -3}, "unread": {"path": "/x", "value": None}},
        "processes": {"up": {"have_quorum": True}, "down": {"have_quorum": False}, "new": {"have_quorum": None}},
    }
    s = _samples(view)
    assert s[("keepalived_script_status", (("name", "chk"),))] == 0
    assert s[("keepalived_script_state", (("name", "chk"),))] == 1
    assert s[("keepalived_vrrp_script_result", (("name", "chk"),))] == 1
    assert s[("keepalived_vrrp_track_file_value", (("name", "tf"), ("path", "/run/w")))] == -3
    assert [k for k in s if k[0] == "keepalived_vrrp_track_file_value"] == \
        [("keepalived_vrrp_track_file_value", (("name", "tf"), ("path", "/run/w")))]
    quorum = {dict(k[1])["name"]: v for k, v in s.items() if k[0] == "keepalived_vrrp_track_process_quorum"}
    assert quorum == {"up": 1, "down": 0}
