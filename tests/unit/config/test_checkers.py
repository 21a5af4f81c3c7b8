"""Health checker blocks of a real_server: every keyword, defaults, bad values, round trip."""

from __future__ import annotations

import ipaddress

import pytest

from keepalived_py.config import load_text
from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.checkers import (
    CHECKER_TYPES,
    BfdCheck,
    DnsCheck,
    FileCheck,
    FileWeight,
    HttpGet,
    MiscCheck,
    PingCheck,
    SmtpCheck,
    SslGet,
    TcpCheck,
    UdpCheck,
    Url,
    hex_bytes,
)
from keepalived_py.config.schema import keyword_specs, newer_keywords
from keepalived_py.config.writer import write_config

VS_HEAD = "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.0.2.2 80 {\n"


def rs_with(checker_text: str):
    result = load_text(VS_HEAD + checker_text + "\n }\n}\n")
    return result, result.config.virtual_server[0].real_server[0]


def only(result, code=None):
    """Diagnostics that count, without the number reader's line that precedes a keyword's message."""
    skip = (ConfigErr.OK, ConfigErr.INVALID_NUMBER) if code is None else (ConfigErr.OK,)
    return [d for d in result.diagnostics if d.code not in skip and (code is None or d.code == code)]


def roundtrip(result):
    again = load_text(write_config(result.config))
    assert again.config == result.config
    return again


# --------------------------------------------------------------------------- keyword sets
COMMON = {"retry", "delay_before_retry", "warmup", "delay_loop", "alpha", "log_all_failures"}
CONN = {"connect_ip", "connect_port", "bindto", "bind_port", "bind_if", "connect_timeout", "fwmark"}


def names(cls):
    table = cls.__kw_table__
    return set(table) - newer_keywords(cls)  # 2.2.7's keywords


@pytest.mark.parametrize("cls,extra", [
    (TcpCheck, set()),
    (PingCheck, set()),
    (HttpGet, {"nb_get_retry", "virtualhost", "http_protocol", "enable_sni", "fast_recovery", "url"}),
    (SslGet, {"nb_get_retry", "virtualhost", "http_protocol", "enable_sni", "fast_recovery", "url"}),
    (SmtpCheck, {"helo_name", "host"}),
    (DnsCheck, {"type", "name"}),
    (UdpCheck, {"payload", "require_reply", "min_reply_length", "max_reply_length"}),
])
def test_connection_checkers_have_keepalived_keywords(cls, extra):
    assert names(cls) == COMMON | CONN | extra


def test_misc_file_bfd_keyword_sets():
    assert names(MiscCheck) == COMMON | {"misc_path", "misc_timeout", "misc_dynamic", "user"}
    assert names(FileCheck) == {"track_file", "weight"}
    assert names(BfdCheck) == {"name", "alpha"}
    assert names(Url) == {"path", "digest", "status_code", "virtualhost", "regex", "regex_no_match",
                          "regex_options", "regex_min_offset", "regex_max_offset", "regex_stack"}


def test_every_checker_type_is_a_real_server_keyword():
    from keepalived_py.config.model.lvs import RealServer
    rs_keywords = {spec.name for _f, spec in keyword_specs(RealServer)}
    assert set(CHECKER_TYPES) <= rs_keywords
    assert len(CHECKER_TYPES) == 10


# --------------------------------------------------------------------------- common options
def test_common_options_parse():
    result, rs = rs_with("""TCP_CHECK {
        connect_ip 192.0.2.9
        connect_port 8080
        bindto 192.0.2.1
        bind_port 40000
        bind_if eth0
        connect_timeout 2.5
        fwmark 7
        retry 4
        delay_before_retry 1.5
        warmup 0
        delay_loop 5
        alpha false
        log_all_failures
    }""")
    assert not only(result)
    (tcp,) = rs.tcp_check
    assert tcp.connect_ip == ipaddress.ip_address("192.0.2.9")
    assert (tcp.connect_port, tcp.bind_port, tcp.fwmark) == (8080, 40000, 7)
    assert tcp.bindto == ipaddress.ip_address("192.0.2.1") and tcp.bind_if == "eth0"
    assert (tcp.connect_timeout, tcp.retry, tcp.delay_before_retry, tcp.warmup, tcp.delay_loop) == (2.5, 4, 1.5, 0, 5)
    assert tcp.alpha is False and tcp.log_all_failures is True
    roundtrip(result)


def test_unset_common_options_are_none_to_inherit():
    result, rs = rs_with("TCP_CHECK {\n}")
    tcp = rs.tcp_check[0]
    assert (tcp.connect_ip, tcp.connect_port, tcp.retry, tcp.delay_loop, tcp.connect_timeout, tcp.alpha) == (None,) * 6
    assert tcp.pos.line == 6


