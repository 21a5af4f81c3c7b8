"""Declaring keywords once: value types, keyword specs on model fields, and the generic builder.

A model is a frozen dataclass whose fields carry their keyword in `metadata`:

    @model
    class VrrpScript(Model):
        name: str = head(Word())
        script: str | None = kw(ScriptCommand())
        interval: int = kw(Number(1, 3600), default=1)

From that one declaration come the parser (statement -> model, with defaults, ranges and
'did you mean' for unknown keywords), the writer (model -> keepalived.conf text) and the
round-trip property tests. A value type turns a statement's words into a Python value and
back; `ValueProblem` carries a message for the diagnostic keepalived would give. Numbers and
the value types several areas share are in keepalived_py.config.numbers and .values.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar

from keepalived_py.config import slotinit
from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.parser import Stmt
from keepalived_py.config.positions import compact, from_lines
from keepalived_py.config.preprocess import Line
from keepalived_py.config.reuse import position_free, reusable
from keepalived_py.config.support import ACTED_ON
from keepalived_py.errors import SourcePos


class ValueProblem(Exception):
    """A value that does not fit its keyword; becomes a diagnostic at the statement's line."""

    def __init__(self, message: str, code: ConfigErr = ConfigErr.GENERAL_ERROR):
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class Ctx:
    """What a value type may need while parsing: where it is, and where to report."""

    diagnostics: Diagnostics
    pos: SourcePos | None = None
    keyword: str = ""
    raw: str = ""
    block: str = ""  # the enclosing block's name (e.g. the instance), for keepalived's "(NAME) " prefix
    #: the closing '}' of the keyword's own block (its own line when it opens none; None when
    #: the input ended first): keepalived reads a value block whole, so what it says about the
    #: block as a whole (e.g. that it is empty) names that line
    end: SourcePos | None = None

    def warn(self, message: str, code: ConfigErr = ConfigErr.WARNING) -> None:
        self.diagnostics.add(code, message, self.pos)

    def warn_at_end(self, message: str, code: ConfigErr = ConfigErr.WARNING) -> None:
        self.diagnostics.add(code, message, self.end)

    def info(self, message: str) -> None:
        self.diagnostics.add(ConfigErr.OK, message, self.pos)


# --------------------------------------------------------------------------- value types
class ValueType:
    """Words after a keyword <-> a Python value."""

    min_args: int = 1
    max_args: int | None = 1
    #: the value depends on the line's raw text, not only its words (scripts' quoting): a
    #: built value is never reused for another line with the same words
    reads_raw: bool = False

    def parse(self, args: Sequence[str], ctx: Ctx) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> list[str]:
        raise NotImplementedError

    def check_arity(self, args: Sequence[str], ctx: Ctx) -> None:
        if len(args) < self.min_args:
            raise ValueProblem(missing_parameter_message((ctx.keyword, *args)), ConfigErr.MISSING_PARAMETER)
        if self.max_args is not None and len(args) > self.max_args:
            # keepalived's handlers read the words they need and ignore the rest
            ctx.info(f"{ctx.keyword}: extra parameters {' '.join(args[self.max_args:])} ignored")


def missing_parameter_message(words: Sequence[str]) -> str:
    """keepalived's null_strvec() text: it reports this and exits with status 2 at once."""
    return (f"*** Configuration line starting `{words[0]}` is missing a parameter after keyword "
            f"`{words[-1]}` at word position {len(words) + 1}")


def _quote(word: str) -> str:
    """A word as keepalived's tokeniser will read it back."""
    if word == "" or any(c in word for c in ' \t{}!#"'):
        return '"' + word + '"'
    return word


class Word(ValueType):
    """One word, kept as written."""

    def parse(self, args, ctx):
        return args[0]

    def format(self, value):
        return [_quote(value)]


class Text(ValueType):
    """The rest of the line as one string (e.g. an email subject)."""

    max_args = None

    def parse(self, args, ctx):
        return " ".join(args)

    def format(self, value):
        return [_quote(value)]


