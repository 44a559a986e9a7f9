# ruff: noqa: S608 - every SQL text here is built from this module's own constants
"""The data lake (docs/analytics.md): export lag on the local stack, DuckDB time per named
query over generated answers (in memory, and over the files), and the export's modelled cost
per 1,000,000 answers from the demo flow's lake. Target: each query under 2 s at 1,000,000
answers, in memory."""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.summary import OK, OVER, REPO_ROOT, Row, cli, print_table

PRICES_FILE = REPO_ROOT / "bench" / "prices.json"
TARGET_QUERY_SECONDS = 2.0
DAYS = 84  # twelve weeks of answers
QUERY_RUNS = 3  # each named query is timed this many times: the median is the figure
START_DAY = "2026-08-31"  # a Monday
MINUTES_PER_MONTH = 30 * 24 * 60
EXPORT_MEMORY_GB = 0.5  # LakeExportFunction's memory (template Globals: 512 MB)
EXPORT_MS = 300  # a minute's batch: map the records, a few PutObjects (assumed; see docs)


def generate(root: Path, answers: int) -> dict[str, int]:
    """The lake's responses, messages, escalations and churn objects for `answers` answers over
    DAYS days, written by DuckDB: rows per table."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2; SET preserve_insertion_order = false; SET memory_limit = '2GB'")
    # Three answers in four are to the NPS survey, the others to the service survey (CSAT and
    # CES). Each invitation got a message, half a reminder; an answer comes after one of them.
    con.execute(
        f"""
        CREATE TABLE answers AS
        SELECT i,
          lpad(to_hex(hash(i)), 16, '0') || lpad(to_hex(hash(i + 7)), 16, '0') AS invitation_id,
          CASE WHEN i % 4 = 3 THEN 'service-contact' ELSE 'post-purchase' END AS survey_id,
          lpad(to_hex(hash(i % {max(answers // 2, 1)})), 32, '0') AS customer,
          CAST(DATE '{START_DAY}' + CAST(i % {DAYS} AS INTEGER) AS VARCHAR) AS dt,
          (hash(i) % 11)::INTEGER AS nps,
          (1 + hash(i + 1) % 5)::INTEGER AS csat,
          (1 + hash(i + 2) % 7)::INTEGER AS ces,
          ['webshop', 'store', 'app'][1 + (i % 3)::INTEGER] AS area,
          ['checkout', 'delivery', 'returns', 'service'][1 + (i % 4)::INTEGER] AS touchpoint,
          i % 2 AS reminded,
          CASE WHEN i % 5 = 0 THEN 'sms' ELSE 'web' END AS channel
        FROM range({answers}) AS t(i)
        """
    )
    at = "dt || 'T10:00:00Z'"
    later = "dt || 'T12:00:00Z'"
    statements = {
        "responses": f"""
            SELECT invitation_id, 1 AS revision, survey_id, customer, channel,
              CASE WHEN channel = 'sms' OR reminded = 1 THEN 'sms' ELSE 'email' END
                AS answered_via, reminded AS after_step,
              {later} AS answered_at, {later} AS first_answered_at, dt AS counted_day,
              CASE WHEN survey_id = 'post-purchase' THEN MAP {{'nps': nps}}
                ELSE MAP {{'csat': csat, 'ces': ces}} END AS scores,
              false AS has_comment,
              MAP {{'businessArea': area, 'touchpoint': touchpoint}} AS segment,
              ['all', 'businessArea=' || area, 'touchpoint=' || touchpoint] AS segment_keys, dt
            FROM answers""",
        "messages": f"""
            SELECT invitation_id, '0' AS version, s.step AS attempt, s.step AS rung,
              CASE WHEN s.step = 0 THEN 'email' ELSE 'sms' END AS channel, 'sent' AS outcome,
              false AS fallback, true AS delivered,
              true AS first_on_channel, s.step = 0 AS first_at_all,
              CASE WHEN s.step = 0 THEN {at} ELSE dt || 'T11:00:00Z' END AS sent_at,
              dt AS sent_day, survey_id,
              ['all', 'businessArea=' || area, 'touchpoint=' || touchpoint] AS segment_keys, dt
            FROM answers CROSS JOIN (SELECT 0 AS step UNION ALL SELECT 1) AS s
            WHERE s.step <= reminded""",
        "escalations": f"""
            SELECT invitation_id, '0' AS version, survey_id, 'nps' AS metric, nps AS score,
              CASE i % 3 WHEN 0 THEN 'completed' WHEN 1 THEN 'not_reached' ELSE 'open' END
                AS outcome,
              CASE i % 3 WHEN 0 THEN 'met' WHEN 1 THEN 'missed' END AS sla,
              48 AS sla_hours, {later} AS created_at, dt AS created_day, {later} AS escalated_at,
              dt AS counted_day,
              CASE WHEN i % 3 = 0 THEN 3600 + i % 7200 END AS seconds_to_agent,
              ['all', 'businessArea=' || area, 'touchpoint=' || touchpoint] AS segment_keys, dt
            FROM answers WHERE survey_id = 'post-purchase' AND nps <= 6""",
    }
    rows = {}
    for table, select in statements.items():
        # COPY answers with the number of rows it wrote
        [(rows[table],)] = con.execute(
            f"COPY ({select}) TO '{root / table}' (FORMAT JSON, COMPRESSION GZIP, "
            "PARTITION_BY (dt), FILENAME_PATTERN 'part_{i}')"
        ).fetchall()
    (root / "churn").mkdir()
    [(rows["churn"],)] = con.execute(
        f"""COPY (SELECT DISTINCT customer, CAST(DATE '{START_DAY}' + {DAYS} AS VARCHAR)
            AS churned_on FROM answers WHERE hash(customer) % 20 = 0)
            TO '{root / "churn" / "part_0.json.gz"}' (FORMAT JSON, COMPRESSION GZIP)"""
    ).fetchall()
    con.close()
    return rows


def time_queries(root: Path, period: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Seconds (wall and CPU) per named query, over tables loaded once and over the files: the
    median of QUERY_RUNS runs (an analyst's question is asked more than once; the first run of
    a query also pays for DuckDB growing its memory, kept apart as *_first)."""
    from tools import lake_sql

    found = lake_sql.catalogue()
    tables = lake_sql.tables_read(found.queries.values(), found.tables)
    timings: dict[str, dict[str, float]] = {q: {} for q in found.queries}
    for mode in ("memory", "files"):
        began = time.perf_counter()
        con = lake_sql.connect(root, tables, materialize=mode == "memory")
        con.execute("SET threads = 2")
        load = round(time.perf_counter() - began, 3)
        for name, query in found.queries.items():
            walls, cpus = [], []
            for _ in range(QUERY_RUNS):
                began, cpu = time.perf_counter(), time.process_time()
                result = lake_sql.run(con, query, *period)
                walls.append(time.perf_counter() - began)
                cpus.append(time.process_time() - cpu)
            timings[name][mode] = round(statistics.median(walls), 3)
            timings[name][f"{mode}_first"] = round(walls[0], 3)
            timings[name][f"{mode}_cpu"] = round(statistics.median(cpus), 3)
            timings[name][f"{mode}_rows"] = len(result.rows)
            if mode == "memory":
                timings[name]["load"] = load
        con.close()
    return timings


def duckdb_figures(size: int) -> dict[str, Any]:
    last = (date.fromisoformat(START_DAY) + timedelta(days=DAYS - 1)).isoformat()
    with tempfile.TemporaryDirectory(prefix="lake-bench-") as scratch:
        began = time.perf_counter()
        figures: dict[str, Any] = {"answers": size, "rows": generate(Path(scratch), size)}
        generated = time.perf_counter() - began
        figures["bytes"] = sum(p.stat().st_size for p in Path(scratch).rglob("*.json.gz"))
        print(
            f"  {size:,} answers: {figures['rows']} rows, {figures['bytes'] / 1e6:.1f} MB gzip "
            f"JSON lines, generated in {generated:.1f} s",
            flush=True,
        )
        figures["generate_seconds"] = round(generated, 1)
        figures["queries"] = time_queries(Path(scratch), (START_DAY, last))
    return figures


def local_figures(lag_answers: int) -> dict[str, Any]:
    """Export lag per answer, and the demo flow's lake: objects, rows and bytes per answer."""
    from survey_core.dal.lake import LakeBucket

    from infra.local.lake_flow import PURCHASE, LakeFlow, Plan, demo_plans
    from infra.local.process import running_stack
    from infra.local.scenario import wait_for

    with running_stack(
        time_scale=7200.0, start_time="2026-11-16T09:00:00+02:00", log_name="bench-lake.log"
    ) as info:
        # The demo flow: its lake sizes the cost model (rows, bytes, objects per answer)
        flow = LakeFlow(info, demo_plans("bench"))
        flow.run()
        s3 = flow.stack.client("s3")
        lake = LakeBucket(s3, info["outputs"]["LakeBucketName"])

        def read(key: str) -> bytes:
            return bytes(s3.get_object(Bucket=lake.bucket, Key=key)["Body"].read())

        stored = {key: read(key) for key in lake.keys("")}
        per_table: dict[str, list[bytes]] = {}
        for key, body in stored.items():
            lines = gzip.decompress(body).splitlines(keepends=True)
            per_table.setdefault(key.split("/", 1)[0], []).extend(lines)
        # Locally each batch holds a record or two; in AWS a minute's batch fills an object
        # with many rows. The same rows in one object per table: the bytes batched.
        batches = flow.stack.control("lake/batches")
        demo = {
            "surveys": len(flow.plans),
            "answers": sum(p.answers for p in flow.plans),
            "objects": len(stored),
            "bytes": sum(len(body) for body in stored.values()),
            "bytes_batched": sum(len(gzip.compress(b"".join(r), 6)) for r in per_table.values()),
            "rows": sum(len(r) for r in per_table.values()),
            "stream_records": sum(len(b["Records"]) for b in batches),
            "batches": len(batches),
        }
        # Export lag: one answer at a time, from its POST to its row in an object
        segment = {"businessArea": "webshop", "touchpoint": "checkout"}
        plans = [
            Plan(f"lag-{n:02d}", PURCHASE, "page", {"nps": 9}, segment=segment)
            for n in range(lag_answers)
        ]
        lag_flow = LakeFlow(info, plans)
        lag_flow.put_events()
        lag_flow.wait_for_invitations()
        seen = set(stored)
        lags = []
        for plan in plans:
            lag_flow.answer(plan)
            invitation_id = lag_flow.invitation_id(plan).encode()
            answered_at = plan.answered_at or time.time()

            def arrived(invitation_id: bytes = invitation_id) -> float | None:
                for key in [k for k in lake.keys("responses/") if k not in seen]:
                    seen.add(key)
                    if invitation_id in gzip.decompress(read(key)):
                        return time.time()
                return None

            lags.append(wait_for("the answer's lake object", arrived, 60) - answered_at)
    return {"demo": demo, "lag_seconds": [round(x, 3) for x in lags]}


def cost_model(demo: dict[str, Any], answers: int = 1_000_000) -> dict[str, Any]:
    """The export's cost for `answers` answers in a month, spread over it (the fewest records
    per batch), with the demo's rows and bytes per answer; the model is in docs/analytics.md."""
    data = json.loads(PRICES_FILE.read_text(encoding="utf-8"))
    lake_prices = data["lake"]["prices"]
    prices = {**lake_prices, **data["prices"]}

    def price(name: str) -> float:
        return float(prices[name]["usd"]) / float(prices[name]["per"])

    bytes_per_answer = demo["bytes_batched"] / demo["answers"]
    records_per_minute = demo["stream_records"] / demo["answers"] * answers / MINUTES_PER_MONTH
    invocations = 3 * MINUTES_PER_MONTH
    gb_seconds = invocations * EXPORT_MS / 1000 * EXPORT_MEMORY_GB
    lake_gb = bytes_per_answer * answers / 1e9
    monthly = {
        "lambda_requests": invocations * price("lambda_requests"),
        "lambda_duration": gb_seconds * price("lambda_arm64_gb_second"),
        "s3_puts": 5 * MINUTES_PER_MONTH * price("s3_put_request"),
        "secrets_manager": price("secrets_manager_secret_month"),
    }
    # The month's rows, kept LakeRetentionDays (730 days: 24 monthly storage bills)
    storage = lake_gb * 24 * price("s3_standard_gb_month")
    return {
        "answers": answers,
        "bytes_per_answer": round(bytes_per_answer),
        "stream_records_per_answer": round(demo["stream_records"] / demo["answers"], 2),
        "records_per_minute": round(records_per_minute, 1),
        "invocations": invocations,
        "export_ms_assumed": EXPORT_MS,
        "lake_gb": round(lake_gb, 4),
        "usd": {name: round(usd, 4) for name, usd in monthly.items()},
        "usd_export": round(sum(monthly.values()), 2),
        "usd_storage_730_days": round(storage, 4),
        "usd_total": round(sum(monthly.values()) + storage, 2),
        "athena_usd_per_query_whole_month": round(
            max(lake_gb / 1000, 10e6 / 1e12) * price("athena_tb_scanned"), 5
        ),
        "prices": lake_prices,
    }


def summary(result: dict[str, Any]) -> list[Row]:
    rows = []
    lags = result.get("lag_seconds") or []
    if lags:
        lag = statistics.median(lags)
        value = f"median {lag:.2f} s, max {max(lags):.2f} s ({len(lags)} answers)"
        figure = "lake export lag, answer to object (local stack)"
        rows.append(Row("analytics", figure, value, number=lag, unit="s"))
    for found in result.get("duckdb", []):
        for name, timing in found["queries"].items():
            seconds = timing["memory"]  # as tools.lake query runs it: the tables loaded once
            value = (
                f"{seconds:.2f} s in memory, median of {QUERY_RUNS} (first "
                f"{timing.get('memory_first', seconds):.2f} s; CPU "
                f"{timing.get('memory_cpu', 0):.2f} s; load {timing['load']:.1f} s once), "
                f"{timing['files']:.2f} s from files"
            )
            figure = f"DuckDB {name} at {found['answers']:,} answers"
            target = f"<= {TARGET_QUERY_SECONDS:g} s"
            verdict = OK if seconds <= TARGET_QUERY_SECONDS else OVER
            rows.append(Row("analytics", figure, value, target, verdict, seconds, "s"))
    if cost := result.get("cost"):
        value = (
            f"USD {cost['usd_total']:.2f} (export {cost['usd_export']:.2f} + 730 days "
            f"storage {cost['usd_storage_730_days']:.2f})"
        )
        figure = "lake export cost per 1,000,000 answers (modelled)"
        rows.append(Row("analytics", figure, value, number=cost["usd_total"], unit="USD"))
    return rows


def run(
    sizes: tuple[int, ...] = (100_000, 1_000_000), lag_answers: int = 10, skip_stack: bool = False
) -> dict[str, Any]:
    """skip_stack: the DuckDB figures only."""
    result: dict[str, Any] = {}
    if not skip_stack:
        print("local stack: the demo flow, then export lag ...", flush=True)
        result.update(local_figures(lag_answers))
        cost = result["cost"] = cost_model(result["demo"])
        rows = [*cost["usd"].items(), ("storage, 730 days", cost["usd_storage_730_days"])]
        print_table("export cost per 1,000,000 answers in a month", ("USD", ""), rows, "lr")
    print("DuckDB over generated answers ...", flush=True)
    result["duckdb"] = [duckdb_figures(size) for size in sizes]
    return result


if __name__ == "__main__":
    sys.exit(cli(run))
