"""What a manager report says, as plain data: computed once (logic/report.py) and then shown
three ways (the HTML email, its plain-text part, the .xlsx attachment), so the three always
carry the same numbers. Pure: no AWS, no rendering here."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..messages.names import DisplayNames


@dataclass(frozen=True)
class Estimate:
    """A number with its 95 % margin of error (same unit), over n answers."""

    value: float
    margin: float
    n: int


@dataclass(frozen=True)
class ChangeNote:
    """The change against the previous period, called a change only outside the noise."""

    difference: float | None  # this period minus the previous one, in the metric's unit
    verdict: str  # up | down | no significant change | not enough data
    p_value: float | None


@dataclass(frozen=True)
class MetricBlock:
    """One survey x metric for the period.

    NPS: headline = NPS (-100..100), shares = promoters / passives / detractors in %.
    CSAT: headline = share of 4-5 in %, mean = mean score (1-5).
    CES: headline = mean (1-7, 7 = very easy), shares = {"high effort": % of 1-3}.
    """

    survey_id: str
    metric: str  # nps | csat | ces
    label: str  # e.g. "NPS", shown as is
    headline: Estimate
    change: ChangeNote
    shares: dict[str, Estimate] = field(default_factory=dict)
    mean: Estimate | None = None


@dataclass(frozen=True)
class SegmentRow:
    """One segment value (e.g. businessArea=webshop) of one survey x metric."""

    survey_id: str
    metric: str
    attribute: str  # businessArea, touchpoint, agentId, ...
    value: str
    headline: Estimate
    rank: int | None  # None: flagged as a small sample, not ranked
    small_n: bool


@dataclass(frozen=True)
class TrendPoint:
    """The headline of one earlier period (oldest first), for the chart and the trend sheet."""

    label: str  # e.g. "2026-W47" or "2026-11-16"
    value: float | None  # None: no answers in that period
    n: int


@dataclass(frozen=True)
class ChannelRow:
    channel: str  # email | sms
    sent: int  # invitations and reminders sent on it
    answered: int  # responses that came from it (web link in that channel's message, or SMS)
    rate_pct: float | None  # answered / invitations reached on it; None when nothing was sent


@dataclass(frozen=True)
class FollowUpSummary:
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


@dataclass(frozen=True)
class CommentRow:
    answered_on: str  # YYYY-MM-DD
    survey_id: str
    metric: str
    score: int
    text: str  # as the customer wrote it: every renderer escapes it for its format


@dataclass(frozen=True)
class ReportData:
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
    answered_after_reminder: int
    responses: int
    follow_up: FollowUpSummary
    comments: list[CommentRow]
    # The catalogue's names for the survey ids and segment values above: the renderers show
    # these (in `language`), never the ids. The *_label fields are shown as they are; period
    # labels are ISO keys ("2026-11-16 – 2026-11-22", "2026-W47") the renderers localize.
    names: DisplayNames = field(default_factory=DisplayNames)

    @property
    def empty(self) -> bool:
        """No responses this period: the report says so instead of showing empty tables."""
        return self.responses == 0
