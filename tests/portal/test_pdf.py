"""portal.pdf: templates become PDFs with the Korean font; nothing is fetched from elsewhere."""

from __future__ import annotations

import io

import pypdf
import pytest

from portal.pdf import PdfResourceRefused, render_pdf


@pytest.fixture
def template_dir(settings, tmp_path):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    return tmp_path


def test_a_template_becomes_a_pdf_with_korean_text(template_dir):
    (template_dir / "t.html").write_text(
        '<link rel="stylesheet" href="/static/consent/receipt.css"><p>{{ name }} 님의 확인서</p>',
        encoding="utf-8",
    )
    pdf = render_pdf("t.html", {"name": "김하늘"})
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "김하늘" in text


def test_a_resource_from_elsewhere_is_refused(template_dir):
    (template_dir / "t.html").write_text(
        '<img src="https://example.org/tracker.png"><p>x</p>', encoding="utf-8"
    )
    with pytest.raises(PdfResourceRefused, match=r"example\.org"):
        render_pdf("t.html", {})


def test_weasyprint_never_logs_a_data_url(caplog):
    import logging

    from portal.pdf import PdfResourceRefused, html_to_pdf

    broken = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgSECRETSIGNATURE"
    with caplog.at_level("DEBUG", logger="weasyprint"):
        with pytest.raises(PdfResourceRefused) as refused:
            html_to_pdf(f'<p>x</p><img src="{broken}">')
        # What WeasyPrint itself logs about such a URL is redacted too.
        logging.getLogger("weasyprint").warning("Failed to load image at %r", broken)
    assert "SECRETSIGNATURE" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert "SECRETSIGNATURE" not in caplog.text
    assert "data:<redacted>" in caplog.text
