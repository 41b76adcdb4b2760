import pytest

from listener.errors import QueryError
from listener.query.parser import matches, parse

BRAND = '("lumi toys" OR lumitoys OR @lumitoys) -hiring -job'


@pytest.mark.parametrize("query, text, fields, expected", [
    (BRAND, "Love my new Lumi Toys lantern", {}, True),
    (BRAND, "thanks #LumiToys for the fast shipping", {}, True),
    (BRAND, "@lumitoys where is my order?", {}, True),
    (BRAND, "Lumi Toys is hiring a warehouse associate", {}, False),   # exclusion wins
    (BRAND, "lumi and toys are two words here", {}, False),            # a phrase is consecutive
    ("flash*", "the flashlight is bright", {}, True),
    ("flash", "the flashlight is bright", {}, False),                   # words, not substrings
    ("flashlight NEAR/3 burn*", "the flashlight really burned my kid", {}, True),
    ("flashlight NEAR/2 burn*", "the flashlight got so hot it burned", {}, False),
    ("burn* NEAR/4 flashlight", "the flashlight really burned my kid", {}, True),  # either order
    ("a OR b c", "c only", {}, False),                                  # AND binds tighter
    ("NOT job lumi", "lumi", {}, True),
    ("lumi lang:en", "lumi rocks", {"lang": "en"}, True),
    ("lumi lang:en", "lumi rocks", {"lang": "fr"}, False),
    ("lumi -source:reddit", "lumi", {"source": "reddit"}, False),
    ("pumpkin-glow", "my pumpkin glow broke", {}, True),              # hyphenated = phrase
    ("don't", "I don’t like it", {}, True),                           # curly apostrophe
    # case
    ("LumiToys", "LUMITOYS recall", {}, True),
    ('"Pumpkin GLOW"', "my pumpkin glow broke", {}, True),
    ("lumi AND toys", "Lumi makes toys", {}, True),
    ("lumi and toys", "Lumi makes toys", {}, False),                  # lowercase and: a word
    # accents, both ways, and other foldings
    ("cafe", "Le Café Lumi", {}, True),
    ("café", "le cafe lumi", {}, True),
    ("crème NEAR/3 brûlée", "creme glacee et brulee", {}, True),
    ('"jouet lumière"', "Ce JOUET LUMIÈRE a brûlé", {}, True),
    ("naïve*", "how naively built", {}, True),
    ("straße", "Lumi Strasse 5", {}, True),                           # ß folds to ss
    ("ＬＵＭＩ", "lumi", {}, True),                                     # full-width letters
    ("lumi author:José", "lumi", {"author": "jose"}, True),
    ("が", "か", {}, False),                                            # kana voicing is kept
    # wildcards
    ("burn*", "It BURNED her hand", {}, True),
    ("burn*", "sunburn", {}, False),                                   # a prefix, not a suffix
    ('"pumpkin glow*"', "pumpkin glowing", {}, False),                 # no wildcard in a phrase
    ("#lumi*", "#LumiToys rocks", {}, True),
    # quotes
    ('"lumi toys"', "lumi, toys", {}, True),                          # punctuation between words
    ('"lumi toys"', "toys lumi", {}, False),
    ('"@lumitoys help"', "@LumiToys help me", {}, True),
    # exclusions
    ("lumi -(job OR hiring)", "Lumi is hiring", {}, False),
    ("lumi NOT (job hiring)", "lumi job", {}, True),                  # only both together excluded
    ("lumi -\"gift card\"", "lumi gift card scam", {}, False),
    # NEAR
    ("flashlight NEAR/1 burned", "flashlight burned", {}, True),
    ("flashlight NEAR/1 burned", "flashlight nearly burned", {}, False),
    ('"pumpkin glow" NEAR/3 hot', "the pumpkin glow got really hot", {}, True),
    ("flashlight NEAR/3 (burn* OR fire)", "fire from the flashlight", {}, True),
    # handles and hashtags
    ("@lumitoys", "lumitoys is great", {}, False),                    # a handle wants the @
    ("#lumitoys", "@lumitoys hello", {}, False),
])
def test_matching(query, text, fields, expected):
    assert matches(query, text, **fields) is expected


@pytest.mark.parametrize("query, message", [
    ("", "the query is empty"),
    ('"lumi toys', "the quote at column 1 is not closed"),
    ("(a OR b", "the ( at column 1 is not closed"),
    ("a OR b)", "the ) at column 7 closes nothing"),
    ("a AND", "unexpected input at column 3 (near 'AND')"),
    ("-job", "a query cannot be only an exclusion; say what to match too"),
])
def test_parse_errors_say_where(query, message):
    with pytest.raises(QueryError) as info:
        parse(query)
    assert str(info.value) == message


def test_parse_tree_shows_precedence():
    assert str(parse("a OR b c NEAR/2 d -e")) == "(a OR (b AND (c NEAR/2 d) AND -e))"
