"""The runtime's lateness histograms reach the metrics endpoint as a Prometheus histogram
(cumulative buckets, +Inf, sum, count), parsed back with prometheus_client's parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from keepalived_py.observe.metrics import exposition
from keepalived_py.observe.status import vrrp_view
from keepalived_py.vrrp.lateness import LatenessHistogram
from keepalived_py.vrrpd.runtime import VrrpRuntime


class _Holder:
    """Just what VrrpRuntime.lateness_views reads."""

    def __init__(self) -> None:
        self.lateness_advert = LatenessHistogram()
        self.lateness_master_down = LatenessHistogram()


def test_histogram_on_the_metrics_endpoint():
    h = _Holder()
    for v in (0.00004, 0.00004, 0.0004, 2.0):
        h.lateness_advert.observe(v)
    h.lateness_master_down.observe(0.003)
    view = vrrp_view([], 0.0)
    view["lateness"] = VrrpRuntime.lateness_views(h)
    text = exposition({"vrrp": view}).decode()
    samples = {}
    for fam in text_string_to_metric_families(text):
        if fam.name == "keepalived_vrrp_send_lateness_seconds":
            assert fam.type == "histogram"
            for s in fam.samples:
                samples[(s.name, s.labels.get("kind"), s.labels.get("le"))] = s.value
    name = "keepalived_vrrp_send_lateness_seconds"
    assert samples[(f"{name}_bucket", "advert", "5e-05")] == 2
    assert samples[(f"{name}_bucket", "advert", "0.0005")] == 3
    assert samples[(f"{name}_bucket", "advert", "1.0")] == 3
    assert samples[(f"{name}_bucket", "advert", "+Inf")] == 4
    assert samples[(f"{name}_count", "advert", None)] == 4
    assert abs(samples[(f"{name}_sum", "advert", None)] - 2.00048) < 1e-9
    assert samples[(f"{name}_count", "master_down", None)] == 1
    assert samples[(f"{name}_bucket", "master_down", "0.002")] == 0
    assert samples[(f"{name}_bucket", "master_down", "0.003")] == 1
