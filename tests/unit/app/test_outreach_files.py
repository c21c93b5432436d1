"""The pure helpers of outreach: material type sniffing and download names, banner checks, cards and QR codes."""

from __future__ import annotations

import io
import unicodedata
import zipfile

import pytest
from PIL import Image

from app.models.enums import MaterialKind
from app.outreach import images
from app.outreach.documents import clean_filename, content_disposition, content_matches, kind_from_name


def _zip(*names: str) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in names:
            z.writestr(name, "<x/>")
    out.seek(0)
    return out


def test_kind_comes_from_the_extension_and_must_match_the_content():
    assert kind_from_name("Thể lệ.PDF") == MaterialKind.PDF and kind_from_name("a.doc") is None
    assert kind_from_name("no-extension") is None
    assert content_matches(MaterialKind.PDF, io.BytesIO(b"\n%PDF-1.7\n..."))
    assert not content_matches(MaterialKind.PDF, io.BytesIO(b"MZ\x90"))
    assert content_matches(MaterialKind.PPTX, _zip("[Content_Types].xml", "ppt/presentation.xml"))
    assert not content_matches(MaterialKind.DOCX, _zip("[Content_Types].xml", "ppt/presentation.xml"))
    assert not content_matches(MaterialKind.XLSX, _zip("xl/workbook.xml"))  # not an OOXML package
    stream = io.BytesIO(b"not a zip")
    assert not content_matches(MaterialKind.XLSX, stream) and stream.tell() == 0


def test_file_names_are_cleaned_and_kept_in_nfc():
    decomposed = unicodedata.normalize("NFD", "Hướng dẫn.pdf")
    assert clean_filename(decomposed) == "Hướng dẫn.pdf" == unicodedata.normalize("NFC", decomposed)
    assert clean_filename("C:\\Users\\cb\\Mẫu 01.docx") == "Mẫu 01.docx"
    assert clean_filename("../../etc/passwd\x00.pdf") == "passwd.pdf"
    long = clean_filename("a" * 300 + ".xlsx")
    assert len(long) == 200 and long.endswith(".xlsx")


def test_content_disposition_has_a_utf8_name_and_an_ascii_fallback():
    header = content_disposition("Đăng ký dự thi.xlsx")
    assert header == (
        'attachment; filename="Dang ky du thi.xlsx"; '
        "filename*=UTF-8''%C4%90%C4%83ng%20k%C3%BD%20d%E1%BB%B1%20thi.xlsx"
    )
    assert content_disposition('rules "2027".pdf') == 'attachment; filename="rules \\"2027\\".pdf"'


def _image_bytes(size, fmt="PNG", mode="RGB") -> io.BytesIO:
    out = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else "#336699").save(out, format=fmt)
    out.seek(0)
    return out


def test_banner_is_reencoded_as_a_jpeg_that_fits_the_box():
    jpeg = images.normalise_banner(_image_bytes((3200, 1200), mode="RGBA"))
    with Image.open(io.BytesIO(jpeg)) as out:
        assert out.format == "JPEG" and out.size == (1600, 600)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (io.BytesIO(b"GIF89a not really"), "not_image"),
        (_image_bytes((300, 100)), "too_small"),
        (_image_bytes((500, 300), fmt="GIF"), "not_image"),
        (_image_bytes((10_000, 5_000), mode="1"), "too_large"),  # 50 megapixels (1 bit each): refused before decoding
        (io.BytesIO(b"\xff" * (images.BANNER_MAX_BYTES + 1)), "too_large"),
    ],
)
def test_banner_refusals(payload, code):
    with pytest.raises(images.ImageRefused) as refused:
        images.normalise_banner(payload)
    assert refused.value.code == code


def test_card_and_qr_codes():
    with Image.open(io.BytesIO(images.card_png("Cuộc thi " * 40, kicker="Cuộc thi", footer="Hạn nộp"))) as card:
        assert card.size == images.CARD_SIZE and card.format == "PNG"
    svg = images.qr_svg("https://cuocthi.example.gov.vn/c/x", title="Cuộc thi & <b>")
    assert svg.startswith(b"<?xml") and b"<svg" in svg and b"&amp; &lt;b&gt;" in svg
    with Image.open(io.BytesIO(images.qr_png("https://cuocthi.example.gov.vn/c/x"))) as qr:
        assert qr.width == qr.height and qr.width >= 400
