"""Benchmark: items read and time for one manager report, and for the results view's pages, at
1,000, 10,000 and 100,000 stored responses (or other sizes), against the template's own tables
in moto; every DynamoDB answer counted (ScannedCount of each Query, each item a GetItem or
BatchGetItem returned). Target: the items at a larger size at most 1.2 times those at the
first: the counters are one item per series, day and combination of segment values (12 here),
of which a day of the 1,000 sample sees about 10.4, so at most 12 / 10.4 = 1.15x however many
responses are stored."""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import sam
from bench.floor import recorded_calls
from bench.summary import INFO, OK, OVER, Row, cli, print_table, verdict

TARGET_RATIO = 1.2  # the combinations not yet seen at 1,000 responses (docstring)
REGION = sam.REGION
AREAS = ("webshop", "store", "app", "b2b")
TOUCHPOINTS = ("checkout", "delivery", "returns")
PAGE_FLOOR_RATIO = 1.5
PAGE_WEIGHT_LIMIT = 150 * 1024
PAGE_REPEATS = 3  # each page and its reads alone: the median (one run varies by a third)
# The pages a cx-admin opens for the report's week, as the browser asks for them.
RESULTS_PAGES = {
    "overview": "/results?period=range&first={first}&last={last}",
    "segments": "/results/segments?period=range&first={first}&last={last}",
    # a search that matches nothing: the most a comments page reads
    "comments": "/results/comments?period=range&first={first}&last={last}&search=no+such",
    "follow-up": "/results/follow-up",
}
DETRACTOR = 6  # post-purchase's escalation threshold: a callback task per such answer
TASK_SLA = timedelta(hours=48)
# The open backlog: OPEN_BACKLOG tasks spread evenly over the week before the report's moment
# are still open (by_open_due), the rest were followed up. The same backlog at every size:
# what a page reads for open and overdue tasks grows with the team's backlog, not with the
# responses stored (at 1,000 responses the week holds about 105 tasks).
OPEN_BACKLOG = 100
OPEN_WEEK = timedelta(days=7)
REPORT_MOMENT = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def items_read(calls: list[dict[str, Any]]) -> int:
    """The items DynamoDB read for these calls: ScannedCount of each Query, each item a GetItem
    or BatchGetItem returned."""
    found = 0
    for response in (c["response"] or {} for c in calls if c["service"] == "dynamodb"):
        if "ScannedCount" in response:
            found += int(response["ScannedCount"])
        elif "Responses" in response:
            found += sum(len(v) for v in response["Responses"].values())
        else:
            found += int("Item" in response)
    return found


def _store(responses: int, seed: int) -> None:
    """Store `responses` answers of post-purchase over the trend's six weeks, their counters,
    and a callback task per detractor: the open backlog still open, the rest followed up."""
    from survey_core.dal.models import AggregateCounter, Escalation, Response
    from survey_core.domain.counters import counter_bucket, segment_of

    rng = random.Random(seed)  # noqa: S311 - sample data
    first = datetime(2026, 10, 12, 9, tzinfo=UTC)
    counters: dict[str, AggregateCounter] = {}
    tasks: list[tuple[datetime, str, int, dict[str, str]]] = []
    with Response.batch_write() as batch:
        for number in range(responses):
            at = first + timedelta(minutes=rng.randrange(42 * 24 * 60))
            day = at.date().isoformat()
            score = rng.choice(range(11))
            segment = {"businessArea": rng.choice(AREAS), "touchpoint": rng.choice(TOUCHPOINTS)}
            comment = f"Kommentti {number}" if rng.random() < 0.2 else None
            item = Response(
                f"bench-{seed}-{number}",
                survey_id="post-purchase",
                customer_id=f"bench-{number}",
                scores={"nps": score},
                comment=comment,
                channel="web",
                bucket_day=day,
                first_answered_at=at.isoformat(),
                answered_at=at.isoformat(),
                revision=1,
                segment=segment,
            )
            if comment:
                item.comment_day = f"post-purchase#{day}"
            batch.save(item)
            if score <= DETRACTOR:
                tasks.append((at, f"bench-{seed}-{number}", score, segment))
            # one counter per day and combination of segment values (domain/counters.Counts)
            bucket = counter_bucket(day, segment)
            if bucket not in counters:
                counters[bucket] = AggregateCounter(
                    "post-purchase#nps", bucket, segment=segment_of(segment)
                )
            counter = counters[bucket]
            setattr(counter, f"s{score}", (getattr(counter, f"s{score}") or 0) + 1)
            counter.n += 1
    with AggregateCounter.batch_write() as batch:
        for counter in counters.values():
            batch.save(counter)
    recent = sorted(t[:2] for t in tasks if REPORT_MOMENT - OPEN_WEEK <= t[0] <= REPORT_MOMENT)
    step = max(1.0, len(recent) / OPEN_BACKLOG)
    still_open = {recent[int(i * step)][1] for i in range(min(OPEN_BACKLOG, len(recent)))}
    with Escalation.batch_write() as batch:
        for at, invitation_id, score, segment in tasks:
            task = Escalation(
                invitation_id,
                survey_id="post-purchase",
                metric="nps",
                score=score,
                segment=segment,
                status="created",
                sla_hours=TASK_SLA.total_seconds() / 3600,
                escalated_at=at.isoformat(),
                counted_day=at.date().isoformat(),
                created_at=at.isoformat(),
                updated_at=at.isoformat(),
            )
            if invitation_id in still_open:
                task.outcome, task.sla = "open", "open"
                task.open_survey, task.open_due_at = "post-purchase", (at + TASK_SLA).isoformat()
            else:
                task.outcome, task.sla, task.done_at = "completed", "met", at.isoformat()
            batch.save(task)


