"""keepalived's number readers (lib/parser.c of 2.2.7): one module, its edge cases.

The texts and outcomes were checked against `keepalived -t` (see
tests/integration/test_config_numbers.py, which runs the same words through the real binary).
"""

from __future__ import annotations

import pytest

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.numbers import (
    INT_MAX,
    LONG_MAX,
    TIMER_MAXIMUM,
    UINT_MAX,
    ULONG_MAX,
    Reading,
    format_decimal,
    from_units,
    read_decimal,
    read_int,
    read_timer,
    read_unsigned,
    read_unsigned64,
    strtol,
    strtoul,
    ulong_word,
    units,
)
from keepalived_py.config.schema import Ctx


# --------------------------------------------------------------------------- the C library
@pytest.mark.parametrize(("text", "base", "value", "rest"), [
    ("10", 10, 10, ""),
    ("  \t10", 10, 10, ""),
    ("+10", 10, 10, ""),
    ("-10", 10, -10, ""),
    ("10abc", 10, 10, "abc"),
    ("abc", 10, 0, "abc"),  # no conversion: endptr is the string itself
    ("", 10, 0, ""),
    ("0x1F", 0, 31, ""),
    ("0X1f", 16, 31, ""),
    ("1f", 16, 31, ""),
    ("010", 0, 8, ""),
    ("010", 10, 10, ""),
    ("09", 0, 0, "9"),  # octal stops at 9
    ("0x", 0, 0, "x"),  # "0x" without a hex digit is a 0 followed by garbage
    ("0xg", 16, 0, "xg"),
    ("0x10", 10, 0, "x10"),
])
def test_strtol_reads_as_c(text, base, value, rest):
    c = strtol(text, base)
    assert (c.value, c.rest, c.erange) == (value, rest, False)


def test_strtol_clamps_with_erange():
    assert (strtol("9" * 30).value, strtol("9" * 30).erange) == (LONG_MAX, True)
    assert strtol("-" + "9" * 30).erange


def test_strtoul_negates_modulo_and_saturates():
    assert strtoul("-1").value == ULONG_MAX
    c = strtoul("1" + "0" * 20)
    assert (c.value, c.erange) == (ULONG_MAX, True)


@pytest.mark.parametrize(("text", "value"), [
    ("254", 254), ("0xfe", 254), ("0376", 254), ("+5", 5), (" 5", 5),
    ("5 ", None), ("-1", None), ("", None), ("0x", None), ("main", None), ("9" * 30, ULONG_MAX),
])
def test_ulong_word(text, value):
    assert ulong_word(text) == value


# --------------------------------------------------------------------------- read_int / read_unsigned
@pytest.mark.parametrize(("text", "value", "problem"), [
    ("100", 100, None),
    ("  100", 100, None),
    ("+100", 100, None),
    ("-5", -5, None),
    ("0x10", None, "invalid number '0x10'"),  # base 10: hex is garbage after the 0
    ("010", 10, None),  # and a leading 0 is not octal
    ("10abc", None, "invalid number '10abc'"),
    ("100 ", None, "invalid number '100 '"),
    ("", 0, None),  # strtol("") converts nothing and leaves nothing: keepalived takes 0
    ("2147483648", None, "number '2147483648' outside integer range"),
    ("-2147483649", None, "number '-2147483649' outside integer range"),
    ("99999999999999999999", None, "number '99999999999999999999' outside integer range"),
    ("300", None, "number '300' outside range [-254, 254]"),
])
def test_read_int(text, value, problem):
    reading = read_int(text, -254, 254) if text != "" else read_int(text)
    assert reading.value == value
    assert reading.problems == ((problem,) if problem else ())


@pytest.mark.parametrize(("text", "value", "problem"), [
    ("255", 255, None),
    ("\t 7", 7, None),
    ("+7", 7, None),
    ("-0", None, "negative number '-0'"),
    ("  -5", None, "negative number '  -5'"),  # blanks are skipped before looking for '-'
    ("5x", None, "invalid number '5x'"),
    ("4294967296", None, "number '4294967296' outside unsigned integer range"),
    ("18446744073709551616", None, "number '18446744073709551616' outside unsigned integer range"),
    ("256", None, "number '256' outside range [1, 255]"),
    ("0", None, "number '0' outside range [1, 255]"),
])
def test_read_unsigned(text, value, problem):
    reading = read_unsigned(text, 1, 255)
    assert reading == Reading(value, (problem,) if problem else ())


def test_read_unsigned_in_another_base():
    assert read_unsigned("0x20", 0, UINT_MAX, base=0).value == 32
    assert read_unsigned("020", 0, UINT_MAX, base=0).value == 16
    assert read_unsigned("ff", 0, UINT_MAX, base=16).value == 255


