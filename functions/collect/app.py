"""Collect: survey pages and answers (Chalice app behind API Gateway, REST proxy events). The
SMS replies (SmsReplyFunction) are sms.py, in the same folder."""

import os
from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit
from chalice import Chalice, Response
from chalice.app import Request
from collect_requests import count_answer, start_request
from survey_core.catalogue import LANGUAGES, load_catalogue
from survey_core.config import CollectConfig
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.logic.collect import (
    Page,
    error_page,
    show_survey,
    submit_survey,
)
from survey_core.logic.optout import show_unsubscribe, unsubscribe
from survey_core.messages.rendering import render_error_page
from survey_core.observability import logger, metrics
from survey_core.web.forms import Form, first, request_form
from survey_core.web.languages import preferred_language
from survey_core.web.security_headers import SECURITY_HEADERS

CONFIG = CollectConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
CATALOGUE = load_catalogue()
# No Step Functions or EventBridge client: an answer's consequences follow from the stored
# response through the responses table's stream (functions/outbox).
app = Chalice(app_name="survey-collect")


@app.middleware("http")
def every_response(request: Request | None, get_response: Callable[..., Response]) -> Response:
    """Every HTTP response is an HTML page with the security headers: the app's own pages, the
    router's answers (405, 415: Chalice answers those in JSON) and anything that crashed."""
    context = request.context if request is not None else {}
    lambda_context = request.lambda_context if request is not None else None
    # API Gateway's request id (the x-amzn-RequestId the browser got), else the Lambda one.
    start_request(
        context.get("requestId") or getattr(lambda_context, "aws_request_id", None),
        lambda_context,
    )
    try:
        response = get_response(request)
    except Exception:
        logger.exception("request failed")
        response = Response(body="", status_code=500)
    return _as_page(response, request)


def _browser_language(request: Request | None) -> str:
    """For a page that knows no customer: the language the browser asks for, if we have it,
    else the catalogue's default (the customers' usual one)."""
    headers = request.headers if request is not None else {}
    return preferred_language(headers.get("accept-language"), LANGUAGES, CATALOGUE.default_language)


def _as_page(response: Response, request: Request | None) -> Response:
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    if response.status_code >= 400 and not str(content_type).startswith("text/html"):
        # Chalice's own errors are JSON ({"Code": ..., "Message": ...}): a friendly page
        # instead, in the browser's language (nothing else tells the language of a request the
        # router refused), with the company's name and look.
        response.body = render_error_page(
            language=_browser_language(request),
            status=response.status_code,
            company=CATALOGUE.company,
            brand=CATALOGUE.brand,
        )
    kept = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
    response.headers = {**kept, **SECURITY_HEADERS}
    return response


def _html(page: Page) -> Response:
    return Response(body=page.html, status_code=page.status, headers=dict(SECURITY_HEADERS))


def _render(action: str, run: Callable[[], Page]) -> Response:
    # The token is a bearer secret: it is never logged.
    try:
        page = run()
    except Exception as error:  # a domain error (SurveyError) or anything else
        # An unknown link, or a failure before the invitation was read: the browser's language
        # (a closed survey's page is in the customer's own).
        page = error_page(_browser_language(app.current_request), error, CATALOGUE)
        if page.status >= 500:  # not the link's or the answer's fault: ours to look into
            # The correlation id is the invitation's once the token was found
            # (logic/collect.py), else this request's (every_response): never an earlier one's.
            logger.exception("survey page failed", extra={"action": action})
    logger.info("survey page", extra={"action": action, "status": page.status})
    if page.answered:
        count_answer(page.answered)
        metrics.flush_metrics()
    return _html(page)


@app.route("/s/{token}", methods=["GET"])
def show(token: str) -> Response:
    # Read only, like every GET here: mail scanners open each link of an email. ?score=N (a
    # one-tap link) only chooses N on the page; the form's POST records it.
    request = app.current_request
    assert request is not None
    query: dict[str, str] = dict(request.query_params or {})
    return _render(
        "show", lambda: show_survey(token, query.get("score"), token, CONFIG, CATALOGUE, REPOS)
    )


FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]


def _form() -> Form:
    request = app.current_request
    assert request is not None
    return request_form(request.raw_body, request.headers.get("content-type", ""))


@app.route("/s/{token}", methods=["POST"], content_types=FORM_TYPES)
def submit(token: str) -> Response:
    raw = _form()
    # Each field's first value: score, score_<metric> for further questions, comment.
    form = {name: value for name in raw if (value := first(raw, name)) is not None}
    return _render("submit", lambda: submit_survey(token, form, token, CONFIG, CATALOGUE, REPOS))


@app.route("/u/{token}", methods=["GET"])
def unsubscribe_page(token: str) -> Response:
    return _render("unsubscribe-page", lambda: show_unsubscribe(token, token, CATALOGUE, REPOS))


@app.route("/u/{token}", methods=["POST"], content_types=FORM_TYPES)
def unsubscribe_post(token: str) -> Response:
    def run() -> Page:
        page, channels = unsubscribe(token, _form(), token, CATALOGUE, CONFIG.clock, REPOS)
        for channel in channels:  # "email" / "sms" only (logic/optout.CHANNELS)
            metrics.add_metric(name=f"OptOut_{channel}", unit=MetricUnit.Count, value=1)
        if channels:
            metrics.flush_metrics()
        return page

    return _render("unsubscribe", run)