def check_true_false(word: str) -> bool | None:
    """keepalived's check_true_false(): on|true|yes or off|false|no, compared case-sensitively as
    its strcmp() does; None for any other word."""
    if word in ("on", "true", "yes"):
        return True
    if word in ("off", "false", "no"):
        return False
    return None


class Flag(ValueType):
    """`KEYWORD [<BOOL>]`: the keyword alone means True."""

    min_args = 0
    error = "{kw}: invalid boolean '{v}'"

    def parse(self, args, ctx):
        if not args:
            return True
        value = check_true_false(args[0])
        if value is None:
            raise ValueProblem(self.invalid(args[0], ctx))
        return value

    def invalid(self, word: str, ctx: Ctx) -> str:
        """The handler's message for a word that is not a <BOOL>."""
        return self.error.format(kw=ctx.keyword, v=word)

    def format(self, value):
        return [] if value else ["false"]


class Present(Flag):
    """A keyword whose presence turns it on: keepalived's handlers ignore any words after it
    (`vrrp_strict`, `ha_suspend`, `unicast_fault_no_peer` ...), so `ops off` still sets it."""

    max_args = None

    def parse(self, args, ctx):
        return True

    def check_arity(self, args, ctx):
        return None


class Choice(ValueType):
    """One of a fixed set of words; `aliases` map other spellings to a canonical one."""

    def __init__(self, *choices: str, aliases: dict[str, str] | None = None, case: bool = True):
        self.choices = choices
        self.aliases = aliases or {}
        self.case = case

    def parse(self, args, ctx):
        word = args[0] if self.case else args[0].upper()
        word = self.aliases.get(word, word)
        if word not in self.choices:
            close = difflib.get_close_matches(word, self.choices, 1)
            hint = f" - did you mean '{close[0]}'?" if close else ""
            raise ValueProblem(f"{ctx.keyword}: invalid value '{args[0]}'{hint}")
        return word

    def format(self, value):
        return [value]


class Nested(ValueType):
    """Marks a keyword that opens a block of its own: a model (`model`) or a list of entries."""

    min_args = 0
    max_args = None

    def __init__(self, model: type[Model]):
        self.model = model

    def parse(self, args, ctx):  # not used: blocks are built by build_model
        raise NotImplementedError

    def format(self, value):
        raise NotImplementedError


class Entries(ValueType):
    """A block whose lines are entries (virtual_ipaddress, unicast_peer, track_script ...).

    `entry` parses one line's words into a value and `fmt` writes it back. Entries may also
    stand on the keyword line itself (`virtual_ipaddress { 192.0.2.1 }` is split by the
    lexer, so they never do here).
    """

    min_args = 0
    max_args = None

    def __init__(self, entry: ValueType):
        self.entry = entry

    def parse(self, args, ctx):  # not used: see build_entries
        raise NotImplementedError

    def format(self, value):
        raise NotImplementedError


# --------------------------------------------------------------------------- keyword specs
@dataclass(frozen=True, slots=True)
class KeywordSpec:
    """Everything the builder and the writer need to know about one keyword."""

    name: str
    vtype: ValueType
    aliases: tuple[str, ...] = ()
    multi: bool = False
    alts: tuple[tuple[str, Any], ...] = ()  # other keywords that set this field to a constant
    deprecated: tuple[str, ...] = ()  # aliases that draw keepalived's deprecation warning
    check: Callable[[Any, Ctx], Any] | None = None  # extra check/normalisation after parse
    once: str | None = None  # keepalived keeps the first value: message for a repeat ({arg}: its first word)
    merge: bool = False  # Nested: a repeated block adds its keywords to the first (global_defs)
    #: the keepalived release that added the keyword when it is newer than 2.2.7 (2.2.7
    #: rejects it as unknown): -t notes it once per load, see newer_keyword_note()
    since: str | None = None


HEAD = "head"
KW = "kw"
BODY = "body"


