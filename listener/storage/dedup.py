"""Near-duplicate text: what makes two mentions "the same post" (pure functions; the store does
the SQL in `store.add_mentions`).

A retweet, a syndicated copy or a copy-paste campaign repeats a text with a prefix
("RT @user:"), other links, other @handles, emoji, case and spacing. `normalise` removes those;
then two tests, cheapest first:

    fingerprint   SHA-1 of the normalised text: identical after normalising (indexed column)
    bands         MinHash (datasketch, 64 permutations) of the normalised text's character
                  5-gram shingles, cut into 16 bands of 4 rows; texts sharing a band are
                  candidates (Jaccard 0.5 -> 64 % chance, 0.7 -> 99 %, 0.3 -> 12 %), and a
                  candidate joins only when the exact Jaccard of the shingles is >= SIMILAR

Texts of fewer than MIN_WORDS words after normalising ("lol @lumitoys") are too short to call
copies of each other; they stay clusters of their own unless they are explicit retweets.

`is_repost` says whether the author only passed someone else's post on (a retweet, an
"RT @user:" or '"@user: ...' quote): such a mention joins the original's cluster and is not a
new voice for the rare-event detector.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np
from datasketch import MinHash

NUM_PERM, BANDS = 64, 16
ROWS = NUM_PERM // BANDS
SHINGLE = 5
SIMILAR = 0.6          # Jaccard of the shingle sets for a near-duplicate
MIN_WORDS = 4
WINDOW_SECONDS = 7 * 86400   # a copy joins a cluster whose mentions are this close in time
MAX_CANDIDATES = 50          # band candidates checked per new mention
SEED = 1
SCHEME = "affine32"   # stored band keys depend on it: pinned, not datasketch's default

REPOST = re.compile(r"^\s*(?:(?:RT|MT|QT)\b\s*:?\s*[\"“]?@\w+\s*:|[\"“]\s*@\w+\s*:)",
                    re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<!\w)@\w+")
_VIA = re.compile(r"[(\[]?\s*\bvia\s+@\w+\s*[)\]]?\s*$", re.IGNORECASE)


def is_repost(text: str, raw: dict | None = None) -> bool:
    return bool((raw or {}).get("retweet_of")) or bool(REPOST.match(text or ""))


def normalise(text: str) -> str:
    """Lower-case words and numbers of the text, without repost prefixes, links, @handles,
    emoji and punctuation, single-spaced."""
    text = unicodedata.normalize("NFKC", text or "")
    while True:   # "RT @a: RT @b: ..." nests
        m = REPOST.match(text)
        if not m:
            break
        text = text[m.end():]
    text = _VIA.sub(" ", _URL.sub(" ", text))
    text = _HANDLE.sub(" ", text).casefold()
    kept = "".join(c if unicodedata.category(c)[0] in "LN" else " " for c in text)
    return " ".join(kept.split())


def fingerprint(norm: str) -> str | None:
    """Digest of a normalised text, or None when it is too short to be called a copy."""
    if len(norm.split()) < MIN_WORDS:
        return None
    return hashlib.sha1(norm.encode()).hexdigest()


def shingles(norm: str) -> set[str]:
    if len(norm) <= SHINGLE:
        return {norm}
    return {norm[i:i + SHINGLE] for i in range(len(norm) - SHINGLE + 1)}


@lru_cache(maxsize=1)
def _permutations():
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def band_keys(norm: str) -> list[str]:
    """The LSH band keys of a normalised text ("band:digest", at most 40 characters)."""
    mh = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    mh.update_batch([s.encode() for s in sorted(shingles(norm))])
    values = np.asarray(mh.hashvalues, dtype=np.uint64)
    return [f"{b}:" + hashlib.sha1(values[b * ROWS:(b + 1) * ROWS].tobytes()).hexdigest()[:32]
            for b in range(BANDS)]


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0
