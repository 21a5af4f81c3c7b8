"""The vrrp child says once, at start, that it ignores an instance's `vrf` and why (issue 15:
a keyword not acted on is logged once at start), and the instance still runs, as under
keepalived 2.2.7, which clears the line. Needs root and network namespaces."""

from __future__ import annotations

import signal

import pytest

from tests.integration.test_core_process import IFACE, VRRP_CONF, daemons, kpy_netns  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.root]

NOTE = "(VI_1) vrf kv1 ignored: keepalived 2.2.7 uses vrf only for a unicast instance without an interface"


def test_vrf_is_noted_once_at_start_and_the_instance_runs(daemons):  # noqa: F811
    conf = VRRP_CONF.replace(f"    interface {IFACE}\n", f"    vrf kv1\n    interface {IFACE}\n")
    d = daemons(conf).start()
    d.wait_ready()
    d.wait_log("(VI_1) Entering MASTER STATE", 20)
    assert d.log().count(NOTE) == 1  # one instance, one line, from the vrrp child
    # keepalived's own -t line for this order is in the log too (the config is checked at start)
    assert "vrf can only be specified without interface - clearing" in d.log()
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