@pytest.mark.parametrize("line,message", [
    ("connect_port 70000", "Invalid checker connect_port '70000'"),
    ("connect_port 0", "Invalid checker connect_port '0'"),
    ("bind_port x", "Invalid checker bind_port 'x'"),
    ("connect_ip 192.0.2.999", "Invalid connect_ip address 192.0.2.999 - ignoring"),
    ("bindto nowhere", "Invalid bindto address nowhere - ignoring"),
    ("connect_timeout 0", "connect_timeout 0 invalid - ignoring"),
    ("delay_loop 0", "delay_loop '0' is invalid - ignoring"),
    ("retry -1", "Invalid retry connection value '-1'"),
    ("fwmark abc", "Invalid fwmark connection value 'abc'"),
])
def test_bad_common_values_name_the_line(line, message):
    result, rs = rs_with(f"TCP_CHECK {{\n {line}\n }}")
    (diag,) = only(result)
    assert diag.message == message
    assert diag.pos.line == 7
    assert result.exit_status == 5


def test_misc_check_has_no_connection_options():
    result, _rs = rs_with("MISC_CHECK {\n misc_path /x\n connect_port 80\n }")
    assert [d.code for d in only(result)] == [ConfigErr.UNKNOWN_KEYWORD]


# --------------------------------------------------------------------------- HTTP_GET / SSL_GET
def test_http_get_urls():
    result, rs = rs_with("""HTTP_GET {
        url {
            path /index.html
            digest 9B3A0C85A887A256D6939DA88AABD8CD
            status_code 200 300-399 503
            virtualhost www.example.com
        }
        url {
            path /health
            regex "ok|OK"
            regex_no_match
            regex_options caseless multiline bogus
            regex_min_offset 2
            regex_max_offset 100
            regex_stack 32768 65536
        }
        virtualhost example.com
        http_protocol 1.0c
        fast_recovery
        enable_sni off
    }""")
    assert not only(result)
    (http,) = rs.http_get
    first, second = http.url
    assert first.path == "/index.html" and first.digest == "9b3a0c85a887a256d6939da88aabd8cd"
    assert first.status_code == ((200, 200), (300, 399), (503, 503))
    assert first.accepts(302) and not first.accepts(204)
    assert first.virtualhost == "www.example.com"
    assert second.status_code == () and second.accepts(204) and not second.accepts(302)
    assert second.regex == "ok|OK" and second.regex_no_match
    assert second.regex_options == ("caseless", "multiline")
    assert (second.regex_min_offset, second.regex_max_offset, second.regex_stack) == (2, 100, (32768, 65536))
    assert http.virtualhost == "example.com" and http.http_protocol == "1.0C"
    assert http.fast_recovery is True and http.enable_sni is False
    roundtrip(result)


def test_ssl_get_is_its_own_type_with_the_same_keywords():
    result, rs = rs_with("SSL_GET {\n url {\n path /\n }\n enable_sni\n }")
    (ssl,) = rs.ssl_get
    assert isinstance(ssl, SslGet) and ssl.enable_sni is True
    assert rs.http_get == ()
    roundtrip(result)


def test_nb_get_retry_is_deprecated_but_sets_retry():
    result, rs = rs_with("HTTP_GET {\n url {\n path /\n }\n nb_get_retry 5\n }")
    assert rs.http_get[0].retry == 5
    assert [d.message for d in only(result)] == ["nb_get_retry is deprecated - please use 'retry'"]


@pytest.mark.parametrize("line,message", [
    ("status_code 99", "Invalid HTTP_GET status code '99'"),
    ("status_code 300-200", "Invalid HTTP_GET status code '300-200'"),
    ("status_code 2xx", "Invalid HTTP_GET status code '2xx'"),
    ("digest 1234", "digest '1234' character length should be 32 rather than 4"),
    ("digest 9b3a0c85a887a256d6939da88aabd8cz", "Unable to interpret hex digit in "
                                                "'9b3a0c85a887a256d6939da88aabd8cz' at offset 30/31"),
])
def test_bad_url_values(line, message):
    result, _rs = rs_with(f"HTTP_GET {{\n url {{\n path /\n {line}\n }}\n }}")
    assert [d.message for d in only(result)] == [message]


def test_status_code_keeps_good_words_among_bad():
    result, rs = rs_with("HTTP_GET {\n url {\n path /\n status_code 200 999 404\n }\n }")
    assert rs.http_get[0].url[0].status_code == ((200, 200), (404, 404))
    assert result.exit_status == 5


def test_bad_http_protocol():
    result, rs = rs_with("HTTP_GET {\n url {\n path /\n }\n http_protocol 2.0\n }")
    assert [d.message for d in only(result)] == ["Invalid http_protocol version 2.0"]
    assert rs.http_get[0].http_protocol is None


