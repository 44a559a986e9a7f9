"""Everything a customer or a manager sees, as they see it: every page of the survey app,
every email, the report and the results view's pages, rendered by the product's own code,
looked at in headless Chromium at phone and desktop widths, with axe-core.

Shared by the browser test (tests/e2e/test_surfaces.py) and `make preview`, which keeps a
screenshot of each at each width (tools/preview_messages.py --screenshots).

What is checked on each surface at each width (`inspect`):
- nothing wider than the screen (no horizontal scrolling);
- axe-core finds no critical or serious violation (WCAG 2.x A and AA rules, and best practice);
- a survey page's scales each on one row, their end texts under their ends; an email's score
  buttons in even rows (0-10 as 0-5 and 6-10), the whole row inside the screen.

The pages are rendered straight from the rendering functions the app calls (the same HTML the
app returns; the live app in Chromium: tests/e2e/test_browser.py).
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msgspec.structs import replace

if importlib.util.find_spec("survey_core") is None:  # run from a checkout, not a layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "survey_core"))

from survey_core.catalogue import LANGUAGES, Catalogue, load_catalogue
from survey_core.messages.i18n import text
from survey_core.messages.rendering import (
    MESSAGE_KINDS,
    PageQuestion,
    render_closed_page,
    render_error_page,
    render_invitation_email,
    render_survey_page,
    render_thank_you_page,
    render_unsubscribe_page,
    render_unsubscribed_page,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
# axe-core, pinned in package.json / package-lock.json (`make node_modules`: npm ci).
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (320, 390, 1280)
BLOCKING_IMPACTS = ("critical", "serious")
BASE_URL = "https://a1b2c3d4e5.execute-api.eu-north-1.amazonaws.com/prod"
TOKEN = "AbCdEfGhIjKlMnOpQrStUv"  # noqa: S105 - a sample link token (22 characters)
SAMPLE_COMMENT = "Toimitus oli nopea, mutta paketti oli hieman kolhiintunut."


@dataclass(frozen=True)
class Surface:
    name: str  # unique, usable as a file name: page/post-purchase/fi/survey
    kind: str  # "page", "email" or "report"
    html: str
    language: str


def _survey_pages(catalogue: Catalogue, language: str) -> Iterator[Surface]:
    action = f"{BASE_URL}/s/{TOKEN}"
    for survey in catalogue.surveys:
        first = survey.metrics[0]

        def questions(selected: dict[str, int], survey_id: str = survey.id) -> list[PageQuestion]:
            found = catalogue.find(survey_id)
            assert found is not None
            return [
                PageQuestion(
                    metric=metric,
                    text=catalogue.question(survey_id, metric, language),
                    field="score" if metric == found.metrics[0] else f"score_{metric}",
                    selected=selected.get(metric),
                    required=metric == found.metrics[0],
                )
                for metric in found.metrics
            ]

        chosen = {metric: 4 for metric in survey.metrics}
        states: dict[str, dict[str, Any]] = {
            "survey": {"questions": questions({})},
            "survey-error": {
                "questions": questions({}),
                "error": text(language, "error_missing_score"),
            },
            "survey-one-tap": {"questions": questions({first: 4}), "link_choice": 4},
            "survey-answered": {
                "questions": questions(chosen),
                "answered": True,
                "comment": SAMPLE_COMMENT,
            },
        }
        for state, arguments in states.items():
            page = render_survey_page(
                language=language,
                company=catalogue.company,
                action_url=action,
                ask_comment=survey.comment,
                comment=arguments.pop("comment", ""),
                error=arguments.pop("error", None),
                brand=catalogue.brand,
                **arguments,
            )
            yield Surface(f"page/{survey.id}/{language}/{state}", "page", page, language)


def _message_pages(catalogue: Catalogue, language: str) -> Iterator[Surface]:
    company, brand = catalogue.company, catalogue.brand
    pages = {
        "thank-you": render_thank_you_page(language=language, company=company, brand=brand),
        "closed": render_closed_page(
            language=language, company=company, answered=False, brand=brand
        ),
        "closed-answered": render_closed_page(
            language=language, company=company, answered=True, brand=brand
        ),
        "unsubscribe": render_unsubscribe_page(
            language=language,
            company=company,
            action_url=f"{BASE_URL}/u/{TOKEN}",
            channels=["email", "sms"],
            checked=["email"],
            error=None,
            brand=brand,
        ),
        "unsubscribe-error": render_unsubscribe_page(
            language=language,
            company=company,
            action_url=f"{BASE_URL}/u/{TOKEN}",
            channels=["email", "sms"],
            checked=[],
            error=text(language, "error_nothing_chosen"),
            brand=brand,
        ),
        "unsubscribed": render_unsubscribed_page(language=language, company=company, brand=brand),
    }
    for status in (400, 404, 410, 500):
        pages[f"error-{status}"] = render_error_page(
            language=language, status=status, company=company, brand=brand
        )
    for name, page in pages.items():
        yield Surface(f"page/{language}/{name}", "page", page, language)


def _emails(catalogue: Catalogue, language: str) -> Iterator[Surface]:
    for survey in catalogue.surveys:
        for metric in survey.metrics:
            for kind in MESSAGE_KINDS:
                email = render_invitation_email(
                    language=language,
                    metric=metric,
                    question=survey.question(metric, language, catalogue.company),
                    company=catalogue.company,
                    survey_url=f"{BASE_URL}/s/{TOKEN}",
                    unsubscribe_url=f"{BASE_URL}/u/{TOKEN}",
                    kind=kind,
                )
                name = f"email/{survey.id}/{language}/{metric}-{kind}"
                yield Surface(name, "email", email.html, language)


def _reports() -> Iterator[Surface]:
    from survey_core.logic.report import email_for

    from tools.preview_report import FONT, WEEK, sample_report, use_font

    use_font(FONT)
    for language in LANGUAGES:
        email = email_for(sample_report(language), WEEK)
        shown = email.html
        for image in email.inline_images:  # cid: links, as a mail client resolves them
            uri = f"data:image/{image.subtype};base64,{base64.b64encode(image.data).decode()}"
            shown = shown.replace(f"cid:{image.content_id}", uri)
        yield Surface(f"report/{language}/weekly", "report", shown, language)


# The results view's message pages (functions/results/app.py), by title and text.
RESULTS_MESSAGES = (
    ("results_signed_out_title", "results_signed_out_body"),
    ("results_forbidden_title", "results_forbidden_body"),
    ("results_no_access_title", "results_no_access_body"),
    ("results_bad_filter_title", "results_bad_filter_body"),
    ("results_unavailable_title", "results_unavailable_body"),
)


def _results_pages() -> Iterator[Surface]:
    """The results view's overview, from the report's sample counters: for a viewer who sees
    everything (with the scope filter) and for a business area's manager (without)."""
    from datetime import UTC, datetime, timedelta

    from survey_core.access import Role, access
    from survey_core.logic.results import (
        FOLLOW_UP_OUTCOMES,
        MAX_NOTE,
        CallbackTask,
        FoundComment,
        QueueRow,
        Viewer,
        comments_filter,
        my_feedback,
        nav_links,
        overview,
        overview_filter,
        segment_attributes,
        segment_filter,
        segment_tables,
        survey_choices,
    )
    from survey_core.messages.i18n import text
    from survey_core.messages.names import attribute_name
    from survey_core.messages.results_pages import (
        Choice,
        QueueFilter,
        ResultsChrome,
        SegmentLine,
        SegmentsFilter,
        SegmentTableView,
        TaskView,
        queue_lines,
        render_results_comments,
        render_results_message,
        render_results_overview,
        render_results_queue,
        render_results_segments,
        render_results_sign_in,
        render_results_task,
    )
    from survey_core.report.chart import (
        trend_alt_text,
        trend_chart_png,
        trend_has_values,
    )
    from survey_core.report.config import Scope

    from tools.preview_report import FONT, WEEK, sample_comments, sample_rows, use_font

    use_font(FONT)
    table = sample_rows()
    catalogue = load_catalogue()

    def read(series: str, first: Any, last: Any) -> list[Any]:
        base, _, scope = series.partition("@")
        rows = [r for r in table.get(base, []) if first <= r.day <= last]
        return rows if not scope else [r for r in rows if r.segment_key == scope]

    def agent_read(series: str, first: Any, last: Any) -> list[Any]:
        """The sample has no agents: agent-7's contacts are the stores' answers."""
        base, _, scope = series.partition("@")
        if scope != "agentId=agent-7":
            return read(series, first, last)
        rows = read(f"{base}@businessArea=store", first, last) or read(base, first, last)
        return [
            replace(r, segment_key="all")
            for r in rows
            if r.segment_key in ("businessArea=store", "all")
        ]

    results = f"{BASE_URL}/results"
    admin = Viewer(Role.CX_ADMIN, access(Role.CX_ADMIN, None))
    agent = Viewer(Role.AGENT, access(Role.AGENT, "agent=agent-7"))
    chrome = ResultsChrome(
        company=catalogue.company,
        links=nav_links(admin, results, "?period=week"),
        sign_out_url=f"{results}/sign-out",
        csrf="c2FtcGxlLWNzcmYtdG9rZW4",
    )
    agent_chrome = replace(chrome, links=nav_links(agent, results))
    viewers = {
        "overview": admin,
        "overview-scoped": Viewer(Role.MANAGER, access(Role.MANAGER, "business_area=webshop")),
    }
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    helsinki = catalogue.surveys[0].time_zone
    tasks = [
        CallbackTask(
            invitation_id=f"{n:032x}",
            survey_id=survey,
            metric="nps",
            score=score,
            segment={"businessArea": area, "touchpoint": "delivery"},
            created_at=now - timedelta(hours=hours),
            due_at=now + timedelta(hours=48 - hours),
            reached_at=now if n == 2 else None,
            outcome="open",
            sla="open",
        )
        for n, (survey, score, area, hours) in enumerate(
            [
                ("post-purchase", 2, "webshop", 70),
                ("service-contact", 4, "customer-service", 50),
                ("post-purchase", 6, "store", 3),
            ]
        )
    ]
    for language in LANGUAGES:
        for name, viewer in viewers.items():
            data = overview(
                viewer, Scope(None, None), WEEK, language, catalogue,
                read=read, comments=lambda *_: [], overdue=lambda *_: 1, now=now,
            )  # fmt: skip
            form = overview_filter(
                viewer, "range", WEEK, viewer.scope, language, catalogue, f"{BASE_URL}/results"
            )
            chart = trend_chart_png(data) if trend_has_values(data) else None
            page = render_results_overview(
                report=data,
                chart_png=chart,
                chart_alt=trend_alt_text(data),
                form=form,
                chrome=replace(chrome, export_url=f"{BASE_URL}/results/export.xlsx?period=range"),
            )
            yield Surface(f"results/{language}/{name}", "page", page, language)
            found = [
                FoundComment(
                    f"2026-11-2{n}T10:00:00Z",
                    row,
                    {"businessArea": "webshop"},
                    f"{n:032x}",
                    escalated=row.score <= 6,
                )
                for n, row in enumerate(sample_comments(language))
            ]
            comments_form = comments_filter(form, None, "low", "", language, catalogue)
            page = render_results_comments(
                language=language,
                names=catalogue.names,
                period_label=WEEK.label,
                comments=found,
                shown_all=name == "overview",  # both ways of ending the list
                read=120,
                form=replace(comments_form, search="toimitus"),
                chrome=replace(
                    chrome,
                    export_url=f"{BASE_URL}/results/comments.csv?group=low",
                    export_label="results_export_csv",
                ),
                task_url=f"{results}/follow-up",
            )
            yield Surface(f"results/{language}/{name}-comments", "page", page, language)
            attributes = segment_attributes(catalogue, viewer.scope)
            tables = [
                SegmentTableView(
                    t.survey_id,
                    t.metric,
                    t.attribute,
                    [
                        SegmentLine(
                            row,
                            f"{results}?scope={row.attribute}%3D{row.value}"
                            if segment_filter(viewer, row)
                            else "",
                        )
                        for row in t.rows
                    ],
                )
                for t in segment_tables(data)
            ]
            choices = [Choice("", text(language, "results_attribute_all"), True)]
            choices += [Choice(a, attribute_name(language, a), False) for a in attributes]
            page = render_results_segments(
                language=language,
                names=catalogue.names,
                scope_label=data.scope_label,
                period_label=WEEK.label,
                tables=tables,
                form=SegmentsFilter(form, choices),
                chrome=chrome,
            )
            yield Surface(f"results/{language}/{name}-segments", "page", page, language)
        rows = [QueueRow(t, 70.0 - 30 * n, n == 0) for n, t in enumerate(tasks)]
        page = render_results_queue(
            language=language,
            names=catalogue.names,
            lines=queue_lines(rows, language, helsinki, f"{results}/follow-up"),
            complete=False,
            form=QueueFilter(
                overview_filter(admin, "week", WEEK, admin.scope, language, catalogue, results),
                survey_choices(None, language, catalogue),
            ),
            chrome=chrome,
        )
        yield Surface(f"results/{language}/follow-up", "page", page, language)
        for who, task in (("manager", tasks[0]), ("agent", tasks[1])):
            recorded = replace(
                task, recorded_outcome="resolved", note=sample_comments(language)[0].text,
                recorded_at=now,
            ) if who == "agent" else task  # fmt: skip
            view = TaskView(
                task=recorded,
                comment=sample_comments(language)[1].text,
                overdue=who == "manager",
                can_record=who == "manager",
                outcomes=[
                    Choice(o, text(language, f"results_outcome_{o}"), o == "resolved")
                    for o in FOLLOW_UP_OUTCOMES
                ],
                action_url=f"{results}/follow-up/{task.invitation_id}",
                max_note=MAX_NOTE,
                saved=False,
            )
            page = render_results_task(
                language=language,
                names=catalogue.names,
                view=view,
                zone=helsinki,
                chrome=chrome if who == "manager" else agent_chrome,
            )
            yield Surface(f"results/{language}/task-{who}", "page", page, language)
        own_comments = sample_comments(language)[:2]
        mine = my_feedback(
            agent, WEEK, language, catalogue,
            read=agent_read, comments=lambda *_, c=own_comments: c, overdue=lambda *_: 0, now=now,
        )  # fmt: skip
        reference = mine.reference
        has_chart = trend_has_values(mine.data)
        page = render_results_overview(
            report=mine.data,
            chart_png=trend_chart_png(mine.data, reference=reference) if has_chart else None,
            chart_alt=trend_alt_text(mine.data, reference),
            form=overview_filter(agent, "week", WEEK, agent.scope, language, catalogue, results),
            chrome=agent_chrome,
            page="mine",
        )
        yield Surface(f"results/{language}/mine", "page", page, language)
        for error in (False, True):
            page = render_results_sign_in(
                language=language,
                company=catalogue.company,
                action_url=f"{BASE_URL}/results/sign-in",
                error=error,
            )
            name = "sign-in-error" if error else "sign-in"
            yield Surface(f"results/{language}/{name}", "page", page, language)
        for title, body in RESULTS_MESSAGES:
            page = render_results_message(
                language=language, title_key=title, body_key=body, company=catalogue.company
            )
            name = title.removeprefix("results_").removesuffix("_title")
            yield Surface(f"results/{language}/{name}", "page", page, language)


