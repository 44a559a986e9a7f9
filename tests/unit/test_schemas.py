"""Every JSON Schema the layer ships is itself valid: checked here, once, rather than on every
cold start (catalogue.py and contracts.py build their validators without the metaschema check).
"""

import copy
import json
import sys
from pathlib import Path

import pytest
import survey_core
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

pytestmark = pytest.mark.unit

PACKAGE = Path(survey_core.__file__).resolve().parent
SCHEMAS = sorted(PACKAGE.rglob("*.schema.json"))


def test_the_layer_ships_the_catalogue_reports_and_event_schemas() -> None:
    names = {path.name for path in SCHEMAS}
    assert {"catalogue.schema.json", "reports.schema.json", "common.schema.json"} <= names
    assert len(SCHEMAS) >= 12


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_shipped_schema_is_a_valid_draft_2020_12_schema(path: Path) -> None:
    Draft202012Validator.check_schema(json_of(path))


def test_the_check_rejects_a_broken_schema() -> None:
    # What the check above would catch: a keyword with a value of the wrong kind.
    broken = {**json_of(PACKAGE / "catalogue.schema.json"), "required": "company"}
    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(broken)


def json_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the generated validators


def _jsonschema_errors(name: str, document: object) -> set[tuple[str, str]]:
    """(path, rule) of every error jsonschema finds, with the contracts' date-time check."""
    from jsonschema import FormatChecker
    from referencing import Registry, Resource
    from survey_core import schemas

    common = json_of(schemas.EVENT_SCHEMAS / "common.schema.json")
    registry = Registry().with_resource(common["$id"], Resource.from_contents(common))
    checker = FormatChecker()
    checker.checks("date-time")(schemas.is_date_time)
    validator = Draft202012Validator(
        json_of(schemas.schema_paths()[name]), registry=registry, format_checker=checker
    )
    found = set()
    for error in validator.iter_errors(document):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.add((path, str(error.validator)))
    return found


def _generated_errors(name: str, document: object) -> set[tuple[str, str]]:
    from survey_core import schemas

    return {(error.path, error.rule) for error in schemas.errors(name, document)}


EXAMPLES = Path(__file__).resolve().parents[2] / "events"
# Values that break rules in many ways: wrong types, bounds, patterns, formats.
# Drawn through deepcopy: the lists and dicts here are shared, and a mutation that set ["a"]
# into itself made a self-containing document (a RecursionError that hypothesis then found
# flaky, because the shared constant had changed between runs).
ODD_VALUES = st.sampled_from(
    [None, True, 0, -1, 1.5, 10**6, "", " ", "x", "x" * 300, "2026-02-30T10:00:00Z", [], {}, ["a"]]
).map(copy.deepcopy)


def _documents() -> list[tuple[str, object]]:
    """(schema name, a valid document) for each event contract, the catalogue, the reports."""
    import yaml
    from survey_core import schemas
    from survey_core.catalogue import CATALOGUE_PATH
    from survey_core.report.config import REPORTS_PATH

    found: list[tuple[str, object]] = []
    for path in sorted(EXAMPLES.glob("*.json")):
        event = json_of(path)
        found.append((event["detail-type"].lower().replace(" ", "-"), event["detail"]))
    found.append(("catalogue", yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))))
    found.append(("reports", yaml.safe_load(REPORTS_PATH.read_text(encoding="utf-8"))))
    assert {name for name, _ in found} == set(schemas.schema_paths())
    return found


DOCUMENTS = _documents()


def _places(document: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    places = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            places += _places(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            places += _places(value, (*path, index))
    return places


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, object]:
    name, document = draw(st.sampled_from(DOCUMENTS))
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in _places(document) if p]
        if not places:
            break
        place = draw(st.sampled_from(places))
        parent = document
        for key in place[:-1]:
            parent = parent[key]  # type: ignore[index]
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if action == "set":
            parent[place[-1]] = draw(ODD_VALUES)  # type: ignore[index]
        elif action == "delete" and isinstance(parent, dict):
            del parent[place[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "id", "channel"]))] = draw(ODD_VALUES)
    return name, document


@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[n for n, _ in DOCUMENTS])
def test_the_generated_validators_accept_the_examples(name: str, document: object) -> None:
    assert _generated_errors(name, document) == set() == _jsonschema_errors(name, document)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(case=mutated())
def test_the_generated_validators_find_what_jsonschema_finds(case: tuple[str, object]) -> None:
    # Given a valid document with up to three values changed, removed or added
    name, document = case
    # When both validators check it, Then they find the same errors, path and rule
    assert _generated_errors(name, document) == _jsonschema_errors(name, document)


def test_draft_2020_12_prefix_items_become_draft_7_items() -> None:
    from survey_core.schemas import as_draft_7

    schema = {"prefixItems": [{"type": "string"}], "items": {"type": "number"}}
    assert as_draft_7(schema) == {
        "items": [{"type": "string"}],
        "additionalItems": {"type": "number"},
    }
    with pytest.raises(ValueError, match="dependentRequired"):
        as_draft_7({"properties": {"a": {"dependentRequired": {}}}})


def test_a_validator_made_from_source_raises_what_its_own_module_catches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given survey_core gone from sys.modules, as when the local stack loads a function afresh
    # with its own environment (infra/local/functions.load_module), after this copy of the
    # schemas module was imported (by a tool, or a test module at collection)
    from survey_core import schemas

    schemas.validator.cache_clear()
    for name in [m for m in sys.modules if m.split(".")[0] == "survey_core"]:
        monkeypatch.delitem(sys.modules, name)
    # When a document that breaks its contract is checked
    found = schemas.errors("purchase-completed", {"customer": {"language": "xx"}})
    schemas.validator.cache_clear()
    # Then the errors come back described, not as another copy's uncaught exception
    assert found and all(isinstance(error, schemas.SchemaError) for error in found)
