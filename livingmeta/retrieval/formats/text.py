"""Bytes of an export to text: compression, byte-order marks and legacy encodings.

Reference managers on Windows still write Windows-1252 or UTF-16, and people concatenate
exports (each with its own byte-order mark). The text is decoded as UTF-8 when it is
UTF-8; otherwise the encoding is detected (``charset-normalizer``) and reported, and a file
no encoding explains is refused with a message that says how to re-export it.
"""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def is_xlsx(data: bytes) -> bool:
    """Whether the bytes are an Excel workbook (a zip archive holding ``xl/workbook.xml``)."""
    if data[:4] != b"PK\x03\x04":
        return False
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def refuse_binary(data: bytes, name: str) -> None:
    """Refuse archives, PDFs and other binary files with advice, not a decoding error."""
    if data[:4] == b"PK\x03\x04":
        raise ImportFormatError(
            name,
            "a zip archive (or old-style Excel file), not a text export or .xlsx workbook; "
            "unpack it, or save it as CSV (UTF-8) or .xlsx, and import that",
        )
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFormatError(
            name, "an old Excel (.xls) workbook; save it as .xlsx or CSV (UTF-8) and import that"
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


def json_items(
    text: str, name: str, list_key: str, is_item: Callable[[dict[str, Any]], bool], expected: str
) -> list[Any]:
    """The items of a JSON export: a list of them, a page holding them under ``list_key``,
    or one item (``is_item``). Anything else is refused with ``expected`` as the advice."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(name, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if isinstance(payload.get(list_key), list):
            return payload[list_key]
        if is_item(payload):
            return [payload]
    raise ImportFormatError(name, expected)
