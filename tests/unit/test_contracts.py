import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from survey_core.events.contracts import (
    INBOUND_DETAIL_TYPES,
    OUTBOUND_DETAIL_TYPES,
    InvalidEvent,
    validate_detail,
    validate_event,
)

pytestmark = pytest.mark.unit

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _load(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_every_example_event_honours_its_contract(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    validate_detail(event["detail-type"], event["detail"])


def test_there_is_an_example_of_every_event() -> None:
    types = {_load(p.name)["detail-type"] for p in EVENTS.glob("*.json")}
    assert types == set(INBOUND_DETAIL_TYPES) | set(OUTBOUND_DETAIL_TYPES)


@pytest.mark.parametrize(
    ("name", "path", "words"),
    [
        ("purchase-completed-missing-customer.json", "detail", "missing required customer"),
        ("purchase-completed-bad-time.json", "detail.occurredAt", "date-time"),
    ],
)
def test_invalid_examples_fail_at_the_named_path(name: str, path: str, words: str) -> None:
    with pytest.raises(InvalidEvent) as raised:
        validate_event(_load(f"invalid/{name}"))
    assert raised.value.path == path
    assert words in raised.value.reason


def test_personal_data_never_appears_in_the_reason() -> None:
    # Given an event whose email and phone break the contract (far too long)
    event = _load("purchase-completed.json")
    event["detail"]["customer"].update(
        {"email": "maija" * 60 + "@example.com", "phone": "040 123 4567" * 4}
    )
    # When it is validated, Then the reason names both fields but neither value
    with pytest.raises(InvalidEvent) as raised:
        validate_event(event)
    reason = raised.value.reason
    assert "detail.customer.email" in reason
    assert "detail.customer.phone" in reason
    assert "maija" not in reason
    assert "4567" not in reason


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d.update(occurredAt="16.11.2026"),
            "detail.occurredAt: is not a valid date-time",
        ),
        (lambda d: d.update(colour="red"), "detail: unexpected colour"),
        (lambda d: d.update(version="2"), "detail.version: must be '1'"),
        (lambda d: d["segment"].update(region="north"), "detail.segment: unexpected region"),
        (lambda d: d["customer"].update(language="de"), "detail.customer.language: must be one of"),
        (lambda d: d["totalAmount"].update(value=-1), "detail.totalAmount.value: violates minimum"),
    ],
)
def test_each_rule_is_enforced(change, expected: str) -> None:
    detail = _load("purchase-completed.json")["detail"]
    change(detail)
    with pytest.raises(InvalidEvent, match=expected.replace(".", r"\.")):
        validate_detail("Purchase Completed", detail)


@pytest.mark.parametrize("detail_type", [None, "Purchase completed", "Order Shipped", 42])
def test_unknown_detail_types_are_rejected(detail_type: object) -> None:
    event = _load("purchase-completed.json")
    event["detail-type"] = detail_type
    with pytest.raises(InvalidEvent) as raised:
        validate_event(event)
    assert raised.value.path == "detail-type"


@pytest.mark.parametrize("detail", [None, [], "text", 7])
def test_detail_must_be_an_object(detail: object) -> None:
    with pytest.raises(InvalidEvent, match="detail: must be a JSON object"):
        validate_detail("Purchase Completed", detail)


def test_outbound_response_event_carries_no_comment() -> None:
    detail = _load("survey-response-received.json")["detail"]
    detail["comment"] = "free text is personal data"
    with pytest.raises(InvalidEvent, match="unexpected comment"):
        validate_detail("Survey Response Received", detail)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    detail_type=st.sampled_from(INBOUND_DETAIL_TYPES),
    detail=st.dictionaries(
        st.sampled_from(["version", "orderId", "customer", "occurredAt", "segment", "x"]),
        json_values,
    ),
)
def test_any_json_is_either_valid_or_invalid_never_a_crash(detail_type: str, detail: dict) -> None:
    try:
        validate_detail(detail_type, detail)
    except InvalidEvent as invalid:
        assert invalid.reason


@pytest.mark.parametrize(
    "detail_type", [None, 7, ["Purchase Completed"], {"a": 1}, "purchase completed", ""]
)
def test_a_detail_type_that_names_no_contract_is_refused(detail_type: object) -> None:
    # Validators are built on first use, keyed by name: any JSON value must still be refused
    with pytest.raises(InvalidEvent, match="detail-type"):
        validate_detail(detail_type, {})  # type: ignore[arg-type]