def surfaces(catalogue: Catalogue | None = None) -> list[Surface]:
    """Every page and email, in every language, in each state a person can meet it in."""
    catalogue = catalogue or load_catalogue()
    found: list[Surface] = []
    for language in LANGUAGES:
        found += _survey_pages(catalogue, language)
        found += _message_pages(catalogue, language)
        found += _emails(catalogue, language)
    found += _reports()
    found += _results_pages()
    return found


@dataclass
class Findings:
    surface: str
    width: int
    problems: list[str] = field(default_factory=list)


# Measured in the page: how far it scrolls sideways, and where each scale's buttons and end
# texts (pages) or each email's button rows sit.
_GEOMETRY = """() => {
  const box = e => e.getBoundingClientRect();
  const scales = [...document.querySelectorAll('.scale')].map(scale => {
    const labels = [...scale.querySelectorAll('label')].map(box);
    const ends = scale.parentElement.querySelector('.ends');
    const spans = ends ? [...ends.querySelectorAll('span')].map(box) : [];
    return {tops: labels.map(b => Math.round(b.top)), first: labels[0], last: labels.at(-1),
            low: spans[0] || null, high: spans.at(-1) || null};
  });
  // An email's row of score buttons: a table whose cells hold one-tap links (?score=N).
  const rows = [...document.querySelectorAll('tr')]
    .map(row => [...row.querySelectorAll(':scope > td > a[href*="?score="]')])
    .filter(links => links.length > 0)
    .map(links => links.map(a => { const b = box(a);
      return {top: Math.round(b.top), left: b.left, right: b.right}; }));
  return {scroll: document.documentElement.scrollWidth, scales, rows};
}"""


