"""The code @dataclass generates, compiled once and kept on disk like a .pyc.

For every class, @dataclass writes the source of __init__, __repr__, __eq__ and (frozen)
__setattr__/__delattr__ and compiles it with exec() each time the module is imported: for
the config models, with their hundreds of fields, that compile was a third of a `-t` on a
small file. The code objects depend on that source text alone (globals and the namespace are
given to exec() apart), so they are cached by text in a marshal file in the package's
__pycache__, beside the .pyc files and trusted as they are. The file names the interpreter's
cache tag and starts with its bytecode magic; one that cannot be read, is stale or cannot be
written is ignored, and the classes are then compiled as before.

install() routes dataclasses' exec() through the cache (a module global shadowing the builtin:
the text, the globals and the result are exactly what dataclasses would have used); save()
writes what was compiled since the cache was read.
"""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys
from importlib.util import MAGIC_NUMBER
from types import CodeType
from typing import Any

#: a cache holding more than this many times the entries one process used is rewritten with
#: only those (model source edits leave old texts behind)
_PRUNE_FACTOR = 3


class CodeCache:
    """Source text -> code object, read from and written to one marshal file."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.codes: dict[str, CodeType] = {}
        self.used: set[str] = set()
        self.new = 0
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as f:
                data = f.read()
            if data[:len(MAGIC_NUMBER)] != MAGIC_NUMBER:
                return
            codes = marshal.loads(data[len(MAGIC_NUMBER):])
        except (OSError, EOFError, ValueError, TypeError):
            return
        if isinstance(codes, dict) and all(isinstance(c, CodeType) for c in codes.values()):
            self.codes = codes

    def code(self, source: str) -> CodeType:
        """The compiled `source`, as exec() would compile it."""
        code = self.codes.get(source)
        if code is None:
            code = compile(source, "<string>", "exec")
            self.codes[source] = code
            self.new += 1
        self.used.add(source)
        return code

    def exec(self, source: Any, globals: dict | None = None, locals: Any = None, /) -> None:  # noqa: A002
        """exec() with the compile step cached for source strings."""
        if isinstance(source, str):
            source = self.code(source)
        builtins.exec(source, globals, locals)

    def save(self) -> bool:
        """Write the cache if this process compiled anything new; False when it cannot."""
        if self.path is None or not self.new:
            return True
        keep = self.codes
        if len(keep) > _PRUNE_FACTOR * max(len(self.used), 1):
            keep = {text: code for text, code in keep.items() if text in self.used}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            # readable by all, like the .pyc files beside it, whatever the writer's umask:
            # the daemon runs under 0177, and a later `-t` by another user must read it
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.fchmod(fd, 0o644)
            with open(fd, "wb") as f:
                f.write(MAGIC_NUMBER + marshal.dumps(keep))
            os.replace(tmp, self.path)  # atomic: a concurrent start reads the old or the new file
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        self.new = 0
        return True


def default_path() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "__pycache__", f"dataclass-code.{sys.implementation.cache_tag}.marshal")


_cache: CodeCache | None = None


def install(path: str | None = None) -> CodeCache:
    """Route dataclasses' exec() through the cache (once per process); returns the cache.
    KPY_NO_CODE_CACHE=1 leaves dataclasses alone (to measure, or to rule the cache out)."""
    global _cache
    if _cache is None:
        if os.environ.get("KPY_NO_CODE_CACHE"):
            return CodeCache(None)
        _cache = CodeCache(path or default_path())
        dataclasses.exec = _cache.exec  # type: ignore[attr-defined]
    return _cache


def save() -> None:
    """Persist the cache unless writing bytecode is off (PYTHONDONTWRITEBYTECODE, -B), as
    for .pyc files."""
    if _cache is not None and not sys.dont_write_bytecode:
        _cache.save()
