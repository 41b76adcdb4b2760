"""The incident the alert tests build their config from: the brand Lumi Toys read from a replay,
and the rule that opens an incident once three people report a product_safety harm within two
hours, alerts grouped by brand and topic."""

from __future__ import annotations

LUMI_TOYS = """\
brands:
  - name: Lumi Toys
    query: lumitoys
sources:
  replay: {}
"""

SAFETY_REPORTS = """\
topics:
  - {name: product_safety, description: harm, keywords: [burn*], severity: critical}
alerts:
  rules:
    - {name: safety-reports, match: {topics: [product_safety]}, detector: rare, min_authors: 3,
       window: 2h}
  group_by: [brand, topic]
"""


def safety_reports(group_wait: str | None = None) -> str:
    """SAFETY_REPORTS, with the first message held for `group_wait` when one is given."""
    return SAFETY_REPORTS + (f"  group_wait: {group_wait}\n" if group_wait else "")