def test_url_without_path_and_checker_without_urls():
    result, _rs = rs_with("HTTP_GET {\n url {\n path /\n }\n url {\n status_code 200\n }\n }")
    assert [d.message for d in only(result)] == ["HTTP/SSL_GET checker url has no path - ignoring"]
    result, _rs = rs_with("HTTP_GET {\n url {\n status_code 200\n }\n }")
    assert [d.message for d in only(result)] == ["HTTP/SSL_GET checker url has no path - ignoring",
                                                 "HTTP/SSL_GET checker has no urls specified - ignoring"]


def test_regex_parameters_without_regex_are_only_logged():
    result, _rs = rs_with("HTTP_GET {\n url {\n path /\n regex_no_match\n }\n }")
    assert result.exit_status == 0
    assert any(d.message == "regex parameters specified without regex" for d in result.diagnostics)


# --------------------------------------------------------------------------- SMTP_CHECK
def test_smtp_check_with_hosts():
    result, rs = rs_with("""SMTP_CHECK {
        helo_name "mail.example.com"
        connect_timeout 10
        host {
            connect_ip 192.0.2.41
            connect_port 25
        }
        host {
            connect_ip 2001:db8::1
            bind_if eth0
        }
    }""")
    assert not only(result)
    (smtp,) = rs.smtp_check
    assert smtp.helo_name == "mail.example.com" and smtp.connect_timeout == 10
    assert [h.connect_ip for h in smtp.host] == [ipaddress.ip_address("192.0.2.41"), ipaddress.ip_address("2001:db8::1")]
    assert smtp.host[0].connect_port == 25
    roundtrip(result)


# --------------------------------------------------------------------------- MISC_CHECK
def test_misc_check():
    result, rs = rs_with("""MISC_CHECK {
        misc_path "/usr/local/bin/check absent.sh" arg
        misc_timeout 5
        misc_dynamic
        user nobody nogroup
    }""")
    assert not only(result)
    (misc,) = rs.misc_check
    assert misc.misc_path == "/usr/local/bin/check absent.sh"  # keepalived ignores words after the command
    assert (misc.misc_timeout, misc.misc_dynamic, misc.user) == (5, True, ("nobody", "nogroup"))
    roundtrip(result)


def test_misc_check_needs_a_path():
    result, _rs = rs_with("MISC_CHECK {\n misc_timeout 3\n }")
    assert [d.message for d in only(result)] == ["No script path has been specified for MISC_CHECKER - skipping"]
    result, _rs = rs_with("MISC_CHECK {\n misc_path\n }")
    assert [d.message for d in only(result)] == ["No script path has been specified for MISC_CHECKER - skipping"]


def test_misc_dynamic_ignores_words_after_it():
    _result, rs = rs_with("MISC_CHECK {\n misc_path /x\n misc_dynamic off\n }")
    assert rs.misc_check[0].misc_dynamic is True


# --------------------------------------------------------------------------- DNS_CHECK
def test_dns_check_defaults_and_values():
    result, rs = rs_with("DNS_CHECK {\n}\nDNS_CHECK {\n type aaaa\n name www.example.com\n }")
    default, set_ = rs.dns_check
    assert (default.type, default.name) == ("SOA", ".")
    assert (set_.type, set_.name) == ("AAAA", "www.example.com")
    roundtrip(result)


@pytest.mark.parametrize("line,message", [
    ("type AXFR", "Unknown DNS check type AXFR - ignoring"),
    ("name www..example.com", "DNS_CHECK name 'www..example.com' has empty label - ignoring"),
    ("name .example.com", "DNS_CHECK name '.example.com' has empty label - ignoring"),
    # keepalived 2.2.7's label test also refuses a one-character first label
    ("name a.example.com", "DNS_CHECK name 'a.example.com' has empty label - ignoring"),
])
def test_bad_dns_values(line, message):
    result, _rs = rs_with(f"DNS_CHECK {{\n {line}\n }}")
    assert [d.message for d in only(result)] == [message]


def test_repeated_dns_name_and_digest_keep_the_first():
    result, rs = rs_with("DNS_CHECK {\n name www.example.com\n name ns.example.com\n }\n"
                         "HTTP_GET {\n url {\n path /\n digest 9b3a0c85a887a256d6939da88aabd8cd\n"
                         " digest 00000000000000000000000000000000\n }\n }")
    assert rs.dns_check[0].name == "www.example.com"
    assert rs.http_get[0].url[0].digest == "9b3a0c85a887a256d6939da88aabd8cd"
    assert [d.message for d in only(result)] == ["DNS_CHECK name already specified - ignoring",
                                                 "Digest '00000000000000000000000000000000' is a duplicate"]


