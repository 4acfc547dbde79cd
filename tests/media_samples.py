"""Small media files whose containers are whole, for the tests that upload MMS media.

Each builder takes an optional exact ``size`` and pads inside the format (a PNG tEXt chunk,
JPEG comment segments, an MP4 free box), so a
padded file is still one whole file of its type.
"""

from __future__ import annotations

import struct
import zlib


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int | None = None) -> bytes:
    """A 1×1 red RGB PNG; with ``size``, a tEXt chunk makes it exactly that long."""
    head = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    body = png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    tail = png_chunk(b"IEND", b"")
    if size is not None:
        text = b"Comment\x00" + b"x" * (size - len(head + body + tail) - 12 - 8)
        body += png_chunk(b"tEXt", text)
    data = head + body + tail
    assert size is None or len(data) == size
    return data


def jpeg(size: int | None = None) -> bytes:
    """SOI, a JFIF APP0 segment, comment segments to reach ``size``, EOI."""
    head = b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    tail = b"\xff\xd9"
    pad = b""
    room = (size or 0) - len(head) - len(tail)
    while room > 0:  # a segment is 4 to 65,537 bytes: marker, length, data
        n = min(room, 65537)
        n = n if room - n == 0 or room - n >= 4 else n - 4
        pad += b"\xff\xfe" + struct.pack(">H", n - 2) + b"c" * (n - 4)
        room -= n
    data = head + pad + tail
    assert size is None or len(data) == size
    return data


def gif() -> bytes:
    """A 1×1 GIF89a: header, screen descriptor and colour table, one image, the 0x3B trailer."""
    screen = b"GIF89a" + b"\x01\x00\x01\x00\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    return screen + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00" + b"\x02\x02D\x01\x00" + b";"


def amr(frames: int = 3) -> bytes:
    """AMR-NB: the magic line and 12.2 kbit/s frames (header 0x3C, 31 speech bytes)."""
    return b"#!AMR\n" + (b"\x3c" + b"\x55" * 31) * frames


def mp3() -> bytes:
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 413


def mp4(brand: bytes = b"mp42", size: int | None = None) -> bytes:
    """ftyp, mdat and an (empty) moov box, as a camera writes them (the movie header last, so
    any truncation cuts or loses it); with ``size``, a free box makes it that long."""
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"isom"
    moov = struct.pack(">I", 8) + b"moov"
    mdat = struct.pack(">I", 16) + b"mdat" + b"\x00" * 8
    data = ftyp + mdat + moov
    if size is not None:
        data += struct.pack(">I", size - len(data)) + b"free" + b"\x00" * (size - len(data) - 8)
    assert size is None or len(data) == size
    return data
