import pytest

from listener.errors import QueryError
from listener.query.native import (
    REDDIT,
    TWITTER,
    approximations,
    native_queries,
    to_reddit,
    to_twitter,
)
from listener.query.parser import parse

BRAND = '("lumi toys" OR lumitoys OR @lumitoys) -hiring -job'


@pytest.mark.parametrize("query, twitter, reddit", [
    (BRAND, '("lumi toys" OR lumitoys OR @lumitoys) -hiring -job',
     '("lumi toys" OR lumitoys) AND NOT hiring AND NOT job'),          # no @ on reddit: the word
    ('"Pumpkin Glow" OR pumpkinglow', '"pumpkin glow" OR pumpkinglow',
     '"pumpkin glow" OR pumpkinglow'),
    ("Café Lumière", "cafe lumiere", "cafe AND lumiere"),               # folded like the text
    ("flashlight NEAR/3 burn*", "flashlight burn", "flashlight AND burn"),   # wider, then stem
    ("lumi -(job OR hiring)", "lumi -job -hiring", "lumi AND NOT (job OR hiring)"),
    ("lumi -(job hiring)", "lumi", "lumi AND NOT (job AND hiring)"),   # X: no negated groups
    ("lumi -flash*", "lumi -flash", "lumi AND NOT flash"),
    ("lumi lang:en", "lumi lang:en", "lumi"),                           # reddit: no language
    ("#lumitoys OR author:LumiHQ", "#lumitoys OR from:lumihq", "lumitoys OR author:lumihq"),
    ("lumi -source:reddit", "lumi", None),                              # never on reddit
    ("lumi source:twitter", "lumi", None),
    ("a OR b c NEAR/2 d -e", "a OR (b c d -e)", "a OR (b AND c AND d AND NOT e)"),
    ("lumi NOT -job", "lumi job", "lumi AND job"),
    ("lumi* -job", "lumi -job", "lumi AND NOT job"),                    # a stem stands alone
])
def test_compiled_native_queries(query, twitter, reddit):
    node = parse(query)
    assert to_twitter(node) == twitter
    assert to_reddit(node) == reddit


def test_a_query_with_nothing_searchable_is_refused_with_the_fix():
    with pytest.raises(QueryError) as info:
        to_twitter(parse("lang:en -job"))
    assert str(info.value) == (
        "'(lang:en AND -job)' cannot be searched on Twitter: it needs a word, a \"phrase\" or "
        "author: that Twitter can search for on its own (lang: and exclusions only narrow a "
        "search)")


def test_wildcards_are_reported_as_approximations():
    assert approximations([BRAND, "flashlight NEAR/3 burn*", "smok* OR burn*"], TWITTER) == [
        "burn*", "smok*"]


def test_brand_queries_are_ored_into_one_search_when_they_fit():
    assert native_queries([BRAND, "pumpkinglow"], TWITTER) == [
        '(("lumi toys" OR lumitoys OR @lumitoys) -hiring -job) OR pumpkinglow']


def test_a_brand_that_never_matches_on_the_platform_is_left_out():
    assert native_queries(["lumi source:reddit", "glow"], TWITTER) == ["glow"]
    assert native_queries(["lumi source:reddit"], TWITTER) == []


@pytest.mark.parametrize("dialect", [TWITTER, REDDIT])
def test_long_queries_are_split_into_parts_within_the_limit_that_together_cover_it(dialect):
    words = [f"product{i:03d}" for i in range(150)]
    query = "(" + " OR ".join(words) + ") -recall -hiring"
    parts = native_queries([query, "lumitoys"], dialect, limit=200, also=parse("lang:en"))
    assert len(parts) > 1 and all(len(p) <= 200 for p in parts)
    exclusion = " -recall -hiring" if dialect is TWITTER else " AND NOT recall AND NOT hiring"
    covered = [w for w in words if any(w in p for p in parts)]
    assert covered == words                                  # no alternative lost
    assert all(p.count(w) <= 1 for p in parts for w in words)
    assert all(exclusion in p for p in parts if "product" in p)
    assert any(p.startswith("lumitoys") for p in parts)


def test_a_long_query_without_an_or_to_split_at_is_refused():
    query = " ".join(f"word{i}" for i in range(60))
    with pytest.raises(QueryError, match=r"characters in Twitter search syntax, over its limit "
                                         r"of 100, and has no OR to split it at; shorten it"):
        native_queries([query], TWITTER, limit=100)
