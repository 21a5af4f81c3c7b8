"""The block structure of keepalived.conf, parsed by the Lark grammar keepalived.lark.

The grammar file ships inside this package (grammar/keepalived.lark at the top of the tree
links to it); it knows blocks and lines only, the schema (config/schema.py, config/model/)
knows keywords.

The preprocessor's `Line`s become RUN / OPEN / RBRACE tokens (RUN: a run of lines that open
nothing and of closed leaf blocks, i.e. blocks of such lines; OPEN: a keyword line whose
block holds blocks, with its '{'); Lark's LALR parser builds a tree of `Stmt`s (its
callbacks run during the parse, so no intermediate Lark tree is built, and its work is per
token, so a run with its leaves is one token: the 80k-line bench configuration is 36k tokens
instead of 80k, 48k when leaves were tokens of their own). Brace errors get keepalived's messages, and keepalived's separate count of braces
decides them: a '{' that opens nothing is ignored (but counted), a '}' at the top level is
dropped, blocks still open at the end of the input are closed (one message with the count).
Each block keeps the line of its closing '}' for keepalived's end-of-block messages.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Transformer
from lark.lexer import Lexer

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.preprocess import Line
from keepalived_py.errors import ConfigError, SourcePos

#: package data beside this module, so an installed wheel has it too (not a path into the
#: source tree); a plain path: importlib.resources alone cost a `-t` about 10 ms of imports
GRAMMAR = Path(__file__).with_name("keepalived.lark")


class Stmt(NamedTuple):
    """A keyword line and, when it opens one, its block of statements.

    `end` is the line of the block's closing '}': keepalived runs a block's end handler
    (and reads a value block whole) when it reads that line, so the messages it reports
    there name the '}' line. None for a block still open at the end of the input (keepalived
    then reports without a line) and for a line that opens no block.
    """

    line: Line
    block: tuple[Stmt, ...] | None = None
    end: Line | None = None

    @property
    def keyword(self) -> str:
        return self.line.words[0]

    @property
    def args(self) -> tuple[str, ...]:
        return self.line.words[1:]

    @property
    def pos(self) -> SourcePos:
        return self.line.pos


class _Tok(NamedTuple):
    """A token as light as Lark's LALR parser allows: it only reads `type`.

    `start_pos` is the index of the token's line in the preprocessed line list.
    """

    type: str
    start_pos: int
    # read only when Lark builds its end-of-input token from the last one
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    end_pos: int = 0


class _LineLexer(Lexer):
    """Feeds pre-tokenised lines to the LALR parser; repairs braces like keepalived."""

    def __init__(self, lexer_conf) -> None:  # noqa: D107 - Lark's interface
        pass

    def lex(self, data) -> Iterator[_Tok]:
        lines: list[Line] = data.lines
        diags: Diagnostics = data.diagnostics
        depth = 0  # blocks open
        # keepalived's read_line() counts braces apart from the blocks: a stray '{' counts too
        braces = 0
        openers: list[Line] = []
        count = len(lines)
        marks = data.marks or brace_marks(lines)
        index = 0
        while index < count:
            line = lines[index]
            mark = marks[index]
            if mark == "{":
                diags.add(ConfigErr.UNEXPECTED_BOB, "Unexpected '{' - ignoring", line.pos)
                braces += 1
                index += 1
            elif mark == "}":
                index += 1
                braces -= 1
                if braces < 0:
                    diags.add(ConfigErr.UNEXPECTED_EOB, "Extra '}' found", line.pos)
                    braces = 0
                if depth == 0:
                    # at the top level keepalived looks '}' up as a keyword
                    diags.add(ConfigErr.UNKNOWN_KEYWORD, "Unknown keyword '}'", line.pos)
                    continue
                depth -= 1
                openers.pop()
                yield _Tok("RBRACE", index - 1)
            else:
                end = _run_with_leaves(marks, index, count)
                if end > index:
                    # plain lines and closed leaf blocks: one RUN token (the brace count goes up
                    # and down again inside a leaf, no message can arise)
                    yield _Tok("RUN", index, end_pos=end)
                    index = end
                    continue
                # a keyword line whose block holds more blocks (or stays open): OPEN, and its
                # '{' goes with it
                depth += 1
                braces += 1
                openers.append(line)
                yield _Tok("OPEN", index)
                index += 2
        if braces:
            # keepalived's init_data() counts the braces still open once the input is read; the
            # hint says which blocks (a reload refused for this names them)
            unclosed = ", ".join(f"'{' '.join(o.words)}' at {o.pos}" for o in reversed(openers[-3:]))
            diags.add(ConfigErr.MISSING_EOB, f"There are {braces} missing '}}'s or extra '{{'s",
                      hint=f"not closed: {unclosed}" if unclosed else None)
        while depth:
            depth -= 1
            yield _Tok("RBRACE", count)


_BRACE = re.compile(r"[{}]")


def brace_marks(lines: list[Line]) -> str:
    """One character per line: '{' or '}' for a line that is that brace alone, '.' for any
    other; the lexer and the builder find the block structure by searching this string."""
    return "".join(["{" if w == _OPEN else "}" if w == _CLOSE else "." for w in [line.words for line in lines]])


_OPEN = ("{",)
_CLOSE = ("}",)


def _next_brace(marks: str, index: int, count: int) -> int:
    found = _BRACE.search(marks, index)
    return found.start() if found is not None else count


def _run_with_leaves(marks: str, index: int, count: int) -> int:
    """Where the run from `index` of plain lines and closed leaf blocks (a keyword line, its
    '{', lines that open nothing, its '}') ends: at a brace that belongs to no leaf, or at a
    keyword line whose block is not a leaf (it holds a block, or the input ends first)."""
    while True:
        brace = _next_brace(marks, index, count)
        if brace in (count, index) or marks[brace] == "}":
            return brace  # the end, a '}' closing the enclosing block, or a '{' at `index`
        # the line before this '{' opens a block: a leaf when the next brace closes it
        close = _next_brace(marks, brace + 1, count)
        if close == count or marks[close] != "}":
            return brace - 1
        index = close + 1


#: a Stmt made as the tuple it is, without the NamedTuple's Python-level __new__ (80,000
#: statements for the large bench)
_new = tuple.__new__


class _Builder(Transformer):
    """Lark callbacks that build `Stmt`s directly from the tokens, one list per block."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.lines: list[Line] = []
        self.marks = ""  # brace_marks(self.lines)

    def start(self, children):
        return tuple(children[0])

    def first(self, _children):
        return []

    def add_run(self, children):
        stmts, tok = children
        lines = self.lines
        append = stmts.append
        marks = self.marks
        new = _new
        k, end = tok.start_pos, tok.end_pos
        while k < end:
            brace = marks.find("{", k, end)
            if brace < 0:
                stmts.extend([new(Stmt, (lines[j], None, None)) for j in range(k, end)])
                break
            # plain lines, then a leaf: its opener, '{', plain lines, '}' (the lexer saw to that)
            opener = brace - 1
            stmts.extend([new(Stmt, (lines[j], None, None)) for j in range(k, opener)])
            close = marks.index("}", brace + 1)
            leaf = tuple([new(Stmt, (lines[j], None, None)) for j in range(brace + 1, close)])
            append(new(Stmt, (lines[opener], leaf, lines[close])))
            k = close + 1
        return stmts

    def add_block(self, children):
        stmts = children[0]
        stmts.append(children[1])
        return stmts

    def block(self, children):
        opener, stmts, close = children
        end = self.lines[close.start_pos] if close.start_pos < len(self.lines) else None
        return Stmt(self.lines[opener.start_pos], tuple(stmts), end)


