"""keepalived's lexical rules (lib/parser.c read_line) as our preprocessor applies them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.preprocess import IncludeCheck, Preprocessor


def words(text: str, config_id: str = "main", **kw) -> list[tuple[str, ...]]:
    return [line.words for line in Preprocessor(config_id=config_id, **kw).read_text(text)]


def test_comments_hash_and_bang_anywhere_outside_quotes():
    assert words("a b # c\nd ! e\n! whole\n# whole\n") == [("a", "b"), ("d",)]


def test_escaped_comment_characters_are_kept():
    assert words(r"script \#1 \!x") == [("script", "#1", "!x")]


def test_quoted_comment_characters_are_not_comments():
    assert words('smtp_alert "a # b" c') == [("smtp_alert", "a # b", "c")]


def test_double_quotes_make_one_word():
    assert words('router_id "my router"  x') == [("router_id", "my router", "x")]


def test_braces_are_lines_of_their_own():
    assert words("vrrp_instance VI_1 { state MASTER }") == [
        ("vrrp_instance", "VI_1"), ("{",), ("state", "MASTER"), ("}",)]


def test_brace_on_next_line():
    assert words("global_defs\n{\nrouter_id x\n}\n") == [("global_defs",), ("{",), ("router_id", "x"), ("}",)]


def test_brace_inside_quotes_is_a_word():
    assert words('notify "a{b}"') == [("notify", "a{b}")]


def test_line_numbers_are_kept():
    lines = Preprocessor(config_id="x").read_text("\n\n a\n# c\nb {\n}\n", "f.conf")
    assert [(line.words, line.lineno, line.file) for line in lines] == [
        (("a",), 3, "f.conf"), (("b",), 5, "f.conf"), (("{",), 5, "f.conf"), (("}",), 6, "f.conf")]


@pytest.mark.parametrize("config_id,expected", [
    ("main", [("router_id", "main_router"), ("unicast_src_ip", "1.2.3.4")]),
    ("backup", [("router_id", "backup_router"), ("x", "2")]),
    ("other", [("x", "2")]),
])
def test_conditional_lines(config_id, expected):
    text = "@main router_id main_router\n@backup router_id backup_router\n@^main x 2\n@main unicast_src_ip 1.2.3.4\n"
    assert words(text, config_id) == expected


def test_conditional_default_is_short_host_name(monkeypatch):
    import socket
    monkeypatch.setattr(socket, "gethostname", lambda: "alpha.example.org")
    assert words("@alpha a\n@beta b\n", config_id=None) == [("a",)]


def test_definitions_plain_and_braced():
    text = "$IF=eth0\n$PRI = 100\ninterface $IF\npriority ${PRI}\nlabel ${IF}:1\n"
    assert words(text) == [("interface", "eth0"), ("priority", "100"), ("label", "eth0:1")]


def test_reference_needs_a_word_end_like_keepalived():
    # keepalived only replaces $NAME when followed by blank, ',', ')' or the end of line
    assert words("$N=1\naddr 10.$N/8\naddr 10.${N}/8\n") == [("addr", "10.$N/8"), ("addr", "10.1/8")]


def test_undefined_reference_is_kept():
    assert words("x $NOPE") == [("x", "$NOPE")]


def test_multiline_definition_expands_to_several_lines():
    text = "$BLOCK= \\\n  weight 5 \\\n  priority 100\nvrrp_instance V {\n$BLOCK\n}\n"
    assert words(text) == [("vrrp_instance", "V"), ("{",), ("weight", "5"), ("priority", "100"), ("}",)]


def test_multiline_definition_with_braces():
    text = "$VI= \\\nvrrp_instance v${N} { \\\n  priority 1${N} \\\n}\n$N=5\n$VI\n"
    assert words(text) == [("vrrp_instance", "v5"), ("{",), ("priority", "15"), ("}",)]


def test_builtin_definitions():
    # keepalived decomments again after substitution: only a quoted $_HASH survives
    lines = words('a "${_HASH}" "${_BANG}" $_HASH gone\nb ${_INSTANCE}\n', config_id="node1")
    assert lines == [("a", "#", "!"), ("b", "node1")]


def test_random_definition_is_in_range_and_seedable():
    first = words("r ${_RANDOM 5 9}\n", random_seed=3)
    assert first == words("r ${_RANDOM 5 9}\n", random_seed=3)
    assert 5 <= int(first[0][1]) <= 9


def test_seq_repeats_the_rest_of_the_line():
    assert words("~SEQ(N, 0, 3) ip 10.0.${N}.1") == [("ip", f"10.0.{n}.1") for n in range(4)]


def test_seq_defaults_and_steps():
    assert words("~SEQ(N, 3) n ${N}") == [("n", "1"), ("n", "2"), ("n", "3")]
    assert words("~SEQ(N, 5, -2, 1) n ${N}") == [("n", "5"), ("n", "3"), ("n", "1")]
    assert words("~SEQx(N, 0x90, 0x10, 0xc0) a fe80::${N}:1") == [
        ("a", f"fe80::{h}:1") for h in ("90", "a0", "b0", "c0")]


def test_nested_seq_nests_left_to_right():
    assert words("~SEQ(A, 1, 2) ~SEQ(B, 1, 2) p ${A}${B}") == [("p", "11"), ("p", "12"), ("p", "21"), ("p", "22")]


def test_lst_single_and_multi_variables():
    assert words("~LST(IP, 1, 2) a ${IP}") == [("a", "1"), ("a", "2")]
    assert words("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}") == [("192.168.10.1",), ("192.168.20.4",)]


def test_seq_with_multiline_definition_like_the_man_page():
    text = "$V= \\\ninst v${I}.${J} { \\\n  id ${J} \\\n}\n~SEQ(I,0,1) ~SEQ(J,1,2) $V\n"
    out = words(text)
    assert out.count(("{",)) == 4
    assert ("inst", "v1.2") in out and ("id", "2") in out


def test_invalid_seq_is_reported():
    diags = Diagnostics()
    Preprocessor(config_id="x", diagnostics=diags).read_text("~SEQ(N, 1, -1, 5) x\n", "f")
    assert [d.code for d in diags] == [ConfigErr.GENERAL_ERROR]
    assert diags.items[0].pos.line == 1


def test_include_relative_to_including_file(tmp_path: Path, monkeypatch):
    sub = tmp_path / "conf.d"
    sub.mkdir()
    (sub / "b.conf").write_text("from_b 1\ninclude c.conf\n")
    (sub / "c.conf").write_text("from_c 2\n")
    (tmp_path / "main.conf").write_text("top 0\ninclude conf.d/*.conf\nend 3\n")
    monkeypatch.chdir("/")
    pre = Preprocessor(config_id="x")
    lines = pre.read(str(tmp_path / "main.conf"))
    assert [line.words for line in lines] == [("top", "0"), ("from_b", "1"), ("from_c", "2"), ("from_c", "2"),
                                              ("end", "3")]
    # b.conf's include resolved against conf.d/, and the glob matched c.conf itself too
    assert lines[1].file.endswith("conf.d/b.conf") and lines[1].lineno == 1


def test_include_brace_expansion(tmp_path: Path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.conf").write_text(f"{name} 1\n")
    (tmp_path / "main.conf").write_text("include {a,b}.conf\n")
    assert [line.words for line in Preprocessor(config_id="x").read(str(tmp_path / "main.conf"))] == [
        ("a", "1"), ("b", "1")]


def test_missing_include_is_silent_for_plain_include(tmp_path: Path):
    (tmp_path / "main.conf").write_text("include nothere.conf\nx 1\n")
    diags = Diagnostics()
    lines = Preprocessor(config_id="x", diagnostics=diags).read(str(tmp_path / "main.conf"))
    assert [line.words for line in lines] == [("x", "1")]
    assert diags.exit_status == 0


@pytest.mark.parametrize("variant", ["includea", "includem", "includew"])
def test_missing_include_is_fatal_for_checked_variants(tmp_path: Path, variant):
    (tmp_path / "main.conf").write_text(f"{variant} nothere.conf\n")
    diags = Diagnostics()
    Preprocessor(config_id="x", diagnostics=diags).read(str(tmp_path / "main.conf"))
    assert diags.exit_status == 4
    assert diags.items[0].pos.line == 1


def test_all_config_flag_makes_plain_include_fatal(tmp_path: Path):
    (tmp_path / "main.conf").write_text("include nothere.conf\n")
    diags = Diagnostics()
    Preprocessor(config_id="x", diagnostics=diags, include_check=IncludeCheck.ALL).read(str(tmp_path / "main.conf"))
    assert diags.exit_status == 4


def test_missing_main_file_is_fatal(tmp_path: Path):
    diags = Diagnostics()
    Preprocessor(config_id="x", diagnostics=diags).read(str(tmp_path / "none.conf"))
    assert diags.exit_status == 4


def test_executable_include_is_skipped(tmp_path: Path):
    bad = tmp_path / "x.conf"
    bad.write_text("bad 1\n")
    os.chmod(bad, 0o755)
    (tmp_path / "main.conf").write_text("includer x.conf\n")
    diags = Diagnostics()
    assert Preprocessor(config_id="x", diagnostics=diags).read(str(tmp_path / "main.conf")) == []
    assert diags.exit_status == 4


def test_unterminated_quote_is_reported():
    diags = Diagnostics()
    Preprocessor(config_id="x", diagnostics=diags).read_text('router_id "abc\n', "f")
    assert diags.items[0].code == ConfigErr.UNMATCHED_QUOTE
