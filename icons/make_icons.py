#!/usr/bin/env python3
"""Draws the Warta app icon (a white "W" on a government-blue rounded square) as RGBA PNGs.

Only the standard library is used, so the icons can be regenerated on any machine:

    python3 icons/make_icons.py

Shapes are signed-distance functions in a unit square; one sample per pixel with a one-pixel
linear ramp gives anti-aliased edges at every size without supersampling.
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

BLUE = (0x1D, 0x4E, 0x89)  # government blue
BLUE_LIGHT = (0x2B, 0x6C, 0xB0)  # top of the vertical gradient
WHITE = (0xFF, 0xFF, 0xFF)
GOLD = (0xF2, 0xB7, 0x05)  # the rule under the letter: a nod to a newspaper masthead

# The "W" as one polyline, in unit coordinates (y grows downwards).
W_POINTS = [(0.22, 0.26), (0.355, 0.70), (0.50, 0.38), (0.645, 0.70), (0.78, 0.26)]
W_HALF_WIDTH = 0.055
RULE = (0.26, 0.79, 0.74, 0.83)  # x0, y0, x1, y1
MARGIN = 0.04
CORNER = 0.20


def rounded_rect_sd(x, y, x0, y0, x1, y1, r):
    """Signed distance to a rounded rectangle (negative inside)."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hx, hy = (x1 - x0) / 2 - r, (y1 - y0) / 2 - r
    qx, qy = abs(x - cx) - hx, abs(y - cy) - hy
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    inside = min(max(qx, qy), 0.0)
    return outside + inside - r


def segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)
    t = min(max(t, 0.0), 1.0)
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def w_sd(x, y):
    d = min(
        segment_distance(x, y, *W_POINTS[i], *W_POINTS[i + 1]) for i in range(len(W_POINTS) - 1)
    )
    return d - W_HALF_WIDTH


def coverage(sd, pixel):
    """Fraction of a pixel covered by a shape, from its signed distance in unit coordinates."""
    return min(max(0.5 - sd / pixel, 0.0), 1.0)


def blend(under, over, alpha):
    return tuple(u + (o - u) * alpha for u, o in zip(under, over))


def render(size):
    pixel = 1.0 / size
    rows = []
    for j in range(size):
        y = (j + 0.5) * pixel
        bg = blend(BLUE_LIGHT, BLUE, y)
        row = bytearray([0])  # PNG filter type: none
        for i in range(size):
            x = (i + 0.5) * pixel
            a = coverage(rounded_rect_sd(x, y, MARGIN, MARGIN, 1 - MARGIN, 1 - MARGIN, CORNER), pixel)
            if a == 0.0:
                row += b"\x00\x00\x00\x00"
                continue
            color = blend(bg, WHITE, coverage(w_sd(x, y), pixel))
            rule = rounded_rect_sd(x, y, *RULE, (RULE[3] - RULE[1]) / 2)
            color = blend(color, GOLD, coverage(rule, pixel))
            row += bytes(round(c) for c in color) + bytes([round(a * 255)])
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(width, height, raw):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main():
    for name, size in [
        ("32x32.png", 32),
        ("128x128.png", 128),
        ("128x128@2x.png", 256),
        ("icon.png", 512),
    ]:
        path = os.path.join(HERE, name)
        with open(path, "wb") as f:
            f.write(render(size))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
