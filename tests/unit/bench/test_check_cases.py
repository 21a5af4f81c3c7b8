"""The check bench's generated configurations say what its rows claim: 5,000 TCP_CHECKed real
servers at delay_loop 1 on the listeners' ports, and 1,000 x 10 destinations without checkers,
both read by keepalived-py's loader without a diagnostic (keepalived reads the same text in the
guest)."""

from __future__ import annotations

from conformance.bench import check_cases
from keepalived_py.config.loader import load_text

KINDS = ("http_get", "ssl_get", "tcp_check", "smtp_check", "dns_check", "misc_check", "bfd_check", "udp_check",
         "ping_check", "file_check")


def _checkers(rs) -> list:
    return [c for kind in KINDS for c in getattr(rs, kind)]


def test_checks_config_is_5000_tcp_checks_at_delay_loop_1() -> None:
    r = load_text(check_cases.checks_config())
    assert r.diagnostics == []
    vss = r.config.virtual_server
    reals = [rs for vs in vss for rs in vs.real_server]
    assert len(reals) == check_cases.LISTENERS == 5000
    assert {vs.delay_loop for vs in vss} == {1}
    assert sorted(rs.port for rs in reals) == list(range(check_cases.BASE_PORT, check_cases.BASE_PORT + 5000))
    assert all(len(_checkers(rs)) == 1 and len(rs.tcp_check) == 1 for rs in reals)


def test_same_work_config_differs_only_in_its_delay_loop() -> None:
    """The guest's same-work case: the same 5,000 checkers at delay_loop 20 (250 checks/s)."""
    same = check_cases.checks_config(delay_loop=check_cases.SAME_DELAY_LOOP)
    r = load_text(same)
    assert r.diagnostics == [] and {vs.delay_loop for vs in r.config.virtual_server} == {20}
    assert same.replace("delay_loop 20\n", "delay_loop 1\n") == check_cases.checks_config()


def test_rows_are_named_by_their_delay_loop() -> None:
    """delay_loop 1 rows keep their names (earlier results compare); the same-work rows say
    delay_loop 20 in every name, so the target finds its row."""
    from conformance.bench.targets import target_for
    metrics: dict = {}
    for dl in (1, 20):
        check_cases._record(metrics, "guest", {"impl": "keepalived", "part": "checks", "delay_loop": dl,
                                               "checks_per_s": 500.0, "cpu": 0.4, "removed": 0, "listener_cpu": 0.2,
                                               "pss_kib": 12000}, lambda m: None)
    names = sorted(metrics)
    assert "TCP_CHECK, 5,000 listeners (guest): daemon CPU per 1,000 checks" in names
    assert "TCP_CHECK, 5,000 listeners, delay_loop 20 (guest): daemon CPU per 1,000 checks" in names
    assert len(names) == 12 and sum("delay_loop 20" in n for n in names) == 6
    assert target_for("TCP_CHECK, 5,000 listeners, delay_loop 20 (guest): daemon CPU per 1,000 checks") is not None
    assert metrics["TCP_CHECK, 5,000 listeners, delay_loop 20 (guest): daemon CPU per 1,000 checks"].values == {
        "keepalived": [0.4 / 500.0]}


def test_program_config_is_1000_by_10_without_checkers() -> None:
    r = load_text(check_cases.program_config())
    assert r.diagnostics == []
    vss = r.config.virtual_server
    assert len({(vs.target.address, vs.target.port) for vs in vss}) == len(vss) == 1000
    assert all(len(vs.real_server) == 10 and not any(_checkers(rs) for rs in vs.real_server) for vs in vss)
