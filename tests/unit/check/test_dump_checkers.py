"""keepalived_check.data's Health checkers section: keepalived 2.2.7's dump_checker() block and
each kind's dump function, from specs built out of a configuration (settings after
inheritance) and the checkers' states."""

from __future__ import annotations

from types import SimpleNamespace

from keepalived_py.check import hysteresis as hy
from keepalived_py.check import spec as specmod
from keepalived_py.check.dump_checkers import checker_lines, status_ranges
from keepalived_py.config import load_text

CONF = """
virtual_server 192.0.2.10 80 {
    delay_loop 5
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.11 8080 {
        TCP_CHECK {
            connect_timeout 2
            bindto 192.0.2.1
            fwmark 7
        }
        HTTP_GET {
            virtualhost www.example.com
            url {
                path /health
                digest 9B3A0C85A887A256D6939DA88AABD8CD
                status_code 200 301-302
            }
            url {
                path /r
                regex "ok.*"
                regex_no_match
                regex_options caseless multiline
                regex_max_offset 100
            }
            retry 0
        }
        MISC_CHECK {
            misc_path "/bin/true arg"
            misc_timeout 3
            misc_dynamic
        }
    }
    real_server 192.0.2.12 8080 {
        retry 2
        delay_before_retry 4
        warmup 7
        UDP_CHECK {
            payload 0102
            require_reply 0a0bxx
            min_reply_length 3
        }
        DNS_CHECK {
            type a
            name example.com
        }
        SMTP_CHECK {
        }
        PING_CHECK {
            alpha
        }
    }
}
"""


def section(conf: str = CONF, mutate=None) -> list[str]:
    config = load_text(conf).config
    _servers, specs = specmod.build(config)
    states = {s.id: hy.initial(s.policy) for s in specs}
    if mutate:
        mutate(specs, states)
    sched = SimpleNamespace(specs={s.id: s for s in specs}, states=states, _suspended=set(), _scripts={})
    return checker_lines(sched)


def block(lines: list[str], n: int) -> list[str]:
    starts = [i for i, line in enumerate(lines) if line.startswith(" [")]
    return lines[starts[n]:starts[n + 1] if n + 1 < len(starts) else len(lines)]


def test_header_and_one_block_per_checker_in_config_order() -> None:
    lines = section()
    assert lines[0] == "------< Health checkers >------"
    heads = [line for line in lines if line.startswith(" [")]
    assert heads == [" [192.0.2.10]:tcp:80 -> [192.0.2.11]:tcp:8080"] * 3 + \
        [" [192.0.2.10]:tcp:80 -> [192.0.2.12]:tcp:8080"] * 4


def test_tcp_block() -> None:
    assert block(section(), 0) == [
        " [192.0.2.10]:tcp:80 -> [192.0.2.11]:tcp:8080",
        "   Enabled = yes",
        "   Up = yes",
        "   Has run = no",
        "   Current weight = 0",
        "   Alpha = no",
        "   Delay loop = 5000000 us",
        "   Warmup = 5000000 us",
        "   Retries = 1",
        "   Delay before retry = 1000000 us",
        "   Retries iterations = 1",
        "   Default delay before retry = 1000000 us",
        "   Log all failures = no",
        "   Connection",
        "     Dest = [192.0.2.11]:8080",
        "     Bind to = [192.0.2.1]:0",
        "     Mark = 7",
        "     Timeout = 2.000000",
        "   Keepalive method = TCP_CHECK",
    ]


def test_http_block_with_urls() -> None:
    lines = block(section(), 1)
    assert lines[8:] == [
        "   Retries = 0",
        "   Default delay before retry = 3000000 us",
        "   Log all failures = no",
        "   Connection",
        "     Dest = [192.0.2.11]:8080",
        "     Timeout = 5.000000",
        "   Keepalive method = HTTP_GET, http protocol 1.0",
        "   Virtualhost = www.example.com",
        "   Enable SNI unset",
        "   Fast recovery unset",
        "   Checked url = /health",
        "     digest = 9b3a0c85a887a256d6939da88aabd8cd",
        "     HTTP Status Code(s)",
        "       200",
        "       301-302",
        "   Checked url = /r",
        "     HTTP Status Code(s)",
        "       200-299",
        '     Regex = "ok.*"',
        "     Regex no match",
        "     Regex min offset = 0, max_offset = 100",
        "     Regex options: caseless multiline",
        "     Regex ref count = 1",
    ]


