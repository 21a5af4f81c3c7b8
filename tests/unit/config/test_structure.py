"""Block structure, brace recovery, the generic builder and keepalived's -t exit statuses."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.model.vrrp import VrrpInstance
from keepalived_py.config.parser import parse_lines
from keepalived_py.config.preprocess import Preprocessor
from keepalived_py.config.writer import write_config
from keepalived_py.errors import SourcePos


def codes(result):
    return [d.code for d in result.diagnostics if d.code != ConfigErr.OK]


def test_clean_config_exits_zero():
    result = load_text("global_defs {\n router_id r1\n}\n")
    assert result.exit_status == 0
    assert result.config.global_defs.router_id == "r1"
    assert result.config.global_defs.pos.line == 1


def test_unknown_keyword_is_a_warning_with_line_and_suggestion():
    result = load_text("global_defs {\n  routr_id r1\n}\n")
    (diag,) = [d for d in result.diagnostics if d.code == ConfigErr.UNKNOWN_KEYWORD]
    assert diag.pos.line == 2
    assert diag.hint == "did you mean 'router_id'?"
    assert str(diag) == "(keepalived.conf: Line 2) Unknown keyword 'routr_id' (did you mean 'router_id'?)"
    assert result.exit_status == 5


def test_parsing_goes_on_after_an_unknown_keyword():
    result = load_text("global_defs {\n  bogus {\n x 1\n }\n  router_id r1\n}\n")
    assert result.config.global_defs.router_id == "r1"


def test_extra_closing_brace_is_reported_and_dropped():
    """keepalived 2.2.7 -t: "(Line 4) Extra '}' found" and "(Line 4) Unknown keyword '}'"."""
    result = load_text("global_defs {\n router_id a\n}\n}\n")
    assert codes(result) == [ConfigErr.UNEXPECTED_EOB, ConfigErr.UNKNOWN_KEYWORD]
    assert [(d.pos.line, d.message) for d in result.diagnostics] == [
        (4, "Extra '}' found"), (4, "Unknown keyword '}'")]
    assert result.config.global_defs.router_id == "a"


def test_missing_closing_brace_is_reported():
    result = load_text("global_defs {\n router_id a\n")
    assert ConfigErr.MISSING_EOB in codes(result)
    assert result.config.global_defs.router_id == "a"


def test_missing_closing_braces_are_counted_once_as_keepalived_does():
    """keepalived's init_data() reports the count, without a line, once the input is read;
    the hint says which blocks are open (a refused reload names them)."""
    result = load_text("vrrp_instance V {\n virtual_ipaddress {\n  192.0.2.1\n")
    (diag,) = [d for d in result.diagnostics if d.code == ConfigErr.MISSING_EOB]
    assert diag.message == "There are 2 missing '}'s or extra '{'s" and diag.pos is None
    assert diag.hint == "not closed: 'virtual_ipaddress' at keepalived.conf:2, 'vrrp_instance V' at keepalived.conf:1"


def test_blocks_know_their_closing_brace():
    text = "vrrp_instance V {\n interface eth0\n virtual_ipaddress {\n  192.0.2.1\n\n }\n\n}\nvrrp_script s { interval 2 }\n"
    config = load_text(text).config
    (inst,) = config.vrrp_instance
    assert (inst.pos.line, inst.end_pos.line) == (1, 8)
    assert inst.kw_end == {"virtual_ipaddress": SourcePos("keepalived.conf", 6)}
    (script,) = config.vrrp_script
    assert (script.pos.line, script.end_pos.line) == (9, 9)
    assert config.vrrp_script[0].kw_end is None  # no keyword of its own opened a block


def test_statements_carry_the_closing_line():
    diags = Diagnostics()
    lines = Preprocessor(diagnostics=diags).read_text("a {\n b {\n }\n c\n}\nd {\n", "k.conf")
    first, second = parse_lines(lines, diags)
    assert first.end.lineno == 5 and first.block[0].end.lineno == 3 and first.block[1].end is None
    assert second.end is None  # closed by the end of the input


def test_stray_opening_brace_is_ignored():
    """keepalived ignores the '{' but its brace count keeps it: one '}' is missing at the end."""
    result = load_text("{\nglobal_defs {\n router_id a\n}\n")
    assert codes(result) == [ConfigErr.UNEXPECTED_BOB, ConfigErr.MISSING_EOB]
    assert result.config.global_defs.router_id == "a"
    assert result.diagnostics[-1].message == "There are 1 missing '}'s or extra '{'s"


def test_a_closing_brace_that_a_stray_brace_balances_is_not_extra():
    """keepalived 2.2.7 -t on this: "(Line 5) Unknown keyword '}'" only."""
    result = load_text("{\nglobal_defs {\n router_id a\n}\n}\n")
    assert [(d.pos.line, d.message) for d in result.diagnostics if d.code != ConfigErr.OK] == [
        (1, "Unexpected '{' - ignoring"), (5, "Unknown keyword '}'")]


def test_block_keyword_without_block_is_reported():
    result = load_text("global_defs\nvrrp_script x {\n script /bin/true\n}\n")
    assert ConfigErr.MISSING_BOB in codes(result)


def test_invalid_number_names_the_line():
    result = load_text("vrrp_instance V {\n  priority 300\n}\n")
    (diag,) = [d for d in result.diagnostics if d.code == ConfigErr.INVALID_NUMBER]
    assert diag.pos.line == 2 and "300" in diag.message


def test_alternative_keyword_sets_constant():
    result = load_text("vrrp_instance V {\n  nopreempt\n}\n")
    (inst,) = result.config.vrrp_instance
    assert isinstance(inst, VrrpInstance) and inst.preempt is False
    assert "nopreempt" in write_config(result.config)


def test_repeated_entry_blocks_concatenate():
    result = load_text("static_ipaddress {\n 192.0.2.1/24 dev eth0\n}\nstatic_ipaddress {\n 192.0.2.2/24 dev eth0\n}\n")
    assert [str(a.address) for a in result.config.static_ipaddress] == ["192.0.2.1/24", "192.0.2.2/24"]


def test_models_are_immutable_and_compare_without_positions():
    a = load_text("global_defs {\n router_id r\n}\n").config
    b = load_text("\n\nglobal_defs {\n\n router_id r\n}\n").config
    assert a == b
    try:
        a.global_defs.router_id = "x"  # type: ignore[misc]
    except (AttributeError, TypeError):
        pass
    else:
        raise AssertionError("models must be frozen")


def test_exit_status_takes_keepalived_highest_error_class():
    # keepalived keeps the highest config_err_t: a file error followed by an unknown keyword
    # reports 5, not 4 (lib/parser.c vreport_config_error)
    from keepalived_py.config.diagnostics import Diagnostics
    diags = Diagnostics()
    diags.add(ConfigErr.FILE_NOT_FOUND, "x")
    assert diags.exit_status == 4
    diags.add(ConfigErr.UNKNOWN_KEYWORD, "y")
    assert diags.exit_status == 5
    diags.add(ConfigErr.SECURITY_ERROR, "z")
    assert diags.exit_status == 6


def test_children_needed_follow_keepalived_rule():
    cfg = load_text("vrrp_instance V {\n}\n").config
    assert cfg.needs_vrrp() and not cfg.needs_check() and not cfg.needs_bfd()
    cfg = load_text("static_routes {\n 192.0.2.0/24 dev eth0\n}\n").config
    assert cfg.needs_vrrp()
    cfg = load_text("virtual_server 192.0.2.1 80 {\n}\n").config
    assert cfg.needs_check() and not cfg.needs_vrrp()


def test_not_implemented_keywords_are_listed_with_position():
    result = load_text("global_defs {\n enable_dbus\n}\n")  # keepalived-py has no D-Bus interface
    assert "global_defs.enable_dbus (1x, first at keepalived.conf:2)" in result.not_implemented
    assert not any(line.startswith("top level.global_defs") for line in result.not_implemented)


def test_missing_parameter_exits_2_like_keepalived():
    result = load_text("global_defs {\n  vrrp_version\n}\n")
    (diag,) = [d for d in result.diagnostics if d.code == ConfigErr.MISSING_PARAMETER]
    assert diag.message == ("*** Configuration line starting `vrrp_version` is missing a parameter after keyword "
                            "`vrrp_version` at word position 2")
    assert result.exit_status == 2


def test_repeated_global_defs_blocks_merge():
    result = load_text("global_defs {\n router_id a\n}\nglobal_defs {\n notification_email_from x@y\n}\n")
    assert result.config.global_defs.router_id == "a"
    assert result.config.global_defs.notification_email_from == "x@y"


def test_extra_words_are_ignored_like_keepalived():
    result = load_text("global_defs extra {\n  router_id r1 extra words\n}\n")
    assert result.exit_status == 0
    assert result.config.global_defs.router_id == "r1"