def kw(vtype: ValueType, *, default: Any = MISSING, name: str | None = None, aliases: Sequence[str] = (),
       multi: bool = False, alts: dict[str, Any] | None = None, deprecated: Sequence[str] = (),
       check: Callable[[Any, Ctx], Any] | None = None, once: str | None = None, merge: bool = False,
       since: str | None = None) -> Any:
    """A model field set by a keyword (the field's own name unless `name` says otherwise);
    `since` marks a keyword keepalived added after 2.2.7 (its release, e.g. "2.3.3")."""
    spec = dict(name=name, vtype=vtype, aliases=tuple(aliases), multi=multi,
                alts=tuple((alts or {}).items()), deprecated=tuple(deprecated),
                check=check, once=once, merge=merge, since=since)
    if multi or (isinstance(vtype, Entries) and default is MISSING):
        default = ()
    elif default is MISSING:
        default = None
    return field(default=default, metadata={KW: spec})


def head(vtype: ValueType, *, default: Any = None, optional: bool = False) -> Any:
    """A model field taken from the words on the block's own keyword line (its name, address)."""
    return field(default=default, metadata={HEAD: (vtype, optional)})


def body(entry: ValueType) -> Any:
    """A model field holding every line of the block as an entry (a block of entries with a name,
    e.g. `virtual_server_group NAME { 10.0.0.1 80 ... }`): such a model has no keywords."""
    return field(default=(), metadata={BODY: entry})


@dataclass(frozen=True, slots=True)
class Model:
    """Base of every configuration model: frozen, with its source position (not compared)."""

    pos: SourcePos | None = field(default=None, compare=False, repr=False)
    #: where each keyword of the block stood (keepalived names the keyword's own line)
    kw_pos: Mapping[str, SourcePos] | None = field(default=None, compare=False, repr=False)
    #: the block's closing '}': keepalived's end-of-block checks report at that line (None
    #: when the input ended first: keepalived then reports without a line)
    end_pos: SourcePos | None = field(default=None, compare=False, repr=False)
    #: the closing '}' of each keyword's own block (value blocks such as `interfaces { }`)
    kw_end: Mapping[str, SourcePos] | None = field(default=None, compare=False, repr=False)

    #: the keyword that opens this block, for messages and the writer
    block_keyword: ClassVar[str] = ""
    #: a block without a name of its own whose messages carry the enclosing block's name
    #: (upstream's auth_hmac handlers print the instance's)
    inherits_block_name: ClassVar[bool] = False


def model(cls: type) -> type:
    """Make a frozen, slotted dataclass of a model class and index its keywords."""
    cls = dataclass(frozen=True, slots=True)(cls)
    slotinit.install(cls)
    table: dict[str, tuple[str, KeywordSpec, Any]] = {}
    heads: list[tuple[str, ValueType, bool]] = []
    specs: list[tuple[str, KeywordSpec]] = []
    body_field: tuple[str, ValueType] | None = None
    for f in dataclasses.fields(cls):
        if BODY in f.metadata:
            body_field = (f.name, f.metadata[BODY])
        elif HEAD in f.metadata:
            vtype, optional = f.metadata[HEAD]
            heads.append((f.name, vtype, optional))
        elif KW in f.metadata:
            raw = dict(f.metadata[KW])
            raw["name"] = raw["name"] or f.name
            spec = KeywordSpec(**raw)
            specs.append((f.name, spec))
            # precomputed per keyword, so building a large configuration does no string work
            kind = _NESTED if isinstance(spec.vtype, Nested) else _ENTRIES if isinstance(spec.vtype, Entries) else 0
            label = f"{cls.block_keyword or 'top level'}.{spec.name}"
            listed = kind != _NESTED and label not in ACTED_ON
            table[spec.name] = (f.name, spec, _NO_CONST, kind, label if listed else None)
            for alias in spec.aliases + spec.deprecated:
                table[alias] = (f.name, spec, _NO_CONST, kind, label if listed else None)
            for alt, const in spec.alts:
                table[alt] = (f.name, spec, const, kind, label if listed else None)
    cls.__kw_table__ = table
    cls.__kw_heads__ = tuple(heads)
    cls.__kw_specs__ = tuple(specs)
    cls.__kw_body__ = body_field
    return cls


_NO_CONST = object()
_NESTED = 1
_ENTRIES = 2


