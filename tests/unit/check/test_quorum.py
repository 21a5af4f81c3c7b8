"""Virtual server pool and quorum as keepalived 2.2.7's ipwrapper.c keeps them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.check.hysteresis import Verdict
from keepalived_py.check.quorum import (
    DestChanged,
    Log,
    NotifyRs,
    NotifyVs,
    Pool,
    QuorumChanged,
    RsConfig,
    SmtpAlert,
    VsConfig,
    effective_quorum,
    real_weight,
)

VS = "[192.0.2.1]:tcp:80"
DOWN = Verdict(up=False, was_up=True, first=False, alert="=> TCP CHECK failed on service <=")
UP = Verdict(up=True, was_up=False, first=False, alert="=> TCP CHECK succeed on service <=")


def rs(n: int, weight: int = 1, inhibit: bool = False, checkers=("c",), smtp_alert=False) -> RsConfig:
    return RsConfig(key=(f"192.0.2.{n}", 80), label=f"[192.0.2.{n}]:tcp:80", weight=weight,
                    inhibit=inhibit, checkers=checkers, smtp_alert=smtp_alert)


def logs(decisions) -> list[str]:
    return [d.text for d in decisions if isinstance(d, Log)]


def k(n):
    return (f"192.0.2.{n}", 80)


def test_start_adds_servers_and_gains_quorum():
    pool = Pool([VsConfig("vs", VS, (rs(10), rs(11)), quorum=2)])
    out = pool.start()
    assert logs(out) == [f"Gained quorum 2+0=2 <= 2 for VS {VS}"]
    assert pool.destinations("vs") == {k(10): 1, k(11): 1}
    assert {d for d in out if isinstance(d, DestChanged)} == {DestChanged("vs", k(10), 1), DestChanged("vs", k(11), 1)}
    assert NotifyVs("vs", True, False, f"VS {VS} UP\n") in out


def test_server_down_and_up_logs_and_notifies():
    pool = Pool([VsConfig("vs", VS, (rs(10), rs(11)))])
    pool.start()
    out = pool.checker("vs", k(10), "c", DOWN)
    assert logs(out) == [f"Removing service [192.0.2.10]:tcp:80 from VS {VS}"]
    assert NotifyRs("vs", k(10), False, False, f"RS [192.0.2.10]:tcp:80 {VS} DOWN\n") in out
    assert DestChanged("vs", k(10), None) in out
    out = pool.checker("vs", k(10), "c", UP)
    assert logs(out) == [f"Adding service [192.0.2.10]:tcp:80 to VS {VS}"]
    assert pool.destinations("vs") == {k(10): 1, k(11): 1}


def test_inhibit_on_failure_keeps_weight_zero():
    pool = Pool([VsConfig("vs", VS, (rs(10, weight=3, inhibit=True),))])
    pool.start()
    out = pool.checker("vs", k(10), "c", DOWN)
    assert logs(out)[0] == f"Disabling service [192.0.2.10]:tcp:80 of VS {VS}"
    assert pool.destinations("vs") == {k(10): 0}
    out = pool.checker("vs", k(10), "c", UP)
    assert logs(out)[0] == f"Enabling service [192.0.2.10]:tcp:80 of VS {VS}"
    assert pool.destinations("vs") == {k(10): 3}


def test_alpha_server_starts_out_of_the_pool_or_inhibited():
    pool = Pool([VsConfig("vs", VS, (rs(10), rs(11, inhibit=True)))])
    pool.start({("vs", k(10)): {"c"}, ("vs", k(11)): {"c"}})
    assert pool.destinations("vs") == {k(11): 0}
    assert not pool.quorum_up("vs")
    out = pool.checker("vs", k(10), "c", Verdict(up=True, was_up=False, first=True))
    assert logs(out) == [f"Adding service [192.0.2.10]:tcp:80 to VS {VS}", f"Gained quorum 1+0=1 <= 1 for VS {VS}"]


def test_first_result_that_confirms_state_notifies_in_alpha_or_down():
    pool = Pool([VsConfig("vs", VS, (rs(10),))])
    pool.start({("vs", k(10)): {"c"}})
    out = pool.checker("vs", k(10), "c", Verdict(up=False, was_up=False, first=True), alpha=True)
    assert [d for d in out if isinstance(d, NotifyRs)] == [NotifyRs("vs", k(10), False, False,
                                                                    f"RS [192.0.2.10]:tcp:80 {VS} DOWN\n")]


def test_all_checkers_must_be_up():
    pool = Pool([VsConfig("vs", VS, (rs(10, checkers=("a", "b")),))])
    pool.start()
    pool.checker("vs", k(10), "a", DOWN)
    out = pool.checker("vs", k(10), "b", DOWN)
    assert logs(out) == []                     # already out of the pool
    out = pool.checker("vs", k(10), "a", UP)
    assert logs(out) == [] and not pool.alive("vs", k(10))
    out = pool.checker("vs", k(10), "b", UP)
    assert logs(out)[0].startswith("Adding service") and pool.alive("vs", k(10))


def test_server_without_checkers_is_alive_from_start():
    pool = Pool([VsConfig("vs", VS, (rs(10, checkers=()),))])
    pool.start()
    assert pool.destinations("vs") == {k(10): 1}


def test_sorry_server_replaces_pool_when_quorum_lost():
    sorry = RsConfig(("192.0.2.99", 80), "[192.0.2.99]:tcp:80")
    pool = Pool([VsConfig("vs", VS, (rs(10), rs(11)), quorum=2, sorry=sorry)])
    pool.start()
    out = pool.checker("vs", k(10), "c", DOWN)
    assert logs(out) == [f"Removing service [192.0.2.10]:tcp:80 from VS {VS}",
                         f"Lost quorum 2-0=2 > 1 for VS {VS}",
                         f"Adding sorry server [192.0.2.99]:tcp:80 to VS {VS}",
                         f"Removing alive servers from the pool for VS {VS}"]
    assert pool.destinations("vs") == {("192.0.2.99", 80): 1}
    assert NotifyVs("vs", False, False, f"VS {VS} DOWN\n") in out
    out = pool.checker("vs", k(10), "c", UP)
    assert logs(out) == [f"Adding service [192.0.2.10]:tcp:80 to VS {VS}",
                         f"Gained quorum 2+0=2 <= 2 for VS {VS}",
                         f"Removing sorry server [192.0.2.99]:tcp:80 from VS {VS}",
                         f"Adding alive servers to the pool for VS {VS}"]
    assert pool.destinations("vs") == {k(10): 1, k(11): 1}


def test_sorry_server_inhibit_is_there_with_weight_zero():
    sorry = RsConfig(("192.0.2.99", 80), "[192.0.2.99]:tcp:80", inhibit=True)
    pool = Pool([VsConfig("vs", VS, (rs(10),), sorry=sorry)])
    pool.start()
    assert pool.destinations("vs") == {k(10): 1, ("192.0.2.99", 80): 0}
    out = pool.checker("vs", k(10), "c", DOWN)
    assert f"Enabling sorry server [192.0.2.99]:tcp:80 to VS {VS}" in logs(out)
    assert pool.destinations("vs") == {("192.0.2.99", 80): 1}
    out = pool.checker("vs", k(10), "c", UP)
    assert f"Disabling sorry server [192.0.2.99]:tcp:80 from VS {VS}" in logs(out)
    assert pool.destinations("vs") == {k(10): 1, ("192.0.2.99", 80): 0}


def test_starting_with_quorum_down_adds_the_sorry_server():
    sorry = RsConfig(("192.0.2.99", 80), "[192.0.2.99]:tcp:80")
    pool = Pool([VsConfig("vs", VS, (rs(10),), sorry=sorry)])
    out = pool.start({("vs", k(10)): {"c"}})
    assert logs(out)[0] == f"Starting with quorum down 1-0=1 > 0 for VS {VS}"
    assert QuorumChanged("vs", False, True, 1, 0) in out
    assert pool.destinations("vs") == {("192.0.2.99", 80): 1}


def test_hysteresis_thresholds():
    servers = tuple(rs(10 + i) for i in range(5))
    pool = Pool([VsConfig("vs", VS, servers, quorum=3, hysteresis=1)])
    pool.start({("vs", k(10)): {"c"}, ("vs", k(11)): {"c"}})
    assert not pool.quorum_up("vs")           # 3 alive, needs 3 + 1
    out = pool.checker("vs", k(10), "c", UP)
    assert f"Gained quorum 3+1=4 <= 4 for VS {VS}" in logs(out)
    pool.checker("vs", k(10), "c", DOWN)      # 3: still up (lost below 3 - 1 = 2)
    assert pool.quorum_up("vs")
    pool.checker("vs", k(12), "c", DOWN)      # 2: still up
    assert pool.quorum_up("vs")
    out = pool.checker("vs", k(13), "c", DOWN)   # 1 < 2: lost
    assert f"Lost quorum 3-1=2 > 1 for VS {VS}" in logs(out)


def test_effective_quorum_is_cut_to_total_weight():
    assert effective_quorum(10, 0, [1, 2]) == (3, 0)
    assert effective_quorum(3, 5, [5]) == (3, 2)
    assert effective_quorum(1, 0, [0]) == (0, 0)


def test_weight_changes():
    pool = Pool([VsConfig("vs", VS, (rs(10, weight=5),))])
    pool.start()
    out = pool.weight("vs", k(10), "m", 3)
    assert logs(out) == [f"Changing weight from 5 to 8 for active service [192.0.2.10]:tcp:80 of VS {VS}"]
    assert DestChanged("vs", k(10), 8) in out
    out = pool.weight("vs", k(10), "m", -100)
    assert pool.destinations("vs") == {k(10): 0}
    assert real_weight(2**40) == 2**31 - 1


def test_smtp_alert_only_when_server_changes_or_emails_allowed():
    pool = Pool([VsConfig("vs", VS, (rs(10, smtp_alert=True, checkers=("a", "b")),))], no_checker_emails=True)
    pool.start()
    out = pool.checker("vs", k(10), "a", DOWN)
    assert SmtpAlert("rs", "vs", k(10), None, "=> TCP CHECK failed on service <=") in out
    out = pool.checker("vs", k(10), "b", DOWN)    # server already down: no mail with no_checker_emails
    assert not [d for d in out if isinstance(d, SmtpAlert)]


def test_stop_removes_everything_and_omega_notifies():
    pool = Pool([VsConfig("vs", VS, (rs(10), rs(11)), omega=True)])
    pool.start()
    out = pool.stop()
    assert logs(out) == [f"Shutting down service [192.0.2.10]:tcp:80 from VS {VS}",
                         f"Shutting down service [192.0.2.11]:tcp:80 from VS {VS}"]
    assert pool.destinations("vs") == {}
    assert NotifyVs("vs", False, True, f"VS {VS} DOWN\n") in out
    assert sum(isinstance(d, NotifyRs) for d in out) == 2
    pool2 = Pool([VsConfig("vs", VS, (rs(10),))])
    pool2.start()
    assert not [d for d in pool2.stop() if isinstance(d, (NotifyRs, NotifyVs))]


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from("ab"), st.booleans(),
                          st.one_of(st.none(), st.integers(-6, 6)), st.booleans()), max_size=80),
       st.booleans(), st.booleans(), st.integers(1, 8), st.integers(0, 3))
def test_table_follows_checker_states(events, inhibit, sorry_on, quorum, hyst):
    """Any sequence of checker verdicts: a real server is in the pool with its weight exactly
    when all its checkers are up (and quorum or no live sorry server); the DestChanged
    decisions replayed give the same table."""
    servers = tuple(rs(10 + i, weight=i + 1, inhibit=inhibit, checkers=("a", "b")) for i in range(4))
    sorry = RsConfig(("192.0.2.99", 80), "sorry") if sorry_on else None
    pool = Pool([VsConfig("vs", VS, servers, quorum=quorum, hysteresis=hyst, sorry=sorry)])
    replay: dict = {}

    def apply(decisions):
        for d in decisions:
            if isinstance(d, DestChanged):
                if d.weight is None:
                    replay.pop(d.rs, None)
                else:
                    replay[d.rs] = d.weight

    apply(pool.start())
    up = {(i, c): True for i in range(4) for c in "ab"}
    offsets = {i: 0 for i in range(4)}
    for i, c, good, offset, quiet in events:
        if offset is not None:
            # a quiet weight change (no log, no quorum check) comes only with its checker
            # going to or from fault in the same step (hysteresis.py's track file steps),
            # whose state change re-checks the quorum; a quiet change on its own leaves it
            # stale by design (keepalived assigns effective_weight without update_svr_wgt)
            quiet = quiet and good != up[(i, c)]
            apply(pool.weight("vs", k(10 + i), "m", offset, quiet=quiet))
            offsets[i] = offset
        was = up[(i, c)]
        apply(pool.checker("vs", k(10 + i), c, Verdict(up=good, was_up=was, first=False)))
        up[(i, c)] = good
        assert replay == pool.destinations("vs")
    q, _ = effective_quorum(quorum, hyst, [1, 2, 3, 4])
    alive = {i for i in range(4) if up[(i, "a")] and up[(i, "b")]}
    assert {i for i in range(4) if pool.alive("vs", k(10 + i))} == alive
    table = pool.destinations("vs")
    sorry_live = sorry_on and ("192.0.2.99", 80) in table
    for i in range(4):
        if i in alive and (pool.quorum_up("vs") or not sorry_live):
            assert table[k(10 + i)] == max(i + 1 + offsets[i], 0)
        elif inhibit:
            assert table[k(10 + i)] == 0
        else:
            assert k(10 + i) not in table
    assert sorry_live == (sorry_on and not pool.quorum_up("vs"))
    if pool.quorum_up("vs"):
        assert pool.weight_sum("vs") > 0 or q == 0
