"""What a manager report says, as plain data: computed once (logic/report.py) and then shown
three ways (the HTML email, its plain-text part, the .xlsx attachment), so the three always
carry the same numbers. Pure: no AWS, no rendering here.

The shapes keep renderers from claiming more than the data: an Estimate without enough answers
has no number to print, only its n; a Rate carries its own numerator and denominator; a trend
point without answers has no value."""

from __future__ import annotations

from msgspec import Struct, field

from ..messages.names import DisplayNames
from .stats import HEADLINE_SCALES, trend_axis


class Estimate(Struct, frozen=True):
    """A figure with its 95 % interval (same unit, inside the scale, not necessarily symmetric),
    over n answers; or, when the answers are too few for a figure worth printing (fewer than
    stats.MIN_ANSWERS, or an interval wider than half the scale), no figure at all: value, low
    and high are all None and the report says "too few answers" (n > 0) or nothing (n = 0)."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def __post_init__(self) -> None:
        value, low, high = self.value, self.low, self.high
        if self.n < 0:
            raise ValueError("n must not be negative")
        if value is None:
            if low is not None or high is not None:
                raise ValueError("an estimate without a value has no interval either")
            return
        if low is None or high is None:
            raise ValueError("an estimate with a value has its interval")
        if not low <= value <= high:
            raise ValueError(f"{value} is outside its interval {low}..{high}")
        if self.n == 0:
            raise ValueError("a figure needs answers")

    @classmethod
    def withheld(cls, n: int) -> Estimate:
        """No figure: too few answers (n > 0), or none (n = 0)."""
        return cls(None, None, None, n)

    @property
    def shown(self) -> bool:
        return self.value is not None

    @property
    def too_few(self) -> bool:
        """Answers, but too few for a figure: the report says so instead of a number."""
        return self.value is None and self.n > 0


class ChangeNote(Struct, frozen=True):
    """The change against the previous period, called a change only outside the noise."""

    difference: float | None  # this period minus the previous one; None: not enough data
    verdict: str  # up | down | no significant change | not enough data
    p_value: float | None


class MetricBlock(Struct, frozen=True):
    """One survey x metric for the period.

    NPS: headline = NPS (-100..100), shares = promoters / passives / detractors in %.
    CSAT: headline = share of 4-5 in %, mean = mean score (1-5).
    CES: headline = mean (1-7, 7 = very easy), shares = {"high effort": % of 1-3}.
    When the headline is withheld (too few answers) so are the shares and the mean.
    """

    survey_id: str
    metric: str  # nps | csat | ces
    label: str  # e.g. "NPS", shown as is
    headline: Estimate
    change: ChangeNote
    shares: dict[str, Estimate] = field(default_factory=dict)
    mean: Estimate | None = None


class SegmentRow(Struct, frozen=True):
    """One segment value (e.g. businessArea=webshop) of one survey x metric, against the rest
    of the report's scope (stats.compare_segments)."""

    survey_id: str
    metric: str
    attribute: str  # businessArea, touchpoint, agentId, ...
    value: str
    headline: Estimate
    standing: str  # higher | lower | no clear difference | too few answers
    difference: float | None = None  # the segment minus the rest; None: not compared
    p_value: float | None = None  # Holm-adjusted over the attribute's segments

    @property
    def compared(self) -> bool:
        return self.difference is not None


class TrendPoint(Struct, frozen=True):
    """The headline of one period (oldest first), for the chart and the trend sheet. A period
    without answers has n = 0 and no value: a gap, never a value; one with too few answers has
    n > 0 and no value."""

    label: str  # e.g. "2026-W47" or "2026-11-16"
    estimate: Estimate

    @property
    def value(self) -> float | None:
        return self.estimate.value

    @property
    def low(self) -> float | None:
        return self.estimate.low

    @property
    def high(self) -> float | None:
        return self.estimate.high

    @property
    def n(self) -> int:
        return self.estimate.n


class Rate(Struct, frozen=True):
    """A rate with its own numerator and denominator, so nothing else can be shown beside it."""

    numerator: int
    denominator: int

    @property
    def pct(self) -> float | None:
        """100 * numerator / denominator; None when the denominator is 0. Answers are counted
        on the day they came and invitations on the day they went, so a period's rate can,
        rarely (a short period right after a big send), exceed 100 %: it is not capped."""
        return 100.0 * self.numerator / self.denominator if self.denominator else None