def keyword_specs(cls: type[Model]) -> tuple[tuple[str, KeywordSpec], ...]:
    return cls.__kw_specs__  # type: ignore[attr-defined]


def newer_keywords(cls: type[Model]) -> frozenset[str]:
    """The keywords of `cls` that keepalived added after 2.2.7 (declared with `since`), so
    checks against 2.2.7's keyword lists can leave them out."""
    table = cls.__kw_table__  # type: ignore[attr-defined]
    return frozenset(word for word, entry in table.items() if entry[1].since is not None)


def head_fields(cls: type[Model]) -> tuple[tuple[str, ValueType, bool], ...]:
    return cls.__kw_heads__  # type: ignore[attr-defined]


def body_field(cls: type[Model]) -> tuple[str, ValueType] | None:
    """(field name, entry type) of a model whose block lines are all entries, else None."""
    return cls.__kw_body__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- building
@dataclass(slots=True)
class Usage:
    """Which keywords a configuration used, for `-t`'s 'parsed, not implemented' list."""

    not_implemented: list[tuple[SourcePos, str]] = field(default_factory=list)
    #: newer-than-2.2.7 keywords already noted in this load (the note is given once per keyword)
    newer_noted: set[str] = field(default_factory=set)
    #: keyword tuples of the blocks' position tables, one copy per distinct tuple
    shared_words: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    #: per model class: a keyword line's words -> (field, value) once that line built cleanly
    #: (see reuse.py); one load's only, like the rest of Usage
    built: dict[type, dict[tuple[str, ...], tuple[str, Any]]] = field(default_factory=dict)
    #: per model class: a block's head words -> the head fields they built cleanly
    heads: dict[type, dict[tuple[str, ...], tuple[dict[str, Any], str]]] = field(default_factory=dict)


def newer_keyword_note(keyword: str, since: str) -> str:
    """-t's note for a keyword keepalived 2.2.7 does not know. Informational (class OK): a
    config that uses one is a config 2.2.7 rejects, and keepalived-py runs it as the newer
    keepalived would, so it does not change the exit status."""
    return f"'{keyword}' is a keepalived {since} keyword, not in 2.2.7 - accepted"


