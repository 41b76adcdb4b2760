"""Alert rules and the detector registry.

A rule names a detector (`detector: rare` or `detector: spike`); each detector is one class here
with the options it takes, and the config parses `alerts.rules` as a union discriminated on
`detector:`, so an option of the other detector is refused with its name. The class owns what the
detector counts (`counts`), how far back it reads (`lookback`), how the detector is built
(`build`) and how its figures read in an alert and on the incident page. `DETECTORS` is the one
registry; nothing outside this module asks which detector a rule has.

    counts "authors": distinct authors per bucket of their first mention (reposts not counted)
    counts "voices":  mentions per bucket, a cluster of near-duplicates once
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field

from alerts.detectors import Detector, RareDetector, SpikeDetector
from listener.config.types import Duration, Strict, format_duration

NAME = r"^[a-z0-9][a-z0-9_\-]*$"


class RuleMatch(Strict):
    topics: list[str] = Field(default_factory=list, description="any of these topics")
    sentiment: Literal["negative", "neutral", "positive"] | None = Field(
        None, description="only mentions of this sentiment")
    brand: str | None = Field(None, description="only this brand's mentions")


class RuleBase(Strict):
    name: str = Field(pattern=NAME, description=(
        "identifier, shown in alerts and the decision log (lowercase letters, digits, - and _)"))
    match: RuleMatch = Field(default_factory=RuleMatch, description="what the rule counts")
    window: Duration = Field("1h", description="how far back the detector looks")
    channel: str | None = Field(None, description="Slack channel for this rule")

    counts: ClassVar[Literal["authors", "voices"]]
    unit: ClassVar[str]                 # what one count is, e.g. "mentions"
    bar_unit: ClassVar[str]             # the same under a timeline's bars, e.g. "mention(s)"
    has_baseline: ClassVar[bool]        # judges against an expected volume (shown on charts)
    headline: ClassVar[str]             # what grew, as the alert says it ({observed}, {window})
    bars: ClassVar[str]                 # what a timeline bar counts ({rule}, {window})

    @property
    def lookback(self) -> timedelta:
        """How far before `now` the detector reads its series."""
        raise NotImplementedError

    def build(self, severity: str) -> Detector:
        raise NotImplementedError

    def growth(self, observed: float, window: str) -> str:
        return self.headline.format(observed=observed, window=window)

    def measure(self) -> str:
        return self.bars.format(rule=self, window=format_duration(self.window))


class RareRule(RuleBase):
    """A few distinct authors within the window, whatever the baseline (injury, fire, recall)."""

    detector: Literal["rare"] = Field(description="the detector")
    min_authors: int = Field(3, ge=1, description="distinct authors in the window that alert")

    counts: ClassVar = "authors"
    unit: ClassVar = "new authors"
    bar_unit: ClassVar = "new author(s)"
    has_baseline: ClassVar = False
    headline: ClassVar = "{observed:g} distinct people reported it in the last {window}"
    bars: ClassVar = ("distinct authors new in each bucket (reposts not counted): what "
                      "{rule.name} counts, alerting at {rule.min_authors} within {window}")

    @property
    def lookback(self) -> timedelta:
        return self.window * 2          # the window and the one before it, for growth

    def build(self, severity: str) -> Detector:
        return RareDetector(self.window, self.min_authors, severity)


class SpikeRule(RuleBase):
    """Volume far above what this time of day usually has."""

    detector: Literal["spike"] = Field(description="the detector")
    min_count: int = Field(10, ge=1, description="fewest mentions in the window")
    min_ratio: float = Field(3.0, ge=1, description="observed / expected at least")
    max_p: float = Field(1e-14, gt=0, lt=1, description=(
        "tail probability at most (negative binomial fitted to the history; mention "
        "volume is so bursty that it takes 1e-14 to keep false alerts under one in ten days, "
        "see `listener eval spikes`)"))
    history: Duration = Field("7d", description="history the baseline is learnt from")

    counts: ClassVar = "voices"
    unit: ClassVar = "mentions"
    bar_unit: ClassVar = "mention(s)"
    has_baseline: ClassVar = True
    headline: ClassVar = "{observed:g} mentions in the last {window}"
    bars: ClassVar = "mentions of this incident's group, near-duplicates once"

    @property
    def lookback(self) -> timedelta:
        return self.history

    def build(self, severity: str) -> Detector:
        return SpikeDetector(self.window, self.min_count, self.min_ratio, self.max_p,
                             severity=severity)


DETECTORS: dict[str, type[RuleBase]] = {"rare": RareRule, "spike": SpikeRule}

# the config parses a rule as whichever of these its `detector:` names
Rule = Annotated[Union[tuple(DETECTORS.values())], Field(discriminator="detector")]  # noqa: UP007


def owner_of(option: str) -> str | None:
    """The detector whose rules take `option` (None when none or every one does)."""
    owners = [name for name, cls in DETECTORS.items() if option in cls.model_fields]
    return owners[0] if len(owners) == 1 else None