class ChannelRow(Struct, frozen=True):
    """One channel. ``rate``: answers that came through the channel (an SMS reply, or a web
    answer whose last message before it was on this channel) / invitations with at least one
    message on it. ``messages`` counts every message sent on it, reminders included: volume,
    no rate's denominator."""

    channel: str  # email | sms
    rate: Rate
    messages: int


class FollowUpSummary(Struct, frozen=True):
    """Callback tasks made in the period and how they were followed up (Connect's contact
    events), as of the report's sending."""

    tasks_created: int
    tasks_done: int  # ended: completed + not reached + expired
    sla_met: int  # completed by an agent within the SLA
    sla_missed: int  # completed late, not reached, expired, or still open past the deadline
    completed: int = 0  # an agent connected and the task's last contact ended
    not_reached: int = 0  # ended without any agent
    expired: int = 0  # ended unassigned by Connect's task expiry
    overdue: int = 0  # still open after the SLA deadline (in sla_missed)
    reached: int = 0  # tasks an agent connected to
    to_agent_seconds: int = 0  # their times from creation to the first agent, summed

    @property
    def open(self) -> int:
        return max(0, self.tasks_created - self.tasks_done)

    @property
    def decided(self) -> int:
        """The SLA's denominator: tasks whose verdict is known (ended, or open past due)."""
        return self.sla_met + self.sla_missed

    @property
    def sla_met_pct(self) -> float | None:
        return 100.0 * self.sla_met / self.decided if self.decided else None

    @property
    def mean_hours_to_agent(self) -> float | None:
        return self.to_agent_seconds / self.reached / 3600 if self.reached else None


class CommentRow(Struct, frozen=True):
    answered_on: str  # YYYY-MM-DD
    survey_id: str
    metric: str
    score: int
    text: str  # as the customer wrote it: every renderer escapes it for its format


class Takeaway(Struct, frozen=True):
    """The report's one-line summary as data (report/takeaway.py renders it): the first
    block's headline and change, and the callbacks past their deadline."""

    survey_id: str
    metric: str
    label: str  # e.g. "NPS"
    headline: Estimate
    change: ChangeNote
    since: str  # what the previous period was: week | day | period
    overdue: int | None  # callbacks still open past their deadline; None: no callbacks at all


class ReportData(Struct, frozen=True):
    title: str
    group: str  # the recipient group's name
    scope_label: str  # in `language`: "kaikki", or e.g. "Liiketoiminta-alue: Verkkokauppa"
    period_label: str  # e.g. "2026-11-16 - 2026-11-22"
    previous_label: str
    language: str  # fi | sv | en
    blocks: list[MetricBlock]
    trend_metric_label: str  # what the trend shows, e.g. "NPS, Oston jälkeen"
    trend: list[TrendPoint]
    segments: list[SegmentRow]
    channels: list[ChannelRow]
    response_rate: Rate  # answered invitations / invitations sent (at least one message)
    after_reminder: Rate  # answers after at least one reminder / all answers
    follow_up: FollowUpSummary
    comments: list[CommentRow]
    # The catalogue's names for the survey ids and segment values above: the renderers show
    # these (in `language`), never the ids. The *_label fields are shown as they are; period
    # labels are ISO keys ("2026-11-16 – 2026-11-22", "2026-W47") the renderers localize.
    names: DisplayNames = field(default_factory=DisplayNames)
    trend_metric: str = ""  # nps | csat | ces: the trend's headline (its scale)
    trend_survey: str = ""  # the survey id whose trend it is
    takeaway: Takeaway | None = None
    takeaway_line: str = ""  # the takeaway in the report's language

    @property
    def responses(self) -> int:
        """Answered invitations in the period."""
        return self.response_rate.numerator

    @property
    def empty(self) -> bool:
        """No responses this period: the report says so instead of showing empty tables."""
        return self.responses == 0

    @property
    def trend_axis(self) -> tuple[float, float] | None:
        """The value range the trend chart should show: every shown point's interval, padded,
        on round steps, inside the metric's scale (stats.trend_axis). None when no point has a
        value or the metric is unknown."""
        scale = HEADLINE_SCALES.get(self.trend_metric)
        if scale is None:
            return None
        return trend_axis(
            ((p.low, p.high) for p in self.trend if p.low is not None and p.high is not None),
            scale,
        )
