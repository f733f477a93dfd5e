"""NOR flash model: erase sets a page to 0xFF, programming can only clear bits, power can fail mid-operation.

`Flash` works over any writable buffer; `MemoryFlash` (a bytearray, for tests) and `FileFlash` (a memory-mapped
image file) are the two variants. `Flash.cut_power_after` arms a simulated power cut: the next program/erase
operations stop after that many bytes and raise `PowerCut`, leaving the rest of the operation undone (or, with
``torn=True``, the byte at the cut half-programmed and an interrupted erase scattered over the page).
"""

from __future__ import annotations

import mmap
import random
from pathlib import Path
from typing import Self

__all__ = ["FileFlash", "Flash", "FlashError", "MemoryFlash", "PowerCut", "parse_size"]

DEFAULT_SIZE = 4 * 1024 * 1024
DEFAULT_PAGE_SIZE = 4096


class FlashError(Exception):
    """Invalid flash operation (out of range, unaligned, or setting bits without an erase)."""


class PowerCut(Exception):
    """The simulated power failed in the middle of a flash operation."""


def parse_size(text: str) -> int:
    """Bytes from ``"4MiB"``, ``"256KiB"``, ``"4096"``, ``"1M"``."""
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


class Flash:
    """NOR flash over a writable buffer: ``read``, ``program`` (AND into the cells) and per-page ``erase``.

    With ``strict=True`` programming a 1 over a 0 raises `FlashError` instead of being silently ignored, so a
    log that forgets to erase is caught in tests.
    """

    def __init__(self, buf: bytearray | mmap.mmap, *, page_size: int, strict: bool = True) -> None:
        if page_size <= 0 or page_size & (page_size - 1):
            raise FlashError(f"page size must be a power of two, got {page_size}")
        if len(buf) == 0 or len(buf) % page_size:
            raise FlashError(f"flash size {len(buf)} is not a multiple of the page size {page_size}")
        self._buf = buf
        self.page_size = page_size
        self.strict = strict
        self.size = len(buf)
        self.page_count = self.size // page_size
        self.bytes_programmed = 0
        self.erase_count = 0
        self.work_bytes = 0  # programmed bytes + erased bytes: the unit of `cut_power_after`
        self._budget: int | None = None
        self._torn = False
        self._rng = random.Random(0)

    def read(self, addr: int, n: int) -> bytes:
        """``n`` bytes at ``addr``."""
        self._check_range(addr, n)
        return bytes(self._buf[addr : addr + n])

    def program(self, addr: int, data: bytes) -> None:
        """Clear the bits that are 0 in ``data`` at ``addr`` (NOR programming: new = old AND data)."""
        n = len(data)
        if n == 0:
            return
        self._check_range(addr, n)
        old = self._buf[addr : addr + n]
        oi, di = int.from_bytes(old, "little"), int.from_bytes(data, "little")
        if self.strict and di & ~oi:
            raise FlashError(f"program at {addr:#x} would set bits that are 0 (erase first)")
        new = (oi & di).to_bytes(n, "little")
        cut = self._consume(n)
        if cut is None:
            self._buf[addr : addr + n] = new
            self.bytes_programmed += n
            return
        self._buf[addr : addr + cut] = new[:cut]
        self.bytes_programmed += cut
        if self._torn and cut < n:
            clear = old[cut] & ~new[cut] & 0xFF
            self._buf[addr + cut] = old[cut] & ~(clear & self._rng.randrange(256)) & 0xFF
        raise PowerCut(f"power cut after {cut} of {n} bytes programmed at {addr:#x}")

    def erase(self, page: int) -> None:
        """Set every byte of page ``page`` to 0xFF."""
        if not 0 <= page < self.page_count:
            raise FlashError(f"page {page} out of range 0..{self.page_count - 1}")
        a, ps = page * self.page_size, self.page_size
        cut = self._consume(ps)
        if cut is None:
            self._buf[a : a + ps] = b"\xff" * ps
            self.erase_count += 1
            return
        if self._torn:
            done = cut / ps
            self._buf[a : a + ps] = bytes(self._half_erased(b, done) for b in self._buf[a : a + ps])
        else:
            self._buf[a : a + cut] = b"\xff" * cut
        raise PowerCut(f"power cut after {cut} of {ps} bytes erased in page {page}")

    def _half_erased(self, b: int, done: float) -> int:
        r = self._rng.random()
        return 0xFF if r < done else (b | self._rng.randrange(256)) if r < 2 * done else b

    def is_erased(self, page: int) -> bool:
        """True if every byte of ``page`` reads 0xFF."""
        a = page * self.page_size
        return self._buf[a : a + self.page_size] == b"\xff" * self.page_size

    def cut_power_after(self, n_bytes: int, *, torn: bool = False, seed: int = 0) -> None:
        """Fail the power after ``n_bytes`` more bytes of program/erase work (an erase counts as a page).

        Without ``torn`` the operation is done in address order up to the cut. With ``torn`` the byte at the cut
        of a program ends up partly programmed (some of its bits cleared), and an interrupted erase leaves each
        byte of the page erased or half-erased (random bits set), each with probability cut/page size, or untouched.
        The cut disarms itself once it fires.
        """
        self._budget = n_bytes
        self._torn = torn
        self._rng = random.Random(seed)

    def restore_power(self) -> None:
        """Disarm a pending power cut."""
        self._budget = None

    def _consume(self, n: int) -> int | None:
        if self._budget is None:
            self.work_bytes += n
            return None
        if self._budget >= n:
            self._budget -= n
            self.work_bytes += n
            return None
        cut, self._budget = self._budget, None
        self.work_bytes += cut
        return cut

    def _check_range(self, addr: int, n: int) -> None:
        if addr < 0 or n < 0 or addr + n > self.size:
            raise FlashError(f"access {addr:#x}+{n} outside flash of {self.size} bytes")

    def close(self) -> None:
        """Release the buffer (flushes a file image)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MemoryFlash(Flash):
    """Flash held in memory, erased on creation unless ``data`` is given (e.g. a snapshot)."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        strict: bool = True,
        data: bytes | None = None,
    ) -> None:
        buf = bytearray(data) if data is not None else bytearray(b"\xff" * size)
        super().__init__(buf, page_size=page_size, strict=strict)

    def snapshot(self) -> bytes:
        """The whole content, to restore later with ``MemoryFlash(data=...)`` or `copy`."""
        return bytes(self._buf)

    def copy(self) -> MemoryFlash:
        """An independent flash with the same content and geometry."""
        return MemoryFlash(page_size=self.page_size, strict=self.strict, data=self.snapshot())


