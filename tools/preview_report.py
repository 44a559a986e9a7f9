"""Render a manager report from generated sample data to files, for a person to look at:

    report.html      the email's HTML (the chart referenced as the file next to it)
    report.txt       the plain-text part, with the subject
    trend.png        the chart the email embeds by Content-ID
    report.xlsx      the attachment
    report.png       a screenshot of report.html in headless Chromium (a phone-width and a
                     desktop-width one: report-narrow.png, report.png)

    python -m tools.preview_report [--out .preview/report] [--language fi] [--empty]
    (make report-preview)

The sample is counters as the system keeps them (six weeks, four segments, every channel, a
few callback tasks) turned into a report by the same code the report function runs
(report_content.build_report_data), so what you see is what managers get.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from msgspec.structs import replace
from survey_core.catalogue import load_catalogue
from survey_core.logic.report import email_for
from survey_core.messages.i18n import text
from survey_core.report.config import Period, load_groups, trend_periods
from survey_core.report.content import CounterRow, build_report_data
from survey_core.report.font import use_font
from survey_core.report.model import CommentRow, ReportData

CHROMIUM = Path("/usr/bin/chromium")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
SAMPLE_COMMENTS = [
    ("Toimitus myöhästyi kaksi päivää, eikä kukaan kertonut miksi.", 3),
    ("Erinomainen palvelu myymälässä, kiitos!", 10),
    ('<b>Markup</b> & "quotes" stay text: <script>alert(1)</script>', 6),
]


def sample_rows(seed: int = 7) -> dict[str, list[CounterRow]]:
    """Six weeks of counters for post-purchase (NPS) and service-contact (CSAT, CES)."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not a secret
    table: dict[str, list[CounterRow]] = {}
    first = trend_periods(WEEK)[0].first_day
    areas = {"webshop": 60, "store": 25, "app": 12, "b2b": 3}  # answers a day (b2b: small)
    for offset in range((WEEK.last_day - first).days + 1):
        day = first + timedelta(days=offset)
        lift = offset / 40  # things get a little better over the weeks
        for survey, metric, scale in (
            ("post-purchase", "nps", range(11)),
            ("service-contact", "csat", range(1, 6)),
            ("service-contact", "ces", range(1, 8)),
        ):
            total: dict[int, int] = {}
            for area, per_day in areas.items():
                weights = [1 + (s - scale[0]) * (0.6 + lift) for s in scale]
                picks = rng.choices(
                    list(scale), weights, k=per_day // (3 if metric != "nps" else 1)
                )
                histogram: dict[int, int] = {}
                for score in picks:
                    histogram[score] = histogram.get(score, 0) + 1
                    total[score] = total.get(score, 0) + 1
                table.setdefault(f"{survey}#{metric}", []).append(
                    CounterRow(day, f"businessArea={area}", histogram, {})
                )
            table.setdefault(f"{survey}#{metric}", []).append(CounterRow(day, "all", total, {}))
        table.setdefault("post-purchase#sent", []).append(
            CounterRow(
                day,
                "all",
                {},
                {
                    "invitations": 400,
                    "email_messages": 430,
                    "sms_messages": 160,
                    "email_invitations": 390,
                    "sms_invitations": 150,
                },
            )
        )
        table.setdefault("post-purchase#responses", []).append(
            CounterRow(
                day, "all", {}, {"n": 100, "via_email": 74, "via_sms": 26, "after_reminder": 31}
            )
        )
        table.setdefault("post-purchase#escalations", []).append(
            CounterRow(
                day,
                "all",
                {},
                {
                    "created": 4,
                    "done": 3,
                    "completed": 2,
                    "not_reached": 1,
                    "sla_met": 2,
                    "sla_missed": 1,
                    "reached": 2,
                    "to_agent_seconds": 2 * 3 * 3600,
                },
            )
        )
    return table


def sample_comments(language: str = "fi") -> list[CommentRow]:
    """The sample's comments (as customers wrote them: in Finnish, whatever the report's
    language), newest last."""
    return [
        CommentRow("2026-11-2" + str(n), "post-purchase", "nps", score, comment)
        for n, (comment, score) in enumerate(SAMPLE_COMMENTS)
    ]


def sample_report(language: str = "fi", empty: bool = False) -> ReportData:
    table = {} if empty else sample_rows()

    def read(series: str, first: date, last: date) -> Iterable[CounterRow]:
        return [row for row in table.get(series, []) if first <= row.day <= last]

    group = next(g for g in load_groups() if g.scope.attribute is None)
    group = replace(group, language=language)
    comments = [] if empty else sample_comments(language)
    return build_report_data(
        group,
        WEEK,
        load_catalogue(),
        read,
        comments,
        title=text(language, "report_title"),
        overdue=0 if empty else 1,  # one task of the week still open past its deadline
    )


def screenshot(html_file: Path, out: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    from tools.surfaces import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(html_file.resolve().as_uri())
        page.screenshot(path=str(out), full_page=True)
        browser.close()


FONT = Path(__file__).resolve().parents[1] / "functions" / "report" / "fonts" / "DejaVuSans.ttf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(".preview/report"))
    parser.add_argument("--language", choices=["fi", "sv", "en"], default="fi")
    parser.add_argument("--empty", action="store_true", help="the no-responses variant")
    parser.add_argument("--no-screenshot", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # The font the report function ships, so the chart shows ä and å as managers see them.
    use_font(FONT)
    data = sample_report(args.language, args.empty)
    email = email_for(data, WEEK)
    html = email.html
    for image in email.inline_images:
        (args.out / f"{image.content_id}.{image.subtype}").write_bytes(image.data)
        html = html.replace(f"cid:{image.content_id}", f"{image.content_id}.{image.subtype}")
    (args.out / "report.html").write_text(html, encoding="utf-8")
    (args.out / "report.txt").write_text(f"Subject: {email.subject}\n\n{email.text}", "utf-8")
    for attachment in email.attachments:
        (args.out / "report.xlsx").write_bytes(attachment.data)
    written = sorted(p.name for p in args.out.iterdir())
    if not args.no_screenshot:
        if not CHROMIUM.exists():
            print(
                f"{CHROMIUM} is missing (apt-get install chromium): no screenshot", file=sys.stderr
            )
            return 1
        screenshot(args.out / "report.html", args.out / "report.png", 1024)
        screenshot(args.out / "report.html", args.out / "report-narrow.png", 390)
        written = sorted(p.name for p in args.out.iterdir())
    print(f"{args.out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
