"""Draw the app's PNG icons (static/img/app/) from the favicon's design and our palette:
two interlocking rings on the accent colour. Pure Python (zlib), so nothing to install;
run it again after a change to the design: `python scripts/make_icons.py`.

"any" icons are a rounded square on transparency; "maskable" ones fill the whole square and
keep the rings inside the central safe zone (a circle of 80% of the width), so a phone's mask
(circle, squircle) never cuts them.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

ACCENT = (0x2C, 0x6A, 0x64)  # --accent in static/css/imago.css
WHITE = (0xFF, 0xFF, 0xFF)
OUT = Path(__file__).resolve().parent.parent / "static" / "img" / "app"


def _clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _rounded_rect_cover(x: float, y: float, size: float, radius: float) -> float:
    """How much of the pixel centred at (x, y) lies inside the rounded square (0..1)."""
    cx = min(max(x, radius), size - radius)
    cy = min(max(y, radius), size - radius)
    d = math.hypot(x - cx, y - cy)
    return _clamp(radius - d + 0.5)


def draw(size: int, *, maskable: bool) -> bytes:
    # The favicon's 32-unit design: rings of radius 6.5, stroke 2.5, centres 7 apart.
    scale = size / 32 * (0.72 if maskable else 1.0)  # maskable: inside the safe zone
    ring_r, half_stroke, gap = 6.5 * scale, 1.25 * scale, 3.5 * scale
    mid = size / 2
    rows = []
    for j in range(size):
        row = bytearray([0])  # PNG filter: none
        y = j + 0.5
        for i in range(size):
            x = i + 0.5
            bg = 1.0 if maskable else _rounded_rect_cover(x, y, size, size * 8 / 32)
            ring = 0.0
            for cx in (mid - gap, mid + gap):
                d = math.hypot(x - cx, y - mid)
                ring = max(ring, _clamp(half_stroke - abs(d - ring_r) + 0.5))
            colour = [round(a * (1 - ring) + w * ring) for a, w in zip(ACCENT, WHITE, strict=True)]
            row += bytes([*colour, round(255 * bg)])
        rows.append(bytes(row))
    return _png(size, b"".join(rows))


def _png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(draw(size, maskable=False))
        (OUT / f"maskable-{size}.png").write_bytes(draw(size, maskable=True))
    # iOS takes a full square (it rounds the corners itself), like a maskable icon.
    (OUT / "apple-touch-icon.png").write_bytes(draw(180, maskable=True))


if __name__ == "__main__":
    main()
