"""checker_* / bfd_* process knobs (core/process_priority.py) with recorded system calls."""

from __future__ import annotations

from types import SimpleNamespace

from keepalived_py.core.process_priority import (
    DEFAULT_RTTIME_US,
    Knobs,
    ProcessPriority,
    apply_for_role,
)


class Ops:
    """Records each call; `fail` names calls that raise as the kernel would (EPERM)."""

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple] = []
        self.fail = fail
        self.sigxcpu = None

    def _do(self, name: str, *args) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise PermissionError(1, "Operation not permitted")

    def getpriority(self) -> int:
        return 0

    def setpriority(self, v: int) -> None:
        self._do("setpriority", v)

    def set_rr(self, p: int) -> None:
        self._do("set_rr", p)

    def set_other(self) -> None:
        self._do("set_other")

    def getrlimit_rttime(self) -> tuple[int, int]:
        return (-1, -1)

    def setrlimit_rttime(self, soft: int, hard: int) -> None:
        self._do("setrlimit_rttime", soft, hard)

    def on_sigxcpu(self, handler) -> None:
        self.sigxcpu = handler

    def mlockall(self) -> None:
        self._do("mlockall")

    def munlockall(self) -> None:
        self._do("munlockall")

    def set_affinity(self, cpus) -> None:
        self._do("set_affinity", cpus)


def _global(prefix: str = "checker", **values) -> SimpleNamespace:
    base = {f"{prefix}_{k}": v for k, v in
            dict(priority=0, no_swap=False, rt_priority=None, cpu_affinity=(), rlimit_rttime=10000).items()}
    base.update({f"{prefix}_{k}": v for k, v in values.items()})
    return SimpleNamespace(**base)


def test_knobs_read_the_role_prefix_and_skip_vrrp() -> None:
    g = SimpleNamespace(**vars(_global("checker", priority=-5)), **vars(_global("bfd", rt_priority=20)),
                        kw_pos={"bfd_rlimit_rttime": None})
    # checker_rlimit_rttime not written: our default, not keepalived's 10 ms (DIFFERENCES.md)
    assert Knobs.for_role("check", g) == Knobs(0, DEFAULT_RTTIME_US, -5, False, (), True)
    assert Knobs.for_role("bfd", g) == Knobs(20, 10000, 0, False, ())  # written: as is
    assert Knobs.for_role("vrrp", g) is None  # vrrpd/process.py applies the vrrp_* ones
    g.kw_pos = {"checker_rlimit_rtime": None}  # the deprecated spelling counts as written
    assert Knobs.for_role("check", g).rlimit_rttime == 10000


def test_the_default_rttime_is_logged_when_applied() -> None:
    ops, logs = Ops(), []
    ProcessPriority("check", logs.append, ops).apply(Knobs(rt_priority=5, rlimit_rttime=DEFAULT_RTTIME_US,
                                                           rlimit_defaulted=True))
    assert ops.calls == [("set_rr", 5), ("setrlimit_rttime", DEFAULT_RTTIME_US // 2, DEFAULT_RTTIME_US)]
    assert logs == [f"checker_rlimit_rttime not set: using {DEFAULT_RTTIME_US} "
                    "(keepalived's 10000 is too short for this runtime)"]


def test_nice_lock_and_affinity() -> None:
    ops, logs = Ops(), []
    p = ProcessPriority("check", logs.append, ops)
    p.apply(Knobs(nice=-10, no_swap=True, cpus=(0,)))
    assert ops.calls == [("setpriority", -10), ("mlockall",), ("set_affinity", (0,))]
    assert logs == []


def test_realtime_wins_over_nice_and_sets_half_rttime_soft() -> None:
    ops, logs = Ops(), []
    p = ProcessPriority("check", logs.append, ops)
    p.apply(Knobs(rt_priority=30, rlimit_rttime=10000, nice=-10))
    assert ops.calls == [("set_rr", 30), ("setrlimit_rttime", 5000, 10000)]
    ops.sigxcpu()
    assert logs == ["Checker process has used too much CPU time, checker_rlimit_rttime may need to be increased"]


def test_failures_log_keepalived_lines_and_go_on() -> None:
    ops, logs = Ops(fail=("set_rr", "mlockall", "set_affinity")), []
    ProcessPriority("bfd", logs.append, ops).apply(Knobs(rt_priority=5, no_swap=True, cpus=(1,)))
    assert logs == ["child process: cannot raise priority",
                    "Unable to lock process in memory - Operation not permitted",
                    "unable to set cpu affinity to bfd process (Operation not permitted)"]
    ops, logs = Ops(fail=("setpriority",)), []
    ProcessPriority("check", logs.append, ops).apply(Knobs(nice=-20))
    assert logs == ["Unable to set process priority to -20 - Operation not permitted"]
    ops, logs = Ops(fail=("setrlimit_rttime",)), []
    ProcessPriority("check", logs.append, ops).apply(Knobs(rt_priority=5, rlimit_rttime=100))
    assert logs == ["child process cannot set realtime rlimit"]


def test_reset_for_reload_restores_scheduling_but_keeps_the_lock() -> None:
    ops, logs = Ops(), []
    p = ProcessPriority("check", logs.append, ops)
    p.apply(Knobs(rt_priority=10, rlimit_rttime=2000, no_swap=True))
    ops.calls.clear()
    p.reset()
    assert ops.calls == [("set_other",), ("setrlimit_rttime", -1, -1)]
    ops.calls.clear()
    p.apply(Knobs(nice=5, no_swap=True))  # the new config: nice only, already locked
    assert ops.calls == [("setpriority", 5)]
    ops.calls.clear()
    p.reset()
    assert ops.calls == [("setpriority", 0)]


def test_apply_for_role_reads_global_defs() -> None:
    ops, logs = Ops(), []
    config = SimpleNamespace(global_defs=_global("checker", priority=3))
    assert apply_for_role("check", config, logs.append, ops) is not None
    assert ops.calls == [("setpriority", 3)]
    assert apply_for_role("vrrp", config, logs.append, Ops()) is None
