"""check.fdlimit with a fake rlimit: the soft limit is raised towards a fd per checker (as
keepalived does), never past the hard limit, and the launched bound leaves the coroutine
probes' share and a reserve, so a check never meets EMFILE."""

from __future__ import annotations

import resource

import pytest

from keepalived_py.check import fdlimit


@pytest.fixture
def limits(monkeypatch):
    state = {"soft": 1024, "hard": 4096, "refuse": False}

    def get(which):
        assert which == resource.RLIMIT_NOFILE
        return state["soft"], state["hard"]

    def set_(which, pair):
        if state["refuse"]:
            raise OSError("EPERM")
        state["soft"], state["hard"] = pair
    monkeypatch.setattr(fdlimit.resource, "getrlimit", get)
    monkeypatch.setattr(fdlimit.resource, "setrlimit", set_)
    return state


def test_raises_the_soft_limit_to_fit_every_checker(limits):
    assert fdlimit.launch_bound(2000, 512, cap=10_000) == 2000
    assert limits["soft"] == 2000 + 512 + fdlimit.RESERVE


def test_never_past_the_hard_limit(limits):
    assert fdlimit.launch_bound(5000, 512, cap=10_000) == 4096 - 512 - fdlimit.RESERVE
    assert limits["soft"] == 4096
    assert fdlimit.launch_bound(5000, 512) == fdlimit.CAP


def test_a_refused_raise_sizes_to_the_limit_there_is(limits):
    limits["refuse"] = True
    assert fdlimit.launch_bound(5000, 512, cap=10_000) == 1024 - 512 - fdlimit.RESERVE
    limits["soft"] = 300
    assert fdlimit.launch_bound(5000, 512) == fdlimit.FLOOR


def test_few_checkers_need_no_raise(limits):
    assert fdlimit.launch_bound(100, 512) == 100 and limits["soft"] == 1024