@dataclass(slots=True)
class _Input:
    lines: list[Line]
    diagnostics: Diagnostics
    marks: str = ""  # brace_marks(lines), when the caller has it


def _table_cache(grammar: str) -> tuple[str | bool, str | None]:
    """Where Lark keeps the analysed grammar (its LALR table), so a start loads it instead of
    building it (a tenth of a `-t` on a small file): beside this module's .pyc, trusted as
    that is. Never the shared temporary directory (Lark's default: a pickle anyone could
    plant). The name carries the grammar's checksum and Lark's version, so a file there is
    never stale and Lark never rewrites it in place; a new one is written under a name of
    this process and renamed into place, so a concurrent start reads a whole file or none.

    (path for Lark's cache option or False, the final path to rename to or None)."""
    import zlib

    import lark

    tag = f"{zlib.crc32(grammar.encode()):08x}-{lark.__version__}"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__",
                        f"keepalived-lark.{sys.implementation.cache_tag}.{tag}.pickle")
    if os.path.exists(path):
        return path, None
    if not sys.dont_write_bytecode and os.access(os.path.dirname(path), os.W_OK):
        return f"{path}.{os.getpid()}.tmp", path
    return False, None


@cache
def _parser() -> tuple[Lark, _Builder]:
    builder = _Builder()
    grammar = GRAMMAR.read_text(encoding="utf-8")
    where, final = _table_cache(grammar)
    lark = Lark(grammar, parser="lalr", lexer=_LineLexer, transformer=builder,
                propagate_positions=False, maybe_placeholders=False, cache=where)
    if final is not None and isinstance(where, str):
        try:
            os.replace(where, final)
        except OSError:  # Lark could not write it: nothing to keep
            pass
    return lark, builder


def parse_lines(lines: list[Line], diagnostics: Diagnostics) -> tuple[Stmt, ...]:
    """The statement tree of preprocessed lines. Structural problems become diagnostics."""
    lark, builder = _parser()
    builder.lines = lines
    builder.marks = marks = brace_marks(lines)
    try:
        return lark.parse(_Input(lines, diagnostics, marks))
    except Exception as exc:  # the lexer repairs braces, so this means a bug in our grammar
        raise ConfigError(f"internal parser error: {exc}") from exc
    finally:
        builder.lines = []
        builder.marks = ""
