"""The survey catalogue: the shipped file is valid, and every problem in a bad one is named
with the file, the path in it and what is wrong."""

import copy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from survey_core import yaml_file
from survey_core.catalogue import (
    CATALOGUE_PATH,
    CatalogueError,
    digest,
    load_catalogue,
    parse_catalogue,
    read_catalogue,
    stamp_path,
)

pytestmark = pytest.mark.unit

LAYER = CATALOGUE_PATH.parents[1]
SHIPPED: dict[str, Any] = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))


def _problems(change: Any) -> list[str]:
    raw = copy.deepcopy(SHIPPED)
    change(raw)
    with pytest.raises(CatalogueError) as raised:
        parse_catalogue(raw, "catalogue.yaml")
    return raised.value.problems


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    """The check command, as make check-catalogue and make deploy run it."""
    return subprocess.run(
        [sys.executable, "-m", "survey_core.catalogue", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=LAYER,
    )


def test_shipped_catalogue_loads_with_defaults_applied() -> None:
    catalogue = load_catalogue()
    purchase = catalogue.get("post-purchase")
    assert purchase.primary_metric == "nps"
    assert [r.channel for r in purchase.ladder] == ["email", "sms", "email"]
    assert [r.after for r in purchase.ladder] == [
        timedelta(0),
        timedelta(hours=24),
        timedelta(hours=72),
    ]
    assert purchase.expires_after == timedelta(hours=72)
    assert purchase.trigger is not None and purchase.trigger.delay == timedelta(hours=2)
    assert purchase.fatigue_days == 14  # the default
    service = catalogue.get("service-contact")
    assert service.metrics == ("csat", "ces")
    assert service.fatigue_days == 7  # its own override
    assert str(service.time_zone) == "Europe/Helsinki"
    assert catalogue.inactivity_days == (90,)
    assert catalogue.get("relationship").recurring is not None


def test_every_question_exists_in_every_language() -> None:
    catalogue = load_catalogue()
    for survey in catalogue.surveys:
        for metric in survey.metrics:
            for language in ("fi", "sv", "en"):
                assert "{company}" not in survey.question(metric, language, "Example Oy")


def test_a_survey_that_left_the_catalogue_still_has_a_question() -> None:
    question = load_catalogue().question("retired-survey", "nps", "sv")
    assert "Example Oy" in question


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["surveys"][0]["ladder"][0].update(channel="fax"),
            "catalogue.yaml: $.surveys[0].ladder[0].channel: must be one of ['email', 'sms']",
        ),
        (
            lambda c: c["surveys"][0]["ladder"][1].pop("afterHours"),
            "catalogue.yaml: $.surveys[0].ladder[1]: missing required afterHours",
        ),
        (
            lambda c: c["surveys"][1].update(sampling=1.5),
            "catalogue.yaml: $.surveys[1].sampling: violates maximum 1",
        ),
        (
            lambda c: c["surveys"][0].update(metrics=["nps", "csat", "ces"]),
            "catalogue.yaml: $.surveys[0].metrics: violates maxItems 2",
        ),
        (
            lambda c: c["surveys"][0]["questions"]["nps"].pop("sv"),
            "catalogue.yaml: $.surveys[0].questions.nps: missing required sv",
        ),
        (
            lambda c: c["defaults"].update(quietHours={"start": "21:00", "end": "8:00"}),
            "catalogue.yaml: $.defaults.quietHours.end: does not match the required pattern",
        ),
        (
            lambda c: c["surveys"][2].update(colour="red"),
            "catalogue.yaml: $.surveys[2]: unexpected colour",
        ),
    ],
)
def test_schema_problems_name_file_path_and_problem(change: Any, expected: str) -> None:
    assert expected in _problems(change)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["defaults"].update(timeZone="Europe/Helsinky"),
            "catalogue.yaml: $.defaults.timeZone: unknown time zone 'Europe/Helsinky'",
        ),
        (
            lambda c: c["surveys"][1].update(id="post-purchase"),
            "catalogue.yaml: $.surveys[1].id: duplicate survey id 'post-purchase'",
        ),
        (
            lambda c: c["surveys"][1]["questions"].pop("ces"),
            "catalogue.yaml: $.surveys[1].questions: missing the question for metric ces",
        ),
        (
            lambda c: c["surveys"][0]["escalation"]["scores"].update(csat=2),
            "catalogue.yaml: $.surveys[0].escalation.scores.csat: csat is not one of the metrics",
        ),
        (
            lambda c: c["surveys"][1]["trigger"].update(filter={"segment.region": ["north"]}),
            "catalogue.yaml: $.surveys[1].trigger.filter.segment.region: "
            "Service Contact Closed events have no field segment.region",
        ),
        (
            lambda c: c["surveys"][1]["ladder"][1].update(channel="sms"),
            "catalogue.yaml: $.surveys[1].ladder[1].channel: a reminder must use another channel "
            "than the message before it",
        ),
        (
            lambda c: c["surveys"][0]["ladder"].extend(
                [{"channel": "sms", "afterHours": 24}, {"channel": "email", "afterHours": 24}]
            ),
            "catalogue.yaml: $.surveys[0].ladder: violates maxItems 4",
        ),
        (
            lambda c: c["surveys"][2]["trigger"].pop("inactivityDays"),
            "catalogue.yaml: $.surveys[2].trigger: Customer Inactive surveys need inactivityDays",
        ),
        (
            lambda c: c["surveys"][0].update(quietHours={"start": "22:00", "end": "22:00"}),
            "catalogue.yaml: $.surveys[0].quietHours: start and end are the same time "
            "(never sending)",
        ),
        (
            lambda c: c["brand"].update(colour="#66aaff"),
            "catalogue.yaml: $.brand.colour: #66aaff has 2.4:1 contrast with white text; at "
            "least 4.5:1 is needed (choose a darker colour)",
        ),
        (
            lambda c: c["brand"].update(logo="missing.svg"),
            "catalogue.yaml: $.brand.logo: no file missing.svg beside the catalogue",
        ),
        (
            lambda c: c["surveys"][3]["recurring"]["window"].update(start="19:00"),
            "catalogue.yaml: $.surveys[3].recurring.window: must end after it starts, "
            "on the same day",
        ),
    ],
)
def test_rule_problems_name_file_path_and_problem(change: Any, expected: str) -> None:
    assert expected in _problems(change)


