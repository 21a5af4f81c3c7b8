"""The block structure of keepalived.conf, parsed by the Lark grammar in grammar/keepalived.lark.

The preprocessor's `Line`s become LINE / LBRACE / RBRACE tokens; Lark's LALR parser builds a
tree of `Stmt`s (its callbacks run during the parse, so no intermediate Lark tree is built,
which keeps a 60k-line configuration fast). Brace errors are recovered the way keepalived
recovers them, each with a diagnostic: an extra '}' is dropped, a '{' that opens nothing is
ignored, a block still open at the end of the input is closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Token, Transformer
from lark.lexer import Lexer

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.preprocess import Line
from keepalived_py.errors import ConfigError, SourcePos

GRAMMAR_PATH = Path(__file__).with_name("keepalived.lark")


class Stmt(NamedTuple):
    """A keyword line and, when it opens one, its block of statements."""

    line: Line
    block: tuple[Stmt, ...] | None = None

    @property
    def keyword(self) -> str:
        return self.line.words[0]

    @property
    def args(self) -> tuple[str, ...]:
        return self.line.words[1:]

    @property
    def pos(self) -> SourcePos:
        return self.line.pos


class _LineLexer(Lexer):
    """Feeds pre-tokenised lines to the LALR parser; repairs braces like keepalived."""

    def __init__(self, lexer_conf) -> None:  # noqa: D107 - Lark's interface
        pass

    def lex(self, data) -> Iterator[Token]:
        lines: list[Line] = data.lines
        diags: Diagnostics = data.diagnostics
        depth = 0
        prev_was_line = False
        open_lines: list[Line] = []
        for index, line in enumerate(lines):
            words = line.words
            if len(words) == 1 and words[0] == "{":
                if not prev_was_line:
                    diags.add(ConfigErr.UNEXPECTED_BOB, "Unexpected '{' - ignoring", line.pos)
                    continue
                depth += 1
                open_lines.append(lines[index - 1] if index else line)
                prev_was_line = False
                yield Token("LBRACE", "{", index, line.lineno, 1)
            elif len(words) == 1 and words[0] == "}":
                if depth == 0:
                    diags.add(ConfigErr.UNEXPECTED_EOB, "Extra '}' found", line.pos)
                    continue
                depth -= 1
                open_lines.pop()
                prev_was_line = False
                yield Token("RBRACE", "}", index, line.lineno, 1)
            else:
                prev_was_line = True
                yield Token("LINE", words[0], index, line.lineno, 1)
        while depth:
            opener = open_lines.pop()
            diags.add(ConfigErr.MISSING_EOB, f"Missing '}}' at end of block '{' '.join(opener.words)}'",
                      opener.pos)
            depth -= 1
            yield Token("RBRACE", "}", len(lines), 0, 1)


class _Builder(Transformer):
    """Lark callbacks that build `Stmt`s directly from the tokens."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.lines: list[Line] = []

    def start(self, children):
        return tuple(children)

    def stmt(self, children):
        token = children[0]
        block = children[1] if len(children) > 1 else None
        return Stmt(self.lines[token.start_pos], block)

    def block(self, children):
        return tuple(children[1:-1])


@dataclass(slots=True)
class _Input:
    lines: list[Line]
    diagnostics: Diagnostics


@cache
def _parser() -> tuple[Lark, _Builder]:
    builder = _Builder()
    lark = Lark(GRAMMAR_PATH.read_text(), parser="lalr", lexer=_LineLexer, transformer=builder,
                propagate_positions=False, maybe_placeholders=False)
    return lark, builder


def parse_lines(lines: list[Line], diagnostics: Diagnostics) -> tuple[Stmt, ...]:
    """The statement tree of preprocessed lines. Structural problems become diagnostics."""
    lark, builder = _parser()
    builder.lines = lines
    try:
        return lark.parse(_Input(lines, diagnostics))
    except Exception as exc:  # the lexer repairs braces, so this means a bug in our grammar
        raise ConfigError(f"internal parser error: {exc}") from exc
    finally:
        builder.lines = []
