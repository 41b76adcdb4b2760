"""Fakes of the review and feed platforms, answering in each one's real response shape:

- FakeAppStore: Apple's customer-review JSON feed (`{"feed": {"entry": [...]}}`, every value
  wrapped as {"label": ...}; one review is an object rather than a list; no "entry" when empty;
  50 reviews a page, newest first, 10 pages at most).
- FakeTrustpilot: the Trustpilot business-units reviews endpoint (`{"reviews": [...],
  "links": [...]}`), `apikey` header checked, `page`/`perPage`, newest first.
- FakeFeeds: RSS 2.0 and Atom documents at paths of your choosing (Discourse, Google Alerts).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from tests.fakes.webserver import FakeWeb, Reply, Request, iso_z

# -- App Store ------------------------------------------------------------------------------

APPSTORE_PATH = re.compile(
    r"^/(?P<country>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)"
    r"/sortby=mostrecent/json$")


def appstore_entry(*, id: str, updated: datetime, title: str, content: str, author: str = "",
                   rating: int = 5, version: str = "2.4.1", country: str = "us") -> dict:
    return {
        "author": {"uri": {"label": f"https://itunes.apple.com/{country}/reviews/id{id[::-1]}"},
                   "name": {"label": author}, "label": ""},
        "updated": {"label": updated.isoformat()},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": version},
        "id": {"label": id},
        "title": {"label": title},
        "content": {"label": content, "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related",
                                "href": f"https://itunes.apple.com/{country}/review?id=1&type=Purple%20Software"}},
        "im:voteSum": {"label": "0"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": "0"},
    }


def appstore_feed(entries: list | dict | None, *, country: str, app_id: int, page: int) -> dict:
    base = (f"https://itunes.apple.com/{country}/rss/customerreviews/page={page}/id={app_id}"
            "/sortby=mostrecent")
    feed = {
        "author": {"name": {"label": "iTunes Store"},
                   "uri": {"label": f"http://www.apple.com/{country}/itunes/"}},
        "updated": {"label": "2026-10-30T02:00:00-07:00"},
        "rights": {"label": "Copyright 2008 Apple Inc."},
        "title": {"label": "iTunes Store: Customer Reviews"},
        "icon": {"label": "http://itunes.apple.com/favicon.ico"},
        "link": [{"attributes": {"rel": "alternate", "type": "text/html",
                                 "href": "https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc=us&id=38"}},
                 {"attributes": {"rel": "self", "href": f"{base}/json"}},
                 {"attributes": {"rel": "first", "href": f"{base}/xml?urlDesc=/page=1"}},
                 {"attributes": {"rel": "last", "href": f"{base}/xml?urlDesc=/page=10"}}],
        "id": {"label": f"{base}/json"},
    }
    if entries:
        feed["entry"] = entries
    return {"feed": feed}


@dataclass
class FakeAppStore:
    reviews: dict[tuple[str, int], list[dict]] = field(default_factory=dict)  # newest first
    per_page: int = 50

    def add(self, app_id: int, country: str = "us", **review) -> dict:
        entry = appstore_entry(country=country, **review)
        items = self.reviews.setdefault((country, app_id), [])
        items.append(entry)
        items.sort(key=lambda e: datetime.fromisoformat(e["updated"]["label"]), reverse=True)
        return entry

    def handler(self, req: Request) -> Reply:
        m = APPSTORE_PATH.match(req.path)
        if not m:
            return Reply(404, "<html>Not Found</html>", content_type="text/html")
        country, page, app_id = m["country"], int(m["page"]), int(m["app"])
        if page > 10:
            return Reply(400, "CustomerReviews RSS page depth is limited to 10",
                         content_type="text/plain")
        items = self.reviews.get((country, app_id), [])
        chunk = items[(page - 1) * self.per_page:page * self.per_page]
        body = chunk[0] if len(chunk) == 1 else chunk  # Apple's one-review quirk
        return Reply(200, appstore_feed(body, country=country, app_id=app_id, page=page))

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)


# -- Trustpilot -----------------------------------------------------------------------------

TRUSTPILOT_PATH = re.compile(r"^/v1/business-units/(?P<bu>[0-9a-f]+)/reviews$")
INVALID_KEY = {"fault": {"faultstring": "Invalid ApiKey",
                         "detail": {"errorcode": "oauth.v2.InvalidApiKey"}}}


def trustpilot_review(*, id: str, created: datetime, title: str, text: str,
                      name: str = "Jane D.", stars: int = 1, language: str = "en",
                      business_unit: str = "46d6a890ffa235a75b00021d") -> dict:
    api = "https://api.trustpilot.com/v1"
    return {
        "links": [{"href": f"{api}/reviews/{id}", "method": "GET", "rel": "reviews"}],
        "id": id,
        "consumer": {
            "links": [{"href": f"{api}/consumers/5e3de1b45fb06f0001790b50", "method": "GET",
                       "rel": "consumers"}],
            "id": "5e3de1b45fb06f0001790b50", "displayName": name, "displayLocation": None,
            "numberOfReviews": 3},
        "businessUnit": {"links": [], "id": business_unit, "identifyingName": "lumitoys.com",
                         "displayName": "Lumi Toys"},
        "location": None,
        "stars": stars,
        "title": title,
        "text": text,
        "language": language,
        "createdAt": iso_z(created),
        "experiencedAt": iso_z(created),
        "updatedAt": None,
        "companyReply": None,
        "isVerified": False,
        "source": "Organic",
        "numberOfLikes": 0,
        "status": "active",
        "reportData": None,
        "complianceLabels": [],
        "countsTowardsTrustScore": True,
        "countsTowardsLocationTrustScore": None,
        "invitation": None,
        "businessUnitHistory": [],
        "reviewVerificationLevel": "not-verified",
    }


@dataclass
class FakeTrustpilot:
    api_key: str = "tp-key-hunter2"
    business_unit: str = "46d6a890ffa235a75b00021d"
    reviews: list[dict] = field(default_factory=list)  # newest first

    def add(self, **review) -> dict:
        r = trustpilot_review(business_unit=self.business_unit, **review)
        self.reviews.append(r)
        self.reviews.sort(key=lambda r: r["createdAt"], reverse=True)
        return r

    def handler(self, req: Request) -> Reply:
        if req.headers.get("apikey") != self.api_key:
            return Reply(401, INVALID_KEY)
        m = TRUSTPILOT_PATH.match(req.path)
        if not m or m["bu"] != self.business_unit:
            return Reply(404, {"message": "Business unit not found", "errorCode": 404})
        page, per = int(req.query.get("page", 1)), int(req.query.get("perPage", 20))
        chunk = self.reviews[(page - 1) * per:page * per]
        base = f"https://api.trustpilot.com/v1/business-units/{self.business_unit}/reviews"
        links = []
        if page > 1:
            links.append({"href": f"{base}?page={page - 1}&perPage={per}", "method": "GET",
                          "rel": "prev-page"})
        if page * per < len(self.reviews):
            links.append({"href": f"{base}?page={page + 1}&perPage={per}", "method": "GET",
                          "rel": "next-page"})
        return Reply(200, {"links": links, "reviews": chunk})

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)


# -- RSS and Atom ---------------------------------------------------------------------------

def rss(items: list[dict], *, title: str = "Lumi Toys Forum - Latest topics",
        language: str = "en") -> bytes:
    """A Discourse-style RSS 2.0 document; item keys: title, link, guid, date, creator,
    description (HTML)."""
    out = ['<?xml version="1.0" encoding="UTF-8" ?>',
           '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
           'xmlns:atom="http://www.w3.org/2005/Atom">',
           f"<channel><title>{escape(title)}</title><link>https://forum.example.com/latest</link>"
           f"<description>Latest topics</description><language>{language}</language>"]
    for it in items:
        parts = ["<item>"]
        if "title" in it:
            parts.append(f"<title>{escape(it['title'])}</title>")
        if "creator" in it:
            parts.append(f"<dc:creator><![CDATA[{it['creator']}]]></dc:creator>")
        if "description" in it:
            parts.append(f"<description><![CDATA[{it['description']}]]></description>")
        if "link" in it:
            parts.append(f"<link>{escape(it['link'])}</link>")
        if "date" in it:
            parts.append(f"<pubDate>{format_datetime(it['date'])}</pubDate>")
        if "guid" in it:
            parts.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        parts.append("</item>")
        out.append("".join(parts))
    out.append("</channel></rss>")
    return "\n".join(out).encode()


def google_alerts_atom(entries: list[dict], *, query: str = "lumi toys") -> bytes:
    """A Google Alerts Atom feed; entry keys: id, title (HTML), url, date, content (HTML)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">',
           "<id>tag:google.com,2005:reference/feed/https://www.google.com/alerts/feeds/1/2</id>",
           f"<title>Google Alert - {escape(query)}</title>",
           '<link href="https://www.google.com/alerts/feeds/1/2" rel="self"></link>',
           "<updated>2026-10-30T09:00:00Z</updated>"]
    for e in entries:
        link = ("https://www.google.com/url?rct=j&amp;sa=t&amp;url="
                f"{escape(e['url'])}&amp;ct=ga&amp;cd=CAIyGg&amp;usg=AOvVaw1")
        out.append(
            f"<entry><id>{escape(e['id'])}</id>"
            f'<title type="html">{escape(e["title"])}</title>'
            f'<link href="{link}"></link>'
            f"<published>{iso_z(e['date'])}</published><updated>{iso_z(e['date'])}</updated>"
            f'<content type="html">{escape(e.get("content", ""))}</content>'
            "<author><name></name></author></entry>")
    out.append("</feed>")
    return "\n".join(out).encode()


@dataclass
class FakeFeeds:
    documents: dict[str, bytes] = field(default_factory=dict)  # path -> document

    def handler(self, req: Request) -> Reply:
        doc = self.documents.get(req.path)
        if doc is None:
            return Reply(404, "<html>Not Found</html>", content_type="text/html")
        etag = '"' + hashlib.sha1(doc).hexdigest()[:12] + '"'
        if req.headers.get("if-none-match") == etag:
            return Reply(304, b"", headers={"ETag": etag})
        return Reply(200, doc, content_type="application/rss+xml; charset=utf-8",
                     headers={"ETag": etag})

    def serve(self) -> FakeWeb:
        return FakeWeb(self.handler)
