"""Materials: which documents are accepted (by content, not by name alone) and how they are named on download."""

from __future__ import annotations

import unicodedata
import zipfile
from typing import IO
from urllib.parse import quote

from werkzeug.http import dump_options_header

from app.models.enums import MaterialKind

MATERIAL_MAX_BYTES = 50 * 1024 * 1024
MIME_TYPES = {
    MaterialKind.PDF: "application/pdf",
    MaterialKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    MaterialKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    MaterialKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# The part every Office Open XML package of that kind holds (ECMA-376 part 1, the main document part).
OOXML_MAIN_PART = {
    MaterialKind.DOCX: "word/document.xml",
    MaterialKind.XLSX: "xl/workbook.xml",
    MaterialKind.PPTX: "ppt/presentation.xml",
}
# ASCII stand-ins for the letters NFKD cannot decompose (đ is not d + a combining mark).
_ASCII_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def kind_from_name(filename: str) -> MaterialKind | None:
    """The kind the file name claims, from its extension."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        return MaterialKind(ext)
    except ValueError:
        return None


def content_matches(kind: MaterialKind, fh: IO[bytes]) -> bool:
    """True when the bytes are what the extension claims: a PDF header, or an OOXML package of that kind.

    A renamed executable or an old binary .doc is refused. The file position is restored to the start."""
    try:
        fh.seek(0)
        if kind == MaterialKind.PDF:
            return b"%PDF-" in fh.read(1024)  # PDF readers accept the header within the first 1024 bytes
        try:
            with zipfile.ZipFile(fh) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        return "[Content_Types].xml" in names and OOXML_MAIN_PART[kind] in names
    finally:
        fh.seek(0)


def clean_filename(filename: str) -> str:
    """The uploaded name without a client's path, control characters or a decomposed form (NFC), at most 200 chars."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".") or "tai-lieu"
    if len(name) > 200:
        stem, _, ext = name.rpartition(".")
        name = stem[: 199 - len(ext)] + "." + ext if stem else name[:200]
    return name


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """RFC 6266 header with the name in UTF-8 (RFC 5987 `filename*`) and an ASCII fallback for old clients."""
    try:
        filename.encode("ascii")
        return dump_options_header(disposition, {"filename": filename})
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename.translate(_ASCII_EXTRA)).encode("ascii", "ignore").decode()
        quoted = quote(filename, safe="!#$&+-.^_`|~")
        return dump_options_header(disposition, {"filename": simple, "filename*": f"UTF-8''{quoted}"})
