"""The bench's judging and reporting (conformance/bench/targets.py, report.py, selection.py):
the verdict arithmetic, which rows carry which issue's target, the table and header the
README receives, and `--only`'s case selection. Pure: no root, no lab, no timing."""

from __future__ import annotations

import json

import pytest

from conformance.bench import dataplane, report, selection
from conformance.bench.stats import Metric
from conformance.bench.targets import Target, judge, row_verdict, target_for

LE_MS = Target(16, "<=", 100.0)


def test_upper_bound_met_and_missed_by_difference_or_factor():
    assert judge(LE_MS, 100.0, None, "ms") == "met"
    assert judge(LE_MS, 99.0, None, "ms") == "met"
    # within 2x of the limit: said as the difference, in the row's unit
    assert judge(LE_MS, 150.0, None, "ms") == "missed by 50.0 ms"
    assert judge(Target(16, "<=", 1.0), 1.6, None, "ms over bound") == "missed by 0.600 ms"
    # 2x or more: as a factor
    assert judge(LE_MS, 450.0, None, "ms") == "missed by 4.5x"
    assert judge(LE_MS, 200.0, None, "ms") == "missed by 2.0x"
    assert judge(Target(16, "<=", 0.5), 972.0, None, "ms") == "missed by 1,944x"


def test_a_zero_limit_is_missed_by_the_difference():
    t = Target(16, "<=", 0.0, stat="max")
    assert judge(t, 0.0, None, "events") == "met"
    assert judge(t, 3.0, None, "events") == "missed by 3.00 events"


def test_lower_bound():
    t = Target(14, ">=", 5000.0)
    assert judge(t, 5000.0, None, "per s") == "met"
    assert judge(t, 4343.0, None, "per s") == "missed by 657 per s"
    assert judge(t, 1000.0, None, "per s") == "missed by 5.0x"
    assert judge(t, 0.0, None, "per s") == "missed by 5,000 per s"


def test_ratio_targets_are_factors_of_the_limit():
    cpu = Target(16, "<=", 1.0, of_ratio=True)
    assert judge(cpu, 1.1, 1.1, "% of a core") == "met"
    assert judge(cpu, 4.7, 1.12, "% of a core") == "missed by 4.2x"
    assert judge(Target(14, "<=", 2.0, of_ratio=True), 7890, 738, "CPU ms") == "missed by 5.3x"
    half = Target(18, ">=", 0.5, of_ratio=True)
    assert judge(half, 62.0, 100.0, "per s") == "met"
    assert judge(half, 20.0, 100.0, "per s") == "missed by 2.5x"
    assert judge(half, 1807.0, 3732.0, "per s") == "missed by 1.03x"
    assert judge(cpu, 1.3, 1.0, "% of a core") == "missed by 1.30x"
    assert judge(half, 0.0, 100.0, "per s") == "missed by ∞"
    # no reference number: nothing to judge
    assert judge(cpu, 4.7, None, "% of a core") == "not measured"
    assert judge(cpu, 4.7, 0.0, "% of a core") == "not measured"


def test_missing_values_and_rows_without_a_target():
    assert judge(LE_MS, None, None, "ms") == "not measured"
    assert judge(None, 5.0, 1.0, "ms") == "no target"


@pytest.mark.parametrize(("case", "issue", "op", "limit"), [
    ("launch -> BACKUP state (one instance)", 16, "<=", 100.0),
    ("SIGTERM -> VIP gone (one instance)", 16, "<=", 2.0),
    ("`-t` on 14 lines: time", 16, "<=", 50.0),
    ("`-t` on 80,003 lines: time", 16, "<=", 600.0),
    ("`-t` on 114,000 lines: peak RSS", 16, "<=", 64.0),
    ("failover kill -9, v3 advert 0.1 s, IPv6", 16, "<=", 1.0),
    ("advert interval deviation p50, 1 instance", 16, "<=", 0.1),
    ("advert interval deviation p99, 255 instances", 16, "<=", 0.5),
    ("advert send lateness p99 (vrrp child's histogram), 255 instances", 16, "<=", 0.5),
    ("CPU, 255 instances", 16, "<=", 1.0),
    ("PSS summed, 1 instance", 16, "<=", 48.0),
    ("PSS summed, 255 instances", 16, "<=", 64.0),
    ("reload of 1 instance among 255: other VIPs' address events", 16, "<=", 0.0),
    ("TCP_CHECK, 5,000 listeners, delay_loop 1 (host): checks", 14, ">=", 4990.0),
    ("TCP_CHECK, 5,000 listeners, delay_loop 20 (guest): daemon CPU per 1,000 checks", 14, "<=", 2.0),
    ("BFD detection, 50 ms x 3, kill -9 of the peer: last peer packet -> Down/diag 1, p99", 17, "<=", 200.0),
    ("BFD detection, 50 ms x 3, kill -9 of the peer: last peer packet -> Down/diag 1", 17, "<=", 200.0),
    (f"{dataplane.ROW_PREFIX}: new connections", 18, ">=", 0.5),
    (f"{dataplane.ROW_PREFIX}: large streams", 18, ">=", 0.5),
])
def test_rows_carry_their_issues_target(case, issue, op, limit):
    t = target_for(case)
    assert t is not None and (t.issue, t.op, t.limit) == (issue, op, limit)


