"""portal.pdf: templates become PDFs with the Korean font; nothing is fetched from elsewhere."""

from __future__ import annotations

import http.server
import io
import threading

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


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """A loopback server that answers everything, a redirect included, and counts requests."""

    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        body = b"p { color: red }" if self.path.endswith(".css") else b"\x89PNG\r\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server():
    _CountingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.requests
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd">',
        '<img src="file:///static/../../../../etc/passwd">',
        '<link rel="stylesheet" href="/static/../../../../etc/passwd">',
        '<img src="{base}/pixel.png">',
        '<img src="{base}/redirect">',
        '<link rel="stylesheet" href="{base}/redirect.css">',
        '<style>@import url("{base}/imported.css");</style>',
        '<style>@import "file:///etc/hostname";</style>',
        '<p style="background: url({base}/bg.png)">x</p>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="{base}/svg.png"/></svg>',
    ],
)
def test_a_hostile_template_fetches_nothing(template_dir, loopback_server, markup):
    base, requests = loopback_server
    (template_dir / "t.html").write_text(
        "<p>보고서</p>" + markup.format(base=base), encoding="utf-8"
    )
    try:
        pdf = render_pdf("t.html", {})
    except PdfResourceRefused:
        pdf = b""
    assert requests == []
    assert b"root:" not in pdf


def test_static_files_still_load(template_dir):
    (template_dir / "t.html").write_text(
        '<link rel="stylesheet" href="/static/reports/report.css"><h1>보고서</h1>',
        encoding="utf-8",
    )
    assert render_pdf("t.html", {}).startswith(b"%PDF")


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


def _catalog(pdf: bytes) -> tuple[pypdf.PdfReader, dict]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, reader.trailer["/Root"]


def test_a_pdf_is_tagged_with_its_language_and_title(template_dir):
    (template_dir / "t.html").write_text(
        '<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>동의 확인서</title>'
        "</head><body><h1>동의 확인서</h1><p>김하늘 님</p></body></html>",
        encoding="utf-8",
    )
    reader, catalog = _catalog(render_pdf("t.html", {}))
    assert "/StructTreeRoot" in catalog
    assert catalog["/MarkInfo"]["/Marked"] in (True, "true")
    assert catalog["/Lang"] == "ko"
    assert reader.metadata is not None and reader.metadata.title == "동의 확인서"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] in (True, "true")
    # The heading is in the structure tree, as a heading.
    kids = catalog["/StructTreeRoot"].get_object()["/K"]
    assert "/H1" in _structure_types(kids)


def _structure_types(node: object) -> set[str]:
    node = node.get_object() if hasattr(node, "get_object") else node
    found: set[str] = set()
    if isinstance(node, list):
        for child in node:
            found |= _structure_types(child)
    elif isinstance(node, dict):
        if "/S" in node:
            found.add(str(node["/S"]))
        if "/K" in node:
            found |= _structure_types(node["/K"])
    return found
