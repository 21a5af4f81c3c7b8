"""vrrp_script, track_file (vrrp_track_file) and vrrp_track_process: keywords, values, messages."""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.model.tracking import TrackFile, TrackProcess, VrrpScript
from keepalived_py.config.validate import ValidationEnv
from keepalived_py.config.validate import vrrp as vrrp_validate
from keepalived_py.config.values import split_command
from keepalived_py.config.writer import write_config
from tests.unit.config.helpers import bare, parse_only


def script(body: str) -> tuple[VrrpScript, list]:
    config, diags = parse_only(f"vrrp_script chk {{\n{body}\n}}\n")
    return config.vrrp_script[0], diags


def tfile(body: str, keyword: str = "track_file") -> tuple[TrackFile, list]:
    config, diags = parse_only(f"{keyword} tf {{\n{body}\n}}\n")
    return config.vrrp_track_file[0], diags


def process(body: str) -> tuple[TrackProcess, list]:
    config, diags = parse_only(f"vrrp_track_process tp {{\n{body}\n}}\n")
    return config.vrrp_track_process[0], diags


KEEPALIVED_KEYWORDS = {
    VrrpScript: "script interval timeout weight rise fall user init_fail",
    TrackFile: "file weight init_file",
    TrackProcess: "process param_match weight quorum quorum_max delay terminate_delay fork_delay full_command",
}


@pytest.mark.parametrize("cls", list(KEEPALIVED_KEYWORDS), ids=lambda c: c.__name__)
def test_keyword_tables_match_keepalived(cls):
    assert set(cls.__kw_table__) == set(KEEPALIVED_KEYWORDS[cls].split())


# --------------------------------------------------------------------------- vrrp_script
def test_vrrp_script_defaults():
    vs, diags = script(' script "/usr/bin/killall -0 haproxy"')
    assert not diags
    assert vs.name == "chk" and vs.script == "/usr/bin/killall -0 haproxy"
    assert vs.argv == ["/usr/bin/killall", "-0", "haproxy"]
    assert (vs.interval, vs.timeout, vs.weight, vs.rise, vs.fall, vs.user, vs.init_fail) == \
        (1, None, (0, False), 1, 1, None, False)


@pytest.mark.parametrize("line, field, value", [
    ("interval 5", "interval", 5),
    ("timeout 3", "timeout", 3),
    ("weight -253", "weight", (-253, False)),
    ("weight 10 reverse", "weight", (10, True)),
    ("rise 4", "rise", 4),
    ("fall 2", "fall", 2),
    ("user nobody", "user", ("nobody",)),
    ("user nobody nogroup", "user", ("nobody", "nogroup")),
    ("init_fail", "init_fail", True),
])
def test_vrrp_script_values(line, field, value):
    vs, diags = script(" script /bin/true\n " + line)
    assert not diags
    assert getattr(vs, field) == value


@pytest.mark.parametrize("line, field, value, message", [
    ("interval 0", "interval", 1, "vrrp script interval must be greater than 0, setting to 1"),
    ("timeout 0", "timeout", 1, "vrrp script timeout must be greater than 0, setting to 1"),
    ("interval -1", "interval", 1, "vrrp script interval '-1' must be between 1 and 4294 - ignoring"),
    ("weight 254", "weight", (0, False), "vrrp_script weight 254 must be in [-253, 253]"),
    ("weight 5 backwards", "weight", (5, False), "vrrp_script unknown weight option backwards"),
    ("rise 0", "rise", 1, "vrrp script rise value '0' invalid, defaulting to 1"),
    ("fall x", "fall", 1, "vrrp script fall value 'x' invalid, defaulting to 1"),
])
def test_vrrp_script_bad_values(line, field, value, message):
    vs, diags = script(" script /bin/true\n " + line)
    assert getattr(vs, field) == value
    assert bare(diags[-1].message, "chk") == message and diags[-1].pos.line == 3


def test_script_takes_the_first_word_only():
    config, diags = parse_only("vrrp_script chk {\n script /bin/check arg1\n}\n")
    assert config.vrrp_script[0].script == "/bin/check"
    assert not diags  # keepalived says nothing either; we only add an informational note


