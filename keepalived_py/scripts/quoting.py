"""keepalived's command-line splitting and display (pure).

`split_command` is lib/parser.c alloc_strvec_quoted_escaped() (keepalived 2.2.7): words at
blanks; '...' and "..." group (the quotes are dropped, adjacent text joins the word); a
backslash escapes inside and outside quotes with C-like sequences (\\a \\b \\E \\f \\n \\r \\t
\\v, \\xHH..., \\cX control characters, up to three octal digits, anything else is itself).
An unterminated quote or a trailing lone backslash makes the whole string unusable (None),
as keepalived then ignores the script ("Unable to parse script ...").

`cmd_str` is lib/notify.c cmd_str_r(): each word in single quotes joined with spaces (the
first word is left bare when it starts with '<' or '>'), the text keepalived hands to
system() for a script that cannot be exec'd directly and shows in its logs.
"""

from __future__ import annotations

_WHITE_SPACE = " \t\f\n\r\v"
_SIMPLE = {"a": "\a", "b": "\b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX = "0123456789abcdefABCDEF"


class QuotingError(ValueError):
    """The string cannot be split (unmatched quote, or a trailing backslash).

    `missing` is what was left open: the quote character, or a backslash.
    """

    def __init__(self, message: str, missing: str):
        super().__init__(message)
        self.missing = missing


def _byte(value: int) -> str:
    """One C char as Python text: bytes >= 0x80 as surrogate escapes, so that os.fsencode()
    gives back exactly the byte keepalived would pass to execve()."""
    value &= 0xFF
    return chr(value) if value < 0x80 else chr(0xDC00 + value)


def _escape(src: str, i: int) -> tuple[str, int]:
    """Decode the escape whose character follows the backslash at src[i - 1]."""
    c = src[i]
    if c == "x" and i + 1 < len(src) and src[i + 1] in _HEX:
        i += 1
        value = 0
        while i < len(src) and src[i] in _HEX:
            value = ((value << 4) | int(src[i], 16)) & 0xFF  # a C char keeps the low 8 bits
            i += 1
        return _byte(value), i
    if c == "c" and i + 1 < len(src):
        return chr(ord(src[i + 1]) & 0x1F), i + 2
    if "0" <= c <= "7":
        value = int(c)
        i += 1
        for _ in range(2):
            if i < len(src) and "0" <= src[i] <= "7":
                value = (value << 3) + int(src[i])
                i += 1
        return _byte(value), i
    return _SIMPLE.get(c, c), i + 1


def split_command_strict(src: str) -> list[str]:
    """alloc_strvec_quoted_escaped(); raises QuotingError where keepalived gives up."""
    words: list[str] = []
    i, n = 0, len(src)
    while i < n:
        while i < n and src[i] in _WHITE_SPACE:
            i += 1
        if i >= n:
            break
        out: list[str] = []
        quote = ""
        while i < n:
            c = src[i]
            if c == "\\":
                i += 1
                if i >= n:
                    raise QuotingError(f"Missing escape char at end: '{src}'", "\\")
                ch, i = _escape(src, i)
                out.append(ch)
                continue
            if quote:
                if c == quote:
                    quote = ""
                else:
                    out.append(c)
                i += 1
                continue
            if c in "'\"":
                quote = c
                i += 1
                continue
            if c in _WHITE_SPACE:
                break
            out.append(c)
            i += 1
        if quote:
            raise QuotingError(f"String '{src}': missing terminating {quote}", quote)
        words.append("".join(out))
    return words


def split_command(src: str) -> list[str] | None:
    """The argv keepalived builds from a script string, or None if it cannot parse it."""
    try:
        words = split_command_strict(src)
    except QuotingError:
        return None
    return words or None


def cmd_str(argv: list[str] | tuple[str, ...]) -> str:
    """lib/notify.c cmd_str_r(): how keepalived shows (and system()s) a command."""
    parts = []
    for i, word in enumerate(argv):
        if i == 0 and word[:1] in ("<", ">"):
            parts.append(word)
        else:
            parts.append(f"'{word}'")
    return " ".join(parts)
