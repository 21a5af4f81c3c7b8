"""Signal numbers are keepalived's (`keepalived --signum NAME`)."""

from __future__ import annotations

import signal

from keepalived_py.core.signals import SigFunc, func_for_signal, get_signum


def test_numbers_match_keepalived_on_glibc():
    assert get_signum("STOP") == 15
    assert get_signum("RELOAD") == 1
    assert get_signum("DATA") == 10
    assert get_signum("STATS") == 12
    assert get_signum("STATS_CLEAR") == 63
    assert get_signum("JSON") == 36
    assert get_signum("TDUMP") is None and get_signum("json") is None


def test_reverse_mapping():
    assert func_for_signal(signal.SIGINT) is SigFunc.STOP
    assert func_for_signal(36) is SigFunc.JSON
    assert func_for_signal(signal.SIGWINCH) is None