@pytest.mark.parametrize("case", [
    "`-t` on 14 lines: peak RSS", "CPU, 50 instances", "PSS summed, 50 instances",
    "advert send lateness p50 (vrrp child's histogram), 1 instance",
    "reload of 1 instance among 255: SIGHUP -> new VIP",
    "TCP_CHECK, 5,000 listeners, delay_loop 1 (guest): checks",
    "TCP_CHECK, 5,000 listeners (guest): daemon CPU per 1,000 checks",
    "program 1,000 services x 10 real servers (guest): launch -> table",
    f"{dataplane.ROW_PREFIX}: new connections per CPU second of the balancer",
    "`ip netns exec /bin/true` (included in launch)",
])
def test_rows_without_a_target(case):
    assert target_for(case) is None


def _metric(case, unit, scale, theirs, ours) -> Metric:
    return Metric(case, unit, scale, {"keepalived": list(theirs), "keepalived-py": list(ours)})


def test_bfd_every_kill_counts_on_the_all_samples_row_only():
    assert target_for("BFD detection, 50 ms x 3, kill -9 of the peer: last peer packet -> Down/diag 1").stat == "max"
    assert target_for("BFD detection, 50 ms x 3, kill -9 of the peer: last peer packet -> Down/diag 1, p50").stat \
        == "median"


def test_row_verdict_uses_the_median_or_every_sample():
    m = _metric("launch -> BACKUP state (one instance)", "ms", 1000.0, [0.01], [0.45, 0.5, 0.56])
    assert row_verdict(m) == ("≤ 100 ms (#16)", "missed by 5.0x")
    assert row_verdict(_metric("failover kill -9, v2 advert 1 s, IPv4", "ms over bound", 1000.0, [0.001],
                               [0.0044]))[0] == "≤ 1 ms (#16)"
    # every sample must be 0: one moved VIP in any repetition is a miss
    ev = _metric("reload of 1 instance among 255: other VIPs' address events", "events", 1.0, [0], [0, 0, 1])
    assert row_verdict(ev)[1] == "missed by 1.00 events"
    cpu = _metric("CPU, 255 instances", "% of a core", 100.0, [0.0112], [0.047])
    assert row_verdict(cpu) == ("≤ 1x keepalived's (#16)", "missed by 4.2x")
    none = _metric("CPU, 255 instances", "% of a core", 100.0, [0.0112], [])
    assert row_verdict(none)[1] == "not measured"


FACTS = report.RunFacts(commit="abc1234", date="2026-12-02 12:20 UTC", host="vm", cpus=2, plan="full",
                        keepalived="Keepalived v2.2.7", minutes=16.5, load_start=(0.5, 0.4, 0.3),
                        load_end=(2.25, 1.5, 1.0), case_seconds={"launch": 40.0, "check-guest": 450.0})


