"""Static checks of the lifecycle ASL; running it is the e2e test's job."""

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


def test_waits_for_the_answer_with_a_task_token_and_a_timeout() -> None:
    for name in ("SendInvitation", "SendReminder"):
        state = ASL["States"][name]
        assert state["Resource"].endswith(".waitForTaskToken")
        assert state["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
        assert "TimeoutSecondsPath" in state
