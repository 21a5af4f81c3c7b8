"""Issue 13: messages keepalived reports when a block ends name the line of its closing '}'.

keepalived runs a block's end handler (vrrp_end_handler, vs_end_handler, the checkers' and
bfd_end_handler ...) when it reads the '}', and reads a value block (virtual_server_group,
`group { }`, `interfaces { }`, notification_email) whole before it judges it, so the line
it prints is the closing brace's. The expected lines below are what keepalived 2.2.7's `-t`
printed for the same files (conformance/configs/*/block_end.conf, where
tests/integration/test_config_block_end_parity.py compares against the binary itself).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keepalived_py.config import load_config, load_text
from keepalived_py.config import loader as loader_module
from keepalived_py.config.diagnostics import ConfigErr

CONFIGS = Path(__file__).resolve().parents[3] / "conformance" / "configs"
#: the lab node's interfaces (conformance/config_parity.py)
INTERFACES = frozenset({"lo", "eth0", "eth1", "eth2", "eth3"})


def diagnostics(path: Path, monkeypatch) -> set[str]:
    """`-t`'s diagnostic lines for a file, on a host with the lab's interfaces, file names
    left out ("(Line N) ...") as keepalived prints them only in some of its parses."""
    monkeypatch.setattr(loader_module, "host_interfaces", lambda: INTERFACES)
    result = load_config(str(path))
    return {re.sub(r"^\([^()]*: Line ", "(Line ", str(d)) for d in result.diagnostics}


VRRP = {
    "(Line 7) No script set for vrrp_script chk_none - removing",
    "(Line 8) No script set for vrrp_script chk_inline - removing",
    "(Line 11) track process 'tp1' process name not specified",
    "(Line 14) No file set for track_file tf1 - ignoring",
    "(Line 17) Warning - empty garp_group interfaces block",
    "(Line 18) garp group 0 does not have any delay set - removing",
    "(Line 24) WARNING - interface nosuch0 specified for garp_group doesn't exist",
    "(Line 28) Warning - sync group SG has empty group block",
    "(Line 32) Warning - track group TG has empty group block",
    "(Line 43) (VI_1): Cannot use unicast_ttl without unicast peers - resetting",
    "(Line 56) (VI_2) unicast with use_vmac requires vmac_xmit_base - setting",
    "Non-existent interface specified in configuration",
}

LVS = {
    "(Line 5) virtual server group VSG_EMPTY has no entries - removing",
    "(Line 10) virtual server group VSG_MIX cannot have IPv4, IPv6 and fwmark without family - removing",
    "(Line 16) Address family of virtual server and real server 2001:db8::5 don't match - skipping real server.",
    "(Line 21) Checker link local address fe80::1 requires a bind_if",
    "(Line 25) HTTP/SSL_GET checker url has no path - ignoring",
    "(Line 32) No script path has been specified for MISC_CHECKER - skipping",
    "(Line 35) FILE_CHECK has no track_file specified - ignoring",
    "(Line 37) ([192.0.2.6]:tcp:80) No name has been specified for BFD_CHECKER - skipping",
    "(Line 41) UDP_CHECK min_reply length 20 > max_reply_length 10 - will always fail",
    "(Line 44) Checker link local address fe80::2 requires a bind_if",
    "(Line 47) Checker link local address fe80::3 requires a bind_if",
    "(Line 49) Address family of virtual server and sorry server 2001:db8::9 don't match - skipping sorry server.",
    "Virtual server [192.0.2.50]:tcp:80: no scheduler set, setting default 'wlc'",
    "Virtual server [192.0.2.50]:tcp:80: no forwarding method set, setting default NAT",
    "(Line 55) Checker link local address fe80::4 requires a bind_if",
    "(Line 59) Checker link local address fe80::5 requires a bind_if",
    "Virtual server [192.0.2.60]:tcp:25: no scheduler set, setting default 'wlc'",
    "Virtual server [192.0.2.60]:tcp:25: no forwarding method set, setting default NAT",
}

BFD = {
    "(Line 6) Configuration error: BFD instance no_neighbor has no neighbor address set, disabling instance",
    "(Line 12) Configuration error: BFD instance duplicate has duplicate neighbor address 192.0.2.2, ignoring "
    "instance",
    "(Line 17) BFD instance hops: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit",
}


@pytest.mark.parametrize("area, expected", [("vrrp", VRRP), ("lvs", LVS), ("bfd", BFD)])
def test_block_end_messages_name_the_closing_brace(area, expected, monkeypatch):
    assert diagnostics(CONFIGS / area / "block_end.conf", monkeypatch) == expected


def test_a_one_line_block_ends_on_its_own_line():
    result = load_text("vrrp_script s { interval 2 }\n")
    (diag,) = result.errors()
    assert str(diag) == "(keepalived.conf: Line 1) No script set for vrrp_script s - removing"


def test_the_closing_brace_of_an_included_file_is_named_with_that_file(tmp_path):
    part = tmp_path / "scripts.conf"
    part.write_text("\nvrrp_script s {\n  interval 2\n}\n")
    main = tmp_path / "keepalived.conf"
    main.write_text(f"include {part}\n")
    (diag,) = load_config(str(main), check_interfaces=False).errors()
    assert str(diag) == f"({part}: Line 4) No script set for vrrp_script s - removing"


def test_a_block_the_input_leaves_open_reports_without_a_line():
    """keepalived runs the end handler at the end of the input, where it has no line to name,
    then counts the missing braces."""
    result = load_text("vrrp_script s {\n interval 2\n")
    texts = [d.message for d in result.diagnostics if d.code != ConfigErr.OK]
    assert "There are 1 missing '}'s or extra '{'s" in texts
    (no_script,) = [d for d in result.diagnostics if "No script set" in d.message]
    assert no_script.pos is None
    assert str(no_script) == "No script set for vrrp_script s - removing"


def test_an_empty_value_block_is_reported_at_its_closing_brace():
    result = load_text("global_defs {\n  notification_email {\n\n  }\n}\n")
    (diag,) = [d for d in result.diagnostics if "notification_email" in d.message]
    assert diag.pos.line == 4


def test_scripts_without_a_user_go_at_their_block_end_when_the_default_user_is_missing(monkeypatch):
    """keepalived_script missing, no script_user, script security on: keepalived says so once,
    where it first needs the user (the checker's configuration is read before vrrp's)."""
    from keepalived_py.config.validate import global_defs as global_validate

    monkeypatch.setattr(global_validate, "_user_exists", lambda name: name != "keepalived_script")
    assert diagnostics(CONFIGS / "global" / "bad_default_script_user.conf", monkeypatch) == {
        "(Line 17) Unable to set default user keepalived_script for script",
        "(Line 17) Unable to set default user for misc script '/bin/true' '-x' - removing",
        "(Line 11) Unable to set default user for vrrp script chk - removing",
        "Virtual server [192.0.2.1]:tcp:80: no scheduler set, setting default 'wlc'",
        "Virtual server [192.0.2.1]:tcp:80: no forwarding method set, setting default NAT",
    }


def test_the_default_user_failure_is_reported_once_in_keepalived_order(monkeypatch):
    from keepalived_py.config.validate import global_defs as global_validate

    monkeypatch.setattr(global_validate, "_user_exists", lambda name: name != "keepalived_script")
    monkeypatch.setattr(loader_module, "host_interfaces", lambda: INTERFACES)
    result = load_config(str(CONFIGS / "global" / "bad_default_script_user.conf"))
    texts = [d.message for d in result.diagnostics]
    assert texts.count("Unable to set default user keepalived_script for script") == 1
    assert texts.index("Unable to set default user keepalived_script for script") < texts.index(
        "Unable to set default user for vrrp script chk - removing")


def test_keyword_handler_messages_name_the_keyword_line(monkeypatch):
    """What keepalived's keyword handlers report names the keyword's own line, not the block's
    first one (keepalived 2.2.7 -t on the same file)."""
    assert diagnostics(CONFIGS / "lvs" / "keyword_lines.conf", monkeypatch) == {
        "(Line 6) Ignoring sorry_server inhibit used before or without sorry_server",
        "(Line 7) sorry_server forwarding used without sorry_server",
        "(Line 8) number '200' outside range [1, 128]",
        "(Line 8) Invalid IPv6 persistence_granularity specified - 200",
        "(Line 9) sh-port only applies to sh scheduler - ignoring",
        "(Line 10) hashed only applies to sh scheduler - ignoring",
        "(Line 11) Virtual server specified family inet conflicts with server family",
        "Virtual server [2001:db8::1]:tcp:80: no forwarding method set, setting default NAT",
    }


NO_DEFAULT_USER = [
    ("global/bad_default_script_user_notify.conf", {
        "(Line 32) Unable to set default user keepalived_script for script",
        "(Line 32) Unable to set default user for misc script '/bin/true' - removing",
        "(Line 10) Unable to set default user for vrrp script chk - removing",
        "Sync group SG has only 1 virtual router(s) - this probably isn't what you want",
        "Virtual server [192.0.2.1]:tcp:80: no scheduler set, setting default 'wlc'",
        "Virtual server [192.0.2.1]:tcp:80: no forwarding method set, setting default NAT",
    }),
    ("global/bad_default_script_user_startup.conf", {
        "(Line 6) Unable to set default user keepalived_script for script",
        "(Line 6) Invalid startup script",
    }),
    ("vrrp/bad_default_script_user_notify.conf", {
        "(Line 13) Unable to set default user keepalived_script for script",
    }),
]


@pytest.mark.parametrize("name, expected", NO_DEFAULT_USER)
def test_the_default_user_is_first_needed_where_keepalived_reads_it(name, expected, monkeypatch):
    """The first script without a user of its own, in keepalived's reading order (global_defs,
    then the checker's configuration, then vrrp's; file order within each), says why."""
    from keepalived_py.config.validate import global_defs as global_validate

    monkeypatch.setattr(global_validate, "_user_exists", lambda name: name != "keepalived_script")
    assert diagnostics(CONFIGS / name, monkeypatch) == expected


def test_nothing_is_said_when_the_default_user_exists(monkeypatch):
    from keepalived_py.config.validate import global_defs as global_validate

    monkeypatch.setattr(global_validate, "_user_exists", lambda name: True)
    texts = diagnostics(CONFIGS / "global" / "bad_default_script_user_notify.conf", monkeypatch)
    assert not any("default user" in t for t in texts)
