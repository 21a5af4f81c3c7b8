"""keepalived's alloc_strvec_quoted_escaped() and cmd_str_r()."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.scripts.quoting import QuotingError, cmd_str, split_command, split_command_strict


@pytest.mark.parametrize("src, argv", [
    ("/bin/true", ["/bin/true"]),
    ("  /bin/echo   a\tb  ", ["/bin/echo", "a", "b"]),
    ("/bin/echo 'a b' \"c d\"", ["/bin/echo", "a b", "c d"]),
    ("/bin/echo a'b c'd", ["/bin/echo", "ab cd"]),          # quotes join with adjacent text
    ("/bin/echo '' x", ["/bin/echo", "", "x"]),              # an empty quoted word is a word
    ("/bin/echo a\\ b", ["/bin/echo", "a b"]),               # escaped blank
    ("/bin/echo 'a\\'b'", ["/bin/echo", "a'b"]),             # escapes work inside '...' too
    ("/bin/echo \"a\\\"b\"", ["/bin/echo", 'a"b']),
    ("/bin/echo \\n\\t\\a\\b\\E\\f\\r\\v", ["/bin/echo", "\n\t\a\b\x1b\f\r\v"]),
    ("/bin/echo \\x41\\x4a\\x4A", ["/bin/echo", "AJJ"]),
    ("/bin/echo \\xg", ["/bin/echo", "xg"]),                 # \x without hex digit is x
    ("/bin/echo \\101\\60\\0610", ["/bin/echo", "A01" + "0"]),  # up to three octal digits
    ("/bin/echo \\cA\\c[", ["/bin/echo", "\x01\x1b"]),
    ("/bin/echo \\q", ["/bin/echo", "q"]),
    ("a\fb\vc", ["a", "b", "c"]),
])
def test_split(src, argv):
    assert split_command(src) == argv


def test_high_bytes_are_raw_bytes():
    argv = split_command("/bin/echo \\xff\\377")
    assert [os.fsencode(w) for w in argv] == [b"/bin/echo", b"\xff\xff"]


@pytest.mark.parametrize("src", ["/bin/echo 'abc", "/bin/echo \"abc", "/bin/echo abc\\"])
def test_unparseable(src):
    with pytest.raises(QuotingError):
        split_command_strict(src)
    assert split_command(src) is None


def test_empty():
    assert split_command("   ") is None
    assert split_command_strict("") == []


def test_cmd_str():
    assert cmd_str(["/bin/echo", "a b", "c"]) == "'/bin/echo' 'a b' 'c'"
    assert cmd_str(["</dev/tcp/127.0.0.1/80"]) == "</dev/tcp/127.0.0.1/80"
    assert cmd_str(["x", "<y"]) == "'x' '<y'"


@pytest.fixture(autouse=True)
def event_loop_kind():
    """No event loop here."""
    yield None


plain_words = st.lists(st.text(st.characters(blacklist_characters="'\\", blacklist_categories=("Cs",)),
                               max_size=8), min_size=1, max_size=6)


@given(plain_words)
def test_single_quoted_words_round_trip(words):
    # what cmd_str() produces splits back into the same words (no ' or \\ inside)
    assert split_command(cmd_str(["/x"] + words)) == ["/x"] + words


@given(st.text(max_size=40))
def test_never_raises_anything_else(text):
    try:
        words = split_command_strict(text)
    except QuotingError:
        return
    assert all(isinstance(w, str) for w in words)


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
                min_size=1, max_size=6))
def test_backslash_escaping_round_trips(words):
    def esc(w: str) -> str:
        return "".join("\\" + c if not c.isalnum() else c for c in w)
    # \\ before a letter or digit would start an escape sequence; those are left bare
    assert split_command_strict(" ".join(esc(w) for w in words)) == words
