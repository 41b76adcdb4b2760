"""Word tokenisation shared by keyword matching here and the query language in `listener`."""

from __future__ import annotations

import re
import unicodedata

TOKEN = re.compile(r"[#@]?\w+(?:'\w+)*")


ACCENTS = re.compile("[\u0300-\u036f]")  # combining diacritics of Latin, Greek and Cyrillic


def fold(text: str) -> str:
    """Case- and accent-insensitive form: casefolded, compatibility forms unified (ﬁ -> fi,
    full-width -> ASCII) and Latin/Greek/Cyrillic accents dropped (café -> cafe); curly
    apostrophes become straight. Marks that change a letter in other scripts (kana voicing,
    Indic vowel signs) are kept, so が stays distinct from か."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return unicodedata.normalize("NFC", ACCENTS.sub("", decomposed))


def tokenize(text: str) -> list[str]:
    """Folded words (see `fold`); #hashtags and @handles keep their sign."""
    return TOKEN.findall(fold(text))


def bare(token: str) -> str:
    return token[1:] if token[:1] in "#@" else token


def find_keyword(tokens: list[str], keyword: str) -> bool:
    """A keyword is a word or a phrase; a trailing * makes its last word a prefix."""
    wildcard = keyword.endswith("*")
    words = tokenize(keyword.rstrip("*"))
    if not words:
        return False
    n = len(words)
    for i in range(len(tokens) - n + 1):
        ok = True
        for k, w in enumerate(words):
            tok = bare(tokens[i + k]) if w[:1] not in "#@" else tokens[i + k]
            last = k == n - 1
            if not (tok == w or (last and wildcard and tok.startswith(w))):
                ok = False
                break
        if ok:
            return True
    return False
