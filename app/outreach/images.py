"""Images that carry a contest outside the portal: share QR codes, the generated link-preview card, banner checks.

No Flask here: callers pass the strings (already translated) and the bytes.
"""

from __future__ import annotations

import functools
import io
import textwrap
import unicodedata
import warnings
from typing import IO

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps

FONT_DIR = "/usr/share/fonts/truetype/dejavu"  # fonts-dejavu-core (make setup): full Vietnamese coverage
FONT_REGULAR = f"{FONT_DIR}/DejaVuSans.ttf"
FONT_BOLD = f"{FONT_DIR}/DejaVuSans-Bold.ttf"
CARD_SIZE = (1200, 630)  # what Facebook, Zalo and X crop link previews to (1.91:1)
BANNER_MAX_BYTES = 8 * 1024 * 1024
BANNER_MAX_PIXELS = 40_000_000  # decompression bombs: refuse before decoding
BANNER_MIN_SIZE = (400, 200)
BANNER_BOX = (1600, 900)  # stored banners are scaled down to fit
BANNER_FORMATS = {"JPEG", "PNG", "WEBP"}


class ImageRefused(ValueError):
    """The uploaded image cannot be used; `code` says why (too_large, not_image, too_small)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def qr_svg(url: str, *, title: str | None = None) -> bytes:
    """The URL as a QR code in SVG, crisp at any print size (error correction M, quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=10, border=4, title=title, xmldecl=True)
    return out.getvalue()


def qr_png(url: str) -> bytes:
    """The URL as a QR code in PNG, 16 pixels per module (about 5 cm wide at 300 dpi for a short link)."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=16, border=4)
    return out.getvalue()


def _fit_lines(draw: ImageDraw.ImageDraw, text: str, width: int, sizes: tuple[int, ...], max_lines: int):
    """The largest font size at which text wraps into at most max_lines lines of at most width pixels."""
    for size in sizes:
        font = ImageFont.truetype(FONT_BOLD, size)
        average = max(1.0, draw.textlength("abcdefghij", font=font) / 10)
        lines = textwrap.wrap(text, width=max(8, int(width / average)))
        while lines and any(draw.textlength(line, font=font) > width for line in lines):
            lines = textwrap.wrap(text, width=max(4, max(len(line) for line in lines) - 2))
        if len(lines) <= max_lines:
            return font, lines
    font = ImageFont.truetype(FONT_BOLD, sizes[-1])
    lines = textwrap.wrap(text, width=max(8, int(width / max(1.0, draw.textlength("abcdefghij", font=font) / 10))))
    return font, lines[: max_lines - 1] + [lines[max_lines - 1].rstrip(" .,") + "…"]


@functools.lru_cache(maxsize=64)
def card_png(title: str, *, kicker: str, footer: str) -> bytes:
    """A 1200×630 link-preview card: a kicker line ("Cuộc thi"), the title in large type, a footer (deadline, site).

    Cached per process: link-preview crawlers fetch the same card again and again."""
    title, kicker, footer = (unicodedata.normalize("NFC", s) for s in (title, kicker, footer))
    image = Image.new("RGB", CARD_SIZE, "#0b4a7d")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, CARD_SIZE[1] - 18, CARD_SIZE[0], CARD_SIZE[1]), fill="#f2b134")
    margin = 72
    draw.text((margin, 64), kicker.upper(), font=ImageFont.truetype(FONT_BOLD, 34), fill="#f2b134")
    font, lines = _fit_lines(draw, title, CARD_SIZE[0] - 2 * margin, (72, 64, 56, 48, 42), 4)
    y = 140
    for line in lines:
        draw.text((margin, y), line, font=font, fill="#ffffff")
        y += int(font.size * 1.25)
    draw.text((margin, CARD_SIZE[1] - 84), footer, font=ImageFont.truetype(FONT_REGULAR, 30), fill="#d7e6f3")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def normalise_banner(stream: IO[bytes]) -> bytes:
    """Check an uploaded banner (JPEG, PNG or WebP, size and dimensions) and re-encode it as a JPEG that fits
    BANNER_BOX, without its metadata (EXIF can hold the place a photo was taken). Raises ImageRefused."""
    data = stream.read(BANNER_MAX_BYTES + 1)
    if len(data) > BANNER_MAX_BYTES:
        raise ImageRefused("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in BANNER_FORMATS:
                raise ImageRefused("not_image")
            if probe.width * probe.height > BANNER_MAX_PIXELS:
                raise ImageRefused("too_large")
            probe.load()
    except ImageRefused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("not_image") from exc
    if probe.width < BANNER_MIN_SIZE[0] or probe.height < BANNER_MIN_SIZE[1]:
        raise ImageRefused("too_small")
    picture = ImageOps.exif_transpose(probe)
    if picture.mode in ("RGBA", "LA", "P"):
        picture = picture.convert("RGBA")
        background = Image.new("RGB", picture.size, "#ffffff")
        background.paste(picture, mask=picture.getchannel("A"))
        picture = background
    else:
        picture = picture.convert("RGB")
    picture.thumbnail(BANNER_BOX, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()
