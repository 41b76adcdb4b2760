"""Plain text from the HTML that feeds, Mastodon and Hacker News put in their posts.

The classifier and the query language work on words; tags, entities and scripts must not
reach them. Block elements and <br> become line breaks so that words from two paragraphs are
not glued together; everything else is dropped, and entities are decoded once.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BREAKS = {"br", "p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
          "h6", "tr", "table", "hr", "section", "article", "header", "footer"}
SKIP = {"script", "style", "template", "head", "title"}
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
BLANK_LINES = re.compile(r"\n\s*\n+")
TAGLIKE = re.compile(r"<[A-Za-z!/?]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skipping += 1
        elif tag in BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BREAKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def strip_html(text: str | None) -> str:
    """Visible text of an HTML fragment, whitespace tidied; plain text passes through with
    only its entities decoded."""
    if not text:
        return ""
    parser = _Text()
    parser.feed(text)
    parser.close()
    out = "".join(parser.parts)
    out = "\n".join(SPACES.sub(" ", line).strip() for line in out.split("\n"))
    return BLANK_LINES.sub("\n", out).strip()


def looks_like_html(text: str) -> bool:
    return bool(TAGLIKE.search(text or ""))


def join_title(title: str, body: str) -> str:
    """A review or feed item's title and body as one text (the title often says the most)."""
    title, body = title.strip(), body.strip()
    if title and body and not body.startswith(title):
        return f"{title}\n{body}"
    return body or title


def clean_text(text: str | None) -> str:
    """Text from a platform that sends plain text but lets people type markup (reviews,
    Bluesky): stripped when it holds tags, otherwise only tidied, so that "5 < 6" and "<3"
    survive."""
    if looks_like_html(text or ""):
        return strip_html(text)
    return "\n".join(SPACES.sub(" ", line).strip() for line in (text or "").split("\n")).strip()
