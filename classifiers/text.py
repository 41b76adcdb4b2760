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


class Words:
    """A text's tokens as keyword matching reads them: the tokens, the same without their
    #/@ sign, and both as sets (a one-word keyword is then one set lookup)."""

    __slots__ = ("bare", "bare_set", "token_set", "tokens")

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.bare = [bare(t) for t in self.tokens]
        self.token_set = set(self.tokens)
        self.bare_set = set(self.bare)


class Keyword:
    """A keyword is a word or a phrase; a trailing * makes its last word a prefix. A word with
    a #/@ sign matches only the token with that sign; a plain word matches either."""

    __slots__ = ("text", "wildcard", "words")

    def __init__(self, keyword: str) -> None:
        self.text = keyword
        self.wildcard = keyword.endswith("*")
        self.words = tuple(tokenize(keyword.rstrip("*")))

    def _token(self, words: Words, i: int, w: str) -> str:
        return words.tokens[i] if w[:1] in "#@" else words.bare[i]

    def found_in(self, words: Words) -> bool:
        n = len(self.words)
        if n == 0:
            return False
        first = self.words[0]
        seen = words.token_set if first[:1] in "#@" else words.bare_set
        if n == 1:
            if self.wildcard:
                return any(t.startswith(first) for t in seen)
            return first in seen
        if first not in seen:  # only the last word of a phrase can be a prefix
            return False
        last = n - 1
        for i in range(len(words.tokens) - n + 1):
            for k, w in enumerate(self.words):
                tok = self._token(words, i + k, w)
                if not (tok == w or (k == last and self.wildcard and tok.startswith(w))):
                    break
            else:
                return True
        return False
