"""What API Gateway answers by itself (no route, throttled, the function failed or timed out)
carries the survey app's security headers and a friendly HTML page in the three languages:
the SurveyApi's GatewayResponses in template.yaml, checked here against
survey_core/web/security_headers.py and the texts of the app's own error pages."""

from pathlib import Path
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse
from survey_core.messages.i18n import SUPPORTED_LANGUAGES, text
from survey_core.web.security_headers import SECURITY_HEADERS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
API = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))["Resources"]["SurveyApi"]
RESPONSES: dict[str, dict[str, Any]] = API["Properties"]["GatewayResponses"]
# Each response type covered, its status code (None: the type's own) and the page it shows.
COVERED = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "error_404"),  # no such path or method
    "RESOURCE_NOT_FOUND": ("404", "error_404"),
    "THROTTLED": ("429", "error_500"),  # "try again in a moment"
    "DEFAULT_4XX": (None, "error_400"),  # every other 4xx type
    "DEFAULT_5XX": (None, "error_500"),  # every 5xx type: function error, timeout, ...
}


def static_value(mapping: str) -> str:
    """An API Gateway static mapping value ('...' with \\' inside) -> the header's value."""
    assert mapping.startswith("'") and mapping.endswith("'"), mapping
    inner = mapping[1:-1]
    assert "'" not in inner.replace("\\'", ""), f"unescaped quote in {mapping}"
    return inner.replace("\\'", "'")


def test_the_covered_types_are_exactly_the_templates() -> None:
    assert set(RESPONSES) == set(COVERED)


@pytest.mark.parametrize("response_type", sorted(COVERED))
def test_every_gateway_response_carries_every_security_header(response_type: str) -> None:
    headers = RESPONSES[response_type]["ResponseParameters"]["Headers"]
    assert {name: static_value(value) for name, value in headers.items()} == SECURITY_HEADERS


@pytest.mark.parametrize("response_type", sorted(COVERED))
def test_every_gateway_response_is_a_friendly_page_in_every_language(response_type: str) -> None:
    status, page = COVERED[response_type]
    response = RESPONSES[response_type]
    assert response.get("StatusCode") == status
    assert set(response["ResponseTemplates"]) == {"text/html"}
    body = response["ResponseTemplates"]["text/html"]
    assert body.startswith("<!DOCTYPE html>") and body.rstrip().endswith("</html>")
    for language in SUPPORTED_LANGUAGES:
        assert f'<h1 lang="{language}">{text(language, f"{page}_title")}</h1>' in body
        assert f'<p lang="{language}">{text(language, f"{page}_body")}</p>' in body
    # Nothing that could run or load, and no $ for API Gateway to substitute
    assert "<script" not in body and "src=" not in body and "$" not in body
