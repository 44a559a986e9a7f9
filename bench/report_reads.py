"""Benchmark: items read and time for one manager report at 1,000, 10,000 and 100,000 stored
responses (or any other sizes given), against the template's own tables in moto.

For each size, responses are generated over the six weeks the report reads (the trend) with
random scores, segments and comments (one in five), and stored as the system stores them:
every Response item, and the anonymous counters they add up to (per series, day and
combination of segment values). Then the Leadership report (everything, weekly) is built with
the report function's own code (logic/report.report_for) while every DynamoDB answer is
counted: items read is the sum of ScannedCount / Count of each Query and each item a GetItem
returned.

    .venv/bin/python -m bench.report_reads [--sizes 1000 10000 100000] [--json PATH]  (make bench)

Target: items read at 10,000 and at 100,000 responses at most 1.2 times the items at 1,000
(each size against the first). The counters are one item per series, day and combination of
segment values; the generator uses 12 combinations (4 business areas x 3 touchpoints), of
which a day of the 1,000-response sample (24 answers a day) sees about 10.4 and the larger
samples all 12: at most 12 / 10.4 = 1.15 times the items, and no more however many responses.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.floor import REPO_ROOT
from bench.summary import INFO, OK, OVER, Row, verdict, write_json

TARGET_RATIO = 1.2  # the combinations not yet seen at 1,000 responses (docstring)
SIZES = (1000, 10_000, 100_000)
REGION = "eu-north-1"
AREAS = ("webshop", "store", "app", "b2b")
TOUCHPOINTS = ("checkout", "delivery", "returns")


@contextmanager
def items_read() -> Iterator[Counter[str]]:
    """Items DynamoDB returned to any client of this process, by operation."""
    import botocore.endpoint

    counted: Counter[str] = Counter()
    original = botocore.endpoint.Endpoint.make_request

    def counting(self: Any, operation_model: Any, request_dict: Any) -> Any:
        response = original(self, operation_model, request_dict)
        parsed = response[1] if isinstance(response, tuple) else {}
        if operation_model.service_model.service_name == "dynamodb":
            if "ScannedCount" in parsed:
                counted[operation_model.name] += int(parsed["ScannedCount"])
            elif "Item" in parsed:
                counted[operation_model.name] += 1
            elif "Responses" in parsed:
                counted[operation_model.name] += sum(len(v) for v in parsed["Responses"].values())
        return response

    botocore.endpoint.Endpoint.make_request = counting
    try:
        yield counted
    finally:
        botocore.endpoint.Endpoint.make_request = original


def _store(responses: int, seed: int) -> None:
    """Generate and store `responses` answers of post-purchase over the trend's six weeks."""
    from survey_core.dal.models import AggregateCounter, Response
    from survey_core.dal.store import counter_bucket, segment_of

    rng = random.Random(seed)  # noqa: S311 - sample data
    first = datetime(2026, 10, 12, 9, tzinfo=UTC)
    counters: dict[tuple[str, str], tuple[dict[str, str], Counter[str]]] = {}
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
            # one counter per day and combination of segment values (dal/store.Counts)
            _, counts = counters.setdefault(
                (day, counter_bucket(day, segment)), (segment_of(segment), Counter())
            )
            counts[f"s{score}"] += 1
            counts["n"] += 1
    with AggregateCounter.batch_write() as batch:
        for (_, bucket), (segment, counts) in counters.items():
            counter = AggregateCounter("post-purchase#nps", bucket, segment=segment)
            for name, value in counts.items():
                setattr(counter, name, value)
            batch.save(counter)


