"""PDF documents (receipts, certificates, reports): one helper, WeasyPrint, system fonts.

``render_pdf("consent/receipt.html", context)`` renders a Django template and returns the PDF bytes.
Templates name fonts by family (``font-family: "NanumGothic"``): WeasyPrint finds them through
fontconfig, and the Korean glyphs used are embedded (subset) in the PDF. Stylesheets and images
are referenced as ``/static/...`` and read from the static files on disk; nothing is ever fetched
over the network while rendering (a template cannot be tricked into requesting a URL).

Every PDF is tagged (WeasyPrint's PDF/UA-1 variant): a structure tree in reading order, the
document's language from ``<html lang>`` and its title from ``<title>``, so that a screen reader
reads a receipt or certificate as it reads the page. Templates must therefore set both.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation

from .logging import redact_data_urls

__all__ = ["PdfResourceRefused", "render_pdf"]

_STATIC_PREFIX = "/static/"
PDF_VARIANT = "pdf/ua-1"
_font_config: Any = None


class PdfResourceRefused(ValueError):
    """A template referred to something other than a static file."""


def _static_bytes(url: str) -> tuple[bytes, str] | None:
    path = url.removeprefix("file://")
    # Only plain paths under /static/: no way out of it with "..", no query or fragment tricks.
    if not path.startswith(_STATIC_PREFIX) or ".." in path or "?" in path or "\\" in path:
        return None
    found = finders.find(path[len(_STATIC_PREFIX) :])
    if not isinstance(found, str):
        return None
    with open(found, "rb") as handle:
        return handle.read(), mimetypes.guess_type(found)[0] or "application/octet-stream"


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves ``/static/...`` from disk and ``data:`` URIs; refuses everything else."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            found = _static_bytes(url)
            if found is None:
                raise PdfResourceRefused(f"PDF templates may only use static files: {url[:80]!r}")
            body, mime_type = found
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime_type})

    return StaticOnlyFetcher(fail_on_errors=True)


def _fonts() -> Any:
    # One font configuration per process: building it scans fontconfig, which is slow.
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration

        _font_config = FontConfiguration()
    return _font_config


def render_pdf(
    template_name: str, context: Mapping[str, Any], *, language: str | None = None
) -> bytes:
    """Render ``template_name`` with ``context`` to PDF bytes (in ``language`` if given)."""
    if language:
        with translation.override(language):
            html = render_to_string(template_name, dict(context))
    else:
        html = render_to_string(template_name, dict(context))
    return html_to_pdf(html)


def html_to_pdf(html: str) -> bytes:
    """PDF bytes of an HTML document, fetching only static files and ``data:`` URIs."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    # A base URL so that "/static/..." resolves (to file:///static/..., which the fetcher serves).
    try:
        document = HTML(string=html, base_url="file:///", url_fetcher=_fetcher())
        return bytes(document.write_pdf(font_config=_fonts(), pdf_variant=PDF_VARIANT))
    except FatalURLFetchingError as exc:
        # WeasyPrint's fatal error is a BaseException; make it an ordinary, catchable error. Its
        # message names the URL, which for a drawn signature is the signature itself: redacted,
        # and not chained (a logged traceback would print the original).
        raise PdfResourceRefused(redact_data_urls(str(exc))) from None