def build_model(cls: type[Model], stmt: Stmt | None, args: Sequence[str], children: Sequence[Stmt],
                diags: Diagnostics, usage: Usage, pos: SourcePos | None, parent_block: str = "",
                end: Any = _NO_CONST) -> Model:
    """A model from a block statement: head words from `args`, keywords from `children`;
    `end`: the statement's end position when the caller has it already."""
    values: dict[str, Any] = {}
    ctx = Ctx(diags, pos, stmt.keyword if stmt is not None else "")
    heads = cls.__kw_heads__  # type: ignore[attr-defined]
    if heads:
        # the head words repeat too (10,000 real_servers name 10 addresses): reused as lines are
        known = usage.heads.get(cls)
        if known is None:
            known = usage.heads[cls] = {}
        line_words = stmt.line.words if stmt is not None else tuple(args)  # the keyword too
        hit = known.get(line_words)
        if hit is not None:
            values.update(hit[0])
            ctx.block = hit[1]
        else:
            reported = len(diags.items)
            _parse_heads(cls, heads, args, ctx, values)
            ctx.block = str(values.get(heads[0][0]) or "")
            if len(diags.items) == reported and not any(h[1].reads_raw for h in heads) \
                    and all(position_free(v) for v in values.values()):
                known[line_words] = (dict(values), ctx.block)
    else:
        if cls.inherits_block_name:
            ctx.block = parent_block
        if args and stmt is not None:
            # keepalived's process_stream ignores words after a keyword that opens a block
            diags.add(ConfigErr.OK, f"Block {stmt.keyword} has extra parameters {' '.join(args)} ...", pos)
    if end is _NO_CONST:
        end = _end_pos(stmt)
    body = cls.__kw_body__  # type: ignore[attr-defined]
    if body is not None:
        values[body[0]] = _build_body(body[1], children, ctx)
        return cls(pos=pos, end_pos=end, **values)
    table = cls.__kw_table__  # type: ignore[attr-defined]
    multis: dict[str, list[Any]] = {}
    kw_lines: dict[str, Line] = {}  # the line each keyword was last taken from: positions.from_lines
    kw_end: dict[str, SourcePos] = {}
    built = usage.built.get(cls)
    if built is None:
        built = usage.built[cls] = {}
    items = diags.items
    for child in children:
        line = child.line
        words = line.words
        if child.block is None:
            # a keyword line built before with the same words, cleanly (reuse.py): its value
            hit = built.get(words)
            if hit is not None and hit[0] not in values:
                values[hit[0]] = hit[1]
                kw_lines[words[0]] = line
                continue
        word = words[0]
        entry = table.get(word)
        if entry is None:
            _unknown(cls, child, diags)
            continue
        fname, spec, const, kind, unimplemented = entry
        cpos = SourcePos(line.file, line.lineno)
        reported = len(items)
        ctx.pos = cpos
        ctx.keyword = word
        ctx.raw = line.raw
        ctx.end = cpos
        if child.block is not None:
            ctx.end = _end_pos(child)
            if ctx.end is not None:
                kw_end[word] = ctx.end
        if spec.deprecated and word in spec.deprecated:
            diags.add(ConfigErr.DEPRECATED, f"\"{word}\" is deprecated. Please use \"{spec.name}\"", cpos)
        if spec.since is not None and word not in usage.newer_noted:
            usage.newer_noted.add(word)
            diags.add(ConfigErr.OK, newer_keyword_note(word, spec.since), cpos)
        if unimplemented is not None:
            usage.not_implemented.append((cpos, unimplemented))
        if spec.once is not None and fname in values:
            words = child.line.words
            diags.add(ConfigErr.GENERAL_ERROR, spec.once.format(arg=words[1] if len(words) > 1 else ""), cpos)
            continue
        try:
            if const is not _NO_CONST:
                if child.block is not None:
                    raise ValueProblem(f"{word} does not take a block")
                value = const
            else:
                value = _parse_value(spec, child, ctx, diags, usage)
            if spec.check is not None:
                value = spec.check(value, ctx)
        except ValueProblem as problem:
            diags.add(problem.code, str(problem), cpos)
            continue
        kw_lines[word] = line
        if spec.multi:
            multis.setdefault(fname, []).append(value)
        elif kind == _ENTRIES and fname in values:
            values[fname] = values[fname] + value  # a repeated entry block adds to the first
        elif spec.merge and fname in values and values[fname] is not None:
            values[fname] = _merge(values[fname], value)
        else:
            values[fname] = value
            if not kind and child.block is None and unimplemented is None and len(items) == reported \
                    and reusable(spec, value):
                built[words] = (fname, value)
    for fname, listed in multis.items():
        values[fname] = tuple(listed)
    shared = usage.shared_words
    return cls(pos=pos, kw_pos=from_lines(kw_lines, shared) if kw_lines else None, end_pos=end,
               kw_end=compact(kw_end, shared) if kw_end else None, **values)


def _end_pos(stmt: Stmt | None) -> SourcePos | None:
    """Where a statement's block closes; a keyword line without a block is its own end."""
    if stmt is None:
        return None
    if stmt.end is not None:
        return SourcePos(stmt.end.file, stmt.end.lineno)
    return stmt.line.pos if stmt.block is None else None


def _merge(first: Model, again: Model) -> Model:
    """A repeated block: what the repeat sets (differs from the defaults) overrides the first."""
    changes = {}
    for f in dataclasses.fields(again):
        if f.name in ("pos", "kw_pos", "end_pos", "kw_end"):
            continue
        value = getattr(again, f.name)
        if value != f.default:
            old = getattr(first, f.name)
            changes[f.name] = old + value if isinstance(value, tuple) and isinstance(old, tuple) else value
    return dataclasses.replace(first, **changes)


