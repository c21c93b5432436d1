"""The WeasyPrint side of app/paperwork/render.py, imported only when a paper is made (WeasyPrint is slow to import)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher


class LocalFilesOnly(URLFetcher):
    """A fetcher that serves data: URIs and the given font files, and refuses everything else (no network, no other
    file)."""

    def __init__(self, allowed: Mapping[str, Path]) -> None:
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, fail_on_errors=False)
        self.allowed = {p.resolve() for p in allowed.values()}

    def fetch(self, url, headers=None):
        if url.startswith("file:"):
            path = Path(unquote(urlparse(url).path)).resolve()
            if path not in self.allowed:
                raise ValueError(f"refused: {url}")
        return super().fetch(url, headers)


def lay_out(html: str, rules: str, *, fonts: Mapping[str, Path], base_url: str) -> Document:
    """html laid out with the stylesheet rules, reading no file but the fonts."""
    fetcher = LocalFilesOnly(fonts)
    # @font-face rules take effect only with a FontConfiguration shared by the stylesheet and the layout.
    font_config = FontConfiguration()
    css = CSS(string=rules, url_fetcher=fetcher, base_url=base_url, font_config=font_config)
    return HTML(string=html, url_fetcher=fetcher, base_url=base_url).render(stylesheets=[css], font_config=font_config)
