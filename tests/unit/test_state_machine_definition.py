"""Static checks of the lifecycle ASL; running it is the e2e test's job."""

import copy
import json
import re
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse
from survey_core import errors

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "state_machines" / "survey_lifecycle.asl.json").read_text())
STATES_ERRORS = {
    "States.ALL",
    "States.Timeout",
    "States.TaskFailed",
    "States.Runtime",
    "States.HeartbeatTimeout",
}
SERVICE_ERRORS = {
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.SdkClientException",
    "Lambda.AWSLambdaException",
    "DynamoDB.ConditionalCheckFailedException",
}
OUR_ERRORS = {name for name in dir(errors) if isinstance(getattr(errors, name), type)}


def _error_names() -> list[str]:
    names = []
    for state in ASL["States"].values():
        for rule in state.get("Retry", []) + state.get("Catch", []):
            names.extend(rule["ErrorEquals"])
    return names


def test_every_retried_or_caught_error_exists() -> None:
    # A Retry on a misspelt error name never fires; only known names are allowed.
    unknown = set(_error_names()) - STATES_ERRORS - SERVICE_ERRORS - OUR_ERRORS
    assert unknown == set()


def test_every_transition_target_exists_and_every_state_is_reachable() -> None:
    states = ASL["States"]
    targets = {ASL["StartAt"]}
    for state in states.values():
        if "Next" in state:
            targets.add(state["Next"])
        targets.update(rule["Next"] for rule in state.get("Catch", []))
        targets.update(choice["Next"] for choice in state.get("Choices", []))
        if "Default" in state:
            targets.add(state["Default"])
    assert targets <= set(states)
    assert set(states) <= targets


def test_every_substitution_used_is_defined_in_the_template() -> None:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    defined = set(template["Resources"]["SurveyLifecycle"]["Properties"]["DefinitionSubstitutions"])
    used = set(re.findall(r"\$\{(\w+)\}", json.dumps(ASL)))
    assert used == defined


def test_waits_for_the_answer_with_a_task_token_and_the_rungs_timeout() -> None:
    state = ASL["States"]["SendRung"]
    assert state["Resource"].endswith(".waitForTaskToken")
    assert state["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert state["TimeoutSecondsPath"] == "$wait"


def test_a_rung_without_an_answer_goes_straight_to_the_next_send() -> None:
    # Every state entered is billed: the timeout leads to the next rung (or, one past the last,
    # to the send function's expiry step) with no Choice in between, and nothing but the send
    # function's own step expires a survey. Never answered: WaitForSendTime + rungs + 1.
    [timeout] = [
        c for c in ASL["States"]["SendRung"]["Catch"] if c["ErrorEquals"] == ["States.Timeout"]
    ]
    assert timeout["Next"] == "SendRung"
    assert timeout["Assign"]["rung.$"] == "States.MathAdd($rung, 1)"
    assert not [name for name, state in ASL["States"].items() if state["Type"] == "Choice"]
    assert "expired" not in json.dumps(ASL)


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_every_variable_read_is_assigned_by_the_first_state() -> None:
    # A variable read before it is assigned fails the execution at run time (States.Runtime).
    assigned: set[str] = set()
    for state in ASL["States"].values():
        assigned.update(key.removesuffix(".$") for key in state.get("Assign", {}))
        for catcher in state.get("Catch", []):
            assigned.update(key.removesuffix(".$") for key in catcher.get("Assign", {}))
    read = {
        name
        for text in _strings(ASL["States"])
        for name in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)
    }
    assert read == assigned
    first = ASL["States"][ASL["StartAt"]]
    assert {key.removesuffix(".$") for key in first["Assign"]} == assigned


def _lint(definition: dict) -> list[str]:
    from cfnlint.api import lint

    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Lifecycle": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/lifecycle",
                    "Definition": definition,
                    "DefinitionSubstitutions": {
                        name: "substituted" for name in re.findall(r"\$\{(\w+)\}", json.dumps(ASL))
                    },
                },
            }
        },
    }
    return [str(match) for match in lint(json.dumps(template)) if match.rule.id.startswith("E")]


def test_the_definition_passes_the_step_functions_schema_that_cfn_lint_ships() -> None:
    # sam validate does not read a DefinitionUri file: this runs cfn-lint's ASL check (E3601)
    # on it, so a malformed field (e.g. an Assign that is not an object) fails here, not at
    # deploy time. The broken copy proves the check looks at the definition at all.
    assert _lint(ASL) == []
    broken = copy.deepcopy(ASL)
    broken["States"]["WaitForFallback"]["Assign"] = "not an object"
    assert any("E3601" in problem for problem in _lint(broken))


