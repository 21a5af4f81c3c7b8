"""keepalived's lexical layer: the text the grammar sees, with every line's origin kept.

keepalived reads its configuration line by line (lib/parser.c, read_line): comments are cut,
`include` files are spliced in (their relative paths resolve against the including file's
folder), `@id` / `@^id` lines are kept or dropped by the config id, `$NAME=value` lines define
parameters (a trailing backslash continues a definition over several lines), `$NAME` and
`${NAME}` are replaced, `~SEQ(var, start, step, end)` and `~LST(...)` repeat the next line, and
every `{` or `}` outside quotes ends up alone on a line. This module does the same and hands
on `Line`s: a tuple of words plus the file and line number they came from, so every later
message can name its source.
"""

from __future__ import annotations

import glob
import os
import random
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import IntFlag
from typing import NamedTuple

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.errors import SourcePos

#: keepalived's limit on one line after parameter substitution (MAXBUF).
MAX_LINE = 1024
MAX_INCLUDE_DEPTH = 32
_DEF_LINE_END = "\n"


class IncludeCheck(IntFlag):
    """What a missing include counts as (keepalived's include_check bits)."""

    NONE = 0
    READ = 1  # a matched file could not be read
    MATCH = 2  # a file named without wildcards is missing
    WILDCARD = 4  # a wildcard matched nothing
    BRACE = 8  # one alternative of a {a,b} brace expression is missing
    ALL = 15


_INCLUDE_VARIANTS = {
    "include": IncludeCheck.NONE,
    "includer": IncludeCheck.READ,
    "includem": IncludeCheck.READ | IncludeCheck.MATCH,
    "includew": IncludeCheck.READ | IncludeCheck.MATCH | IncludeCheck.WILDCARD,
    "includeb": IncludeCheck.READ | IncludeCheck.BRACE,
    "includea": IncludeCheck.ALL,
}


class Line(NamedTuple):
    """One logical line: its words, its raw text (for script keywords) and its source.

    A NamedTuple, not a dataclass: a large configuration makes hundreds of thousands.
    """

    words: tuple[str, ...]
    raw: str
    file: str
    lineno: int

    @property
    def pos(self) -> SourcePos:
        return SourcePos(self.file, self.lineno)


@dataclass(slots=True)
class _Definition:
    value: str
    multiline: bool = False
    fn: Callable[[tuple[int, ...]], str] | None = None
    max_params: int = 0