def test_markdown_header_table_and_tally():
    rows = [_metric("CPU, 255 instances", "% of a core", 100.0, [0.011], [0.047]),
            _metric("launch -> BACKUP state (one instance)", "ms", 1000.0, [0.01, 0.012], [0.09, 0.095]),
            _metric("CPU, 50 instances", "% of a core", 100.0, [0.004], []),
            Metric("PSS summed, 50 instances", "MiB", 1.0, {"keepalived-py": [60.0]})]
    md = report.markdown(FACTS, rows)
    head, _, rest = md.partition("\n\n")
    for fact in ("commit abc1234", "2026-12-02 12:20 UTC", "16.5 min", "launch 40 s", "check-guest 7.5 min",
                 "0.50 / 0.40 / 0.30 at the start", "2.25 / 1.50 / 1.00 at the end", "Keepalived v2.2.7"):
        assert fact in head
    lines = rest.splitlines()
    assert lines[0].endswith("| target | verdict |") and lines[1] == "|---|---|---|---|---|---|---|"
    # grouped by kind: launch before CPU, whatever the order measured
    assert lines[2].startswith("| launch -> BACKUP state (one instance) | ms | 10.0 / **11.0** / 12.0 | "
                               "90.0 / **92.5** / 95.0 | 8.41x | ≤ 100 ms (#16) | met |")
    assert lines[3].endswith("| ≤ 1x keepalived's (#16) | missed by 4.3x |")
    # a case that ran and gave no number failed; an implementation that was never run says so
    assert lines[4] == "| CPU, 50 instances | % of a core | 0.400 | failed | - | - | no target |"
    assert lines[5] == "| PSS summed, 50 instances | MiB | not run | 60.0 | - | - | no target |"
    assert all(ln.count("|") == 8 for ln in lines[:6])
    assert "Targets: 1 met, 1 missed, 0 not measured; 2 rows without a target." in md


def test_failed_cases_are_listed_and_json_carries_the_same():
    f = report.RunFacts(**{**FACTS.__dict__, "errors": ["bfd: TimeoutError: no Down\ntraceback..."],
                           "profiles": ["profile-X/py-spy-t-large.top", "profile-X/py-spy-t-large.txt"]})
    rows = [_metric("PSS summed, 1 instance", "MiB", 1 / 2**20, [3 * 2**20], [57 * 2**20])]
    md = report.markdown(f, rows)
    assert "`profile-X/py-spy-t-large.top`, `profile-X/py-spy-t-large.txt`" in md
    assert "1 case(s) failed" in md and "- bfd: TimeoutError: no Down\n" in md and "traceback" not in md
    doc = json.loads(json.dumps(report.as_json(f, rows), default=str))
    (row,) = doc["metrics"]
    assert row["target"] == "≤ 48 MiB (#16)" and row["verdict"] == "missed by 9.00 MiB"
    assert row["impls"]["keepalived-py"]["median"] == 57.0
    assert doc["facts"]["commit"] == "abc1234" and doc["facts"]["case_seconds"]["check-guest"] == 450.0


def test_dataplane_results_become_rows_with_haproxy_as_reference():
    metrics: dict = {}
    results = {dataplane.OURS_NAME: {"conn/s": [3000.0, 0.8], "small req/s": [20000.0, 1.0], "large MB/s": [500.0, 0.2]},
               dataplane.HAPROXY_NAME: {"conn/s": [4000.0, 0.5], "small req/s": [18000.0, 0.6],
                                        "large MB/s": [400.0, 0.1]}}
    dataplane.add_metrics(results, 2.0, metrics)
    conn = metrics[f"{dataplane.ROW_PREFIX}: new connections"]
    assert conn.values == {"keepalived-py": [3000.0], "keepalived": [4000.0]}
    assert row_verdict(conn) == ("≥ 0.5x HAProxy's (#18)", "met")  # 75% of HAProxy's
    per_cpu = metrics[f"{dataplane.ROW_PREFIX}: new connections per CPU second of the balancer"]
    assert per_cpu.values == {"keepalived-py": [7500.0], "keepalived": [16000.0]}
    assert len(metrics) == 6


def test_select_all_in_run_order_and_only():
    assert selection.select(None) == list(selection.NAMES)
    assert selection.select("bfd,launch") == ["launch", "bfd"]
    assert selection.select(" check , t ") == ["config-test", "check-host", "check-guest"]
    assert selection.select("vrrp", exclude=["steady"]) == ["launch", "config-test", "failover"]
    assert selection.select(None, exclude=selection.ALIASES["check"])[-1] == "dataplane"
    with pytest.raises(ValueError, match="unknown bench case 'flood'.*launch"):
        selection.select("launch,flood")


def test_every_case_has_a_runner_entry():
    from conformance.bench import runner

    assert tuple(runner.CASE_FUNCS) == selection.NAMES
    # the quick plan leaves the long cases out unless --only names them
    assert set(runner.QUICK.skip) == {"dataplane", "check-host", "check-guest"} and not runner.FULL.skip
