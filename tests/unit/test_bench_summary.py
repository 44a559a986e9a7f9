"""The pure parts of `python -m bench`: verdicts, tables, the summary rows each benchmark makes
of its figures, the JSON document and cold start's floors."""

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest

from bench import cold_start, collect_cost, lifecycle, packages, report_reads, sam
from bench import summary as s
from bench.__main__ import BENCHES, NAMES, rows_of
from bench.floor import MeasuredPath, against_floor, floor_row, interleave, recorded_calls

pytestmark = pytest.mark.unit


def test_verdict():
    assert s.verdict(1.25, 1.25) == s.OK  # the target is inclusive
    assert s.verdict(1.2501, 1.25) == s.OVER


def test_ratio_text_shows_a_third_decimal_only_where_two_would_hide_the_verdict():
    assert s.ratio_text(2.944, 1.25) == "2.94"
    assert s.ratio_text(1.5026, 1.5) == "1.503"  # over, though 1.50 would read as on target
    assert s.ratio_text(1.4981, 1.5) == "1.498"
    assert s.ratio_text(1.5, 1.5) == "1.50"


def test_worst_verdict():
    assert s.worst([s.OK, s.INFO]) == s.OK
    assert s.worst([s.INFO]) == s.INFO
    assert s.worst([s.OK, s.OVER, s.INFO]) == s.OVER
    assert s.worst([s.OVER, s.FAILED]) == s.FAILED
    assert s.worst([s.FAILED, s.ERROR, s.OK]) == s.ERROR


def test_stats_and_units():
    stats = s.stats_ms([3.0, 1.0, 2.0, 10.0])
    assert stats["median_ms"] == 2.5
    assert (stats["min_ms"], stats["max_ms"]) == (1.0, 10.0)
    assert s.human_bytes(512) == "512 B"
    assert s.human_bytes(54 * 1024 * 1024) == "54.0 MB"
    assert s.human_ms(312.4) == "312 ms"
    assert s.human_ms(1500) == "1.50 s"


def test_format_table_pads_and_aligns():
    table = s.format_table(("name", "ms"), [("a", "1"), ("longer", "100")], align="lr")
    assert table.splitlines() == [
        "| name   |  ms |",
        "| ------ | --: |",
        "| a      |   1 |",
        "| longer | 100 |",
    ]
    with pytest.raises(ValueError):
        s.format_table(("a", "b"), [("only one",)])


def test_summary_table_columns():
    rows = [s.Row("x", "figure one", "1.00x", "<= 1.25x", s.OK)]
    header, _rule, line = s.summary_table(rows).splitlines()
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "figure",
        "value",
        "target",
        "verdict",
    ]
    assert "figure one" in line and "ok" in line


def test_document_is_json_with_summary_and_benches():
    rows = [
        s.Row("packages", "package A", "1 KB", "<= 250 MB", s.OK, 1024, "bytes"),
        s.Row("cold_start", "cold start A", "3.00x", "<= 1.25x", s.OVER, 3.0, "x floor"),
    ]
    doc = s.document(
        machine={"cpu_count": 2},
        benches={"packages": {"ok": True, "seconds": 1.0, "result": {"functions": {}}}},
        rows=rows,
        command=["python", "-m", "bench"],
        quick=False,
        started=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        finished=datetime(2026, 11, 24, 10, 5, tzinfo=UTC),
    )
    loaded = json.loads(json.dumps(doc))
    assert loaded["schema_version"] == s.SCHEMA_VERSION
    assert loaded["verdict"] == s.OVER
    assert loaded["started"] == "2026-11-24T10:00:00+00:00"
    assert set(loaded) >= {"machine", "summary", "benches", "command", "quick", "finished"}
    assert loaded["summary"][1] == {
        "bench": "cold_start",
        "figure": "cold start A",
        "value": "3.00x",
        "target": "<= 1.25x",
        "verdict": s.OVER,
        "number": 3.0,
        "unit": "x floor",
    }