def test_read_unsigned64():
    assert read_unsigned64(str(ULONG_MAX)).value == ULONG_MAX
    assert read_unsigned64("1" + "0" * 20).problems == (
        f"number '1{'0' * 20}' outside unsigned 64 bit range",)
    assert read_unsigned64("-1").problems == ("negative number '-1'",)


# --------------------------------------------------------------------------- decimals and timers
@pytest.mark.parametrize(("text", "value", "problems"), [
    ("1", 1_000_000, ()),
    ("1.5", 1_500_000, ()),
    (".5", 500_000, ()),
    ("1.", 1_000_000, ()),
    (" 1", 1_000_000, ()),  # strtoull skips the blank
    ("0.000001", 1, ()),
    # more than 6 places: reported, rounded on the 7th, the rest never read
    ("1.1234565", 1_123_457, ("number '1.1234565' has too many decimal places",)),
    ("1.1234564", 1_123_456, ("number '1.1234564' has too many decimal places",)),
    ("1.1234564junk", 1_123_456, ("number '1.1234564junk' has too many decimal places",)),
    ("-1", None, ("negative number '-1'",)),
    # lenient (ignore_error): the leading digits of an invalid text stand when in range
    ("10s", 10, ("invalid number '10s'",)),
    ("1.5x", 15, ("invalid number '1.5x'",)),
    ("1.5.5", 15, ("invalid number '1.5.5'",)),
    ("x", 0, ("invalid number 'x'",)),
    ("99999999999999999999", None, ("number '99999999999999999999' outside unsigned decimal range",)),
])
def test_read_timer(text, value, problems):
    assert read_timer(text) == Reading(value, problems)


def test_read_timer_bounds():
    assert read_timer("0", 1).problems == ("number '0' outside range [0.000001, 18446744073709.551614]",)
    assert read_timer("0", 1).value is None
    assert read_timer("255", 0, 255 * 10**6).value == 255 * 10**6
    assert read_timer("255.000001", 0, 255 * 10**6).problems == (
        "number '255.000001' outside range [0.000000, 255.000000]",)
    assert read_timer(str(TIMER_MAXIMUM // 10**6)).value == TIMER_MAXIMUM // 10**6 * 10**6
    # the lenient value must still be in range
    assert read_timer("10s", 1000).value is None


def test_read_decimal_strict_drops_invalid_text():
    assert read_decimal("1.5x", 0, UINT_MAX, 6) == Reading(None, ("invalid number '1.5x'",))
    assert read_decimal("1.5x", 0, UINT_MAX, 6, lenient=True).value == 15


def test_read_decimal_milliseconds():
    """BFD reads milliseconds to 3 places (micro-seconds)."""
    assert read_decimal("10.5", 1000, UINT_MAX, 3).value == 10_500
    assert read_decimal("10.5555", 1000, UINT_MAX, 3) == Reading(
        10_556, ("number '10.5555' has too many decimal places",))
    assert read_decimal("0.5", 1000, 4_294_967_000, 3).problems == (
        "number '0.5' outside range [1.000, 4294967.000]",)


def test_round_up_compares_characters():
    """keepalived compares the 7th place with '5' as a character: a letter rounds up too."""
    assert read_timer("1.000000a").value == 1_000_001


# --------------------------------------------------------------------------- units, text, reporting
def test_units_round_trip():
    assert units(1.123457) == 1_123_457
    assert from_units(1_123_457) == 1.123457
    assert from_units(10_500, 3) == 10.5
    assert format_decimal(1.5) == "1.5"
    assert format_decimal(0.0) == "0"
    assert format_decimal(2.0) == "2"
    assert format_decimal(10.125, 3) == "10.125"
    assert units(INT_MAX / 10**6) == INT_MAX


def test_take_reports_invalid_number():
    diags = Diagnostics()
    ctx = Ctx(diags, None, "priority")
    assert read_unsigned("300", 1, 255).take(ctx) is None
    assert [(d.code, d.message) for d in diags] == [
        (ConfigErr.INVALID_NUMBER, "number '300' outside range [1, 255]")]
    assert read_unsigned("3", 1, 255).take(None) == 3


def test_read_decimal_without_places_prints_c_range():
    """C's "%lu.%*.*lu" with no places prints nothing after the point (route rtt's raw units)."""
    assert read_decimal("960001", 0, 960000, 0).problems == ("number '960001' outside range [0., 960000.]",)
    assert read_decimal("5.5", 0, 10, 0) == Reading(6, ("number '5.5' has too many decimal places",))