# --------------------------------------------------------------------------- UDP_CHECK
def test_udp_check():
    result, rs = rs_with("UDP_CHECK {\n payload Ab12f 3 456\n require_reply 0Xx1\n min_reply_length 2\n"
                         " max_reply_length 1400\n }\nUDP_CHECK {\n require_reply\n }")
    assert not only(result)
    first, second = rs.udp_check
    assert first.payload == "Ab12f 3 456" and first.require_reply == "0Xx1"
    assert (first.min_reply_length, first.max_reply_length) == (2, 1400)
    assert second.payload is None and second.require_reply == ""
    assert (second.min_reply_length, second.max_reply_length) == (0, 255)
    roundtrip(result)


def test_hex_bytes_follows_keepalived_read_hex_str():
    data, mask = hex_bytes("Ab12f 3 456 546443123")
    # keepalived.conf(5)'s example: AB 12 0F 03 45 06 54 64 43 12 03
    assert data == bytes([0xAB, 0x12, 0x0F, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03])
    assert mask == b"\xff" * 11
    data, mask = hex_bytes("0Xx1")
    assert data == bytes([0x00, 0x01]) and mask == bytes([0xF0, 0x0F])


def test_bad_udp_values():
    result, _rs = rs_with("UDP_CHECK {\n payload zz\n min_reply_length 10\n max_reply_length 5\n }")
    assert [d.message for d in only(result)] == [
        "Invalid hex string for UDP_CHECK payload",
        "UDP_CHECK min_reply length 10 > max_reply_length 5 - will always fail"]
    result, _rs = rs_with("UDP_CHECK {\n max_reply_length 70000\n }")
    assert [d.message for d in only(result)] == ["UDP_CHECK max length 70000 not valid - must be between 0 & 65535"]


# --------------------------------------------------------------------------- FILE_CHECK / BFD_CHECK
def test_file_check_resolves_a_track_file_defined_earlier():
    text = ("track_file tf {\n file /tmp/x\n}\n" + VS_HEAD +
            "FILE_CHECK {\n track_file tf\n weight -10 reverse\n }\nFILE_CHECK {\n track_file tf\n }\n }\n}\n")
    result = load_text(text)
    assert not only(result)
    first, second = result.config.virtual_server[0].real_server[0].file_check
    assert first == FileCheck(track_file="tf", weight=FileWeight(-10, True))
    assert second.weight is None
    roundtrip(result)


def test_file_check_track_file_defined_later_is_not_found():
    result = load_text(VS_HEAD + "FILE_CHECK {\n track_file tf\n }\n }\n}\ntrack_file tf {\n file /tmp/x\n}\n")
    assert [d.message for d in only(result)] == ["track_file tf not found",
                                                 "FILE_CHECK has no track_file specified - ignoring"]


@pytest.mark.parametrize("line,message", [
    ("weight 3000000000", "weight for track file must be in [-2147483647..2147483647] inclusive. Ignoring..."),
    ("weight 5 sideways", "unknown track file weight option sideways - ignoring"),
    ("weight", "track file weight missing"),
    ("dynamic", "Unknown keyword 'dynamic'"),
])
def test_bad_file_check_values(line, message):
    result = load_text("track_file tf {\n file /tmp/x\n}\n" + VS_HEAD +
                       f"FILE_CHECK {{\n track_file tf\n {line}\n }}\n }}\n}}\n")
    assert [d.message for d in only(result)] == [message]


def test_bfd_check():
    result = load_text("bfd_instance b1 {\n neighbor_ip 192.0.2.2\n}\n" + VS_HEAD +
                       "BFD_CHECK {\n name b1\n alpha\n }\nBFD_CHECK {\n name b2\n }\nBFD_CHECK {\n }\n }\n}\n")
    rs = result.config.virtual_server[0].real_server[0]
    assert rs.bfd_check[0] == BfdCheck(name="b1", alpha=True)
    assert [d.message for d in only(result)] == [
        "([192.0.2.2]:tcp:80) BFD_CHECK - BFD b2 not configured",
        "([192.0.2.2]:tcp:80) No name has been specified for BFD_CHECKER - skipping"]


def test_link_local_checker_address_needs_bind_if():
    result, _rs = rs_with("TCP_CHECK {\n connect_ip fe80::1\n }\nTCP_CHECK {\n connect_ip fe80::1\n bind_if eth0\n }")
    assert [d.message for d in only(result)] == ["Checker link local address fe80::1 requires a bind_if"]


# --------------------------------------------------------------------------- order
def test_checkers_property_gives_source_order_across_types():
    _result, rs = rs_with("PING_CHECK {\n}\nHTTP_GET {\n url {\n path /\n }\n }\nTCP_CHECK {\n}\nPING_CHECK {\n}")
    assert [type(c).__name__ for c in rs.checkers] == ["PingCheck", "HttpGet", "TcpCheck", "PingCheck"]
