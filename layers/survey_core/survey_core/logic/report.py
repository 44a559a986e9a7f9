"""The scheduled manager report: last period's scores from the aggregate counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..catalogue import Catalogue
from ..config import ReportConfig
from ..dal import store
from ..dal.gateways import Mailer
from ..rendering import render_report_email
from ..scoring import nps


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        return f"{self.first_day.isoformat()} – {self.last_day.isoformat()}"


def previous_week(scheduled: datetime, zone: ZoneInfo) -> Period:
    """The full Monday-to-Sunday week before the one the schedule fires in, in local time."""
    local_day = scheduled.astimezone(zone).date()
    this_monday = local_day - timedelta(days=local_day.weekday())
    return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1))


def histogram_for(survey_id: str, metric: str, period: Period, segment: str) -> dict[int, int]:
    total: Counter[int] = Counter()
    counters = store.read_counters(
        f"{survey_id}#{metric}", period.first_day.isoformat(), period.last_day.isoformat()
    )
    for counter in counters:
        if counter.bucket.split("#", 1)[1] == segment:
            total.update(counter.histogram())
    return dict(total)


def build_report(period: Period, catalogue: Catalogue) -> dict[str, Any]:
    rows = []
    for survey in catalogue.surveys:
        if "nps" not in survey.metrics:
            continue
        summary = nps(histogram_for(survey.id, "nps", period, "all"))
        if summary.n == 0:
            continue
        rows.append(
            {
                "survey": survey.id,
                "metric": "nps",
                "n": summary.n,
                "score": round(summary.score, 1),
                "margin": round(summary.margin, 1),
                "promoters_pct": round(summary.promoters_pct, 1),
                "passives_pct": round(summary.passives_pct, 1),
                "detractors_pct": round(summary.detractors_pct, 1),
            }
        )
    return {
        "title": "Weekly customer feedback report",
        "period_label": period.label,
        "scope_label": "All business areas",
        "empty": not rows,
        "rows": rows,
    }


def send_report(
    scheduled: datetime, config: ReportConfig, catalogue: Catalogue, mailer: Mailer
) -> dict[str, Any]:
    period = previous_week(scheduled, config.reporting_time_zone)
    report = build_report(period, catalogue)
    email = render_report_email(language="en", report=report)
    mailer.send(to=list(config.report_recipients), email=email)
    return report