def _measure(responses: int) -> tuple[int, float, dict[str, dict[str, Any]]]:
    """The report's items and seconds, and the results pages, at one size."""
    with sam.deployed() as template:
        from survey_core.catalogue import load_catalogue
        from survey_core.config import Tables
        from survey_core.dal.repositories import dynamodb_repositories
        from survey_core.logic.report import report_for
        from survey_core.report.config import due_reports, load_groups

        results = template.functions["ResultsFunction"]
        [environment] = [
            f.environment
            for f in sam.deployed_functions(template)
            if f.logical_id == results.logical_id
        ]
        tables = {kind: environment[f"{kind.upper()}_TABLE"] for kind in Tables.__struct_fields__}
        repos = dynamodb_repositories(Tables(**tables), REGION)  # binds the models too
        _store(responses, seed=responses)
        leadership = next(g for g in load_groups() if g.name == "Leadership")
        [due] = [d for d in due_reports((leadership,), REPORT_MOMENT) if d.group is leadership]
        with recorded_calls() as calls:
            began = time.perf_counter()
            data = report_for(due, load_catalogue(), repos)
            seconds = time.perf_counter() - began
        [block] = [b for b in data.blocks if b.metric == "nps"]
        if block.headline.n == 0:
            raise RuntimeError(f"the report at {responses} responses shows no answers")
        pages = _results_pages(results, environment, due.period)
        return items_read(calls), seconds, pages


def _reads_alone(calls: list[dict[str, Any]]) -> float:
    """The same DynamoDB requests alone on a fresh client: the page's reads floor on this
    endpoint (moto's Query time grows with the table, DynamoDB's does not)."""
    import boto3

    client = boto3.client("dynamodb", region_name=REGION)
    client.describe_limits()  # the client's own first-call set-up, outside the measurement
    began = time.perf_counter()
    for call in (c for c in calls if c["service"] == "dynamodb"):
        client._make_api_call(call["operation"], call["params"])
    return time.perf_counter() - began


def _results_pages(
    source: Any, environment: dict[str, str], period: Any
) -> dict[str, dict[str, Any]]:
    """Each page through the results function's app as the stack runs it, signed in as a
    cx-admin (Chalice's test client: the routes and code behind API Gateway), its reads
    counted and replayed alone."""
    from chalice.test import Client

    from infra.local.functions import load_module

    results = load_module(source, environment)
    access = sys.modules["survey_core.access"]  # the copy the function loaded with
    admin = results.Principal(
        "bench-admin", None, access.Role.CX_ADMIN, access.ALL, "bench", datetime.now(UTC)
    )
    results._principal = lambda: admin  # type: ignore[attr-defined]
    found: dict[str, dict[str, Any]] = {}
    days = {"first": period.first_day.isoformat(), "last": period.last_day.isoformat()}
    with Client(results.app) as client:
        for path in RESULTS_PAGES.values():  # warm: fonts, templates, each route's first call
            client.http.get(path.format(**days))
        for name, path in RESULTS_PAGES.items():
            times, floors = [], []
            for _ in range(PAGE_REPEATS):
                with recorded_calls() as calls:
                    began = time.perf_counter()
                    page = client.http.get(path.format(**days), headers={"Accept": "text/html"})
                    times.append(time.perf_counter() - began)
                if page.status_code != 200:
                    raise RuntimeError(f"{name}: HTTP {page.status_code}")
                floors.append(_reads_alone(calls))
            found[name] = {
                "items_read": items_read(calls),
                "server_ms": round(statistics.median(times) * 1000, 1),
                "reads_alone_ms": round(statistics.median(floors) * 1000, 1),
                "page_bytes": len(page.body),
            }
    return found


