"""The value types every configuration area shares (keepalived_py.config.values)."""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.schema import Ctx, ValueProblem
from keepalived_py.config.values import (
    Decimal,
    GarpExtraIf,
    GarpExtraIfType,
    Number,
    OptBool,
    OptChoice,
    UserGroup,
    say,
)


def ctx(keyword: str = "kw", block: str = "") -> Ctx:
    return Ctx(Diagnostics(), None, keyword, block=block)


def messages(c: Ctx) -> list[tuple[ConfigErr, str]]:
    return [(d.code, d.message) for d in c.diagnostics]


@pytest.mark.parametrize("template, expected_named, expected_bare", [
    ("({n}): vrrp script interval '{v}' invalid", "(chk): vrrp script interval 'x' invalid",
     "vrrp script interval 'x' invalid"),
    ("vrrp_script {n} weight {v} must be in [-253, 253]", "vrrp_script chk weight x must be in [-253, 253]",
     "vrrp_script weight x must be in [-253, 253]"),
    ("Configuration error: VRRP instance[{n}] malformed src address[{v}]. Skipping...",
     "Configuration error: VRRP instance[chk] malformed src address[x]. Skipping...",
     "Configuration error: VRRP instance malformed src address[x]. Skipping..."),
    ("{kw} '{v}' invalid - ignoring", "kw 'x' invalid - ignoring", "kw 'x' invalid - ignoring"),
])
def test_messages_name_their_block_when_the_builder_says(template, expected_named, expected_bare):
    assert say(template, ctx(block="chk"), v="x") == expected_named
    assert say(template, ctx(), v="x") == expected_bare


def test_say_keeps_the_words_blanks():
    """The block name goes from the template, not from the formatted text: a quoted word keeps its blanks."""
    assert say("({n}) priority '{v}'", ctx(), v="  -5") == "priority '  -5'"


def test_number_reports_the_reader_then_the_handler():
    c = ctx("priority", "VI_1")
    with pytest.raises(ValueProblem) as problem:
        Number(1, 255, error="({n}) Priority '{v}' not valid").parse(["256"], c)
    assert str(problem.value) == "(VI_1) Priority '256' not valid"
    assert problem.value.code == ConfigErr.GENERAL_ERROR
    assert messages(c) == [(ConfigErr.INVALID_NUMBER, "number '256' outside range [1, 255]")]


def test_number_fallback_and_zero():
    c = ctx("rise")
    assert Number(1, 10, error="bad {v}", fallback=1).parse(["x"], c) == 1
    assert messages(c) == [(ConfigErr.INVALID_NUMBER, "invalid number 'x'"), (ConfigErr.GENERAL_ERROR, "bad x")]
    c = ctx("interval")
    assert Number(0, 10, zero=(1, "must be greater than 0")).parse(["0"], c) == 1
    assert messages(c) == [(ConfigErr.GENERAL_ERROR, "must be greater than 0")]


def test_number_signed_and_unsigned():
    c = ctx()
    assert Number(-254, 254).parse(["-7"], c) == -7
    with pytest.raises(ValueProblem):
        Number(0, 254).parse(["-7"], c)
    assert messages(c)[-1] == (ConfigErr.INVALID_NUMBER, "negative number '-7'")


def test_number_exact_args():
    """keepalived's vrrp_rx_bufs_multiplier wants exactly one word: its own message otherwise."""
    vtype = Number(1, 10, error="Invalid x {v}", missing="Invalid x", exact_args=True)
    for args in ([], ["1", "2"]):
        with pytest.raises(ValueProblem, match="^Invalid x$"):
            vtype.parse(args, ctx())
    assert vtype.parse(["3"], ctx()) == 3


def test_decimal_rounds_and_keeps_leading_digits():
    c = ctx("preempt_delay")
    assert Decimal(0, 1000).parse(["1.0000005"], c) == 1.000001
    assert Decimal(0, 1000).parse(["1.5x"], c) == 0.000015  # ignore_error, as keepalived's callers
    assert [m for _code, m in messages(c)] == ["number '1.0000005' has too many decimal places",
                                              "invalid number '1.5x'"]
    with pytest.raises(ValueProblem, match="^kw '1.5x' is invalid$"):
        Decimal(0, 1000, lenient=False).parse(["1.5x"], ctx())


def test_decimal_milliseconds_and_text():
    vtype = Decimal(1, 4294967, digits=3)
    assert vtype.parse(["10.5"], ctx()) == 10.5
    assert vtype.format(10.5) == ["10.5"]
    assert Decimal(0).format(2.0) == ["2"]


def test_decimal_large_note_is_informational():
    c = ctx("vrrp_garp_interval")
    Decimal(0.000001, large=(1.0, "The {kw} is very large - {v} seconds")).parse(["2"], c)
    assert messages(c) == [(ConfigErr.OK, "The vrrp_garp_interval is very large - 2 seconds")]


def test_opt_bool_is_case_sensitive_as_keepalived():
    vtype = OptBool("Invalid value '{v}' for global {kw} specified")
    assert vtype.parse([], ctx()) is True
    assert vtype.parse(["off"], ctx()) is False
    with pytest.raises(ValueProblem, match="Invalid value 'YES' for global smtp_alert specified"):
        vtype.parse(["YES"], ctx("smtp_alert"))


def test_opt_choice():
    vtype = OptChoice("exact", "initial", "partial", error="Invalid param_match type {v} - ignoring")
    assert vtype.parse([], ctx()) == "exact"
    assert vtype.parse(["partial"], ctx()) == "partial"
    assert vtype.format("exact") == [] and vtype.format("initial") == ["initial"]
    with pytest.raises(ValueProblem, match="Invalid param_match type full - ignoring"):
        vtype.parse(["full"], ctx())
    c = ctx()
    assert OptChoice(True, "allow_if_changes", error="Unknown {v}", fallback=True).parse(["x"], c) is True
    assert messages(c) == [(ConfigErr.GENERAL_ERROR, "Unknown x")]


def test_user_group():
    assert UserGroup().parse(["u", "g", "extra"], ctx()) == ("u", "g")
    assert UserGroup().min_args == 1 and UserGroup(required=False).min_args == 0


@pytest.mark.parametrize("lo, block, args, result, message", [
    (0, "VI_1", ["all", "0"], GarpExtraIf(0, True), None),
    (1, "", ["30"], GarpExtraIf(30), None),
    (1, "", ["0"], None, "vrrp_garp_extra_if '0' invalid - ignoring"),
    (0, "VI_1", ["all"], None, "(VI_1): vrrp_garp_extra_if specified without time - ignoring"),
])
def test_garp_extra_if(lo, block, args, result, message):
    c = ctx("vrrp_garp_extra_if", block)
    if message is None:
        assert GarpExtraIfType(lo).parse(args, c) == result
    else:
        with pytest.raises(ValueProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
            GarpExtraIfType(lo).parse(args, c)
