"""The named queries, kept once in template.yaml in Athena's dialect, translated to DuckDB by
sqlglot (tools/lake_sql.py) and run on lake objects made here: each answers its question,
counts every entity once in its latest version (a row written twice, or an older version,
changes nothing), and computes its 95 % intervals as the report does (report/stats.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from survey_core.lake.objects import encode
from survey_core.report.stats import ces_stats, csat_stats, nps_stats, wilson

from tools.lake_sql import (
    PARAMETERS,
    catalogue,
    connect,
    duckdb_type,
    placeholders,
    run,
    tables_read,
    to_duckdb,
    wanted,
)

pytestmark = pytest.mark.unit

CATALOGUE = catalogue()
QUERIES = CATALOGUE.queries
WEEK = ("2026-11-16", "2026-11-22")  # Monday to Sunday


def write(root: Path, table: str, dt: str, rows: list[dict[str, Any]]) -> None:
    lake_object = encode(table, dt, rows)
    path = root / lake_object.key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lake_object.body)


def answer(
    invitation: str, scores: dict[str, int], *, day: str = "2026-11-17", **extra: Any
) -> dict[str, Any]:
    segment = extra.pop("segment", {"businessArea": "webshop"})
    keys = ["all", *(f"{k}={v}" for k, v in sorted(segment.items()))]
    return {
        "invitation_id": invitation,
        "revision": 1,
        "survey_id": "post-purchase" if "nps" in scores else "service-contact",
        "customer": f"p-{invitation}",
        "channel": "web",
        "answered_at": f"{day}T10:00:00Z",
        "first_answered_at": f"{day}T10:00:00Z",
        "counted_day": day,
        "scores": scores,
        "has_comment": False,
        "segment": segment,
        "segment_keys": keys,
        **extra,
    }


def result(root: Path, name: str, period: tuple[str, str] = WEEK) -> list[dict[str, Any]]:
    return run(connect(root, CATALOGUE.tables), QUERIES[name], *period).dicts()


def test_the_template_names_the_four_questions_each_taking_the_period() -> None:
    assert set(QUERIES) == {
        "scores_by_week_and_segment",
        "response_rate_by_channel_and_step",
        "callback_sla_by_team",
        "detractors_who_churned",
    }
    for query in QUERIES.values():
        assert placeholders(query.sql) == PARAMETERS, query.name
        translated = to_duckdb(query.sql)
        assert translated.count("?") == PARAMETERS, query.name
        assert "element_at" not in translated.lower()  # Trino's, translated


def test_glue_types_become_duckdb_types() -> None:
    assert duckdb_type("map<string,int>") == "MAP(TEXT, INT)"
    assert duckdb_type("array<string>") == "TEXT[]"
    assert duckdb_type("bigint") == "BIGINT"
    columns = dict(CATALOGUE.tables["responses"].columns)
    assert columns["scores"] == "map<string,int>"


def test_every_query_runs_on_an_empty_lake(tmp_path: Path) -> None:
    for name in QUERIES:
        assert result(tmp_path, name) == [], name


def test_nps_by_week_counts_the_latest_revision_once_with_the_reports_interval(
    tmp_path: Path,
) -> None:
    # Given three answers; the first changed from 2 to 9 (two revisions, the first row written
    # twice as a replayed batch would), and one answer of the week after
    first = answer("i1", {"nps": 2})
    rows = [first, first, {**first, "revision": 2, "scores": {"nps": 9}}]
    rows += [answer("i2", {"nps": 6}, segment={"businessArea": "store"}), answer("i3", {"nps": 10})]
    write(tmp_path, "responses", "2026-11-17", rows)
    write(tmp_path, "responses", "2026-11-23", [answer("i4", {"nps": 0}, day="2026-11-23")])
    # When the week's scores are asked
    found = {r["segment"]: r for r in result(tmp_path, "scores_by_week_and_segment")}
    # Then each answer counts once, as its latest revision: 9, 6 and 10
    expected = nps_stats({9: 1, 6: 1, 10: 1}).score
    everyone = found["all"]
    assert (everyone["n"], everyone["promoters"], everyone["detractors"]) == (3, 2, 1)
    assert everyone["value"] == pytest.approx(round(expected.value, 2))
    assert (everyone["ci_low"], everyone["ci_high"]) == pytest.approx(
        (round(expected.low, 2), round(expected.high, 2))
    )
    assert everyone["shown"] is expected.shown is False  # three answers: "too few answers"
    assert str(everyone["week_start"]) == "2026-11-16"
    assert found["businessArea=webshop"]["n"] == 2 and found["businessArea=store"]["n"] == 1
    assert set(found) == {"all", "businessArea=webshop", "businessArea=store"}


def test_csat_and_ces_have_their_own_values_and_intervals(tmp_path: Path) -> None:
    scores = [{"csat": 5, "ces": 7}, {"csat": 4, "ces": 2}, {"csat": 2, "ces": 6}]
    write(
        tmp_path, "responses", "2026-11-18",
        [answer(f"s{n}", s, day="2026-11-18", segment={}) for n, s in enumerate(scores)],
    )  # fmt: skip
    found = {r["metric"]: r for r in result(tmp_path, "scores_by_week_and_segment")}
    csat = csat_stats({5: 1, 4: 1, 2: 1})
    assert found["csat"]["value"] == pytest.approx(round(csat.satisfied.value, 2))
    assert (found["csat"]["ci_low"], found["csat"]["ci_high"]) == pytest.approx(
        (round(csat.satisfied.low, 2), round(csat.satisfied.high, 2))
    )
    assert found["csat"]["satisfied"] == 2 and found["csat"]["promoters"] is None
    ces = ces_stats({7: 1, 2: 1, 6: 1})
    assert found["ces"]["value"] == pytest.approx(round(ces.mean.value, 2))
    assert (found["ces"]["ci_low"], found["ces"]["ci_high"]) == pytest.approx(
        (round(ces.mean.low, 2), round(ces.mean.high, 2))
    )
    assert found["ces"]["high_effort"] == 1
    assert found["ces"]["ci_high"] <= 7  # inside the scale


def message(invitation: str, attempt: int, rung: int, channel: str, **extra: Any) -> dict:
    day = extra.pop("day", "2026-11-17")
    return {
        "invitation_id": invitation,
        "version": extra.pop("version", "1"),
        "attempt": attempt,
        "rung": rung,
        "channel": channel,
        "outcome": extra.pop("outcome", "sent"),
        "delivered": extra.pop("delivered", True),
        "sent_at": extra.pop("sent_at", f"{day}T0{attempt}:00:00Z"),
        "sent_day": day,
        "survey_id": "post-purchase",
        "segment_keys": ["all"],
        **extra,
    }


@pytest.mark.parametrize("recorded", [True, False], ids=["recorded-with-answer", "older-answers"])
def test_response_rate_by_channel_and_step_attributes_each_answer_once(
    tmp_path: Path, recorded: bool
) -> None:
    # Given: i1 emailed, answered on the page before the reminder; i2 emailed, then its SMS
    # reminder, answered by replying; i3 emailed (refused: withdrawn later) and not answered;
    # i4 emailed the week before the period, its reminder in the period, answered in the period.
    # Answers carry the channel and step they came after (answered_via, after_step) and
    # messages whether they were the invitation's first (on their channel, at all); or, exported
    # before those were recorded, the query finds them from the messages: the same result.
    def after(via: str, step: int) -> dict[str, Any]:
        return {"answered_via": via, "after_step": step} if recorded else {}

    def first(on_channel: bool, at_all: bool) -> dict[str, Any]:
        return {"first_on_channel": on_channel, "first_at_all": at_all} if recorded else {}

    write(tmp_path, "messages", "2026-11-17", [
        message("i1", 0, 0, "email", **first(True, True)),
        message("i2", 0, 0, "email", **first(True, True)),
        message("i2", 1, 1, "sms", sent_at="2026-11-17T05:00:00Z", **first(True, False)),
        message("i3", 0, 0, "email", version="1", outcome="sending", **first(True, True)),
        message("i3", 0, 0, "email", version="2", outcome="failed", delivered=False,
                **first(False, False)),
        message("i4", 1, 1, "email", **first(False, False)),
    ])  # fmt: skip
    write(tmp_path, "messages", "2026-11-10", [
        message("i4", 0, 0, "email", day="2026-11-10", **first(True, True))
    ])  # fmt: skip
    write(tmp_path, "responses", "2026-11-17", [
        answer("i1", {"nps": 9}, first_answered_at="2026-11-17T02:00:00Z", **after("email", 0)),
        answer("i2", {"nps": 8}, channel="sms", first_answered_at="2026-11-17T06:00:00Z",
               **after("sms", 1)),
        answer("i4", {"nps": 3}, first_answered_at="2026-11-17T03:00:00Z", **after("email", 1)),
    ])  # fmt: skip
    rows = [
        r for r in result(tmp_path, "response_rate_by_channel_and_step") if r["segment"] == "all"
    ]
    steps = {(r["channel"], r["step"]): r for r in rows}
    # Then the period's messages that count as sent: 3 invitation emails, the SMS, i4's reminder
    assert steps[("email", 0)]["messages"] == 2  # i3's was refused
    assert steps[("email", 1)]["messages"] == 1
    assert steps[("sms", 1)]["messages"] == 1
    # first on their channel: i1's and i2's emails and i2's SMS (i4's first email came earlier)
    assert sum(r["invitations_reached"] for r in rows if r["channel"] == "email") == 2
    assert sum(r["first_messages"] for r in rows) == 2
    # answers: i1 after the invitation email, i2 by SMS after the reminder, i4 after its reminder
    assert steps[("email", 0)]["answers"] == 1
    assert steps[("sms", 1)]["answers"] == 1 and steps[("email", 1)]["answers"] == 1
    assert steps[("email", 0)]["response_rate_pct"] == 50.0
    rate = wilson(1, 2)
    assert (steps[("email", 0)]["ci_low"], steps[("email", 0)]["ci_high"]) == pytest.approx(
        (round(rate.low, 2), round(rate.high, 2))
    )


def test_an_answer_counts_under_the_step_recorded_with_it_without_its_messages(
    tmp_path: Path,
) -> None:
    # Given: an answer that came after the second reminder's email, whose messages are older
    # than the query reads (or lost): only the answer says where it stands in the ladder
    write(tmp_path, "responses", "2026-11-17", [
        answer("i1", {"nps": 9}, answered_via="email", after_step=2),
        answer("i2", {"nps": 7}),  # stored before the columns: found from messages (none here)
    ])  # fmt: skip
    # When
    rows = [
        r for r in result(tmp_path, "response_rate_by_channel_and_step") if r["segment"] == "all"
    ]
    # Then: i1 counts at its step; i2, with nothing to place it, is left out as before
    assert [(r["channel"], r["step"], r["messages"], r["answers"]) for r in rows] == [
        ("email", 2, 0, 1)
    ]


def test_a_message_counts_as_reaching_the_invitation_as_its_row_says(tmp_path: Path) -> None:
    # Given the last email of an invitation whose first email went out a month ago (older than
    # the query reads), its row saying it was not the first; and the same row of an older export
    write(tmp_path, "messages", "2026-11-17", [
        message("i1", 2, 2, "email", first_on_channel=False, first_at_all=False),
        message("i2", 2, 2, "email"),
    ])  # fmt: skip
    # When
    rows = [
        r for r in result(tmp_path, "response_rate_by_channel_and_step") if r["segment"] == "all"
    ]
    # Then: i1 reached no invitation in the period; i2, without the flags, is taken for the first
    # of what the query can see (the older exports' limit)
    assert [(r["messages"], r["invitations_reached"], r["first_messages"]) for r in rows] == [
        (2, 1, 1)
    ]


def test_a_step_with_more_answers_than_messages_has_a_rate_but_no_interval(tmp_path: Path) -> None:
    # Given: three invitation emails sent the week before the period, one sent in it, and all
    # four answered in the period: the period's step 0 has 4 answers to 1 message
    write(tmp_path, "messages", "2026-11-10", [
        message(f"i{n}", 0, 0, "email", day="2026-11-10") for n in range(1, 4)
    ])  # fmt: skip
    write(tmp_path, "messages", "2026-11-17", [message("i4", 0, 0, "email")])
    write(tmp_path, "responses", "2026-11-17", [
        answer(f"i{n}", {"nps": 9}, first_answered_at="2026-11-17T12:00:00Z") for n in range(1, 5)
    ])  # fmt: skip
    # When
    rows = result(tmp_path, "response_rate_by_channel_and_step")
    step = next(r for r in rows if r["segment"] == "all" and r["step"] == 0)
    # Then: 400 % answers per message is arithmetic, not a share: no Wilson interval (it was NaN)
    assert (step["messages"], step["answers"], step["response_rate_pct"]) == (1, 4, 400.0)
    assert step["ci_low"] is None and step["ci_high"] is None


def escalation(invitation: str, version: str, **extra: Any) -> dict[str, Any]:
    return {
        "invitation_id": invitation,
        "version": version,
        "survey_id": "service-contact",
        "status": "created",
        "counted_day": "2026-11-17",
        "created_day": "2026-11-17",
        "escalated_at": "2026-11-17T08:00:00Z",
        "sla_hours": 24,
        "outcome": "open",
        "sla": "open",
        "segment_keys": ["all", "touchpoint=service"],
        **extra,
    }


def test_callback_sla_by_team_reads_each_tasks_latest_version(tmp_path: Path) -> None:
    write(tmp_path, "escalations", "2026-11-17", [
        escalation("t1", "1"),
        escalation("t1", "2", outcome="completed", sla="met", seconds_to_agent=600),
        escalation("t2", "1"),
        escalation("t2", "3", outcome="not_reached", sla="missed"),
        escalation("t2", "2", outcome="open"),  # an older version, written late
        escalation("t3", "1"),  # open, and its deadline long past
        escalation("t4", "1", status="requested", counted_day=None),  # no task yet
    ])  # fmt: skip
    teams = {r["team"]: r for r in result(tmp_path, "callback_sla_by_team")}
    service = teams["touchpoint=service"]
    assert (service["tasks"], service["done"], service["completed"]) == (3, 2, 1)
    assert (service["sla_met"], service["sla_missed"], service["open_overdue"]) == (1, 1, 1)
    assert service["sla_met_pct"] == pytest.approx(33.33)
    assert service["minutes_to_agent"] == 10.0


def test_detractors_who_churned_joins_the_churn_table_on_the_pseudonym(tmp_path: Path) -> None:
    write(tmp_path, "responses", "2026-11-17", [
        answer("d1", {"nps": 2}), answer("d2", {"nps": 5}), answer("p1", {"nps": 10}),
        {**answer("e1", {"nps": 1}), "customer": None},  # erased: no pseudonym, not joinable
    ])  # fmt: skip
    churn = [
        {"customer": "p-d1", "churned_on": "2026-12-01"},
        {"customer": "p-p1", "churned_on": "2026-10-01"},  # before the answer: not after it
    ]
    lake_object = encode("churn", "x", churn)
    (tmp_path / "churn").mkdir()
    (tmp_path / "churn" / "list.json.gz").write_bytes(lake_object.body)
    found = {r["category"]: r for r in result(tmp_path, "detractors_who_churned")}
    assert (found["detractor"]["customers"], found["detractor"]["churned"]) == (2, 1)
    assert found["detractor"]["churn_pct"] == 50.0
    assert (found["promoter"]["customers"], found["promoter"]["churned"]) == (1, 0)


def test_loaded_tables_and_views_over_the_files_give_the_same_rows(tmp_path: Path) -> None:
    from bench.analytics import START_DAY, generate

    generate(tmp_path, 2000)
    tables = tables_read(QUERIES.values(), CATALOGUE.tables)
    assert set(tables) == {"responses", "messages", "escalations", "churn"}
    loaded = connect(tmp_path, tables)
    views = connect(tmp_path, tables, materialize=False)
    for name, query in QUERIES.items():
        period = (START_DAY, "2026-09-20")
        assert run(loaded, query, *period).rows == run(views, query, *period).rows, name
        assert run(loaded, query, *period).rows, name


def test_only_the_partitions_a_period_reads_are_fetched() -> None:
    tables = list(CATALOGUE.tables.values())
    assert wanted("responses/dt=2026-11-17/a.json.gz", tables, *WEEK)
    assert wanted("messages/dt=2026-11-02/a.json.gz", tables, *WEEK)  # the lookback
    assert not wanted("messages/dt=2026-10-31/a.json.gz", tables, *WEEK)
    assert not wanted("responses/dt=2026-11-23/a.json.gz", tables, *WEEK)
    assert wanted("churn/list.json.gz", tables, *WEEK)
    assert not wanted("elsewhere/dt=2026-11-17/a.json.gz", tables, *WEEK)
