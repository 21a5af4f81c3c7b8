"""Restart backoff, exit-cause lines and reload decisions (pure parts of the parent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from keepalived_py.config.diagnostics import ConfigErr, Diagnostic
from keepalived_py.core.options import parse_args
from keepalived_py.core.reload import ReloadTracker, judge
from keepalived_py.core.supervisor import exit_cause, restart_delay
from keepalived_py.errors import SourcePos


def test_restart_delay_sequence():
    seq, nxt = [], 0
    for _ in range(9):
        delay, nxt, said = restart_delay(100.0, 101.0, nxt)
        assert said
        seq.append(delay)
    assert seq == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert restart_delay(100.0, 160.0, 32) == (0, 0, False)


def test_exit_cause_lines():
    assert exit_cause(-9, 991) == (
        "pid 991 exited due to signal 9 (Killed) - has rlimit_rttime been exceeded?", 0)
    assert exit_cause(-15, 5, "Keepalived_vrrp") == (
        "Keepalived_vrrp exited due to signal 15 (Terminated)", 0)
    assert exit_cause(2, 7) == ("pid 7 exited with permanent error CONFIG. Terminating", 2)
    assert exit_cause(70, 7) == ("pid 7 exited with status 70", 0)
    assert exit_cause(0, 7) == (None, 0)


@dataclass
class FakeConfig:
    net_namespace: str | None = None
    instance: str | None = None


@dataclass
class FakeResult:
    config: FakeConfig
    diagnostics: list = field(default_factory=list)


def test_judge_rejects_errors_with_file_and_line():
    bad = Diagnostic(ConfigErr.UNKNOWN_KEYWORD, "Unknown keyword 'garbage'", SourcePos("/k.conf", 8))
    v = judge(FakeConfig(), FakeResult(FakeConfig(), [bad]), parse_args([]))
    assert not v.ok
    assert v.lines[0] == "(/k.conf: Line 8) Unknown keyword 'garbage'"
    assert "continuing with the running configuration" in v.lines[-1]


def test_judge_accepts_warnings_and_refuses_namespace_change():
    warn = Diagnostic(ConfigErr.WARNING, "deprecated", None)
    assert judge(FakeConfig(), FakeResult(FakeConfig(), [warn]), parse_args([])).ok
    v = judge(FakeConfig(), FakeResult(FakeConfig(net_namespace="x")), parse_args([]))
    assert not v.ok and v.lines == [
        "Cannot change network namespace at a reload - please restart keepalived"]
    # -s overrides the config on both sides: no change
    assert judge(FakeConfig(), FakeResult(FakeConfig(net_namespace="x")), parse_args(["-s", "n"])).ok


def test_tracker_rounds_and_queue():
    t = ReloadTracker()
    t.begin({"vrrp", "check"})
    assert not t.done("vrrp") and not t.done("bfd") and t.done("check")
    assert t.finish() == "Startup complete"
    t.begin({"vrrp"})
    t.queued = True
    assert t.done("vrrp") and t.finish() == "Reload complete"
    assert t.take_queued() and not t.take_queued()