@dataclass(slots=True)
class Preprocessor:
    """Turns a configuration file (and its includes) into `Line`s."""

    config_id: str | None = None
    include_check: IncludeCheck = IncludeCheck.NONE
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    random_seed: int | None = None
    files_read: list[str] = field(default_factory=list)
    _defs: dict[str, _Definition] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.config_id is None:
            self.config_id = socket.gethostname().split(".")[0]
        if self.random_seed is not None:
            self._rng.seed(self.random_seed)
        self._defs["_PWD"] = _Definition("", fn=lambda _p: os.getcwd())
        self._defs["_INSTANCE"] = _Definition("", fn=lambda _p: self.config_id or "")
        self._defs["_RANDOM"] = _Definition("", fn=self._random, max_params=2)
        self._defs["_HASH"] = _Definition("#")
        self._defs["_BANG"] = _Definition("!")

    # ---------------------------------------------------------------- public
    def read(self, path: str) -> list[Line]:
        """All logical lines of `path` and what it includes, in order."""
        out: list[Line] = []
        base = os.getcwd()
        matches = self._glob(path, base, IncludeCheck.NONE, SourcePos(path, 0), top=True)
        if not matches:
            return out
        for match in matches:
            self._read_file(match, out, depth=0, include_flags=IncludeCheck.NONE)
        return out

    def read_text(self, text: str, name: str = "<string>") -> list[Line]:
        """Logical lines of configuration text given directly (tests, stdin)."""
        out: list[Line] = []
        self._process_physical(text.splitlines(), name, os.getcwd(), out, 0)
        return out

    # ---------------------------------------------------------------- files
    def _read_file(self, path: str, out: list[Line], depth: int, include_flags: IncludeCheck) -> None:
        saved_check = self.include_check
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
        except OSError as exc:
            self._file_problem(
                IncludeCheck.READ, include_flags,
                f"Configuration file '{path}' open problem ({exc.strerror}) - skipping",
                SourcePos(path, 0),
            )
            return
        self.files_read.append(path)
        self._process_physical(text.splitlines(), path, os.path.dirname(os.path.abspath(path)), out, depth)
        # keepalived restores include_check when an included file ends
        self.include_check = saved_check

    def _glob(self, pattern: str, base: str, flags: IncludeCheck, pos: SourcePos, top: bool = False) -> list[str]:
        """keepalived's glob(): braces expanded, wildcards matched, directories skipped."""
        active = self.include_check | flags
        alternatives = _expand_braces(pattern)
        found: list[str] = []
        missing_any = False
        for alt in alternatives:
            full = alt if os.path.isabs(alt) else os.path.join(base, alt)
            if glob.has_magic(alt):
                hits = sorted(glob.glob(full))
                if not hits:
                    missing_any = True
                    if len(alternatives) == 1:
                        self._file_problem(IncludeCheck.WILDCARD, active, f"No config files matched '{pattern}'.", pos)
                found.extend(hits)
            elif os.path.exists(full):
                found.append(full)
            else:
                missing_any = True
                kind = IncludeCheck.BRACE if len(alternatives) > 1 else IncludeCheck.MATCH
                if top:
                    self.diagnostics.add(ConfigErr.FILE_NOT_FOUND, f"Unable to find configuration file {pattern}", None)
                    return []
                self._file_problem(kind, active, f"Config files missing '{alt}'.", pos)
        if missing_any and found and len(alternatives) > 1 and active & IncludeCheck.BRACE:
            return []
        usable: list[str] = []
        for path in found:
            if os.path.isdir(path):
                self._file_problem(IncludeCheck.READ, active,
                                   f"Configuration file '{path}' is a directory - skipping", pos)
                continue
            mode = os.stat(path).st_mode
            if mode & 0o111:
                self._file_problem(IncludeCheck.READ, active,
                                   f"Configuration file '{path}' is not a regular non-executable file - skipping",
                                   pos)
                continue
            usable.append(path)
        if top and len(usable) > 1:
            self.diagnostics.add(ConfigErr.MULTIPLE_FILES,
                                 f"WARNING, multiple configuration file matches of {pattern}, starting with {usable[0]}")
            usable = usable[:1]
        return usable

    def _file_problem(self, kind: IncludeCheck, active: IncludeCheck, message: str, pos: SourcePos) -> None:
        if active & kind:
            self.diagnostics.add(ConfigErr.FILE_NOT_FOUND, message, pos)
        else:
            self.diagnostics.add(ConfigErr.OK, message, pos)

    # ---------------------------------------------------------------- lines
    def _process_physical(self, physical: list[str], name: str, base: str, out: list[Line], depth: int) -> None:
        defining: _Definition | None = None
        special = _SPECIAL.search
        append = out.append
        # identical lines (`weight 1`, `}`) share one text and one words tuple: a large
        # configuration repeats most of its lines, and each copy would stay alive in its Line.
        # A line seen before is looked up first: what makes it plain words is its text alone.
        plain: dict[str, tuple[tuple[str, ...], str]] = {"}": (_CLOSE, "}")}
        opening: dict[str, tuple[tuple[str, ...], str]] = {}
        new = tuple.__new__  # a Line made as the tuple it is (without the NamedTuple's Python __new__)
        for index, raw in enumerate(physical, 1):
            text = raw.strip()
            if defining is None:
                known = plain.get(text)
                if known is not None:  # nothing but words (most lines of a large configuration)
                    append(new(Line, (known[0], known[1], name, index)))
                    continue
                known = opening.get(text)
                if known is not None:  # words and a '{'
                    if known[1]:
                        append(Line(known[0], known[1], name, index))
                    append(Line(_OPEN, "{", name, index))
                    continue
            if not text:
                if defining is not None:
                    defining = None
                continue
            if defining is None and not special(text) and not text.startswith("include"):
                known = plain[text] = (tuple(text.split()), text)
                append(Line(known[0], known[1], name, index))
                continue
            if defining is None and text[-1] == "{" and not special(text, 0, len(text) - 1) \
                    and not text.startswith("include"):
                head = text[:-1].rstrip()
                known = opening[text] = (tuple(head.split()), head)
                if known[1]:
                    append(Line(known[0], known[1], name, index))
                append(Line(_OPEN, "{", name, index))
                continue
            text, cont = self._decomment(text, name, index)
            if defining is not None:
                if text:
                    defining.value = (defining.value + _DEF_LINE_END + text) if defining.value else text
                if not cont:
                    defining = None
                continue
            if not text:
                continue
            started = self._logical(text, name, index, base, out, depth)
            if started is not None and cont:
                started.multiline = True
                defining = started

    def _logical(self, text: str, name: str, lineno: int, base: str, out: list[Line],
                 depth: int) -> _Definition | None:
        """Process one decommented line; returns a definition it started, if any."""
        for _ in range(64):  # keepalived re-checks after substitution; bound the loop
            if text.startswith("@"):
                kept = self._conditional(text)
                if not kept:
                    return None
                text = kept
            if text.startswith("$"):
                definition = self._define(text)
                if definition is not None:
                    return definition
            if text.startswith("~SEQ") or text.startswith("~LST"):
                self._sequence(text, name, lineno, base, out, depth)
                return None
            if "$" in text and self._has_reference(text):
                expanded = self._substitute(text, SourcePos(name, lineno))
                if expanded is None:
                    return None
                if _DEF_LINE_END in expanded:
                    # a multi-line definition: each of its lines is a line of its own
                    for piece in expanded.split(_DEF_LINE_END):
                        piece, _cont = self._decomment(piece, name, lineno)
                        if piece:
                            self._logical(piece, name, lineno, base, out, depth)
                    return None
                text, _cont = self._decomment(expanded, name, lineno)
                if text.startswith(("@", "~")) or ("$" in text and self._has_reference(text)):
                    continue
            break
        if not text or self._include(text, name, lineno, base, out, depth):
            return None
        self._emit(text, name, lineno, out)
        return None

    def _sequence(self, text: str, name: str, lineno: int, base: str, out: list[Line], depth: int) -> None:
        """~SEQ / ~LST: the rest of the line once per value, nesting left to right."""
        parsed = self._parse_seq(text, SourcePos(name, lineno))
        if parsed is None:
            return
        assignments, rest = parsed
        if not rest:
            return
        for assignment in assignments:
            for var, val in assignment:
                self._defs[var] = _Definition(val)
            self._logical(rest, name, lineno, base, out, depth)

    def _emit(self, text: str, name: str, lineno: int, out: list[Line]) -> None:
        """Split at braces outside quotes, as keepalived's read_line does, and tokenise."""
        while text:
            brace = _find_brace(text)
            if brace < 0:
                head, text = text, ""
            elif brace == 0:
                head, text = text[0], text[1:].strip()
            else:
                head, text = text[:brace].rstrip(), text[brace:]
            words = _split_words(head)
            if words:
                out.append(Line(words, head, name, lineno))

    # ------------------------------------------------------------ comments
    def _decomment(self, text: str, name: str, lineno: int) -> tuple[str, bool]:
        """keepalived's decomment(): strip comments and escapes; report a trailing backslash."""
        text = text.strip(" \t")
        if not any(c in text for c in '!#"\\'):
            return text, False
        out: list[str] = []
        quote = False
        cont = False
        i = 0
        n = len(text)
        while i < n:
            c = text[i]
            if c == '"':
                quote = not quote
                out.append(c)
            elif c == "\\":
                if i + 1 < n:
                    nxt = text[i + 1]
                    if not quote and nxt in "#!":
                        out.append(nxt)
                    else:
                        out.append(c)
                        out.append(nxt)
                    i += 2
                    continue
                cont = True
                break
            elif not quote and c in "!#":
                break
            else:
                out.append(c)
            i += 1
        if quote:
            self.diagnostics.add(ConfigErr.UNMATCHED_QUOTE, f"Unterminated quote '{text}'", SourcePos(name, lineno))
        return "".join(out).rstrip(" \t"), cont

    # -------------------------------------------------------- conditionals
    def _conditional(self, text: str) -> str | None:
        negate = text.startswith("@^")
        rest = text[2:] if negate else text[1:]
        parts = rest.split(None, 1)
        if len(parts) < 2 or rest[:1].isspace():
            return None
        ident, remainder = parts
        matches = ident == self.config_id
        if matches == negate:
            return None
        return remainder.strip()

    # ---------------------------------------------------------- definitions
    _DEF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)\Z", re.S)

    def _define(self, text: str) -> _Definition | None:
        match = self._DEF_RE.match(text)
        if not match:
            return None
        name, value = match.group(1), match.group(2).lstrip(" \t")
        definition = _Definition(value)
        self._defs[name] = definition
        return definition

    def _has_reference(self, text: str) -> bool:
        return any(self._lookup(text, m.start()) for m in re.finditer(r"\$", text))

    def _lookup(self, text: str, at: int) -> tuple[_Definition, int, tuple[int, ...]] | None:
        """The definition referenced at text[at] ('$'), its end offset and any ${NAME a b} params."""
        i = at + 1
        braces = i < len(text) and text[i] == "{"
        if braces:
            i += 1
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i:])
        if not m:
            return None
        name = m.group(0)
        end = i + len(name)
        params: tuple[int, ...] = ()
        if braces:
            pm = re.match(r"((?: +\d+)*)\}", text[end:])
            if not pm:
                return None
            params = tuple(int(p) for p in pm.group(1).split())
            end += len(pm.group(0))
        elif end < len(text) and text[end] not in " \t,)":
            return None
        definition = self._defs.get(name)
        if definition is None:
            return None
        if params and not definition.max_params:
            return None
        return definition, end, params

    def _substitute(self, text: str, pos: SourcePos) -> str | None:
        out: list[str] = []
        i = 0
        while True:
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            found = self._lookup(text, j)
            if found is None:
                out.append(text[i:j + 1])
                i = j + 1
                continue
            definition, end, params = found
            value = definition.fn(params) if definition.fn else definition.value
            out.append(text[i:j])
            out.append(value)
            i = end
        result = "".join(out)
        if len(result) >= MAX_LINE * 64:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR,
                                 "Parameter substitution on line would exceed maximum line length", pos)
            return None
        return result

    def _random(self, params: tuple[int, ...]) -> str:
        low, high = 0, 32767
        if len(params) == 1:
            high = params[0]
        elif len(params) >= 2:
            low, high = params[0], params[1]
        if high < low:
            low, high = high, low
        return str(self._rng.randint(low, high))

    # ------------------------------------------------------------ ~SEQ/~LST
    def _parse_seq(self, text: str, pos: SourcePos) -> tuple[list[list[tuple[str, str]]], str] | None:
        kind = text[:4]
        body = text[4:]
        hexa = kind == "~SEQ" and body.startswith("x")
        if hexa:
            body = body[1:]
        body = body.lstrip(" \t")
        if not body.startswith("("):
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid {kind} specification '{text}'", pos)
            return None
        close = body.find(")")
        if close < 0:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid {kind} specification '{text}'", pos)
            return None
        inner = body[1:close]
        if "$" in inner:
            inner = self._substitute(inner, pos) or inner
        rest = body[close + 1:].strip()
        if kind == "~SEQ":
            assignments = self._seq_values(inner, hexa, text, pos)
        else:
            assignments = self._lst_values(inner, text, pos)
        if assignments is None:
            return None
        return assignments, rest

    def _seq_values(self, inner: str, hexa: bool, text: str, pos: SourcePos) -> list[list[tuple[str, str]]] | None:
        parts = [p.strip() for p in inner.split(",")]
        if len(parts) < 2 or not parts[0]:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid ~SEQ definition '{text}'", pos)
            return None
        var = parts[0]
        try:
            nums = [int(p, 0) for p in parts[1:]]
        except ValueError:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid ~SEQ definition '{text}'", pos)
            return None
        if len(nums) == 1:
            end = nums[0]
            step = -1 if end < 1 else 1
            start = -1 if end < 0 else 1
        elif len(nums) == 2:
            start, end = nums
            step = 1 if start <= end else -1
        elif len(nums) == 3:
            start, step, end = nums
            if step == 0 or (start < end and step < 0) or (start > end and step > 0):
                self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid ~SEQ values '{text}'", pos)
                return None
        else:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid ~SEQ definition '{text}'", pos)
            return None
        if hexa and (start < 0 or end < 0):
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"~SEQx is only valid for positive numbers '{text}'", pos)
            return None
        values = range(start, end + (1 if step > 0 else -1), step)
        if len(values) > 100_000:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"~SEQ produces too many lines '{text}'", pos)
            return None
        return [[(var, format(v, "x") if hexa else str(v))] for v in values]

    def _lst_values(self, inner: str, text: str, pos: SourcePos) -> list[list[tuple[str, str]]] | None:
        groups = _split_lst(inner)
        if not groups or len(groups) < 2:
            self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Invalid ~LST specification '{text}'", pos)
            return None
        names = groups[0]
        out = []
        for values in groups[1:]:
            if len(values) > len(names):
                self.diagnostics.add(ConfigErr.GENERAL_ERROR, f"~LST specification has too many values '{text}'", pos)
                return None
            padded = list(values) + [""] * (len(names) - len(values))
            out.append(list(zip(names, padded, strict=True)))
        return out

    # -------------------------------------------------------------- include
    def _include(self, text: str, name: str, lineno: int, base: str, out: list[Line], depth: int) -> bool:
        if not text.startswith("include"):
            return False
        parts = text.split(None, 1)
        variant = parts[0]
        if variant not in _INCLUDE_VARIANTS or len(parts) < 2:
            return False
        pos = SourcePos(name, lineno)
        if depth >= MAX_INCLUDE_DEPTH:
            self.diagnostics.add(ConfigErr.FILE_NOT_FOUND, f"include nesting deeper than {MAX_INCLUDE_DEPTH}", pos)
            return True
        flags = _INCLUDE_VARIANTS[variant]
        for path in self._glob(parts[1].strip(), base, flags, pos):
            self._read_file(path, out, depth + 1, flags)
        return True


