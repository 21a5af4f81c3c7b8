"""The lexer hands Lark a run of lines and whole leaf blocks as a single token (the parse's
cost is per token); the statement tree and the brace messages must be those of the plain
one-statement-per-line nesting with keepalived's repairs, written out here as the reference."""

from __future__ import annotations

import random

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.parser import Stmt, _Input, _LineLexer, parse_lines
from keepalived_py.config.preprocess import Line


def _reference(lines: list[Line], diags: Diagnostics) -> tuple[Stmt, ...]:
    stack: list[list[Stmt]] = [[]]
    openers: list[Line] = []
    braces = 0
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if line.words == ("{",):
            diags.add(ConfigErr.UNEXPECTED_BOB, "Unexpected '{' - ignoring", line.pos)
            braces += 1
            i += 1
        elif line.words == ("}",):
            i += 1
            braces -= 1
            if braces < 0:
                diags.add(ConfigErr.UNEXPECTED_EOB, "Extra '}' found", line.pos)
                braces = 0
            if len(stack) == 1:
                diags.add(ConfigErr.UNKNOWN_KEYWORD, "Unknown keyword '}'", line.pos)
                continue
            children = stack.pop()
            stack[-1].append(Stmt(openers.pop(), tuple(children), line))
        elif i + 1 < n and lines[i + 1].words == ("{",):
            openers.append(line)
            stack.append([])
            braces += 1
            i += 2
        else:
            stack[-1].append(Stmt(line, None))
            i += 1
    if braces:
        unclosed = ", ".join(f"'{' '.join(o.words)}' at {o.pos}" for o in reversed(openers[-3:]))
        diags.add(ConfigErr.MISSING_EOB, f"There are {braces} missing '}}'s or extra '{{'s",
                  hint=f"not closed: {unclosed}" if unclosed else None)
    while len(stack) > 1:
        children = stack.pop()
        stack[-1].append(Stmt(openers.pop(), tuple(children), None))
    return tuple(stack[0])


def _lines(words: list[tuple[str, ...]]) -> list[Line]:
    return [Line(w, " ".join(w), "k.conf", i + 1) for i, w in enumerate(words)]


def test_random_brace_soup_parses_as_the_reference():
    rng = random.Random(16)
    for _ in range(3000):
        picks = []
        for _ in range(rng.randint(0, 16)):
            r = rng.random()
            picks.append(("{",) if r < 0.25 else ("}",) if r < 0.5 else (f"kw{rng.randint(0, 3)}", "a"))
        lines = _lines(picks)
        got, want = Diagnostics(), Diagnostics()
        assert parse_lines(lines, got) == _reference(lines, want), picks
        assert list(got) == list(want), picks


def test_runs_with_their_leaf_blocks_are_one_token():
    words = [("vrrp_instance", "VI_1"), ("{",), ("state", "BACKUP"), ("priority", "100"),
             ("virtual_ipaddress",), ("{",), ("192.0.2.1/24",), ("}",), ("track_script",), ("{",), ("}",), ("}",)]
    lines = _lines(words)
    tokens = [(t.type, t.start_pos) for t in _LineLexer(None).lex(_Input(lines, Diagnostics()))]
    assert tokens == [("OPEN", 0), ("RUN", 2), ("RBRACE", 11)]
    tree = parse_lines(lines, Diagnostics())
    assert tree == _reference(lines, Diagnostics())
    vip = tree[0].block[2]
    assert vip.keyword == "virtual_ipaddress" and vip.block[0].line.words == ("192.0.2.1/24",)
    assert vip.end.lineno == 8 and tree[0].block[3].block == ()