def test_a_bench_that_did_not_run_is_an_error_row():
    [row] = rows_of("trigger_cost", {"ok": False, "error": "exit code 1, no figures"})
    assert row.verdict == s.ERROR
    assert "exit code 1" in row.value
    [row] = rows_of("trigger_cost", {"ok": True, "result": {"not": "the shape"}})
    assert row.verdict == s.ERROR and row.value.startswith("summary failed")


def test_every_bench_has_a_module_with_summary_and_quick_arguments():
    assert set(NAMES) == {
        "cold_start",
        "packages",
        "trigger_cost",
        "collect_cost",
        "report_reads",
        "lifecycle",
        "cost_model",
        "e2e",
        "analytics",
    }
    report = next(b for b in BENCHES if b.name == "report_reads")
    assert report.args == ("--sizes", "1000", "10000", "100000")


# ---------------------------------------------------------------- cold start


def _cold_start_result(function_ms: float) -> dict:
    floor = {"median_ms": 100.0}
    ratio = function_ms / 100.0
    over = s.verdict(ratio, cold_start.TARGET_RATIO)
    return {
        "modes": [cold_start.CACHED],
        "floor": {"module": "boto3", cold_start.CACHED: floor},
        "functions": {
            "TriggerFunction": {
                cold_start.CACHED: {"median_ms": function_ms},
                "ratio": {cold_start.CACHED: ratio},
                "judged_against": "import boto3",  # no client floor measured
                "judged_ratio": {cold_start.CACHED: ratio},
                "verdict": over,
            }
        },
    }


def test_cold_start_summary_rows():
    floor_row_, function_row = cold_start.summary(_cold_start_result(300.0))
    assert floor_row_.figure == "cold start floor: import boto3"
    assert function_row.figure == "cold start TriggerFunction"
    assert function_row.verdict == s.OVER
    assert function_row.number == pytest.approx(3.0)
    assert "3.00x (300 ms)" in function_row.value
    [_, ok_row] = cold_start.summary(_cold_start_result(120.0))
    assert ok_row.verdict == s.OK


def test_a_function_is_judged_against_boto3_and_its_own_clients():
    # Given a function of 300 ms: 3x boto3 alone, 1.2x boto3 + its clients, 1.1x its libraries
    result = _cold_start_result(300.0)
    function = result["functions"]["TriggerFunction"]
    function.update(
        judged_against="boto3 + dynamodb, sqs",
        judged_ratio={cold_start.CACHED: 1.2},
        ratio_to_library_floor={cold_start.CACHED: 1.1},
        verdict=s.OK,
    )
    # Then its row shows and judges the ratio to its own floor, with the libraries' beside it
    [_, row, *_] = cold_start.summary(result)
    assert row.target == "<= 1.25x boto3 + dynamodb, sqs"
    assert row.number == pytest.approx(1.2) and row.verdict == s.OK
    assert row.value == "cached 1.20x (300 ms); cached 1.10x all it imports but our code"


def test_figures_judge_each_function_by_boto3_and_its_own_clients():
    # Given boto3 alone at 100 ms, boto3 + the trigger's clients at 200 ms, the trigger at 260
    clients = ("dynamodb", "sqs")
    interpreter = cold_start.Interpreter("python3.13", "3.13.0", "x86_64")
    layout = cold_start.Layout("", interpreter, [], (cold_start.CACHED,))
    layout.clients["TriggerFunction"] = clients
    samples = {
        name: {cold_start.CACHED: [ms, ms]}
        for name, ms in (
            (cold_start.FLOOR, 100.0),
            (cold_start.client_floor_name(clients), 200.0),
            (cold_start.library_floor_name("TriggerFunction"), 250.0),
            ("TriggerFunction", 260.0),
        )
    }
    function = sam.Function("TriggerFunction", "functions/trigger/", "handler.handler", 512, {})
    # When the figures are made
    [trigger] = cold_start.figures(layout, samples, {}, [function], 2)["functions"].values()
    # Then it is over 1.25x its own floor (1.3x), not judged by boto3 alone (2.6x)
    assert trigger["ratio"] == {cold_start.CACHED: 2.6}
    assert trigger["judged_against"] == "boto3 + dynamodb, sqs"
    assert trigger["judged_ratio"] == {cold_start.CACHED: 1.3}
    assert trigger["verdict"] == s.OVER
    # And beside it, the ratio to its libraries
    assert trigger["ratio_to_library_floor"] == {cold_start.CACHED: 1.04}