def test_all_problems_are_reported_at_once() -> None:
    def break_twice(c: dict[str, Any]) -> None:
        c["surveys"][0]["ladder"][0]["channel"] = "fax"
        c["surveys"][1]["sampling"] = -1

    assert len(_problems(break_twice)) == 2


def test_unreadable_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("version: 1\nsurveys: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"catalogue.yaml: line 3 is not valid YAML"):
        read_catalogue(bad)


def test_the_check_command_fails_with_the_problems_on_stderr(tmp_path: Path) -> None:
    # The same command `make check-catalogue` and `make deploy` run.
    broken = copy.deepcopy(SHIPPED)
    broken["surveys"][0]["sampling"] = 2
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = _check(str(path))
    assert result.returncode == 1
    assert f"{path}: $.surveys[0].sampling: violates maximum 1" in result.stderr
    ok = _check()
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("name", ["catalogue.yaml", "report/reports.yaml"])
def test_libyaml_and_pure_python_read_the_shipped_files_alike(name: str) -> None:
    # Given the loader the layer uses (libyaml's, as PyYAML's wheels have it)

    assert yaml_file.SafeLoader is yaml.CSafeLoader
    text = (CATALOGUE_PATH.parent / name).read_text(encoding="utf-8")
    # Then it reads the shipped files exactly as PyYAML's pure-Python safe loader does
    assert yaml_file.parse_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader)


# The stamp: a catalogue that passed the whole check is not checked again at a cold start.


def test_the_shipped_catalogue_carries_the_stamp_of_its_check() -> None:
    # Refreshed by make check-catalogue (make test, make build, make deploy); a stale stamp
    # costs only speed: the functions would check the catalogue in full.
    stamp = stamp_path(CATALOGUE_PATH).read_text(encoding="ascii").strip()
    assert stamp == digest(CATALOGUE_PATH.read_text(encoding="utf-8"))


def test_a_stamped_catalogue_loads_without_the_schema_check_and_an_unstamped_one_with_it(
    tmp_path: Path,
) -> None:
    copy_path = tmp_path / "catalogue.yaml"
    copy_path.write_text(CATALOGUE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    # How many schema validators the load made: the catalogue's own one, or none
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from survey_core import schemas\n"
        "from survey_core.catalogue import read_catalogue\n"
        "read_catalogue(Path(sys.argv[1]))\n"
        "print(schemas.validator.cache_info().currsize)\n"
    )

    def checks_the_schema(path: Path) -> bool:
        done = subprocess.run(
            [sys.executable, "-c", probe, str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=LAYER,
        )
        return done.stdout.strip() != "0"

    assert checks_the_schema(CATALOGUE_PATH) is False
    assert checks_the_schema(copy_path) is True  # no stamp beside it: the whole check
    assert _check("--stamp", str(copy_path)).returncode == 0
    assert checks_the_schema(copy_path) is False


def test_a_catalogue_changed_after_its_stamp_is_checked_in_full(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(CATALOGUE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert _check("--stamp", str(path)).returncode == 0
    broken = copy.deepcopy(SHIPPED)
    broken["surveys"][0]["sampling"] = 2
    broken["surveys"][1]["trigger"]["filter"] = {"noSuchField": ["x"]}
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(CatalogueError) as raised:
        read_catalogue(path)
    assert raised.value.problems == [f"{path}: $.surveys[0].sampling: violates maximum 1"]
    broken["surveys"][0]["sampling"] = 1  # the schema passes; the rules still run
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(CatalogueError, match="Service Contact Closed events have no field"):
        read_catalogue(path)


def test_the_check_writes_a_stamp_only_for_a_catalogue_that_passes(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    broken = copy.deepcopy(SHIPPED)
    broken["surveys"][0]["ladder"][0]["channel"] = "fax"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    failed = _check("--stamp", str(path))
    assert failed.returncode == 1
    assert not stamp_path(path).exists()
    path.write_text(yaml.safe_dump(SHIPPED), encoding="utf-8")
    passed = _check("--stamp", str(path))
    assert passed.returncode == 0, passed.stderr
    assert stamp_path(path).read_text(encoding="ascii") == digest(path.read_text("utf-8")) + "\n"
    # A stamp is never trusted by the check itself: it always checks in full.
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    stamp_path(path).write_text(digest(path.read_text("utf-8")) + "\n", encoding="ascii")
    assert _check(str(path)).returncode == 1