def _scale_problems(scales: list[dict[str, Any]]) -> Iterator[str]:
    """A survey page's scales: each on one row, its end texts under its ends."""
    for n, scale in enumerate(scales, 1):
        if len(set(scale["tops"])) != 1:
            yield f"scale {n}: its buttons wrap onto {len(set(scale['tops']))} rows"
        low, high = scale["low"], scale["high"]
        if low is None or high is None:
            yield f"scale {n}: no end texts"
            continue
        if abs(low["left"] - scale["first"]["left"]) > 1:
            yield f"scale {n}: the low end's text is not under the first button"
        if abs(high["right"] - scale["last"]["right"]) > 1:
            yield f"scale {n}: the high end's text is not under the last button"


def _row_problems(rows: list[list[dict[str, Any]]], width: int) -> Iterator[str]:
    """An email's score buttons: even rows, each on one line inside the screen."""
    sizes = [len(row) for row in rows]
    if sizes and max(sizes) - min(sizes) > 1:
        yield f"score buttons in uneven rows: {sizes}"
    for n, row in enumerate(rows, 1):
        if len({button["top"] for button in row}) != 1:
            yield f"score row {n} wraps"
        if any(button["left"] < 0 or button["right"] > width for button in row):
            yield f"score row {n} goes off the screen"


