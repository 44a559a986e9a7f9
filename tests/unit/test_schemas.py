"""Every JSON Schema the layer ships is itself valid: checked here, once, rather than on every
cold start (catalogue.py and contracts.py build their validators without the metaschema check).
"""

import json
from pathlib import Path

import pytest
import survey_core
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
