"""How long does a zip bomb take to refuse?

Builds the archive of issue 18 (100 members of 45 MiB of zeros, each under the 50 MiB per-file limit, 4.7 MB
as a zip) and times ``import_paths`` on it, plus the same number of members holding incompressible junk; each
also cut short before its central directory (read from the members' own headers: nothing is declared).
Usage: PYTHONPATH=src .venv/bin/python benchmarks/zip_bomb.py [--members 100] [--mib 45]
"""

from __future__ import annotations

import argparse
import os
import struct
import tempfile
import time
import zlib
from pathlib import Path

from soleware.formats import import_paths


def zip_of_copies(path: Path, names: list[str], content: bytes) -> None:
    """A zip whose members all hold ``content``, deflated once and written byte by byte (as tests/formats)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(content) + packer.flush()
    crc = zlib.crc32(content)
    body, central = bytearray(), bytearray()
    for name in names:
        raw = name.encode()
        fields = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, crc, len(deflated), len(content), len(raw), 0)
        central += (
            struct.pack("<IH", 0x02014B50, 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, len(body)) + raw
        )
        body += struct.pack("<I", 0x04034B50) + fields + raw + deflated
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central), len(body), 0)
    path.write_bytes(bytes(body + central) + end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--mib", type=int, default=45)
    args = parser.parse_args()
    names = [f"activities/{k:03d}.fit" for k in range(args.members)]
    with tempfile.TemporaryDirectory() as tmp:
        for label, content in (
            ("zeros", bytes(args.mib * 2**20)),
            ("junk", os.urandom(256 * 1024)),
        ):
            whole = Path(tmp) / f"{label}.zip"
            zip_of_copies(whole, names, content)
            data = whole.read_bytes()
            cut = Path(tmp) / f"{label}-cut.zip"
            cut.write_bytes(data[: data.index(b"PK\x01\x02") - 1])
            for path in (whole, cut):
                t0 = time.perf_counter()
                report = import_paths(path)
                elapsed = time.perf_counter() - t0
                reasons = {r.reason.split(" (")[0] for r in report.rejected}
                print(
                    f"{path.stem}: {len(names)} members of {len(content) / 2**20:.3g} MiB in a "
                    f"{path.stat().st_size / 1e6:.1f} MB zip: {len(report.rejected)} refused in {elapsed:.3f} s "
                    f"({sorted(reasons)})"
                )


if __name__ == "__main__":
    main()