@pytest.mark.parametrize("line, command", [
    ("script 'killall -0 haproxy'", "killall -0 haproxy"),  # keepalived re-reads script lines with ' too
    ('script "/bin/sh -c \'echo a\'"', "/bin/sh -c 'echo a'"),
    ("script /bin/a\\ b", "/bin/a b"),
    ('script "/bin/echo \\"x\\""', '/bin/echo "x"'),
])
def test_script_lines_are_reread_with_quotes_and_escapes(line, command):
    config, diags = parse_only(f"vrrp_script chk {{\n {line}\n}}\n")
    assert not diags
    assert config.vrrp_script[0].script == command
    second, _ = parse_only(write_config(config))
    assert second.vrrp_script == config.vrrp_script


def test_notify_user_after_a_single_quoted_command():
    config, _ = parse_only("vrrp_instance V {\n notify_master '/bin/x a' root wheel\n}\n")
    script = config.vrrp_instance[0].notify_master
    assert (script.command, script.user, script.group) == ("/bin/x a", "root", "wheel")
    assert script.argv == ["/bin/x", "a"]


def test_unmatched_single_quote_in_a_script_line():
    config, diags = parse_only("vrrp_script chk {\n script 'oops\n}\n")
    assert config.vrrp_script[0].script is None
    assert [d.code for d in diags] == [ConfigErr.UNMATCHED_QUOTE]


@pytest.mark.parametrize("command, argv", [
    ("/bin/a b c", ["/bin/a", "b", "c"]),
    ("/bin/a 'b c' d", ["/bin/a", "b c", "d"]),
    ('/bin/a "b \\"c\\"" d', ["/bin/a", 'b "c"', "d"]),
    ("/bin/a b\\ c", ["/bin/a", "b c"]),
    ("  /bin/a   b  ", ["/bin/a", "b"]),
])
def test_split_command(command, argv):
    assert split_command(command) == argv


# --------------------------------------------------------------------------- track_file
def test_track_file_values():
    tf, diags = tfile(' file "/run/x file"\n weight -7 reverse\n init_file 3 overwrite')
    assert not diags
    assert (tf.name, tf.file, tf.weight, tf.init_file) == ("tf", "/run/x file", (-7, True), (3, True))
    tf, _ = tfile(" file /run/x\n init_file")
    assert tf.weight == (1, False) and tf.init_file == (0, False)


def test_track_file_and_process_repeats():
    tf, diags = tfile(" file /run/a\n file /run/b\n weight 2\n weight 3")
    assert tf.file == "/run/a" and tf.weight == (2, False)
    assert [d.message for d in diags] == ["File already set for track file - ignoring /run/b",
                                          "Weight already set for track file - ignoring 3"]
    tp, diags = process(" process a\n process b")
    assert tp.process == ("a",) and [d.message for d in diags] == [
        "Process already set for track process - ignoring b"]


def test_vrrp_track_file_is_a_synonym():
    tf, diags = tfile(" file /run/x", keyword="vrrp_track_file")
    assert tf.file == "/run/x" and not diags


@pytest.mark.parametrize("line, field, value, message", [
    ("weight 255", "weight", (1, False),
     "Weight (255) for track_file must be between [-254..254] inclusive. Ignoring..."),
    ("weight 2 sideways", "weight", (2, False), "track_file unknown weight option sideways"),
    ("init_file 300", "init_file", (300, False), "Track file init value 300 is outside sensible range [-254, 254]"),
    ("init_file 5 later", "init_file", (5, False), "Unknown track file init option later"),
])
def test_track_file_bad_values(line, field, value, message):
    tf, diags = tfile(" file /run/x\n " + line)
    assert getattr(tf, field) == value
    assert bare(diags[-1].message, "tf") == message


# --------------------------------------------------------------------------- vrrp_track_process
def test_track_process_defaults_and_values():
    tp, diags = process(" process haproxy")
    assert not diags
    assert tp.process == ("haproxy",) and tp.quorum == 1 and tp.quorum_max is None and tp.weight == (0, False)
    assert tp.effective_param_match is None and not tp.uses_full_command
    assert tp.effective_fork_delay == 0.0 and tp.effective_terminate_delay == 0.0
    tp, diags = process(' process "/usr/sbin/a b" -f "x y"\n param_match initial\n weight -4 reverse\n'
                        " quorum 2\n quorum_max 5\n delay 0.5\n fork_delay 1.25\n full_command")
    assert not diags
    assert tp.process == ("/usr/sbin/a b", "-f", "x y")
    assert tp.param_match == "initial" and tp.weight == (-4, True) and (tp.quorum, tp.quorum_max) == (2, 5)
    assert tp.effective_fork_delay == 1.25 and tp.effective_terminate_delay == 0.5 and tp.uses_full_command
    tp, _ = process(" process sshd -D")
    assert tp.effective_param_match == "exact" and tp.uses_full_command
    tp, _ = process(" process x\n param_match")
    assert tp.param_match == "exact"
    tp, _ = process(" process x\n quorum_max 0")
    assert tp.effective_quorum == 0