class FileFlash(Flash):
    """Flash image file, memory-mapped; ``readonly`` maps it without write access."""

    def __init__(
        self,
        path: str | Path,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        readonly: bool = False,
        strict: bool = True,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._file = self.path.open("rb" if readonly else "r+b")
        try:
            mm = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ if readonly else mmap.ACCESS_WRITE)
        except ValueError as e:
            self._file.close()
            raise FlashError(f"{self.path}: cannot map an empty image") from e
        try:
            super().__init__(mm, page_size=page_size, strict=strict)
        except FlashError:
            mm.close()
            self._file.close()
            raise

    @classmethod
    def create(
        cls,
        path: str | Path,
        size: int = DEFAULT_SIZE,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        strict: bool = True,
    ) -> FileFlash:
        """Write a fully erased image of ``size`` bytes at ``path`` (replacing it) and open it."""
        if size <= 0 or size % page_size:
            raise FlashError(f"image size {size} must be a positive multiple of the page size {page_size}")
        with Path(path).open("wb") as f:
            chunk = b"\xff" * (1 << 16)
            left = size
            while left:
                f.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
        return cls(path, page_size=page_size, strict=strict)

    def close(self) -> None:
        buf = self._buf
        if isinstance(buf, mmap.mmap) and not buf.closed:
            if not self.readonly:
                buf.flush()
            buf.close()
        if not self._file.closed:
            self._file.close()
