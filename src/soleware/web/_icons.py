"""App icons drawn in code (a white footprint on the brand colour) and encoded as PNG with zlib, no image library."""

from __future__ import annotations

import functools
import struct
import zlib

import numpy as np

__all__ = ["BRAND_RGB", "icon_png", "png"]

BRAND_RGB = (11, 92, 173)


def png(rgba: np.ndarray) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 array as a PNG (8-bit RGBA, no filtering)."""
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _coverage(size: int, *, maskable: bool, supersample: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Fractions of each pixel covered by the background tile and by the footprint (anti-aliased)."""
    n = size * supersample
    c = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(c, c)
    if maskable:  # full bleed; the platform cuts its own shape
        tile = np.ones_like(x, dtype=bool)
        scale = 0.62
    else:  # rounded square
        r = 0.2
        dx = np.maximum(np.abs(x - 0.5) - (0.5 - r), 0)
        dy = np.maximum(np.abs(y - 0.5) - (0.5 - r), 0)
        tile = dx**2 + dy**2 <= r**2
        scale = 0.8
    u = (x - 0.5) / scale + 0.5
    v = (y - 0.5) / scale + 0.5
    sole = ((u - 0.5) / 0.17) ** 2 + ((v - 0.36) / 0.26) ** 2 <= 1
    heel = ((u - 0.52) / 0.13) ** 2 + ((v - 0.74) / 0.15) ** 2 <= 1
    arch = (np.abs(u - 0.51) < 0.11) & (v > 0.45) & (v < 0.72)
    toes = np.zeros_like(sole)
    for cx, cy, rr in ((0.40, 0.1, 0.045), (0.5, 0.075, 0.05), (0.6, 0.1, 0.045), (0.67, 0.16, 0.04)):
        toes |= (u - cx) ** 2 + (v - cy) ** 2 <= rr**2
    foot = (sole | heel | arch | toes) & tile

    def down(m: np.ndarray) -> np.ndarray:
        return m.reshape(size, supersample, size, supersample).mean(axis=(1, 3))

    return down(tile), down(foot)


@functools.cache
def icon_png(size: int, *, maskable: bool = False) -> bytes:
    """The app icon, ``size`` × ``size`` pixels."""
    tile, foot = _coverage(size, maskable=maskable)
    rgb = np.array(BRAND_RGB, dtype=float)
    colour = rgb * (1 - foot)[..., None] + 255.0 * foot[..., None]
    rgba = np.dstack([colour, 255.0 * tile]).round().clip(0, 255).astype(np.uint8)
    return png(rgba)