# ---------------------------------------------------------------- the failure path, executed
# A small interpreter of the failure path's DynamoDB tasks: their ConditionExpression (AND of
# attribute_exists / attribute_not_exists / <>) and UpdateExpression (SET) on one item, and
# their Catch of a failed condition. The e2e ladder runs the same states on moto.


def _value(operand: str, names: dict, values: dict, item: dict) -> object:
    if operand.startswith(":"):
        return values[operand]
    return item.get(names.get(operand, operand))


def _holds(expression: str, names: dict, values: dict, item: dict) -> bool:
    for clause in expression.split(" AND "):
        if match := re.fullmatch(r"attribute_(not_)?exists\((#?\w+)\)", clause.strip()):
            present = names.get(match[2], match[2]) in item
            if present == bool(match[1]):
                return False
        elif match := re.fullmatch(r"(#\w+) <> (:\w+)", clause.strip()):
            if _value(match[1], names, values, item) == values[match[2]]:
                return False
        else:
            raise AssertionError(f"the interpreter does not know {clause!r}")
    return True


def _run_failure_path(item: dict, error: str = "DeliveryFailed") -> tuple[list[str], dict]:
    """The states entered from MarkFailed, and the item they leave."""
    item, entered, name = dict(item), [], "MarkFailed"
    while True:
        entered.append(name)
        state = ASL["States"][name]
        if state["Type"] != "Task":
            return entered, item
        parameters = state["Parameters"]
        names = parameters["ExpressionAttributeNames"]
        values = {
            key: error if key == ":reason" else "2026-11-16T10:00:00Z" if key == ":now" else v["S"]
            for key, v in parameters["ExpressionAttributeValues"].items()
        }
        if _holds(parameters["ConditionExpression"], names, values, item):
            assignments = parameters["UpdateExpression"].removeprefix("SET ").split(", ")
            for assignment in assignments:
                name_, value = assignment.split(" = ")
                item[names[name_]] = values[value]
            name = state["Next"]
        else:
            [catch] = [
                c
                for c in state["Catch"]
                if c["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
            ]
            name = catch["Next"]


@pytest.mark.parametrize(
    ("item", "states", "status", "reason"),
    [
        # Nothing reached the customer: the survey is failed with the reason.
        ({"invitation_id": "i", "status": "pending"}, ["MarkFailed", "SurveyFailed"],
         "failed", "DeliveryFailed"),
        # A message may have reached the customer: only the reason, the survey stays open.
        ({"invitation_id": "i", "status": "sent", "contacted_at": "t"},
         ["MarkFailed", "RecordFailureReason", "SendingStopped"], "sent", "DeliveryFailed"),
        ({"invitation_id": "i", "status": "pending", "contacted_at": "t"},
         ["MarkFailed", "RecordFailureReason", "SendingStopped"], "pending", "DeliveryFailed"),
        # Answered at the last moment: nothing is written.
        ({"invitation_id": "i", "status": "answered", "contacted_at": "t"},
         ["MarkFailed", "RecordFailureReason", "AnsweredAtTheLastMoment"], "answered", None),
    ],
)  # fmt: skip
def test_mark_failed_fails_only_a_survey_that_reached_no_one(
    item: dict, states: list[str], status: str, reason: str | None
) -> None:
    entered, after = _run_failure_path(item)
    assert entered == states
    assert (after["status"], after.get("failure_reason")) == (status, reason)


def test_the_failure_paths_new_states_are_entered_only_after_an_error() -> None:
    # RecordFailureReason and SendingStopped cost the answered and never-answered surveys
    # nothing: without an error only WaitForSendTime and SendRung are entered.
    assert {"RecordFailureReason", "SendingStopped"} <= set(ASL["States"])
    reached, todo = set(), [ASL["StartAt"]]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        state = ASL["States"][name]
        todo += [state["Next"]] if "Next" in state else []
        todo += [
            c["Next"] for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.Timeout"]
        ]
    assert reached == {"WaitForSendTime", "SendRung"}


def test_a_rung_whose_intent_was_not_recorded_is_retried() -> None:
    # Nothing was sent: running the rung again is safe.
    [retry] = [r for r in ASL["States"]["SendRung"]["Retry"] if "SendThrottled" in r["ErrorEquals"]]
    assert "IntentNotRecorded" in retry["ErrorEquals"]
