"""Build (and cache) the guest's initrd from the installed kernel, at test time.

Nothing binary is committed: the initrd is busybox-static, the kernel's virtio/9p modules
(with their dependencies, decompressed) and the `init` below, packed as a newc cpio with
Python's own writer and gzip.  It is cached per kernel version (and a hash of what goes
in) under cache_dir(); a build is written to a temporary name and renamed, so parallel
builders never see half a file.
"""

from __future__ import annotations

import gzip
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What the init needs to mount the host's root over 9p; dependencies are added from modinfo.
MODULES = ("virtio_pci", "9pnet_virtio", "9p")

# The guest's PID 1.  It mounts the host's root (tag hostroot, read-only) on /newroot, a
# tmpfs on /newroot/run, the writable scratch share (tag scratch) on /newroot/run/kpy and
# switch_roots to the host's /bin/sh running the script named by kpy.script= on the
# kernel command line.  Any failure is printed with a marker and powers the guest off.
# cache=loose on the read-only root: a guest lives for seconds and the host's files do not
# change under it; measured, it cuts Python's start-up in the guest by about a third.
INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /newroot /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "KPY-INIT-FAIL: $*" > /dev/console; echo o > /proc/sysrq-trigger; sleep 5; }
for m in $(cat /modules.order); do insmod "/modules/$m.ko" || fail "insmod $m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /newroot || fail "mount hostroot"
mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail "tmpfs /run"
mkdir -p /newroot/run/kpy
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 scratch /newroot/run/kpy || fail "mount scratch"
script=""
for w in $(cat /proc/cmdline); do case "$w" in kpy.script=*) script="${w#kpy.script=}";; esac; done
[ -n "$script" ] || fail "no kpy.script= on the kernel command line"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh "$script"
"""


class GuestUnavailable(RuntimeError):
    """The machine lacks something the guest needs (qemu, a kernel, busybox, modules)."""


def cache_dir() -> Path:
    env = os.environ.get("KPY_CACHE_DIR")
    if env:
        return Path(env) / "guest"
    return REPO / "conformance" / ".cache" / "guest"


@dataclass(frozen=True)
class Kernel:
    version: str
    image: Path

    @property
    def modules_dir(self) -> Path:
        return Path("/lib/modules") / self.version


def find_kernel(version: str | None = None) -> Kernel:
    """The installed kernel to boot: $KPY_GUEST_KERNEL, `version`, or the newest
    /boot/vmlinuz-* that has its modules installed."""
    version = version or os.environ.get("KPY_GUEST_KERNEL")
    cands = []
    for img in Path("/boot").glob("vmlinuz-*"):
        v = img.name[len("vmlinuz-"):]
        if (Path("/lib/modules") / v / "modules.dep").exists() and (version is None or v == version):
            cands.append(Kernel(v, img))
    if not cands:
        raise GuestUnavailable(
            f"no /boot/vmlinuz-{version or '*'} with modules in /lib/modules "
            "(apt-get install linux-image-amd64; `make install` does it)")

    def key(k: Kernel):
        return [int(x) if x.isdigit() else x for x in re.split(r"[.-]", k.version)]

    return sorted(cands, key=key)[-1]


def _modinfo(kver: str, field: str, name: str) -> str:
    r = subprocess.run(["modinfo", "-k", kver, "-F", field, name], capture_output=True, text=True)
    if r.returncode != 0:
        raise GuestUnavailable(f"modinfo {name} for {kver}: {r.stderr.strip()}")
    return r.stdout.strip()


def module_order(kver: str, wanted=MODULES) -> list[tuple[str, Path]]:
    """Modules to insmod, dependencies first, as (name, file); built-ins left out."""
    out: list[tuple[str, Path]] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        fname = _modinfo(kver, "filename", name)
        if not fname or fname == "(builtin)" or not fname.startswith("/"):
            return
        for dep in filter(None, _modinfo(kver, "depends", name).split(",")):
            visit(dep)
        out.append((name, Path(fname)))

    for m in wanted:
        visit(m)
    return out


def _module_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".zst":
        if not shutil.which("zstd"):
            raise GuestUnavailable(f"{path} is zstd-compressed and zstd is not installed")
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return data


def _busybox() -> Path:
    for p in ("/bin/busybox", "/usr/bin/busybox"):
        if os.path.exists(p):
            r = subprocess.run(["file", "-L", p], capture_output=True, text=True) if shutil.which("file") else None
            if r is None or "dynamically" not in r.stdout:
                return Path(p)
    raise GuestUnavailable("no static busybox (apt-get install busybox-static; `make install` does it)")


def _cpio_newc(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A newc cpio archive of (path, mode, data) entries (directories have no data)."""
    out = bytearray()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], 1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def initrd_for(kernel: Kernel) -> Path:
    """The cached initrd for `kernel`, built now if missing."""
    mods = module_order(kernel.version)
    bb = _busybox()
    h = hashlib.sha256(INIT.encode())
    for name, path in mods:
        st = path.stat()
        h.update(f"{name}:{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    bst = bb.stat()
    h.update(f"{bst.st_size}:{bst.st_mtime_ns}".encode())
    target = cache_dir() / f"initrd-{kernel.version}-{h.hexdigest()[:12]}.img"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    entries: list[tuple[str, int, bytes]] = [
        ("bin", 0o40755, b""), ("modules", 0o40755, b""),
        ("bin/busybox", 0o100755, bb.read_bytes()),
        ("init", 0o100755, INIT.encode()),
        ("modules.order", 0o100644, "".join(f"{n}\n" for n, _ in mods).encode()),
    ]
    entries += [(f"modules/{n}.ko", 0o100644, _module_bytes(p)) for n, p in mods]
    blob = gzip.compress(_cpio_newc(entries), compresslevel=6)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".initrd-")
    with os.fdopen(fd, "wb") as f:
        f.write(blob)
    os.replace(tmp, target)
    # older builds for the same kernel are stale
    for old in target.parent.glob(f"initrd-{kernel.version}-*.img"):
        if old != target:
            old.unlink(missing_ok=True)
    return target
