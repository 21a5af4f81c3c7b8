"""Prometheus metrics from a state view: keepalived-exporter's names, and what it cannot see.

Sites watch keepalived with mehdy/keepalived-exporter, which sends the JSON signal and
reads keepalived.json. Its metric names, label names and values are kept here so existing
dashboards and alerts work unchanged against keepalived-py's own endpoint:

- keepalived_up; keepalived_vrrp_state / keepalived_vrrp_excluded_state {iname, intf,
  vrid, ip_address} (one series per VIP: ip_address is the first word of keepalived's
  address line, intf its device; an instance without VIPs gets one with ip_address="");
  value keepalived's state number (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT);
- the keepalived.json counters as keepalived_*_total {iname, intf, vrid};
- keepalived_script_status (BAD 0, GOOD 1) and keepalived_script_state (idle 0, running 1,
  requested termination 2, forcing termination 3) {name}.

Added (prefix keepalived_vrrp_ / keepalived_daemon_): effective, base and master
priority, last transition time, packets dropped by reason (every receive check's counter,
including the ones keepalived only logs), socket-level drops, tracked file and process
results, child respawns, reloads and failed reloads with the running config's hash.

Pure: the view (observe/status.py's vrrp_view plus the parent's facts) goes in, metric
families or the text exposition (prometheus_client's own) come out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest

from keepalived_py.observe.check_metrics import check_families

__all__ = ["CONTENT_TYPE", "exposition", "families"]

#: generate_latest() writes the classic text format; say so (0.0.4), as every Prometheus
#: release reads it (newer prometheus_client releases call their default "1.0.0")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

COMMON = ["iname", "intf", "vrid"]
VIP_LABELS = ["iname", "intf", "vrid", "ip_address"]

#: keepalived-exporter's counters: (metric name without _total, keepalived.json key, help)
EXPORTER_COUNTERS = (
    ("keepalived_advertisements_received", "advert_rcvd", "Advertisements received"),
    ("keepalived_advertisements_sent", "advert_sent", "Advertisements sent"),
    ("keepalived_become_master", "become_master", "Became master"),
    ("keepalived_release_master", "release_master", "Released master"),
    ("keepalived_packet_length_errors", "packet_len_err", "Packet length errors"),
    ("keepalived_advertisements_interval_errors", "advert_interval_err", "Advertisement interval errors"),
    ("keepalived_ip_ttl_errors", "ip_ttl_err", "TTL errors"),
    ("keepalived_invalid_type_received", "invalid_type_rcvd", "Invalid type errors"),
    ("keepalived_address_list_errors", "addr_list_err", "Address list errors"),
    ("keepalived_authentication_invalid", "invalid_authtype", "Authentication invalid"),
    ("keepalived_authentication_mismatch", "authtype_mismatch", "Authentication mismatch"),
    ("keepalived_authentication_failure", "auth_failure", "Authentication failure"),
    ("keepalived_priority_zero_received", "pri_zero_rcvd", "Priority zero received"),
    ("keepalived_priority_zero_sent", "pri_zero_sent", "Priority zero sent"),
)

#: every counter a receive check files a dropped packet under (vrrp/checks.py DropReason
#: and the codec's reasons), as the `reason` label of keepalived_vrrp_dropped_packets_total
DROP_REASONS = ("packet_len_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err", "invalid_authtype",
                "authtype_mismatch", "auth_failure", "chk_err", "vers_err", "vrid_err", "unicast_src_err",
                "interval_mismatch", "advert_interval_err", "owner_conflict")

SCRIPT_STATUS = {"BAD": 0, "GOOD": 1}
SCRIPT_STATE = {"idle": 0, "running": 1, "requested termination": 2, "forcing termination": 3}


def _vip_words(line: str, intf: str) -> tuple[str, str]:
    """(ip_address, intf) from an address line: its first word and the word after "dev"
    (keepalived-exporter's ParseVIP takes the third word, the same unless the line has
    "brd ADDR" first, where it would report the broadcast address as the interface)."""
    words = line.split(" ")
    dev = words[words.index("dev") + 1] if "dev" in words[:-1] else intf
    return words[0], dev


def _vrrp_families(vrrp: Mapping[str, Any]) -> list[Metric]:
    state = GaugeMetricFamily("keepalived_vrrp_state", "State of vrrp", labels=VIP_LABELS)
    excluded = GaugeMetricFamily("keepalived_vrrp_excluded_state", "State of vrrp with excluded VIP",
                                 labels=VIP_LABELS)
    counters = {name: CounterMetricFamily(name, text, labels=COMMON) for name, _, text in EXPORTER_COUNTERS}
    garp = CounterMetricFamily("keepalived_gratuitous_arp_delay", "Gratuitous ARP delay", labels=COMMON)
    prio = GaugeMetricFamily("keepalived_vrrp_effective_priority",
                             "Priority in use (base priority plus tracked weights)", labels=COMMON)
    base = GaugeMetricFamily("keepalived_vrrp_base_priority", "Configured priority", labels=COMMON)
    master_prio = GaugeMetricFamily("keepalived_vrrp_master_priority",
                                    "Priority of the master last heard (0: none)", labels=COMMON)
    since = GaugeMetricFamily("keepalived_vrrp_last_transition_timestamp_seconds",
                              "Wall-clock time of the last state change", labels=COMMON)
    wanted = GaugeMetricFamily("keepalived_vrrp_wantstate", "State the instance is heading for",
                               labels=COMMON)
    drops = CounterMetricFamily("keepalived_vrrp_dropped_packets", "Received packets dropped, by reason",
                                labels=[*COMMON, "reason"])
    faults = GaugeMetricFamily("keepalived_vrrp_tracking_faults",
                               "Tracked objects currently holding the instance in FAULT", labels=COMMON)
    states = {"INIT": 0, "BACKUP": 1, "MASTER": 2, "FAULT": 3, "STOP": 98}
    for inst in vrrp.get("instances", []):
        intf = inst.get("ifp") or inst["interface"]
        labels = [inst["name"], intf, str(inst["vrid"])]
        for line in inst.get("vips", []):
            ip, dev = _vip_words(line, intf)
            state.add_metric([inst["name"], dev, str(inst["vrid"]), ip], inst["state_number"])
        if not inst.get("vips"):
            state.add_metric([*labels, ""], inst["state_number"])
        for line in inst.get("evips", []):
            ip, dev = _vip_words(line, intf)
            excluded.add_metric([inst["name"], dev, str(inst["vrid"]), ip], inst["state_number"])
        stats = inst.get("stats", {})
        for name, key, _ in EXPORTER_COUNTERS:
            counters[name].add_metric(labels, stats.get(key, 0))
        if inst.get("garp_delay") is not None:
            garp.add_metric(labels, inst["garp_delay"])
        prio.add_metric(labels, inst["effective_priority"])
        base.add_metric(labels, inst["base_priority"])
        master_prio.add_metric(labels, inst["master_priority"])
        wanted.add_metric(labels, states.get(inst.get("wantstate", ""), -1))
        if inst.get("last_transition") is not None:
            since.add_metric(labels, inst["last_transition"])
        for reason in DROP_REASONS:
            if reason in stats:
                drops.add_metric([*labels, reason], stats[reason])
        faults.add_metric(labels, inst.get("faults", 0))
    out: list[Metric] = [state, excluded, *counters.values(), garp, prio, base, master_prio, since,
                         wanted, drops, faults]
    out += _tracker_families(vrrp.get("trackers") or {})
    out += _socket_families(vrrp.get("sockets") or {})
    out += _lateness_families(vrrp.get("lateness") or {})
    return out


def _lateness_families(lateness: Mapping[str, Any]) -> list[Metric]:
    """The vrrp child's send lateness (vrrp/lateness.py, issue 16): seconds from a
    deadline to the advert it sent, kind advert (MASTER) or master_down (BACKUP expiry)."""
    hist = HistogramMetricFamily("keepalived_vrrp_send_lateness_seconds",
                                 "Seconds from an advert's deadline to its send", labels=["kind"])
    for kind, h in sorted(lateness.items()):
        run, buckets = 0, []
        for le, n in zip([*h["bounds"], "+Inf"], h["counts"], strict=True):
            run += n
            buckets.append((le if isinstance(le, str) else repr(float(le)), run))
        hist.add_metric([kind], buckets, sum_value=h["sum"])
    return [hist] if lateness else []


def _tracker_families(trackers: Mapping[str, Any]) -> list[Metric]:
    status = GaugeMetricFamily("keepalived_script_status", "Tracker Script Status", labels=["name"])
    state = GaugeMetricFamily("keepalived_script_state", "Tracker Script State", labels=["name"])
    result = GaugeMetricFamily("keepalived_vrrp_script_result",
                               "vrrp_script result counter (rise/fall arithmetic)", labels=["name"])
    for name, s in sorted((trackers.get("scripts") or {}).items()):
        if s.get("status") in SCRIPT_STATUS:
            status.add_metric([name], SCRIPT_STATUS[s["status"]])
        if s.get("state") in SCRIPT_STATE:
            state.add_metric([name], SCRIPT_STATE[s["state"]])
        if isinstance(s.get("result"), int):
            result.add_metric([name], s["result"])
    files = GaugeMetricFamily("keepalived_vrrp_track_file_value", "Value read from a vrrp_track_file",
                              labels=["name", "path"])
    for name, f in sorted((trackers.get("files") or {}).items()):
        if isinstance(f.get("value"), int):
            files.add_metric([name, str(f.get("path", ""))], f["value"])
    procs = GaugeMetricFamily("keepalived_vrrp_track_process_quorum",
                              "1 while a vrrp_track_process has its quorum", labels=["name"])
    for name, p in sorted((trackers.get("processes") or {}).items()):
        if p.get("have_quorum") is not None:
            procs.add_metric([name], 1 if p["have_quorum"] else 0)
    return [status, state, result, files, procs]


def _socket_families(sockets: Mapping[str, Any]) -> list[Metric]:
    rx = CounterMetricFamily("keepalived_vrrp_socket_received", "VRRP datagrams read from the sockets")
    rx.add_metric([], sockets.get("rx_total", 0))
    drops = CounterMetricFamily("keepalived_vrrp_socket_dropped",
                                "Datagrams no instance saw, by reason", labels=["reason"])
    drops.add_metric(["too_short"], sockets.get("rx_too_short", 0))
    drops.add_metric(["unknown_vrid"], sockets.get("rx_unknown_vrid", 0))
    errors = CounterMetricFamily("keepalived_vrrp_errors", "Send and netlink errors", labels=["kind"])
    errors.add_metric(["send"], sockets.get("tx_errors", 0))
    errors.add_metric(["netlink"], sockets.get("netlink_errors", 0))
    return [rx, drops, errors]


def _parent_families(parent: Mapping[str, Any]) -> list[Metric]:
    respawns = CounterMetricFamily("keepalived_daemon_child_respawns",
                                   "Times a child process was started again after it died", labels=["role"])
    up = GaugeMetricFamily("keepalived_daemon_child_up", "1 while the child process runs", labels=["role"])
    for role, c in sorted((parent.get("children") or {}).items()):
        respawns.add_metric([role], c.get("respawns", 0))
        up.add_metric([role], 1 if c.get("alive") else 0)
    reloads = CounterMetricFamily("keepalived_daemon_reloads", "Reloads applied (HUP)")
    reloads.add_metric([], parent.get("reloads", 0))
    failed = CounterMetricFamily("keepalived_daemon_reload_failures",
                                 "Reloads refused (the running configuration was kept)")
    failed.add_metric([], parent.get("reload_failures", 0))
    info = GaugeMetricFamily("keepalived_daemon_config_info", "The running configuration",
                             labels=["file", "sha256"])
    if parent.get("config_hash"):
        info.add_metric([str(parent.get("config_file", "")), parent["config_hash"]], 1)
    return [respawns, up, reloads, failed, info]


def families(view: Mapping[str, Any]) -> list[Metric]:
    """Metric families for `view` = {"vrrp": vrrp_view or None (no answer), "check":
    observe/check.py's check_view or None, "parent": ...}."""
    vrrp = view.get("vrrp")
    up = GaugeMetricFamily("keepalived_up", "Status")
    # keepalived-exporter: 1 when the daemon's data could be read; a check-only (LVS) daemon
    # has no vrrp child, so either child's answer counts
    up.add_metric([], 1 if vrrp is not None or view.get("check") is not None else 0)
    out: list[Metric] = [up]
    if vrrp is not None:
        out += _vrrp_families(vrrp)
    out += check_families(view.get("check"))
    out += _parent_families(view.get("parent") or {})
    return out


class _Once:
    """A prometheus_client collector that yields fixed families (one scrape's worth)."""

    def __init__(self, items: Iterable[Metric]) -> None:
        self._items = list(items)

    def collect(self) -> Iterable[Metric]:
        return iter(self._items)


def exposition(view: Mapping[str, Any]) -> bytes:
    """The text exposition (prometheus_client's writer) for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Once(families(view)))
    return generate_latest(registry)