def run(sizes: tuple[int, ...] = (1000, 10_000, 100_000)) -> dict[str, Any]:
    from survey_core.catalogue import load_catalogue
    from survey_core.logic.results import COMMENTS_READ, QUEUE_READ_PER_SURVEY

    report: list[dict[str, Any]] = []
    pages: dict[str, list[dict[str, Any]]] = {name: [] for name in RESULTS_PAGES}
    rows = []
    for size in sizes:
        items, seconds, found = _measure(size)
        report.append(
            {"responses": size, "items_read": items, "report_ms": round(seconds * 1e3, 1)}
        )
        for name, page in found.items():
            pages[name].append({"responses": size, **page})
            rows.append((size, name, *page.values()))
    for measured in (report, *pages.values()):
        for m in measured:
            m["ratio_to_first"] = round(m["items_read"] / max(1, measured[0]["items_read"]), 3)
    for m in report:
        ratio = m["items_read"] / report[0]["items_read"]
        m["verdict"] = INFO if m is report[0] else verdict(ratio, TARGET_RATIO)
    headers = ("responses", "page", "items read", "server ms", "its reads alone ms", "bytes")
    print_table("the results view's pages (cx-admin, the report's week)", headers, rows, "rlrrrr")
    # Times are moto's in this process, whose Query looks at every item of a table.
    surveys = len(load_catalogue().surveys)
    return {
        "report": "Leadership: everything, weekly, 6-week trend",
        "pages": pages,
        "page_target_ratio": TARGET_RATIO,
        "page_floor_ratio": PAGE_FLOOR_RATIO,
        # Pages whose reads stop at a fixed number of items (comments, open tasks), with it.
        "page_caps": {"comments": COMMENTS_READ, "follow-up": QUEUE_READ_PER_SURVEY * surveys},
        "page_weight_limit": PAGE_WEIGHT_LIMIT,
        "target_ratio": TARGET_RATIO,
        "sizes": report,
    }


def _page_row(name: str, measured: list[dict[str, Any]], result: dict[str, Any]) -> Row:
    first, last = measured[0], measured[-1]
    heaviest = max(m["page_bytes"] for m in measured)
    share = max(m["server_ms"] / max(m["reads_alone_ms"], 0.1) for m in measured)
    cap = result.get("page_caps", {}).get(name)
    if cap is not None:
        items_ok, items_target = last["items_read"] <= cap, f"<= {cap:,} items (its cap)"
    else:
        items_ok = last["ratio_to_first"] <= result["page_target_ratio"]
        items_target = f"<= {result['page_target_ratio']}x items"
    floor_ratio = result.get("page_floor_ratio", PAGE_FLOOR_RATIO)
    within = items_ok and heaviest <= result["page_weight_limit"] and share <= floor_ratio
    figure = (
        f"results {name}: items read at {first['responses']:,} / {last['responses']:,} "
        "responses, server time / its reads alone, page weight"
    )
    value = (
        f"{first['items_read']:,} / {last['items_read']:,} items "
        f"({last['ratio_to_first']:.2f}x); {first['server_ms']:.0f} / {last['server_ms']:.0f} "
        f"ms, at most {share:.2f}x its reads; at most {heaviest / 1024:.0f} KB"
    )
    target = f"{items_target}; <= {floor_ratio}x reads; <= 150 KB"
    return Row(
        "report_reads", figure, value, target, OK if within else OVER, last["items_read"], "items"
    )


def summary(result: dict[str, Any]) -> list[Row]:
    first = result["sizes"][0]
    rows = []
    for size in result["sizes"]:
        value = f"{size['items_read']:,} items, {size['report_ms']:.0f} ms"
        target = "-"
        if size is not first:
            value += f" ({size['ratio_to_first']:.2f}x the items at {first['responses']:,})"
            target = f"<= {result['target_ratio']}x the items at {first['responses']:,}"
        figure = f"report items read at {size['responses']:,} responses"
        rows.append(
            Row("report_reads", figure, value, target, size["verdict"], size["items_read"], "items")
        )
    pages = result.get("pages", {}).items()
    return rows + [_page_row(name, measured, result) for name, measured in pages]


if __name__ == "__main__":
    sys.exit(cli(run))