# ------------------------------------------------------------------ helpers
_SPECIAL = re.compile(r'[#!"\\$@~{}]')
_OPEN = ("{",)
_CLOSE = ("}",)


def _find_brace(text: str) -> int:
    """Index of the first '{' or '}' outside double quotes, or -1."""
    if "{" not in text and "}" not in text:
        return -1
    if text[0] in "{}":
        return 0
    quote = False
    for i, c in enumerate(text):
        if c == '"':
            quote = not quote
        elif not quote and c in "{}":
            return i
    return -1


def _split_words(text: str) -> tuple[str, ...]:
    """keepalived's alloc_strvec: whitespace separates words, "..." is one word."""
    if '"' not in text:
        return tuple(text.split())
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] == '"':
            end = text.find('"', i + 1)
            if end < 0:
                words.append(text[i + 1:])
                break
            words.append(text[i + 1:end])
            i = end + 1
        else:
            j = i
            while j < n and text[j] not in ' \t"':
                j += 1
            words.append(text[i:j])
            i = j
    return tuple(words)


def _expand_braces(pattern: str) -> list[str]:
    """csh-style {a,b} expansion, as glob(GLOB_BRACE) does."""
    start = -1
    depth = 0
    for i, c in enumerate(pattern):
        if c == "\\":
            continue
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1:i]
                options = _split_top_commas(inner)
                if len(options) < 2 and "," not in inner:
                    return [pattern]
                out: list[str] = []
                for opt in options:
                    out.extend(_expand_braces(pattern[:start] + opt + pattern[i + 1:]))
                return out
    return [pattern]


def _split_top_commas(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for c in text:
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        cur.append(c)
    parts.append("".join(cur))
    return parts


def _split_lst(inner: str) -> list[list[str]]:
    """~LST(var, v1, v2) or ~LST({a,b}, {1,2}, {3,4}) into groups of words."""
    groups: list[list[str]] = []
    i, n = 0, len(inner)
    while i < n:
        while i < n and inner[i] in " \t,":
            i += 1
        if i >= n:
            break
        if inner[i] == "{":
            end = inner.find("}", i)
            if end < 0:
                return []
            groups.append([p.strip() for p in inner[i + 1:end].split(",")])
            i = end + 1
        else:
            end = inner.find(",", i)
            end = n if end < 0 else end
            groups.append([inner[i:end].strip()])
            i = end
    return groups


def iter_words(lines: list[Line]) -> Iterator[str]:
    for line in lines:
        yield from line.words