def test_foreign_extension_modules_are_found_by_their_elf_machine(tmp_path):
    dist_info = tmp_path / "demo-1.2.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: Demo\nVersion: 1.2\n\n")
    (dist_info / "RECORD").write_text("demo/_speed.cpython-313-aarch64-linux-gnu.so,,\n")
    (tmp_path / "demo").mkdir()
    elf = bytearray(b"\x7fELF\x02\x01" + bytes(12) + (183).to_bytes(2, "little"))
    (tmp_path / "demo" / "_speed.cpython-313-aarch64-linux-gnu.so").write_bytes(bytes(elf))
    assert cold_start.foreign_distributions(tmp_path, "x86_64") == ["Demo==1.2"]
    assert cold_start.foreign_distributions(tmp_path, "aarch64") == []


# ---------------------------------------------------------------- the other benchmarks


def test_against_floor_figures_and_row():
    measured = MeasuredPath("trigger", Counter(GetItem=6, PutItem=4), [2.0, 2.0, 2.0, 2.0, 2.0])
    floor = MeasuredPath("floor", Counter(GetItem=5), [1.0, 1.0, 1.0, 1.0, 1.0])
    figures = against_floor(measured, floor, 1.5)
    assert figures["ratio_median"] == 2.0
    assert figures["verdict"] == s.OVER
    assert figures["measured"]["calls_each"] == 2.0
    assert figures["floor"]["calls_each"] == 1.0
    row = floor_row("trigger_cost", "trigger cost per event", figures)
    assert row.verdict == s.OVER and row.number == 2.0
    assert row.target == "<= 1.5x floor (median)"


def test_the_answer_outbox_requests_are_told_apart_by_invitation_and_judged_by_their_floor():
    # Given the outbox's three requests about one answer, as the local stack records them
    detail = json.dumps({"invitationId": "bench-1"})
    calls = [
        {"operation": "GetItem", "params": {"Key": {"invitation_id": {"S": "bench-1#wait"}}}},
        {"operation": "SendTaskSuccess", "params": {"taskToken": "bench-token-bench-1"}},
        {"operation": "PutEvents", "params": {"Entries": [{"Detail": detail}]}},
    ]
    # Then each is about that invitation
    assert {collect_cost._invitation_of(c) for c in calls} == {"bench-1"}
    # and a fourth request per answer would be over its floor
    figures = against_floor(
        MeasuredPath("post", Counter(GetItem=2), [2.0] * 5),
        MeasuredPath("floor", Counter(GetItem=2), [2.0] * 5),
        1.5,
    )
    for calls_each, expected in ((3.0, s.OK), (4.0, s.OVER)):
        outbox = {"calls_each": calls_each, "floor_calls_each": 3}
        post, consequences = collect_cost.summary({**figures, "outbox_per_answer": outbox})
        assert post.verdict == s.OK
        assert (consequences.number, consequences.verdict) == (calls_each, expected)