def test_failed_url_is_named() -> None:
    def fail_second(specs, states):
        sid = specs[1].id
        states[sid] = hy.CheckerState(is_up=False, has_run=True, failed_url=1)
    lines = block(section(mutate=fail_second), 1)
    assert lines[2:4] == ["   Up = no", "   Has run = yes"]
    assert lines[-1] == "   Failed URL = /r"


def test_misc_block_has_no_connection() -> None:
    lines = block(section(), 2)
    assert "   Connection" not in lines
    assert lines[8:] == [
        "   Retries = 0",
        "   Default delay before retry = 1000000 us",
        "   Log all failures = no",
        "   Keepalive method = MISC_CHECK",
        "   script = /bin/true arg",
        "   timeout = 3",
        "   dynamic = YES",
        "   uid:gid = 0:0",
        "   Last status = 0",
    ]


def test_inherited_retry_warmup_and_the_other_kinds() -> None:
    lines = section()
    udp, dns, smtp, ping = (block(lines, n) for n in (3, 4, 5, 6))
    assert udp[5:12] == ["   Alpha = no", "   Delay loop = 5000000 us", "   Warmup = 7000000 us", "   Retries = 2",
                         "   Delay before retry = 4000000 us", "   Retries iterations = 2",
                         "   Default delay before retry = 1000000 us"]
    assert udp[-7:] == ["   Keepalive method = UDP_CHECK", "   Payload len = 2", "   Require reply = yes",
                        "     Min reply length = 3", "     Max reply length = 255", "     Reply data len = 3",
                        "     Reply data mask = yes"]
    assert dns[-3:] == ["   Keepalive method = DNS_CHECK", "   Type = A", "   Name = example.com"]
    assert "   Default delay before retry = 0 us" in dns
    assert smtp[-2:] == ["   Keepalive method = SMTP_CHECK", "   helo = smtpchecker.keepalived.org"]
    assert smtp[4] == "   Current weight = 0" and "     Dest = [192.0.2.12]:8080" in smtp
    assert ping[2] == "   Up = no" and ping[5] == "   Alpha = yes" and ping[-1] == "   Keepalive method = PING_CHECK"


def test_suspended_checkers_are_disabled_and_no_checkers_no_section() -> None:
    config = load_text(CONF).config
    _servers, specs = specmod.build(config)
    sched = SimpleNamespace(specs={s.id: s for s in specs}, states={}, _suspended={specs[0].vs_key}, _scripts={})
    assert checker_lines(sched)[2] == "   Enabled = no"
    assert checker_lines(SimpleNamespace(specs={}, states={})) == []


def test_status_ranges_edges() -> None:
    every = SimpleNamespace(accepts=lambda c: True)
    assert status_ranges(every) == ["       100-599"]
    ends = SimpleNamespace(accepts=lambda c: c in (100, 599))
    assert status_ranges(ends) == ["       100", "       599"]


def test_smtp_retry_iterations_after_a_final_failure_then_a_fresh_run() -> None:
    from keepalived_py.check.result import Result, Status

    config = load_text(CONF).config
    _servers, specs = specmod.build(config)
    smtp = next(s for s in specs if s.kind is hy.Kind.SMTP)
    state = hy.initial(smtp.policy)
    fail = Result(Status.FAILED, "connect failed")
    steps = []
    for _ in range(3):   # retry 2: two retries, then the final failure
        step = hy.on_result(smtp.policy, state, fail)
        state = step.state
        steps.append(step)
    assert steps[-1].verdict is not None and not steps[-1].verdict.up
    # keepalived's smtp_final() leaves retry_it at retry + 1 until the next regular run
    sched = SimpleNamespace(specs={smtp.id: smtp}, states={smtp.id: state}, _suspended=set(), _scripts={})
    assert "   Retries iterations = 3" in checker_lines(sched)
    # ... which starts from 0 again: a failure there is retried, not final
    again = hy.on_result(smtp.policy, state, fail)
    assert again.state.retry_it == 1 and again.delay == smtp.policy.delay_before_retry
