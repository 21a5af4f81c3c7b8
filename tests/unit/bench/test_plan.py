"""The full bench plan measures what issue 16 asks for (its scope's `make bench` list), and the
quick one stays a subset: a trimmed repetition count must not silently drop a configuration."""

from __future__ import annotations

from conformance.bench import runner, selection


def test_full_plan_covers_the_issues_configurations():
    p = runner.FULL
    # failover: v2 advert 1 s and v3 advert 0.1 s, IPv4 and IPv6
    assert {(a, v) for a, v, _ in p.failover_configs} == {(1.0, 2), (0.1, 3)}
    assert {f for _, _, fams in p.failover_configs for f in fams} == {4, 6}
    # advert interval deviation, CPU and PSS at 1, 50 and 255 instances (the reload among the largest)
    assert p.sizes == (1, 50, 255)
    # min / median / max need more than one sample where the table shows them
    assert min(p.failover_reps, p.launch_reps, p.steady_reps, p.check_reps, p.dataplane_reps,
               p.check_host_reps) >= 2
    assert p.bfd_reps >= 20  # a p99 over fewer kills would be the max of a handful
    assert selection.select(None, p.skip) == list(selection.NAMES)


def test_quick_plan_is_a_subset_of_the_full_one():
    q, f = runner.QUICK, runner.FULL
    assert set(q.failover_configs) <= set(f.failover_configs) and set(q.sizes) <= set(f.sizes)
    assert q.window <= f.window and q.bfd_reps <= f.bfd_reps and q.launch_reps <= f.launch_reps
    assert selection.select(None, q.skip) == ["launch", "config-test", "failover", "bfd", "steady"]


def test_only_overrides_the_quick_plans_skips(monkeypatch):
    seen = {}

    def fake_run(plan, out, profile, cases):
        seen.update(plan=plan.name, cases=cases, profile=profile)
        return 0

    monkeypatch.setattr(runner, "run", fake_run)
    assert runner.main(["--quick", "--only", "check-host", "--no-profile"]) == 0
    assert seen == {"plan": "quick", "cases": ["check-host"], "profile": False}
    assert runner.main(["--no-checker", "--no-dataplane"]) == 0
    assert seen["plan"] == "full" and seen["cases"] == ["launch", "config-test", "failover", "bfd", "steady"]