def _stubbed_dynamodb():
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client(
        "dynamodb", region_name="eu-north-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def test_a_path_counts_each_api_call_it_makes_once_per_repetition():
    client, stub = _stubbed_dynamodb()
    for _ in range(4):  # the warm-up (not counted), then three repetitions
        stub.add_response("get_item", {"Item": {"id": {"S": "a"}}})
    with stub:
        [path] = interleave({"read": lambda n: client.get_item(TableName="t", Key={})}, 3)
    assert path.requests == Counter(GetItem=3) and len(path.timings_ms) == 3
    stub.assert_no_pending_responses()


def test_the_stack_settles_before_each_timed_step_and_its_wait_is_not_timed(monkeypatch):
    # Given two paths whose steps take no time, and a settle that takes 50 s of a fake clock
    import bench.floor

    clock = [0.0]
    monkeypatch.setattr(bench.floor.time, "perf_counter", lambda: clock[0])
    happened: list[str] = []

    def settle() -> None:
        happened.append("settle")
        clock[0] += 50.0

    paths = {p: (lambda n, p=p: happened.append(f"{p}{n}")) for p in ("a", "b")}
    measured = interleave(paths, 2, settle=settle)
    # Then the warm-up runs first, then each timed step comes right after a settle
    assert happened == [
        "a-1",
        "b-1",
        "settle",
        "a0",
        "settle",
        "b0",
        "settle",
        "a1",
        "settle",
        "b1",
    ]
    # And no step's time holds the settle's
    assert [path.timings_ms for path in measured] == [[0.0, 0.0], [0.0, 0.0]]


def test_report_reads_count_the_items_dynamodb_read_for_each_call():
    client, stub = _stubbed_dynamodb()
    stub.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 5})
    stub.add_response("get_item", {"Item": {"id": {"S": "a"}}})
    stub.add_response("get_item", {})  # not found: nothing read
    batch = {"Responses": {"t": [{"id": {"S": "a"}}, {"id": {"S": "b"}}]}}
    stub.add_response("batch_get_item", batch)
    with stub, recorded_calls() as calls:
        client.query(TableName="t", KeyConditionExpression="id = :a")
        client.get_item(TableName="t", Key={})
        client.get_item(TableName="t", Key={})
        client.batch_get_item(RequestItems={"t": {"Keys": [{}, {}]}})
    assert [c["operation"] for c in calls] == ["Query", "GetItem", "GetItem", "BatchGetItem"]
    assert calls[0]["params"]["TableName"] == "t"
    assert report_reads.items_read(calls) == 5 + 1 + 0 + 2


def test_report_reads_rows_compare_each_size_with_the_first():
    result = {
        "target_ratio": 1.1,
        "sizes": [
            {"responses": 1000, "items_read": 341, "report_ms": 500.0, "ratio_to_first": 1.0,
             "verdict": s.INFO},
            {"responses": 100_000, "items_read": 400, "report_ms": 900.0,
             "ratio_to_first": 1.173, "verdict": s.OVER},
        ],
    }  # fmt: skip
    first, last = report_reads.summary(result)
    assert first.verdict == s.INFO and first.target == "-"
    assert last.figure == "report items read at 100,000 responses"
    assert last.verdict == s.OVER and "1.17x" in last.value


def test_lifecycle_rows_hold_the_standard_scenarios_to_four():
    scenarios = {
        name: {"emails": 1, "sms": 0, "transitions": transitions, "status": "answered"}
        for name, transitions in (
            ("answered after the invitation", 2),
            ("never answered", 9),
            ("invitation email bounced, never answered", 11),
        )
    }
    rows = {r.figure: r for r in lifecycle.summary({"scenarios": scenarios})}
    assert rows["state transitions: answered after the invitation"].verdict == s.OK
    assert rows["state transitions: never answered"].verdict == s.OVER
    bounced = rows["state transitions: invitation email bounced, never answered"]
    assert (bounced.verdict, bounced.target) == (s.INFO, "-")


def test_the_library_floor_leaves_out_our_code_only() -> None:
    """bench.cold_start: our code is survey_core and the modules and packages of the function's
    folder in the repository; what its build installs beside them (Chalice) is a library."""
    collect = sam.REPO_ROOT / "functions" / "collect"
    ours = cold_start.our_modules(collect)
    assert {"survey_core", "app", "sms", "collect_requests"} <= ours
    assert "chalice" not in ours
    loaded = ["survey_core", "jinja2", "collect_requests", "_json", "survey_core.logic.collect"]
    loaded += ["zoneinfo", "chalice.app", "sms"]
    assert cold_start.not_ours(ours, loaded) == ["jinja2", "_json", "zoneinfo", "chalice.app"]