def _measure(responses: int) -> tuple[int, float, Counter[str], bool]:
    import boto3
    from moto import mock_aws

    from infra.local.stack import DEFAULT_PARAMETERS
    from infra.local.template import build_local_template, create_stack

    parameters = {**DEFAULT_PARAMETERS, "SurveyLinkBaseUrl": "https://surveys.example.com"}
    with mock_aws():
        outputs = create_stack(
            boto3.client("cloudformation", region_name=REGION),
            boto3.client("s3", region_name=REGION),
            boto3.client("sesv2", region_name=REGION),
            build_local_template(parameters, REGION),
            parameters,
            "feedback",
        )
        del outputs
        from survey_core.catalogue import load_catalogue
        from survey_core.config import Tables
        from survey_core.dal.models import bind_tables
        from survey_core.logic.report import report_for
        from survey_core.report.config import Period, due_reports, load_groups

        tables = {
            name: next(
                t
                for t in boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
                if t.startswith(f"feedback-{logical}")
            )
            for name, logical in (
                ("customers", "CustomersTable"),
                ("invitations", "InvitationsTable"),
                ("responses", "ResponsesTable"),
                ("aggregates", "AggregatesTable"),
                ("escalations", "EscalationsTable"),
                ("suppressions", "SuppressionsTable"),
            )
        }
        bind_tables(Tables(**tables), REGION)
        _store(responses, seed=responses)
        leadership = next(g for g in load_groups() if g.name == "Leadership")
        [due] = [
            d
            for d in due_reports((leadership,), datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
            if d.group is leadership
        ]
        assert due.period == Period(due.period.first_day, due.period.last_day)
        catalogue = load_catalogue()
        with items_read() as counted:
            began = time.perf_counter()
            data = report_for(due, catalogue)
            seconds = time.perf_counter() - began
        [block] = [b for b in data.blocks if b.metric == "nps"]
        PAGES[responses] = _results_pages(due.period, catalogue, due.send_moment)
        return sum(counted.values()), seconds, counted, block.headline.n > 0


# The results view's pages at each size: (items read, server ms, page bytes), by page.
PAGES: dict[int, dict[str, tuple[int, float, int]]] = {}
PAGE_TARGET_RATIO = 1.1
PAGE_WEIGHT_LIMIT = 150 * 1024


def _results_pages(period: Any, catalogue: Any, now: datetime) -> dict[str, tuple[int, float, int]]:
    """The overview (everything, the report's week) and the comments page (everything, a search
    that matches nothing: the most a page reads), each built and rendered with the results
    function's own code, reads counted as for the report."""
    from survey_core.access import ALL, Role
    from survey_core.logic.report import (
        comment_reader,
        counter_rows,
        overdue_tasks,
        recent_comments,
    )
    from survey_core.logic.results import Viewer, comments, comments_filter, nav_links, overview
    from survey_core.logic.results import overview_filter as page_filter
    from survey_core.messages.rendering import (
        ResultsChrome,
        render_results_comments,
        render_results_overview,
    )
    from survey_core.report.chart import trend_alt_text, trend_chart_png, use_font
    from survey_core.report.config import Scope

    use_font(REPO_ROOT / "functions" / "report" / "fonts" / "DejaVuSans.ttf")
    viewer, everything = Viewer(Role.CX_ADMIN, ALL), Scope(None, None)
    chrome = ResultsChrome("Example Oy", nav_links(viewer, "/results"), "/results/sign-out", "x")
    form = page_filter(viewer, "range", period, everything, "fi", catalogue, "/results")
    found: dict[str, tuple[int, float, int]] = {}
    with items_read() as counted:
        began = time.perf_counter()
        data = overview(
            viewer, everything, period, "fi", catalogue, read=counter_rows,
            comments=recent_comments, overdue=overdue_tasks, now=now,
        )  # fmt: skip
        html = render_results_overview(
            report=data, chart_png=trend_chart_png(data), chart_alt=trend_alt_text(data),
            form=form, chrome=chrome,
        )  # fmt: skip
        found["overview"] = (sum(counted.values()), time.perf_counter() - began, len(html.encode()))
    with items_read() as counted:
        began = time.perf_counter()
        page = comments(
            viewer, everything, period, catalogue, comment_reader(catalogue), search="no such"
        )
        html = render_results_comments(
            language="fi", names=catalogue.names, period_label=period.label,
            comments=page.comments, shown_all=page.complete, read=page.read,
            form=comments_filter(form, None, "all", "no such", "fi", catalogue), chrome=chrome,
            task_url="/results/follow-up",
        )  # fmt: skip
        found["comments"] = (sum(counted.values()), time.perf_counter() - began, len(html.encode()))
    return found


def run(sizes: list[int]) -> dict[str, Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    sys.path.insert(0, str(REPO_ROOT / "layers" / "survey_core"))
    rows = []
    for size in sizes:
        items, seconds, counted, has_data = _measure(size)
        if not has_data:
            raise RuntimeError(f"the report at {size} responses shows no answers")
        rows.append((size, items, seconds, counted))
    print("\nitems read for one report (Leadership: everything, weekly, 6-week trend)\n")
    print("| stored responses | items read | by operation | report built in |")
    print("| ---------------: | ---------: | :----------- | --------------: |")
    for size, items, seconds, counted in rows:
        by_operation = ", ".join(f"{op} {n}" for op, n in sorted(counted.items()))
        print(f"| {size:>16,} | {items:>10,} | {by_operation} | {seconds * 1000:>12.0f} ms |")
    first = rows[0]
    for size, items, _, _ in rows[1:]:
        ratio = items / first[1]
        print(
            f"\nitems read at {size:,} / at {first[0]:,}: {ratio:.2f}  "
            f"(target <= {TARGET_RATIO}: {verdict(ratio, TARGET_RATIO)})",
            end="",
        )
    print("\n\nthe results view's pages (cx-admin: everything, the report's week)\n")
    print("| stored responses | page | items read | built and rendered in | page weight |")
    print("| ---------------: | :--- | ---------: | --------------------: | ----------: |")
    for size in sizes:
        for name, (items, seconds, weight) in PAGES[size].items():
            print(
                f"| {size:>16,} | {name} | {items:>10,} | {seconds * 1000:>18.0f} ms "
                f"| {weight / 1024:>8.1f} KB |"
            )
    print(
        "\nnote: counters are days x segment combinations (here 12 a day), bounded by the\n"
        "combinations seen, not by the responses; a whole-scope report reads only the comments\n"
        "it shows. Times are moto in this process, whose Query looks at every item of a table:\n"
        "they grow with the table there, not on DynamoDB."
    )
    pages = {
        name: [
            {
                "responses": size,
                "items_read": PAGES[size][name][0],
                "server_ms": round(PAGES[size][name][1] * 1000, 1),
                "page_bytes": PAGES[size][name][2],
                "ratio_to_first": round(PAGES[size][name][0] / PAGES[sizes[0]][name][0], 3),
            }
            for size in sizes
        ]
        for name in PAGES[sizes[0]]
    }
    return {
        "report": "Leadership: everything, weekly, 6-week trend",
        "pages": pages,
        "page_target_ratio": PAGE_TARGET_RATIO,
        "page_weight_limit": PAGE_WEIGHT_LIMIT,
        "target_ratio": TARGET_RATIO,
        "sizes": [
            {
                "responses": size,
                "items_read": items,
                "by_operation": dict(sorted(counted.items())),
                "report_ms": round(seconds * 1000, 1),
                "ratio_to_first": round(items / first[1], 3),
                "verdict": verdict(items / first[1], TARGET_RATIO) if size != first[0] else INFO,
            }
            for size, items, seconds, counted in rows
        ],
    }


def summary(result: dict[str, Any]) -> list[Row]:
    sizes = result["sizes"]
    first = sizes[0]
    rows = []
    for size in sizes:
        value = f"{size['items_read']:,} items, {size['report_ms']:.0f} ms"
        target = "-"
        if size is not first:
            value += f" ({size['ratio_to_first']:.2f}x the items at {first['responses']:,})"
            target = f"<= {result['target_ratio']}x the items at {first['responses']:,}"
        rows.append(
            Row(
                "report_reads",
                f"report items read at {size['responses']:,} responses",
                value,
                target,
                size["verdict"],
                size["items_read"],
                "items",
            )
        )
    for name, measured in result.get("pages", {}).items():
        first_page, last_page = measured[0], measured[-1]
        ratio = last_page["ratio_to_first"]
        heaviest = max(m["page_bytes"] for m in measured)
        within = ratio <= result["page_target_ratio"] and heaviest <= result["page_weight_limit"]
        rows.append(
            Row(
                "report_reads",
                f"results {name}: items read at {first_page['responses']:,} / "
                f"{last_page['responses']:,} responses, server time, page weight",
                f"{first_page['items_read']:,} / {last_page['items_read']:,} items "
                f"({ratio:.2f}x); {first_page['server_ms']:.0f} / {last_page['server_ms']:.0f} ms;"
                f" at most {heaviest / 1024:.0f} KB",
                f"<= {result['page_target_ratio']}x items; <= 150 KB",
                OK if within else OVER,
                last_page["items_read"],
                "items",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    write_json(args.json, run(args.sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
