"""The pure parts: strtol-style track_file values, process matching, quorum with delays."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.config import load_text
from keepalived_py.track.file_watch import parse_value, strtol
from keepalived_py.track.process_watch import ProcessQuorum, ProcessSpec, ProcInfo, read_proc
from keepalived_py.track.script_state import next_run


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("  -12\n", -12), ("+7x", 7), ("0x1f", 31), ("0X1F", 31), ("010", 8), ("09", 0),
    ("0x", 0), ("0xg", 0), ("abc", 0), ("", 0), ("\t\n 42 43", 42), ("-0x10", -16),
])
def test_strtol(text, value):
    assert strtol(text) == (value, False)


def test_strtol_overflow():
    assert strtol("99999999999999999999") == (2 ** 63 - 1, True)
    assert strtol("-99999999999999999999") == (-(2 ** 63), True)


def test_parse_value_range():
    assert parse_value(b"2147483648") == 2147483648  # INT32_MAX + 1 is accepted
    assert parse_value(b"2147483649") is None
    assert parse_value(b"-2147483648") == -2147483648
    assert parse_value(b"-2147483649") is None
    assert parse_value(b"99999999999999999999") is None
    assert parse_value(b" " * 126 + b"7") == 7
    assert parse_value(b" " * 127 + b"7") == 0  # only the first 127 bytes are read
    assert parse_value(b"12\x0034") == 12


def spec(text: str) -> ProcessSpec:
    cfg = load_text(text + "\nvrrp_instance VI_1 {\n interface lo\n virtual_router_id 1\n"
                    " virtual_ipaddress {\n 192.0.2.1\n }\n track_process {\n tp\n }\n}\n").config
    return ProcessSpec.from_model(cfg.vrrp_track_process[0])


def proc(comm: str, *argv: str) -> ProcInfo:
    return ProcInfo(1, comm, b"".join(a.encode() + b"\0" for a in argv))


def test_match_comm():
    s = spec("vrrp_track_process tp {\n process sshd\n}")
    assert not s.full_command and s.param_match is None
    assert s.matches(proc("sshd", "/usr/sbin/sshd", "-D"))
    assert not s.matches(proc("sshd-session", "sshd"))


def test_match_full_command_exact():
    s = spec("vrrp_track_process tp {\n process /usr/bin/python3 -m http.server\n}")
    assert s.full_command and s.param_match == "exact"
    assert s.matches(proc("python3", "/usr/bin/python3", "-m", "http.server"))
    assert not s.matches(proc("python3", "/usr/bin/python3", "-m", "http.server", "80"))
    assert not s.matches(proc("python3", "/usr/bin/python3", "-m"))
    assert not s.matches(proc("python3", "python3", "-m", "http.server"))


def test_match_partial_and_initial():
    s = spec("vrrp_track_process tp {\n process /bin/app -c conf\n param_match partial\n}")
    assert s.matches(proc("app", "/bin/app", "-c", "conf", "-v"))
    assert not s.matches(proc("app", "/bin/app", "-c", "config"))
    s = spec("vrrp_track_process tp {\n process /bin/app -c conf\n param_match initial\n}")
    assert s.matches(proc("app", "/bin/app", "-c", "config"))
    assert s.matches(proc("app", "/bin/app", "-c", "conf", "x"))
    assert not s.matches(proc("app", "/bin/app", "-x", "conf"))


def test_param_match_without_params():
    s = spec("vrrp_track_process tp {\n process /bin/app\n param_match\n}")
    assert s.full_command and s.param_match == "exact"
    assert s.matches(proc("app", "/bin/app"))
    assert not s.matches(proc("app", "/bin/app", "x"))
    s = spec("vrrp_track_process tp {\n process /bin/app\n param_match partial\n}")
    assert s.matches(proc("app", "/bin/app", "x"))


def test_full_command_flag_alone():
    s = spec("vrrp_track_process tp {\n process /bin/app\n full_command\n}")
    assert s.full_command and s.param_match is None
    assert s.matches(proc("whatever", "/bin/app", "any", "args"))


def test_read_proc_skips_zombies(tmp_path):
    (tmp_path / "5").mkdir()
    (tmp_path / "5" / "stat").write_bytes(b"5 (sleep) Z 1 2 3\n")
    (tmp_path / "5" / "cmdline").write_bytes(b"")
    assert read_proc(5, True, False, str(tmp_path)) is None
    (tmp_path / "5" / "stat").write_bytes(b"5 (sleep) S 1 2 3\n")
    assert read_proc(5, True, False, str(tmp_path)).comm == "sleep"
    # keepalived: strchr(')') stops at the first ')': a comm containing ')' is cut there
    (tmp_path / "5" / "stat").write_bytes(b"5 (my (odd) name) Z 1 2 3\n")
    assert read_proc(5, True, False, str(tmp_path)).comm == "my (odd"


def test_quorum_max_zero_means_not_running():
    s = spec("vrrp_track_process tp {\n process x\n quorum_max 0\n}")
    assert (s.quorum, s.quorum_max) == (0, 0)
    assert s.have_quorum(0) and not s.have_quorum(1)


def qspec(quorum=1, quorum_max=2 ** 32 - 1, fork=0.0, term=0.0):
    return ProcessSpec("tp", "x", None, None, False, quorum, quorum_max, fork, term)


def test_quorum_delays():
    q = ProcessQuorum(qspec(quorum=2, fork=1.0, term=2.0))
    assert q.start(1) is False
    assert q.observe(2, 10.0) is None and q.next_deadline() == 11.0
    assert q.tick(10.5) is None
    assert q.tick(11.0) is True
    assert q.observe(1, 12.0) is None and q.next_deadline() == 14.0
    assert q.observe(3, 13.0) is None and q.timer is None  # back up: the terminate timer is cancelled
    assert q.tick(20.0) is None and q.have_quorum


def test_quorum_max_uses_fork_delay_going_down():
    q = ProcessQuorum(qspec(quorum=1, quorum_max=2, fork=1.0))
    assert q.start(2) is True
    assert q.observe(3, 0.0) is None and q.timer == ("fork", 1.0)
    assert q.tick(1.0) is False


@given(st.integers(0, 4), st.integers(0, 6), st.lists(st.integers(0, 8), max_size=30))
def test_without_delays_status_follows_count(quorum, extra, counts):
    s = qspec(quorum=quorum, quorum_max=quorum + extra)
    q = ProcessQuorum(s)
    status = q.start(0)
    for i, c in enumerate(counts):
        r = q.observe(c, float(i))
        if r is not None:
            assert r != status
            status = r
        assert status == s.have_quorum(c)


@given(st.integers(1, 3), st.lists(st.tuples(st.integers(0, 5), st.floats(0, 3)), max_size=30))
def test_with_delays_settles(quorum, steps):
    s = qspec(quorum=quorum, fork=1.0, term=1.5)
    q = ProcessQuorum(s)
    status = q.start(0)
    now = 0.0
    for count, dt in steps:
        now += dt
        for r in (q.tick(now), q.observe(count, now)):
            if r is not None:
                assert r != status
                status = r
    # once quiet for longer than both delays the status is the quorum of the last count
    r = q.tick(now + 10)
    if r is not None:
        status = r
    assert q.timer is None
    assert status == q.have_quorum == s.have_quorum(q.count)


def test_next_run_counts_from_the_previous_due_time():
    assert next_run(10.0, 2.0, 10.3) == 12.0  # a late start does not shift the schedule
    assert next_run(10.0, 2.0, 12.0) == 12.0


def test_next_run_after_a_hold_up_is_one_interval_from_now():
    # no burst of runs to catch up (vrrp_script_thread())
    assert next_run(10.0, 2.0, 17.5) == 19.5


@pytest.mark.parametrize("module", ["script_state", "events"])
def test_shared_tracking_values_are_pure(module):
    path = Path(__file__).resolve().parents[3] / "keepalived_py" / "track" / f"{module}.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    assert names <= {"__future__", "dataclasses", "enum"}


@pytest.fixture(autouse=True)
def event_loop_kind():
    """No event loop here."""
    yield None
