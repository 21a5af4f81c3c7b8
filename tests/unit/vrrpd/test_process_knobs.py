"""vrrp_rt_priority / vrrp_rlimit_rttime / vrrp_priority / vrrp_no_swap / vrrp_cpu_affinity /
vrrp_process_name applied as keepalived's set_process_priorities(), with recorded calls."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.vrrpd.process import Knobs, ProcessSettings


class Ops:
    def __init__(self, fail: set[str] = frozenset()) -> None:
        self.calls: list[tuple] = []
        self.fail = fail

    def __getattr__(self, name):
        def call(*args):
            self.calls.append((name, *args))
            if name in self.fail:
                raise OSError(1, "Operation not permitted")
            return {"getpriority": 0, "getrlimit_rttime": (-1, -1)}.get(name)
        return call


def knobs(text: str) -> Knobs:
    return Knobs.from_global(load_text(f"global_defs {{\n{text}\n}}\n").config.global_defs)


def names(ops: Ops) -> list[str]:
    return [c[0] for c in ops.calls]


def test_realtime_priority_with_rttime_limit_and_no_nice():
    ops, logs = Ops(), []
    ProcessSettings(logs.append, ops).apply(knobs("vrrp_rt_priority 30\nvrrp_rlimit_rttime 20000\nvrrp_priority -5"))
    assert ("set_rr", 30) in ops.calls and ("setrlimit_rttime", 10000, 20000) in ops.calls
    assert "setpriority" not in names(ops) and logs == []


def test_nice_affinity_lock_and_name():
    ops, logs = Ops(), []
    p = ProcessSettings(logs.append, ops)
    p.apply(knobs("vrrp_priority -10\nvrrp_no_swap\nvrrp_cpu_affinity 0\nvrrp_process_name kpy_vrrp"))
    assert ("setpriority", -10) in ops.calls and ("mlockall",) in ops.calls
    assert ("set_affinity", (0,)) in ops.calls and ("set_name", "kpy_vrrp") in ops.calls
    p.reset()
    # keepalived keeps the memory lock across a reload (reset_process_priorities)
    assert ops.calls[-1] == ("setpriority", 0) and ("munlockall",) not in ops.calls


def test_realtime_priority_without_rttime_gets_the_shared_default_and_says_so():
    ops, logs = Ops(), []
    ProcessSettings(logs.append, ops).apply(knobs("vrrp_rt_priority 30"))
    hard = 1_000_000  # core/process_priority.DEFAULT_RTTIME_US: keepalived's 10 ms kills a Python child
    assert ("setrlimit_rttime", hard // 2, hard) in ops.calls
    assert logs == [f"vrrp_rlimit_rttime not set: using {hard} (keepalived's 10000 is too short for this runtime)"]


def test_process_names_gives_the_default_name():
    assert knobs("process_names").name == "keepalived_vrrp"
    assert knobs("").name is None


def test_failures_are_keepalived_s_lines():
    ops, logs = Ops(fail={"set_rr", "mlockall", "set_affinity"}), []
    ProcessSettings(logs.append, ops).apply(knobs("vrrp_rt_priority 30\nvrrp_no_swap\nvrrp_cpu_affinity 0"))
    assert logs == ["child process: cannot raise priority",
                    "Unable to lock process in memory - Operation not permitted",
                    "unable to set cpu affinity to vrrp process (Operation not permitted)"]


def test_max_auto_priority_is_said_once():
    ops, logs = Ops(), []
    p = ProcessSettings(logs.append, ops)
    p.apply(knobs("max_auto_priority 10"))
    p.apply(knobs("max_auto_priority 10"), reload=True)
    assert len([m for m in logs if m.startswith("max_auto_priority ignored")]) == 1


def test_nothing_configured_calls_nothing():
    ops = Ops()
    ProcessSettings(lambda _m: None, ops).apply(knobs(""))
    assert ops.calls == []