def _parse_heads(cls, heads, args, ctx: Ctx, values: dict[str, Any]) -> None:
    rest = list(args)
    for index, (fname, vtype, optional) in enumerate(heads):
        if not rest:
            if not optional:
                ctx.diagnostics.add(ConfigErr.MISSING_PARAMETER,
                                    f"{ctx.keyword or cls.block_keyword}: missing {fname.replace('_', ' ')}",
                                    ctx.pos)
            break
        last = index == len(heads) - 1
        take = rest if (last and vtype.max_args is None) else rest[: max(1, vtype.max_args or 1)]
        try:
            values[fname] = vtype.parse(take, ctx)
        except ValueProblem as problem:
            ctx.diagnostics.add(problem.code, str(problem), ctx.pos)
        rest = rest[len(take):]
    if rest:
        # keepalived ignores words beyond a block's head fields
        ctx.diagnostics.add(ConfigErr.OK, f"{ctx.keyword}: extra parameters {' '.join(rest)} ignored", ctx.pos)


def _parse_value(spec: KeywordSpec, child: Stmt, ctx: Ctx, diags: Diagnostics, usage: Usage) -> Any:
    vtype = spec.vtype
    args = child.line.words[1:]
    if isinstance(vtype, Nested):
        if child.block is None:
            diags.add(ConfigErr.MISSING_BOB, f"Missing '{{' at beginning of configuration block {child.keyword}",
                      child.line.pos)
        # ctx.pos is this line's position already: one SourcePos per line, not two
        return build_model(vtype.model, child, args, child.block or (), diags, usage, ctx.pos, ctx.block, ctx.end)
    if isinstance(vtype, Entries):
        return _build_entries(vtype, child, args, ctx)
    if child.block is not None:
        diags.add(ConfigErr.UNEXPECTED_BOB, f"{child.keyword} does not open a block - block ignored",
                  child.line.pos)
    vtype.check_arity(args, ctx)
    return vtype.parse(args, ctx)


def _build_entries(vtype: Entries, child: Stmt, args: Sequence[str], ctx: Ctx) -> tuple[Any, ...]:
    entries: list[Any] = []
    keyword = child.line.words[0]
    lines = []
    if args:  # keepalived treats words after the keyword as extra, except '{' handled by the lexer
        ctx.diagnostics.add(ConfigErr.GENERAL_ERROR, f"Block {keyword} has extra parameters {' '.join(args)} ...",
                            child.line.pos)
    if child.block is None:
        ctx.diagnostics.add(ConfigErr.OK, f"'{{' missing from beginning of block {keyword}", child.line.pos)
    for sub in child.block or ():
        lines.append(sub)
    for sub in lines:
        ctx.pos = sub.line.pos
        ctx.keyword = keyword
        ctx.raw = sub.line.raw
        if sub.block is not None:
            ctx.diagnostics.add(ConfigErr.UNEXPECTED_BOB, "Unexpected '{' - ignoring", sub.line.pos)
        try:
            vtype.entry.check_arity(sub.line.words, ctx)
            entries.append(vtype.entry.parse(sub.line.words, ctx))
        except ValueProblem as problem:
            ctx.diagnostics.add(problem.code, str(problem), sub.line.pos)
    return tuple(entries)


def _build_body(entry: ValueType, children: Sequence[Stmt], ctx: Ctx) -> tuple[Any, ...]:
    entries: list[Any] = []
    for sub in children:
        ctx.pos = sub.line.pos
        ctx.keyword = sub.line.words[0]
        ctx.raw = sub.line.raw
        if sub.block is not None:
            ctx.diagnostics.add(ConfigErr.UNEXPECTED_BOB, "Unexpected '{' - ignoring", sub.line.pos)
        try:
            entry.check_arity(sub.line.words, ctx)
            entries.append(entry.parse(sub.line.words, ctx))
        except ValueProblem as problem:
            ctx.diagnostics.add(problem.code, str(problem), sub.line.pos)
    return tuple(entries)


def _unknown(cls: type[Model], child: Stmt, diags: Diagnostics) -> None:
    word = child.line.words[0]
    known = list(cls.__kw_table__)  # type: ignore[attr-defined]
    close = difflib.get_close_matches(word, known, 1, 0.75)
    hint = f"did you mean '{close[0]}'?" if close else None
    diags.add(ConfigErr.UNKNOWN_KEYWORD, f"Unknown keyword '{word}'", child.line.pos, hint)
