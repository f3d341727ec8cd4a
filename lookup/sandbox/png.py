"""Tiny deterministic PNG images for the customer-image and barcode URLs."""

from __future__ import annotations

import hashlib
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_for(name: str, size: int = 16) -> bytes:
    """Return a valid ``size``x``size`` RGB PNG whose colours derive from ``name``."""
    digest = hashlib.md5(name.encode("utf-8")).digest()
    fg, bg = digest[:3], digest[3:6]
    rows = []
    for y in range(size):
        # A checkerboard so the image is visibly an image, not a flat swatch.
        row = b"".join(fg if (x // 4 + y // 4) % 2 else bg for x in range(size))
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + _chunk(b"IEND", b"")
    )