@pytest.mark.parametrize("line, message", [
    ("weight 255", "Weight (255) for vrrp_track_process must be between [-254..254] inclusive. Ignoring..."),
    ("quorum 0", "Quorum (0) for vrrp_track_process must be between [1..65535] inclusive. Ignoring..."),
    ("quorum_max 70000", "quorum_max (70000) for vrrp_track_process must be between [0..65535] inclusive. "
                         "Ignoring..."),
    ("delay 0", "delay (0) for vrrp_track_process must be between [0.000001..3600] inclusive. Ignoring..."),
    ("fork_delay 3601", "fork_delay (3601) for vrrp_track_process must be between [0.000001..3600] inclusive. "
                        "Ignoring..."),
    ("param_match fuzzy", "Invalid param_match type fuzzy - ignoring"),
])
def test_track_process_bad_values(line, message):
    _, diags = process(" process x\n " + line)
    assert bare(diags[-1].message, "x", "tp") == message and diags[-1].code == ConfigErr.GENERAL_ERROR


# --------------------------------------------------------------------------- checks and round trip
def check(text: str) -> list[str]:
    config, _ = parse_only(text)
    diags = Diagnostics()
    vrrp_validate.validate(config, ValidationEnv(diags, None))
    return [str(d) for d in diags]


def test_end_of_block_checks():
    texts = check("vrrp_script s {\n interval 1\n}\ntrack_file f {\n weight 2\n}\n"
                  "vrrp_track_process p {\n weight 2\n}\nvrrp_track_process q {\n process x\n quorum 5\n"
                  " quorum_max 2\n}\n")
    assert texts == [
        "(keepalived.conf: Line 3) No script set for vrrp_script s - removing",
        "(keepalived.conf: Line 6) No file set for track_file f - ignoring",
        "(keepalived.conf: Line 9) track process 'p' process name not specified",
        "(keepalived.conf: Line 13) quorum_max is less than quorum - ignoring",
    ]


def test_quorum_and_quorum_max_are_compared_by_the_second_keyword():
    """keepalived 2.2.7 -t: the handler of whichever keyword comes second reports, on its line."""
    texts = check("vrrp_track_process q {\n process x\n quorum_max 2\n quorum 5\n}\n"
                  "vrrp_track_process r {\n process x\n quorum_max 0\n quorum 1\n}\n"
                  "vrrp_track_process s {\n process x\n quorum 3\n quorum_max 3\n}\n")
    assert texts == [
        "(keepalived.conf: Line 4) Quorum is greater than quorum_max - ignoring",
        "(keepalived.conf: Line 9) Quorum is greater than quorum_max - ignoring",
    ]


def test_unknown_track_file_and_process_references():
    texts = check("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n track_file {\n  nofile\n }\n"
                  " track_process {\n  noproc\n }\n track_bfd {\n  nobfd\n }\n"
                  " virtual_ipaddress {\n  192.0.2.1\n }\n}\n")
    assert texts == [
        "(keepalived.conf: Line 5) (V) track file nofile not found, ignoring...",
        "(keepalived.conf: Line 8) (V) track process noproc not found, ignoring...",
        "(keepalived.conf: Line 11) (V) track bfd nobfd not found, ignoring...",
    ]


def test_round_trip():
    text = ('vrrp_script chk {\n script "/bin/a b"\n interval 3\n timeout 2\n weight -2 reverse\n rise 2\n'
            " fall 5\n user nobody nogroup\n init_fail\n}\n"
            "track_file tf {\n file /run/f\n weight 0 reverse\n init_file -3 overwrite\n}\n"
            'vrrp_track_process tp {\n process "/x y" a\n param_match partial\n weight 3\n quorum 2\n'
            " quorum_max 4\n delay 0.25\n terminate_delay 2\n fork_delay 1\n full_command\n}\n")
    first, diags = parse_only(text)
    assert not diags
    second, _ = parse_only(write_config(first))
    assert (first.vrrp_script, first.vrrp_track_file, first.vrrp_track_process) == \
        (second.vrrp_script, second.vrrp_track_file, second.vrrp_track_process)
