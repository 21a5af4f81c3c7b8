"""Prometheus families for the check child's part of the view (observe/check.py).

No exporter reads keepalived's checker state (keepalived writes it only to
keepalived_check.data), so these names are ours, in the exporter's style:

- keepalived_check_real_server_up, _weight (effective), _configured_weight,
  _failed_checkers, _in_ipvs {virtual_server, real_server} (keepalived's FMT_VS / FMT_RS
  labels, "[192.0.2.1]:tcp:80");
- keepalived_check_latency_seconds {virtual_server, real_server, checker}: a summary (count
  and sum of every probe's duration) and keepalived_check_last_latency_seconds, the last one;
- keepalived_check_virtual_server_quorum_up / _weight_sum {virtual_server};
- keepalived_check_ipvs_reconciles_total / keepalived_check_ipvs_failures_total;
- the IPVS counters as `ipvsadm -L --stats` shows them, {service[, destination]} labelled
  with the table's own key text ("TCP 192.0.2.1:80", "198.51.100.10:80"):
  keepalived_ipvs_service_connections_total, _packets_total / _bytes_total {direction=in|out},
  keepalived_ipvs_destination_connections_total, _packets_total, _bytes_total,
  keepalived_ipvs_destination_active_connections / _inactive_connections.

Pure: the view goes in, metric families come out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

__all__ = ["check_families"]

RS = ["virtual_server", "real_server"]


def _real_server_families(check: Mapping[str, Any]) -> list[Metric]:
    up = GaugeMetricFamily("keepalived_check_real_server_up", "1 while the real server is alive (its checkers pass)",
                           labels=RS)
    weight = GaugeMetricFamily("keepalived_check_real_server_weight",
                               "Effective weight (configured weight plus dynamic changes)", labels=RS)
    configured = GaugeMetricFamily("keepalived_check_real_server_configured_weight", "Configured weight",
                                   labels=RS)
    failed = GaugeMetricFamily("keepalived_check_real_server_failed_checkers", "Checkers currently failing",
                               labels=RS)
    in_ipvs = GaugeMetricFamily("keepalived_check_real_server_in_ipvs",
                                "1 while the real server is a destination in the IPVS table", labels=RS)
    latency = SummaryMetricFamily("keepalived_check_latency_seconds", "Duration of the health checks",
                                  labels=[*RS, "checker"])
    last = GaugeMetricFamily("keepalived_check_last_latency_seconds", "Duration of the last health check",
                             labels=[*RS, "checker"])
    quorum = GaugeMetricFamily("keepalived_check_virtual_server_quorum_up", "1 while the quorum is met",
                               labels=["virtual_server"])
    weight_sum = GaugeMetricFamily("keepalived_check_virtual_server_weight_sum",
                                   "Sum of the live real servers' weights (what the quorum is judged on)",
                                   labels=["virtual_server"])
    for vs in check.get("virtual_servers", []):
        quorum.add_metric([vs["name"]], 1 if vs.get("quorum_up") else 0)
        weight_sum.add_metric([vs["name"]], vs.get("weight_sum", 0))
        for rs in vs.get("real_servers", []):
            labels = [vs["name"], rs["name"]]
            up.add_metric(labels, 1 if rs.get("alive") else 0)
            weight.add_metric(labels, rs.get("weight") or 0)
            configured.add_metric(labels, rs.get("configured_weight") or 0)
            failed.add_metric(labels, rs.get("failed_checkers", 0))
            in_ipvs.add_metric(labels, 1 if rs.get("in_table") else 0)
            seen: dict[str, int] = {}
            for c in rs.get("checkers", []):
                seen[c["kind"]] = seen.get(c["kind"], 0) + 1
                name = c["kind"] if seen[c["kind"]] == 1 else f"{c['kind']}#{seen[c['kind']]}"
                latency.add_metric([*labels, name], c.get("probes", 0), c.get("latency_sum", 0.0))
                if c.get("latency") is not None:
                    last.add_metric([*labels, name], c["latency"])
    return [up, weight, configured, failed, in_ipvs, latency, last, quorum, weight_sum]


def _ipvs_families(records: list[Mapping[str, Any]]) -> list[Metric]:
    svc = ["service"]
    dst = ["service", "destination"]
    s_conns = CounterMetricFamily("keepalived_ipvs_service_connections", "Connections scheduled (IPVS)",
                                  labels=svc)
    s_pkts = CounterMetricFamily("keepalived_ipvs_service_packets", "Packets (IPVS)", labels=[*svc, "direction"])
    s_bytes = CounterMetricFamily("keepalived_ipvs_service_bytes", "Bytes (IPVS)", labels=[*svc, "direction"])
    d_conns = CounterMetricFamily("keepalived_ipvs_destination_connections", "Connections scheduled (IPVS)",
                                  labels=dst)
    d_pkts = CounterMetricFamily("keepalived_ipvs_destination_packets", "Packets (IPVS)",
                                 labels=[*dst, "direction"])
    d_bytes = CounterMetricFamily("keepalived_ipvs_destination_bytes", "Bytes (IPVS)", labels=[*dst, "direction"])
    active = GaugeMetricFamily("keepalived_ipvs_destination_active_connections", "Active connections (IPVS)",
                               labels=dst)
    inactive = GaugeMetricFamily("keepalived_ipvs_destination_inactive_connections",
                                 "Inactive connections (IPVS)", labels=dst)
    for r in records:
        s = [r["service"]]
        s_conns.add_metric(s, r.get("conns", 0))
        for direction in ("in", "out"):
            s_pkts.add_metric([*s, direction], r.get(f"{direction}pkts", 0))
            s_bytes.add_metric([*s, direction], r.get(f"{direction}bytes", 0))
        for d in r.get("destinations", []):
            labels = [*s, d["destination"]]
            d_conns.add_metric(labels, d.get("conns", 0))
            for direction in ("in", "out"):
                d_pkts.add_metric([*labels, direction], d.get(f"{direction}pkts", 0))
                d_bytes.add_metric([*labels, direction], d.get(f"{direction}bytes", 0))
            active.add_metric(labels, d.get("active", 0))
            inactive.add_metric(labels, d.get("inactive", 0))
    return [s_conns, s_pkts, s_bytes, d_conns, d_pkts, d_bytes, active, inactive]


def check_families(check: Mapping[str, Any] | None) -> list[Metric]:
    """The families for a check child's view; none when it did not answer."""
    if check is None:
        return []
    reconciles = CounterMetricFamily("keepalived_check_ipvs_reconciles", "IPVS table reconciliations")
    reconciles.add_metric([], check.get("reconciles", 0))
    failures = CounterMetricFamily("keepalived_check_ipvs_failures", "IPVS operations the backend refused")
    failures.add_metric([], check.get("ipvs_failures", 0))
    return [*_real_server_families(check), reconciles, failures, *_ipvs_families(check.get("ipvs") or [])]
