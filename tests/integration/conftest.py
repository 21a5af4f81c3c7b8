"""Fixtures for tests that need the conformance harness.

    def test_x(lab, keepalived_impl):
        with_lab = lab("bridge lan 192.0.2.0/24\\nrouter r1 lan\\nrouter r2 lan")
        d = with_lab.start_daemon("r1", keepalived_impl, CONF)
        ...                                   # torn down after the test, even on failure

    def test_y(guest):
        r = guest(["modprobe ip_vs", "ipvsadm -Ln"])   # one boot per call
        assert r.returncode == 0

`implementation("keepalived-py", features=("vrrp",))` gives an Implementation; it marks
the test xfail when conformance/scenarios/unsupported.toml lists one of `features` for it
(not implemented yet: expected, visible, not a pass), and skips when it cannot run here.
"""

from __future__ import annotations

import pytest

from tests.envcheck import keepalived_binary, need_netns
from tests.guestcheck import need_guest


@pytest.fixture
def lab(tmp_path):
    """Factory: lab(topology, **kw) -> a running conformance.lab.Lab, torn down after the
    test (teardown problems fail the test)."""
    need_netns()
    from conformance.lab import Lab

    labs: list = []

    def make(topology, **kw):
        kw.setdefault("workdir", tmp_path / f"lab{len(labs)}")
        lab_ = Lab(topology, **kw)
        labs.append(lab_)
        return lab_.__enter__()

    yield make
    errors = []
    for lab_ in reversed(labs):
        try:
            lab_.down()
        except Exception as e:  # report every lab's problem, not just the first
            errors.append(str(e))
    assert not errors, errors


@pytest.fixture
def guest():
    """run_in_guest(commands, timeout=..., files=..., ...) -> GuestResult; one boot per call."""
    need_guest()
    from conformance.guest import run_in_guest

    return run_in_guest


@pytest.fixture
def keepalived_impl():
    keepalived_binary()
    from conformance.lab import get

    return get("keepalived")


@pytest.fixture
def implementation():
    """Factory: implementation(name, features=()) -> Implementation, or skip."""
    from conformance.lab import get
    from conformance.scenarios import unsupported_features

    def make(name: str, features: tuple[str, ...] = ()):
        if name == "keepalived":
            keepalived_binary()
        missing = unsupported_features(name)
        gaps = [f"{f}: {missing[f]}" for f in features if f in missing]
        if gaps:
            pytest.xfail(f"{name}: not implemented yet: {'; '.join(gaps)}")
        impl = get(name)
        why = impl.unavailable()
        if why:
            pytest.skip(f"{name} cannot run here: {why}")
        return impl

    return make
