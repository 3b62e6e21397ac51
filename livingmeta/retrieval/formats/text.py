"""Bytes of an export to text: compression, byte-order marks and legacy encodings.

Reference managers on Windows still write Windows-1252 or UTF-16, and people concatenate
exports (each with its own byte-order mark). The text is decoded as UTF-8 when it is
UTF-8; otherwise the encoding is detected (``charset-normalizer``) and reported, and a file
no encoding explains is refused with a message that says how to re-export it.
"""

from __future__ import annotations

import codecs
import gzip
from dataclasses import dataclass
from pathlib import Path

from livingmeta.retrieval.formats.errors import ImportFormatError

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Detected encodings we accept for bibliographic text: the single-byte Windows and ISO
# code pages and Mac Roman that old exports use, and UTF-16/32 without a BOM.
_PREFERRED_LEGACY = ("cp1252", "latin_1", "iso8859_15")


@dataclass(frozen=True)
class DecodedText:
    """An export's text and how it was decoded (``encoding`` as Python names it)."""

    text: str
    encoding: str


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when compressed (exports are often stored as .gz)."""
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise ImportFormatError(str(path), f"cannot read file: {exc}") from exc
    return data


def refuse_binary(data: bytes, name: str) -> None:
    """Refuse spreadsheets and other binary files with advice, not a decoding error."""
    if data[:4] == b"PK\x03\x04":
        raise ImportFormatError(
            name,
            "a zip archive or Excel workbook (.xlsx), not a text export; open it and save "
            "it as CSV (UTF-8), or export RIS from the database, and import that",
        )
    if data[:5] == b"%PDF-":
        raise ImportFormatError(name, "a PDF, not a database export")


def decode(data: bytes, name: str) -> DecodedText:
    """Decode an export and normalise it: no BOMs anywhere, ``\\n`` line ends only.

    A BOM in the middle of the text marks where two exported files were joined; it is
    dropped so the second file's first line parses.
    """
    encoding = _encoding(data, name)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:  # detection was wrong after all
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFormatError(
            name, f"not valid {encoding} (byte {exc.start}); re-export the file as UTF-8", line=line
        ) from exc
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return DecodedText(text, "utf-8" if encoding == "utf-8-sig" else encoding)


def read_text(path: Path) -> DecodedText:
    """Read and decode an export file (see :func:`decode`)."""
    return decode(read_bytes(path), str(path))


def _encoding(data: bytes, name: str) -> str:
    if data[:2] in _UTF16_BOMS:
        return "utf-16"
    if _looks_utf16(data):
        return "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _detected_encoding(data, name, exc)
    return "utf-8-sig"


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: every other byte of ASCII text is a NUL."""
    sample = data[:4096]
    return len(sample) >= 4 and sample.count(0) >= len(sample) // 3


def _detected_encoding(data: bytes, name: str, error: UnicodeDecodeError) -> str:
    from charset_normalizer import from_bytes  # only for files that are not UTF-8

    best = from_bytes(data).best()
    if best is None or b"\x00" in data:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFormatError(
            name,
            f"not UTF-8 (byte {error.start}) and no known text encoding fits; "
            "re-export the file as UTF-8 (or check that it is a text export at all)",
            line=line,
        )
    candidates = [best.encoding, *best.could_be_from_charset]
    # Short samples fit several code pages equally; Windows-1252 is what exports use.
    return next((enc for enc in _PREFERRED_LEGACY if enc in candidates), best.encoding)
