"""Language detection with lingua (its models ship inside the package: no download).

Used to send non-English mentions to a configured multilingual sentiment model. Texts too short
or too mixed to tell (below the minimum relative distance) come back as None: "unknown".
"""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.errors import ModelError


class LanguageDetector:
    def __init__(self, languages: Sequence[str] = (), *, min_distance: float = 0.1) -> None:
        """`languages`: ISO 639-1 codes to choose among (always with English); empty: all."""
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        if languages:
            chosen = {Language.ENGLISH}
            for code in languages:
                try:
                    chosen.add(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
                except ValueError:
                    raise ModelError(f"{code!r} is not an ISO 639-1 language code that lingua "
                                     "knows (e.g. de, fr, es, ja)") from None
            builder = LanguageDetectorBuilder.from_languages(*chosen)
        else:
            builder = LanguageDetectorBuilder.from_all_languages()
        self._detector = builder.with_minimum_relative_distance(min_distance).build()

    def detect(self, texts: Sequence[str]) -> list[str | None]:
        found = self._detector.detect_languages_in_parallel_of(list(texts))
        return [lang.iso_code_639_1.name.lower() if lang else None for lang in found]
