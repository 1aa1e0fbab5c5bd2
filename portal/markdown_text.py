"""Markdown written by staff (consent texts, information pages) as HTML safe to show anyone.

One renderer and one sanitizer for every such text: what the consent form allows, the public
pages allow, and nothing more.
"""

from __future__ import annotations

import re

import markdown
import nh3

__all__ = ["markdown_render"]

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "dd",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "hr",
    "li",
    "ol",
    "p",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope"}}


def markdown_render(text: str) -> str:
    """Markdown -> sanitized HTML (no scripts, styles, images, raw attributes or foreign schemes)."""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    # A top-level "# Title" would compete with the page heading; it becomes a second-level one.
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
