"""The NftBackend port over libnftables' JSON API (libnftables.so.1, Debian package libnftables1).

Why ctypes: Debian's python3-nftables is a thin ctypes wrapper over the same library, but it
is installed for Debian's python, not our venv's; the five calls we need are small. Each
`run` is one nft_run_cmd_from_buffer: libnftables turns the JSON into one netlink batch,
which the kernel applies as one transaction (all or nothing). It acts in the network
namespace the calling process is in (the vrrp child, after keepalived's `net_namespace`).
"""

from __future__ import annotations

import ctypes
import json
from collections.abc import Mapping
from typing import Any

NFT_CTX_OUTPUT_JSON = 1 << 4


class NftError(RuntimeError):
    """libnftables refused a command; the message is nft's."""


class LibNftables:
    """One libnftables context, JSON in and out."""

    def __init__(self, soname: str = "libnftables.so.1"):
        lib = ctypes.CDLL(soname, use_errno=True)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_ctx_output_get_flags.restype = ctypes.c_uint
        lib.nft_ctx_output_get_flags.argtypes = [ctypes.c_void_p]
        for name in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_int
        for name in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_char_p
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
        self._lib = lib
        ctx = lib.nft_ctx_new(0)
        if not ctx:
            raise NftError("nft_ctx_new failed")
        self._ctx = ctx
        lib.nft_ctx_output_set_flags(ctx, lib.nft_ctx_output_get_flags(ctx) | NFT_CTX_OUTPUT_JSON)
        lib.nft_ctx_buffer_output(ctx)
        lib.nft_ctx_buffer_error(ctx)

    def _cmd(self, doc: Mapping[str, Any]) -> tuple[int, str, str]:
        rc = self._lib.nft_run_cmd_from_buffer(self._ctx, json.dumps(doc).encode())
        out = (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()
        err = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
        return rc, out, err

    def list_table(self, family: str, name: str) -> Mapping[str, Any] | None:
        rc, out, err = self._cmd({"nftables": [{"list": {"table": {"family": family, "name": name}}}]})
        if rc != 0:
            if "No such file or directory" in err:
                return None
            raise NftError(err.strip() or f"listing table {family} {name} failed")
        return json.loads(out) if out.strip() else {"nftables": []}

    def run(self, commands: list[dict[str, Any]]) -> None:
        rc, _out, err = self._cmd({"nftables": commands})
        if rc != 0:
            raise NftError(err.strip() or "nft transaction failed")

    def close(self) -> None:
        if self._ctx:
            self._lib.nft_ctx_free(self._ctx)
            self._ctx = None

    def __enter__(self) -> LibNftables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