def _geometry_problems(geometry: dict[str, Any], width: int) -> list[str]:
    problems = []
    if geometry["scroll"] > width:
        problems.append(f"scrolls sideways: {geometry['scroll']} px wide on a {width} px screen")
    problems += _scale_problems(geometry["scales"])
    problems += _row_problems(geometry["rows"], width)
    return problems


def axe_source() -> str:
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: run `make node_modules` (npm ci)")
    return AXE.read_text(encoding="utf-8")


def inspector(browser: Any, width: int) -> Any:
    """A page `width` px wide in a browser context of its own, with axe-core in every document
    it loads (an init script: much quicker than adding it to each)."""
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.add_init_script(script=axe_source())
    return context.new_page()


def inspect(page: Any, surface: Surface) -> Findings:
    """Load the surface into an inspector page and check it at the page's width."""
    width = page.viewport_size["width"]
    findings = Findings(surface.name, width)
    page.set_content(surface.html, wait_until="load")
    findings.problems += _geometry_problems(page.evaluate(_GEOMETRY), width)
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"
    )
    for violation in json.loads(result)["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            findings.problems.append(
                f"axe {violation['impact']} {violation['id']}: {violation['help']} ({targets})"
            )
    return findings


def _index(shots: list[tuple[Surface, int, Path, list[str]]], out: Path) -> str:
    rows = []
    for surface, width, shot, problems in shots:
        found = "<br>".join(html.escape(p) for p in problems) or "ok"
        rows.append(
            f"<tr><td>{html.escape(surface.name)}</td><td>{width}</td>"
            f'<td><a href="{shot.relative_to(out)}">screenshot</a></td><td>{found}</td></tr>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Every page and '
        "email</title></head><body><main><h1>Every page and email</h1><table><thead><tr>"
        "<th>surface</th><th>width</th><th>screenshot</th><th>problems</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></main></body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    """python -m tools.surfaces [--out .preview/surfaces]: a full-page screenshot of every
    surface at every width, and an index.html with what the checks found. Exit status 1 when
    anything was found."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path(".preview/surfaces"))
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    every = surfaces()
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for width in WIDTHS:
            page = inspector(browser, width)
            for surface in every:
                found = inspect(page, surface)
                shot = args.out / f"{surface.name}-{width}.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
                shots.append((surface, width, shot, found.problems))
                for problem in found.problems:
                    print(f"{surface.name} at {width} px: {problem}", file=sys.stderr)
            page.context.close()
        browser.close()
    (args.out / "index.html").write_text(_index(shots, args.out), encoding="utf-8")
    problems = sum(1 for *_, found in shots if found)
    print(f"{args.out}/index.html: {len(shots)} screenshots, {problems} with problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
