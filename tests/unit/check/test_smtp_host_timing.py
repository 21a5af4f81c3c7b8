"""SMTP_CHECK `host {}` blocks: their timing keywords (retry, delay_before_retry, warmup,
delay_loop, alpha, log_all_failures) are the SMTP_CHECK's, as keepalived 2.2.7 stores them
on the checker every host copies: the last written in file order holds for all; the
connection keywords (connect_timeout ...) stay each host's own."""

from __future__ import annotations

from keepalived_py.check import spec as specmod
from keepalived_py.config.loader import load_text

CONF = """
virtual_server 192.0.2.10 25 {{
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.11 25 {{
        connect_timeout 7
        SMTP_CHECK {{
{before}
            host {{
                connect_ip 192.0.2.12
                connect_timeout 2
                retry 5
                delay_before_retry 4
                warmup 6
                alpha
                log_all_failures
            }}
            host {{
                connect_ip 192.0.2.13
                delay_loop 9
            }}
{after}
        }}
    }}
}}
"""


def _specs(before: str = "", after: str = ""):
    result = load_text(CONF.format(before=before, after=after))
    assert not result.fatal, result.diagnostics
    assert not {w for _p, w in result.not_implemented_at if w.startswith("host.")}
    _servers, specs = specmod.build(result.config)
    return specs


def test_host_timing_holds_for_the_whole_check() -> None:
    specs = _specs(before="            retry 1\n            delay_loop 3")
    assert [s.endpoint.address for s in specs] == ["192.0.2.11", "192.0.2.12", "192.0.2.13"]
    for s in specs:
        p = s.policy
        assert (p.retry, p.delay_before_retry, p.warmup, p.delay_loop) == (5, 4.0, 6.0, 9.0), p
        assert p.alpha and p.log_all_failures
    # connect_timeout stays the host's; a host without one takes the real server's
    assert [s.endpoint.timeout for s in specs] == [7.0, 2.0, 7.0]


def test_the_last_written_wins() -> None:
    specs = _specs(after="            retry 2\n            alpha no")
    for s in specs:
        assert s.policy.retry == 2 and not s.policy.alpha and s.policy.delay_loop == 9.0
