"""What an uploaded media file really is: its type from its bytes, whether the container is
whole, and the name it is stored under.

A file's name and declared type can lie; its first bytes say what it claims to be, and for
most formats a cheap walk over the container proves it is that and nothing more: a PNG's
chunks end with IEND at the last byte, a JPEG ends with its EOI marker, a GIF with its
trailer, an MP4's top-level boxes tile the file exactly, an AMR file is whole frames. That
refuses a truncated upload and a polyglot (an image with an HTML page appended). The
stored name takes its extension from the proven type, never from the upload, so a
PNG-headed ``evil.html`` is kept as ``evil.png`` and served as an image.

MP3 has no such cheap check (ID3 tags, free-format and VBR frames) and is taken on its
header alone.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import PurePath

#: The extension a file of each allowed type is stored under.
EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AMR_NB, AMR_WB = b"#!AMR\n", b"#!AMR-WB\n"
# Speech bytes per frame type (RFC 4867 §5.3 storage format; 3GPP TS 26.101 and 26.201):
# AMR-NB modes 0-7 and SID (8), no data (15); AMR-WB modes 0-8 and SID (9), speech lost (14)
# and no data (15). The other types are not used in a file.
_AMR_NB_SIZES = {**dict(enumerate((12, 13, 15, 17, 19, 20, 26, 31, 5))), 15: 0}
_AMR_WB_SIZES = {**dict(enumerate((17, 23, 32, 36, 40, 46, 50, 58, 60, 5))), 14: 0, 15: 0}
_MAX_STEM = 60


def sniff_content_type(head: bytes) -> str | None:
    """The media type the first bytes prove, or None; a file's name or label can lie."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(PNG_SIGNATURE):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[4:8] == b"ftyp":
        return "video/3gpp" if head[8:11] == b"3gp" else "video/mp4"
    return None


def container_problem(content_type: str, data: bytes) -> str | None:
    """Why ``data`` is not one whole file of ``content_type`` (a phrase), or None.

    None too for a type without a cheap check (MP3).
    """
    check = _CHECKS.get(content_type)
    return check(data) if check else None


def stored_name(name: str, content_type: str) -> str:
    """The file name to store: the upload's stem (dots made dashes), the type's extension."""
    base = PurePath(name.replace("\\", "/")).name
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = re.sub(r"[^\w-]+", "-", stem).strip("-_")[:_MAX_STEM] or "media"
    return stem + EXTENSIONS[content_type]


def _png(data: bytes) -> str | None:
    """Chunks (length, type, data, CRC) from IHDR to IEND, which must end the file."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return f"its {_label(kind)} chunk runs past the end of the file (the file is cut short)"
        if pos == len(PNG_SIGNATURE) and kind != b"IHDR":
            return "it does not start with an IHDR chunk"
        if zlib.crc32(data[pos + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
            return f"its {_label(kind)} chunk is damaged (wrong CRC)"
        if kind == b"IEND":
            return None if end == len(data) else f"{len(data) - end} bytes follow its IEND chunk"
        pos = end
    return "it has no IEND chunk (the file is cut short)"


def _jpeg(data: bytes) -> str | None:
    """Ends with the EOI marker FF D9 (zero padding after it tolerated, as some encoders pad)."""
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "it does not end with the JPEG end marker FF D9 (the file is cut short or has data appended)"
    return None


def _gif(data: bytes) -> str | None:
    """Header and logical screen descriptor (13 bytes), then blocks up to the trailer 0x3B."""
    if len(data) < 14 or data[-1:] != b"\x3b":
        return "it does not end with the GIF trailer 0x3B (the file is cut short or has data appended)"
    return None


def _iso_bmff(data: bytes) -> str | None:
    """Top-level boxes (size, type) that tile the file exactly: ftyp first, a moov among them."""
    pos, kinds = 0, []
    while pos < len(data):
        if pos + 8 > len(data):
            return f"it ends inside a box header at byte {pos} (the file is cut short)"
        size, kind, header = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8], 8
        if not all(0x20 <= b < 0x7F for b in kind):
            return f"the box at byte {pos} has no valid type (this is not an MP4 box structure)"
        if size == 1:  # 64-bit size after the type
            if pos + 16 > len(data):
                return f"its {_label(kind)} box header at byte {pos} is cut short"
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:  # the last box, to the end of the file
            size = len(data) - pos
        if size < header:
            return f"its {_label(kind)} box at byte {pos} has an impossible size ({size})"
        if pos + size > len(data):
            return (
                f"its {_label(kind)} box at byte {pos} runs past the end of the file "
                "(the file is cut short or has data appended)"
            )
        kinds.append(kind)
        pos += size
    if not kinds or kinds[0] != b"ftyp":
        return "it does not start with an ftyp box"
    if b"moov" not in kinds:
        return "it has no moov box (no movie header)"
    return None


def _amr(data: bytes) -> str | None:
    """Whole frames after the magic line, each as long as its header's frame type says."""
    if data.startswith(AMR_NB):
        sizes, pos = _AMR_NB_SIZES, len(AMR_NB)
    elif data.startswith(AMR_WB):
        sizes, pos = _AMR_WB_SIZES, len(AMR_WB)
    else:
        return "it is not single-channel AMR or AMR-WB (#!AMR or #!AMR-WB)"
    while pos < len(data):
        frame_type = (data[pos] >> 3) & 0x0F
        if frame_type not in sizes:
            return f"the frame at byte {pos} has a frame type a file does not use ({frame_type})"
        pos += 1 + sizes[frame_type]
    return None if pos == len(data) else "its last frame is cut short"


def _label(kind: bytes) -> str:
    return kind.decode("latin-1") if all(0x20 <= b < 0x7F for b in kind) else kind.hex()


_CHECKS: dict[str, Callable[[bytes], str | None]] = {
    "image/png": _png,
    "image/jpeg": _jpeg,
    "image/gif": _gif,
    "video/mp4": _iso_bmff,
    "video/3gpp": _iso_bmff,
    "audio/amr": _amr,
}
