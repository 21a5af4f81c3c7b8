"""Where each keyword of one block stood: a small table instead of a dict of SourcePos.

Every model keeps the position of each of its keywords (keepalived's messages name the
keyword's own line). As a dict of SourcePos that was ~350 bytes per block of a large
configuration; here it is one file name, the keywords as a tuple shared by every block that
names the same keywords in the same order (all 10,000 `real_server`s of the bench share one),
and their line numbers. It reads as the dict did (get, [], in, iteration, == a dict).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from keepalived_py.errors import SourcePos

if TYPE_CHECKING:
    from keepalived_py.config.preprocess import Line


class Positions(Mapping[str, SourcePos]):
    """keyword -> SourcePos for keywords all read from one file."""

    __slots__ = ("file", "words", "lines")

    def __init__(self, file: str, words: tuple[str, ...], lines: tuple[int, ...]) -> None:
        self.file = file
        self.words = words
        self.lines = lines

    def __getitem__(self, word: str) -> SourcePos:
        try:
            index = self.words.index(word)
        except ValueError:
            raise KeyError(word) from None
        return SourcePos(self.file, self.lines[index])

    def __iter__(self) -> Iterator[str]:
        return iter(self.words)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.words

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self):
        return (Positions, (self.file, self.words, self.lines))


def compact(found: dict[str, SourcePos], shared: dict[tuple[str, ...], tuple[str, ...]]
            ) -> Mapping[str, SourcePos] | None:
    """`found` as a Positions (None when empty; the dict itself when its keywords come from
    more than one file, an include inside a block). `shared` interns the keyword tuples for
    one load."""
    if not found:
        return None
    values = tuple(found.values())
    file = values[0].file
    lines = []
    for pos in values:  # a plain loop: faster than any() and a comprehension for 1-5 entries
        if pos.file != file or pos.column:
            return found
        lines.append(pos.line)
    words = tuple(found)
    return Positions(file, shared.setdefault(words, words), tuple(lines))


def from_lines(found: dict[str, Line], shared: dict[tuple[str, ...], tuple[str, ...]]
               ) -> Mapping[str, SourcePos] | None:
    """compact() of the keywords' own lines: the builder keeps the Line each keyword came from
    (an object that exists anyway) instead of making a SourcePos per keyword line."""
    if not found:
        return None
    lines = tuple(found.values())
    file = lines[0].file
    for line in lines:
        if line.file != file:  # an include inside the block: a dict, as compact() gives
            return {word: SourcePos(line.file, line.lineno) for word, line in found.items()}
    words = tuple(found)
    return Positions(file, shared.setdefault(words, words), tuple([line.lineno for line in lines]))
