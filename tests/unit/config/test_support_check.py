"""-t's "parsed, not implemented" list and the check child: the check keywords it acts on are
not listed (over our examples and keepalived's samples), the ones it does not act on still are."""

from __future__ import annotations

from pathlib import Path

import pytest

from keepalived_py.config import load_text
from keepalived_py.config.support import ACTED_ON

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = [p for p in sorted(ROOT.glob("examples/*.conf"))
           + sorted(Path("/usr/share/doc/keepalived/samples").glob("keepalived.conf.*"))
           if "virtual_server" in p.read_text(errors="replace")]
CHECK_BLOCKS = ("virtual_server.", "real_server.", "TCP_CHECK.", "HTTP_GET.", "SSL_GET.", "url.", "SMTP_CHECK.",
                "host.", "DNS_CHECK.", "UDP_CHECK.", "PING_CHECK.", "MISC_CHECK.", "FILE_CHECK.", "SSL.")


def listed(text: str) -> set[str]:
    return {what for _where, what in load_text(text).not_implemented_at}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_list_no_check_keyword_the_check_child_acts_on(path: Path) -> None:
    text = path.read_text(errors="replace")
    check_listed = {w for w in listed(text) if w.startswith(CHECK_BLOCKS)}
    assert not check_listed & ACTED_ON
    # none of the samples uses a check keyword we leave unimplemented
    assert check_listed == set()


def test_samples_with_virtual_servers_exist() -> None:
    assert any(p.parent.name == "examples" for p in SAMPLES)


def test_the_brief_keywords_are_acted_on() -> None:
    for name in ("virtual_server.protocol", "virtual_server.lb_algo", "virtual_server.lb_kind",
                 "virtual_server.delay_loop", "virtual_server.persistence_timeout", "real_server.weight",
                 "HTTP_GET.retry", "HTTP_GET.delay_before_retry", "SSL_GET.connect_timeout", "url.digest",
                 "url.path", "url.status_code", "MISC_CHECK.misc_path", "TCP_CHECK.connect_timeout",
                 "host.connect_ip", "global_defs.lvs_flush", "global_defs.lvs_timeouts"):
        assert name in ACTED_ON, name


UNIMPLEMENTED = """
global_defs {
    checker_priority -5
}
SSL {
    ca /etc/ssl/ca.pem
}
virtual_server 192.0.2.1 80 {
    hashed
    snmp_name web
    real_server 198.51.100.2 80 {
        snmp_name rs
        SSL_GET {
            sni_name www.example.com
            url {
                path /
                regex_stack
            }
        }
        SMTP_CHECK {
            host {
                connect_ip 198.51.100.3
                retry 5
            }
        }
        PING_CHECK {
            connect_port 7
        }
    }
}
"""


def test_what_the_check_child_ignores_is_still_listed() -> None:
    assert {"virtual_server.hashed", "virtual_server.snmp_name",
            "real_server.snmp_name", "url.regex_stack"} <= listed(UNIMPLEMENTED)
    assert "host.connect_ip" not in listed(UNIMPLEMENTED)
    assert "global_defs.checker_priority" not in listed(UNIMPLEMENTED)  # core/process_priority.py
    assert not {"SSL.ca", "SSL_GET.sni_name"} & listed(UNIMPLEMENTED)  # check/tls.py