def test_the_measured_import_names_each_client_once(tmp_path):
    # Given a module that makes one S3 client (which keeps a weak proxy of itself) and one SQS
    (tmp_path / "made.py").write_text(
        "import boto3\n"
        "S3 = boto3.client('s3', region_name='eu-north-1')\n"
        "SQS = boto3.client('sqs', region_name='eu-north-1')\n",
        encoding="utf-8",
    )
    environment = {
        "PYTHONPATH": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    # When bench.cold_start's measurement imports it
    done = subprocess.run(  # this interpreter, a fixed script
        [sys.executable, "-c", cold_start.MEASURE, "made"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    # Then each client is named once
    assert json.loads(done.stdout.splitlines()[-1])["clients"] == ["s3", "sqs"]


def test_what_our_code_adds_is_judged_in_every_mode_at_the_issues_ratio():
    # Given two functions measured in both modes, one 1.30x its libraries as shipped
    result = _cold_start_result(300.0)
    result["modes"] = [cold_start.CACHED, cold_start.SHIPPED]
    result["floor"][cold_start.SHIPPED] = {"median_ms": 110.0}
    base = result["functions"]["TriggerFunction"]
    for name, cached, shipped in (("TriggerFunction", 1.02, 1.1), ("SendFunction", 1.08, 1.3)):
        result["functions"][name] = {
            **base,
            cold_start.SHIPPED: {"median_ms": 320.0},
            "judged_ratio": {cold_start.CACHED: 1.2, cold_start.SHIPPED: 1.2},
            "ratio_to_client_floor": {cold_start.CACHED: 1.2, cold_start.SHIPPED: 1.2},
            "ratio_to_library_floor": {cold_start.CACHED: cached, cold_start.SHIPPED: shipped},
        }
    # When the summary is made
    rows = {r.figure: r for r in cold_start.summary(result)}
    # Then the libraries' row shows each mode's range and is over on the worst of them
    ours = rows["cold start vs all it imports but our code (survey_core, its folder)"]
    assert ours.value == "cached 1.02-1.08x / as shipped 1.10-1.30x"
    assert ours.verdict == s.OVER and ours.number == pytest.approx(1.3)
    assert ours.target.startswith("<= 1.25x")
    # And within when every mode is
    result["functions"]["SendFunction"]["ratio_to_library_floor"][cold_start.SHIPPED] = 1.2
    rows = {r.figure: r for r in cold_start.summary(result)}
    assert rows[ours.figure].verdict == s.OK
    # While the clients' floor is shown, not judged here (each function's row judges it)
    clients = rows["cold start vs import boto3 + the function's own clients"]
    assert clients.verdict == s.INFO
    assert clients.value == "cached 1.20-1.20x / as shipped 1.20-1.20x"


# ---------------------------------------------------------------- packages


def _packages_result(layer_bytes: int, bench_lines: int) -> dict:
    return {
        "limit_unzipped_bytes": packages.LIMIT_UNZIPPED,
        "layer": {"unzipped_bytes": layer_bytes, "zipped_bytes": 1, "limit_bytes": 15 * 2**20},
        "functions": {},
        "source_lines": {"bench_lines": bench_lines, "product_lines": 10_000, "share_limit": 0.2},
    }


def test_the_layer_is_judged_at_15_mb_and_bench_at_a_fifth_of_the_product_code():
    # Given a layer of 14 MB and a bench of 1,800 lines against 10,000 of product code
    layer, lines = packages.summary(_packages_result(14 * 2**20, 1_800))
    # Then both are within, with what they are judged against
    assert (layer.target, layer.verdict) == ("<= 15.0 MB", s.OK)
    assert lines.value == "1,800 / 10,000 lines (18%)" and lines.verdict == s.OK
    assert lines.number == pytest.approx(0.18)
    # And over when the layer grows past 15 MB or bench/ past a fifth
    layer, lines = packages.summary(_packages_result(16 * 2**20, 2_100))
    assert layer.verdict == s.OVER and lines.verdict == s.OVER


def test_source_lines_count_python_files_as_wc_does(tmp_path):
    # Given a bench/ and the product code's two folders, with a file that is not Python
    for path, text in (
        ("bench/a.py", "one\ntwo\n"),
        ("bench/sub/b.py", "three\n"),
        ("bench/prices.json", "{}\n{}\n"),
        ("layers/survey_core/survey_core/c.py", "1\n2\n3\n4\n"),
        ("functions/trigger/handler.py", "5\n"),
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    # Then only the .py lines count
    found = packages.source_lines(tmp_path)
    assert (found["bench_lines"], found["product_lines"]) == (3, 5)
