"""Results view: the signed-in overview of the survey results for managers and agents (Chalice
app behind API Gateway, under /results on the survey API).

Every request's session is the user's Cognito ID token in an HttpOnly cookie, verified on each
request (signature against the pool's keys, issuer, client, expiry, token use); the role and
scope it carries decide what is read (survey_core.logic.results), whatever the URL asks. GETs
only read; the forms that change something (sign-out, a manager's outcome of a callback task)
carry a CSRF token and are accepted only from the view's own origin.
"""

import functools
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalice import Chalice, Response
from chalice.app import Request
from msgspec import Struct
from results_auth.cognito import (
    SignInFailed,
    authorize_url,
    exchange_code,
    logout_url,
    new_pkce,
    password_sign_in,
)
from results_auth.identity import Pool, Principal, TokenRefused, verify_id_token
from results_auth.jwks import HttpKeySource, KeySet, KeysUnavailable, jwks_url
from results_auth.session import (
    CookieSettings,
    CsrfRefused,
    check_form_post,
    cleared_cookie,
    cookie_value,
    csrf_token,
    pending_cookie,
    session_cookie,
    session_token,
)
from survey_core.catalogue import LANGUAGES, load_catalogue
from survey_core.config import ResultsConfig
from survey_core.dal.gateways import client
from survey_core.dal.repositories import dynamodb_repositories
from survey_core.dal.secrets import stack_key
from survey_core.logic.reads import (
    comment_reader,
    counter_rows,
    get_task,
    open_task_reader,
    overdue_tasks,
    recent_comments,
    save_outcome,
)
from survey_core.logic.results import (
    FOLLOW_UP_OUTCOMES,
    MAX_NOTE,
    CommentsPage,
    InvalidPeriod,
    NotAllowed,
    OutOfScope,
    TaskNotFound,
    Viewer,
    allowed_scope,
    asked_scope,
    can_record,
    comments,
    comments_csv,
    comments_filter,
    follow_up_queue,
    my_feedback,
    nav_links,
    overview,
    overview_filter,
    period_of,
    record_outcome,
    segment_attributes,
    segment_filter,
    segment_tables,
    survey_choices,
    task_in_view,
)
from survey_core.messages.i18n import resolve_language, text
from survey_core.messages.names import attribute_name
from survey_core.messages.results_pages import (
    Choice,
    QueueFilter,
    ResultsChrome,
    SegmentLine,
    SegmentsFilter,
    SegmentTableView,
    TaskView,
    queue_lines,
    render_results_comments,
    render_results_message,
    render_results_overview,
    render_results_queue,
    render_results_segments,
    render_results_sign_in,
    render_results_task,
)
from survey_core.observability import correlate, logger
from survey_core.report.chart import trend_alt_text, trend_chart_png, trend_has_values
from survey_core.report.config import Period, Scope
from survey_core.report.font import FONT_NAME, use_font
from survey_core.report.model import ReportData, SegmentRow
from survey_core.report.workbook import report_workbook
from survey_core.web.forms import Form, first, request_form
from survey_core.web.languages import preferred_language
from survey_core.web.security_headers import results_headers

# The chart's font ships with this function (Makefile), not in the shared layer.
use_font(Path(__file__).with_name("fonts") / FONT_NAME)
CONFIG = ResultsConfig.from_env(os.environ)
REPOS = dynamodb_repositories(CONFIG.tables, CONFIG.region)
# The pages' ports, made once: the counter reads and the callback tasks.
READ_COUNTERS = partial(counter_rows, counters=REPOS.counters)
OPEN_TASKS = partial(open_task_reader, escalations=REPOS.escalations)
GET_TASK = partial(get_task, escalations=REPOS.escalations)
SAVE_OUTCOME = partial(save_outcome, escalations=REPOS.escalations)
OVERDUE = partial(overdue_tasks, escalations=REPOS.escalations)
CATALOGUE = load_catalogue()
POOL = Pool(CONFIG.region, CONFIG.user_pool_id, CONFIG.client_id)
# Locally moto serves the pool's keys at its endpoint; in the cloud they come from the issuer.
KEYS = KeySet(HttpKeySource(jwks_url(POOL.issuer, os.environ.get("AWS_ENDPOINT_URL"))))
SECRETS = client("secretsmanager", CONFIG.region)


@functools.cache
def form_key() -> bytes:
    """The CSRF tokens' key, read at the first form (not at import: an import makes no AWS
    call), then kept for the sandbox's life."""
    return stack_key(SECRETS, CONFIG.form_key_secret_arn)


RESULTS = urlsplit(CONFIG.results_url)
ORIGIN = f"{RESULTS.scheme}://{RESULTS.netloc}"
COOKIES = CookieSettings(path=RESULTS.path or "/results", secure=RESULTS.scheme == "https")
HEADERS = results_headers(None if CONFIG.local_sign_in else CONFIG.sign_in_url)
PKCE_COOKIE = "results_sign_in"
MINE_COMMENTS = 10  # an agent's newest comments on their own page
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

app = Chalice(app_name="survey-results")
# The export is binary: Chalice base64-encodes it for API Gateway when the browser accepts it
# (a download link's Accept ends in */*; the SurveyApi's BinaryMediaTypes decodes it).
app.api.binary_types += [XLSX, "text/csv"]


# The page for what the router refused or what crashed, by kind.
_ROUTER_PAGES = {
    "not-found": ("error_404_title", "error_404_body"),
    "refused": ("results_bad_filter_title", "results_bad_filter_body"),
    "failed": ("results_unavailable_title", "results_unavailable_body"),
}


@app.middleware("http")
def every_response(request: Request | None, get_response: Callable[..., Response]) -> Response:
    """Every response is a page with the view's headers: the app's own, the router's refusals
    (Chalice answers 404 / 405 / 415 in JSON) and anything that crashed; each request's id on
    every log line, set first."""
    context = request.context if request is not None else {}
    lambda_context = request.lambda_context if request is not None else None
    correlate(context.get("requestId") or getattr(lambda_context, "aws_request_id", None))
    try:
        response = get_response(request)
    except Exception:
        logger.exception("request failed")
        response = Response(body="", status_code=500)
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    if response.status_code >= 400 and not str(content_type).startswith("text/html"):
        status = response.status_code
        kind = "not-found" if status == 404 else "refused" if status < 500 else "failed"
        title, body = _ROUTER_PAGES[kind]
        html = render_results_message(
            language=_language(request.headers if request is not None else {}),
            title_key=title,
            body_key=body,
            company=CATALOGUE.company,
        )
        kept = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        response = Response(body=html, status_code=status, headers={**kept, **HEADERS})
    return response


def _now() -> datetime:
    # Tokens carry real time (the pool's clock), also on the local stack whose handlers' clock
    # may run faster: a session is checked against the wall clock.
    return datetime.now(UTC)


def _headers() -> dict[str, str]:
    request = app.current_request
    assert request is not None
    return dict(request.headers)


def _language(headers: Mapping[str, str] | None = None) -> str:
    """The browser's language (the request's Accept-Language), else the catalogue's default."""
    asked = (_headers() if headers is None else headers).get("accept-language")
    return preferred_language(asked, LANGUAGES, CATALOGUE.default_language)


def _page(html: str | bytes, status: int = 200, **extra: str) -> Response:
    return Response(body=html, status_code=status, headers={**HEADERS, **extra})


def _redirect(location: str, *cookies: str) -> Response:
    headers: dict[str, Any] = {**HEADERS, "Location": location}
    if cookies:
        headers["Set-Cookie"] = list(cookies)
    return Response(body="", status_code=303, headers=headers)


def _principal() -> Principal | None:
    """The signed-in user, or None (no session, or one that no longer verifies)."""
    token = session_token(_headers().get("cookie"))
    if token is None:
        return None
    try:
        return verify_id_token(token, pool=POOL, keys=KEYS.get, now=_now())
    except TokenRefused as refused:
        logger.info("session refused", extra={"reason": str(refused)})
        return None


def _signed_in(view: Callable[[Principal], Response]) -> Response:
    try:
        principal = _principal()
    except KeysUnavailable:
        logger.exception("the user pool's keys could not be read")
        return _message("results_unavailable_title", "results_unavailable_body", 503)
    if principal is None:
        return _redirect(f"{CONFIG.results_url}/sign-in")
    return view(principal)


def _message(title: str, body: str, status: int) -> Response:
    html = render_results_message(
        language=_language(), title_key=title, body_key=body, company=CATALOGUE.company
    )
    return _page(html, status)


def _query() -> dict[str, str]:
    request = app.current_request
    assert request is not None
    return dict(request.query_params or {})


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise InvalidPeriod("a day is yyyy-mm-dd") from None


class _Filter(Struct, frozen=True):
    """The request's filter, read once: who asks, the page's language, the period chosen and
    the scope allowed (OutOfScope before anything is read)."""

    viewer: Viewer
    language: str
    choice: str
    period: Period
    scope: Scope


def _filter(principal: Principal) -> _Filter:
    """Raises OutOfScope, InvalidPeriod or ValueError (_refused turns them into pages)."""
    query = _query()
    viewer = Viewer(principal.role, principal.scope)
    choice = query.get("period", "week")
    # The data's clock (the local stack's runs faster than the wall clock): today's date.
    today = CONFIG.clock().astimezone(CONFIG.reporting_time_zone).date()
    period = period_of(choice, today, _day(query.get("first")), _day(query.get("last")))
    scope = allowed_scope(viewer, asked_scope(query.get("scope")))
    language = resolve_language(query.get("lang") or _language())
    return _Filter(viewer, language, choice, period, scope)


def _overview_data(principal: Principal) -> tuple[ReportData, _Filter]:
    """The overview's data for the request's filter, within the principal's scope."""
    asked = _filter(principal)
    data = overview(
        asked.viewer,
        asked.scope,
        asked.period,
        asked.language,
        CATALOGUE,
        read=READ_COUNTERS,
        comments=partial(recent_comments, responses=REPOS.responses),
        overdue=OVERDUE,
        now=CONFIG.clock(),
        zone=CONFIG.reporting_time_zone,
    )
    return data, asked


def _download(body: bytes, content_type: str, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return _page(body, 200, **{"Content-Type": content_type, "Content-Disposition": disposition})


@app.route("/results", methods=["GET"])
def show_overview() -> Response:
    def view(principal: Principal) -> Response:
        data, asked = _overview_data(principal)
        form = overview_filter(
            asked.viewer,
            asked.choice,
            asked.period,
            asked.scope,
            data.language,
            CATALOGUE,
            CONFIG.results_url,
        )
        chart = trend_chart_png(data) if trend_has_values(data) else None
        html = render_results_overview(
            report=data,
            chart_png=chart,
            chart_alt=trend_alt_text(data),
            form=form,
            chrome=_chrome(principal, f"{CONFIG.results_url}/export.xlsx?{urlencode(_query())}"),
        )
        return _page(html)

    return _signed_in(_refused(view))


# The filter fields every page shares: a link keeps them, so a filter holds on every page.
_SHARED_FILTER = ("period", "first", "last", "scope")


def _shared_query(query: Mapping[str, str] | None = None) -> str:
    asked = _query() if query is None else query
    if asked.get("period") != "range":
        asked = {k: v for k, v in asked.items() if k not in ("first", "last")}
    kept = {k: asked[k] for k in _SHARED_FILTER if asked.get(k)}
    return f"?{urlencode(kept)}" if kept else ""


def _chrome(
    principal: Principal, export_url: str = "", export_label: str = "results_export"
) -> ResultsChrome:
    viewer = Viewer(principal.role, principal.scope)
    return ResultsChrome(
        company=CATALOGUE.company,
        links=nav_links(viewer, CONFIG.results_url, _shared_query()),
        sign_out_url=f"{CONFIG.results_url}/sign-out",
        csrf=csrf_token(form_key(), principal.token_id),
        export_url=export_url,
        export_label=export_label,
    )


class _CommentsChoice(Struct, frozen=True):
    """The comments page's own filter fields, beside the overview's."""

    survey_id: str | None
    group: str
    search: str


def _comments_of(principal: Principal) -> tuple[CommentsPage, _Filter, _CommentsChoice]:
    """The comments of the request's filter (its survey, score group and search too)."""
    asked = _filter(principal)
    query = _query()
    chosen = _CommentsChoice(
        query.get("survey") or None, query.get("group", "all"), query.get("search", "")
    )
    reader = comment_reader(CATALOGUE, REPOS.responses)
    found = comments(
        asked.viewer, asked.scope, asked.period, CATALOGUE, reader,
        survey_id=chosen.survey_id, group=chosen.group, search=chosen.search,
    )  # fmt: skip
    return found, asked, chosen


def _refused(view: Callable[[Principal], Response]) -> Callable[[Principal], Response]:
    """A view whose filter may ask outside the scope (403) or be unreadable (400)."""

    def guarded(principal: Principal) -> Response:
        try:
            return view(principal)
        except (OutOfScope, NotAllowed):
            logger.info("out of scope", extra={"role": principal.role.value})
            return _message("results_forbidden_title", "results_forbidden_body", 403)
        except (InvalidPeriod, ValueError):
            return _message("results_bad_filter_title", "results_bad_filter_body", 400)

    return guarded


@app.route("/results/comments", methods=["GET"])
def show_comments() -> Response:
    def view(principal: Principal) -> Response:
        found, asked, chosen = _comments_of(principal)
        url = f"{CONFIG.results_url}/comments"
        base = overview_filter(
            asked.viewer, asked.choice, asked.period, asked.scope, asked.language, CATALOGUE, url
        )
        form = comments_filter(
            base, chosen.survey_id, chosen.group, chosen.search, asked.language, CATALOGUE
        )
        html = render_results_comments(
            language=asked.language,
            names=CATALOGUE.names,
            period_label=asked.period.label,
            comments=found.comments,
            shown_all=found.complete,
            read=found.read,
            form=form,
            chrome=_chrome(
                principal,
                f"{CONFIG.results_url}/comments.csv?{urlencode(_query())}",
                "results_export_csv",
            ),
            task_url=f"{CONFIG.results_url}/follow-up",
        )
        return _page(html)

    return _signed_in(_refused(view))


@app.route("/results/comments.csv", methods=["GET"])
def export_comments() -> Response:
    def view(principal: Principal) -> Response:
        found, asked, _ = _comments_of(principal)
        first, last = asked.period.first_day.isoformat(), asked.period.last_day.isoformat()
        csv = comments_csv(found, asked.language, CATALOGUE)
        return _download(csv, CSV, f"comments-{first}-{last}.csv")

    return _signed_in(_refused(view))


@app.route("/results/export.xlsx", methods=["GET"])
def export() -> Response:
    def view(principal: Principal) -> Response:
        data, asked = _overview_data(principal)
        first, last = asked.period.first_day.isoformat(), asked.period.last_day.isoformat()
        return _download(report_workbook(data), XLSX, f"results-{first}-{last}.xlsx")

    return _signed_in(_refused(view))


@app.route("/results/segments", methods=["GET"])
def show_segments() -> Response:
    def view(principal: Principal) -> Response:
        data, asked = _overview_data(principal)
        attributes = segment_attributes(CATALOGUE, asked.scope)
        chosen = _query().get("attribute") or None
        if chosen is not None and chosen not in attributes:
            raise ValueError("unknown attribute")
        base = overview_filter(
            asked.viewer, asked.choice, asked.period, asked.scope, asked.language, CATALOGUE,
            f"{CONFIG.results_url}/segments",
        )  # fmt: skip
        names = CATALOGUE.names
        choices = [Choice("", text(asked.language, "results_attribute_all"), chosen is None)]
        choices += [Choice(a, attribute_name(asked.language, a), a == chosen) for a in attributes]
        tables = [
            SegmentTableView(
                table.survey_id,
                table.metric,
                table.attribute,
                [SegmentLine(row, _segment_url(asked.viewer, row)) for row in table.rows],
            )
            for table in segment_tables(data, chosen)
        ]
        html = render_results_segments(
            language=asked.language,
            names=names,
            scope_label=data.scope_label,
            period_label=asked.period.label,
            tables=tables,
            form=SegmentsFilter(base, choices),
            chrome=_chrome(principal),
        )
        return _page(html)

    return _signed_in(_refused(view))


def _segment_url(viewer: Viewer, row: SegmentRow) -> str:
    """The overview filtered to the segment (the period kept), or "" for a fixed scope."""
    scope = segment_filter(viewer, row)
    if scope is None:
        return ""
    query = {k: v for k, v in _query().items() if k in _SHARED_FILTER}
    return f"{CONFIG.results_url}{_shared_query({**query, 'scope': scope.segment_key})}"


@app.route("/results/mine", methods=["GET"])
def show_mine() -> Response:
    def view(principal: Principal) -> Response:
        asked = _filter(principal)
        mine = my_feedback(
            asked.viewer,
            asked.period,
            asked.language,
            CATALOGUE,
            read=READ_COUNTERS,
            comments=partial(recent_comments, responses=REPOS.responses, shown=MINE_COMMENTS),
            overdue=OVERDUE,
            now=CONFIG.clock(),
            zone=CONFIG.reporting_time_zone,
        )
        data, reference = mine.data, mine.reference
        chart = trend_chart_png(data, reference=reference) if trend_has_values(data) else None
        form = overview_filter(
            asked.viewer, asked.choice, asked.period, asked.scope, asked.language, CATALOGUE,
            f"{CONFIG.results_url}/mine",
        )  # fmt: skip
        html = render_results_overview(
            report=data,
            chart_png=chart,
            chart_alt=trend_alt_text(data, reference),
            form=form,
            chrome=_chrome(principal),
            page="mine",
        )
        return _page(html)

    return _signed_in(_refused(view))


@app.route("/results/follow-up", methods=["GET"])
def show_queue() -> Response:
    def view(principal: Principal) -> Response:
        asked = _filter(principal)
        survey_id = _query().get("survey") or None
        found = follow_up_queue(
            asked.viewer, asked.scope, CATALOGUE, OPEN_TASKS, CONFIG.clock(),
            survey_id=survey_id,
        )  # fmt: skip
        url = f"{CONFIG.results_url}/follow-up"
        base = overview_filter(
            asked.viewer, asked.choice, asked.period, asked.scope, asked.language, CATALOGUE, url
        )
        html = render_results_queue(
            language=asked.language,
            names=CATALOGUE.names,
            lines=queue_lines(found.rows, asked.language, CONFIG.reporting_time_zone, url),
            complete=found.complete,
            form=QueueFilter(base, survey_choices(survey_id, asked.language, CATALOGUE)),
            chrome=_chrome(principal),
        )
        return _page(html)

    return _signed_in(_refused(view))


_TASK_ID = re.compile(r"[0-9a-f]{32}")  # an invitation id (survey_core.tokens)


def _task_page(principal: Principal, task_id: str, *, saved: bool = False) -> Response:
    viewer = Viewer(principal.role, principal.scope)
    if not _TASK_ID.fullmatch(task_id):
        raise TaskNotFound(task_id)
    task = task_in_view(viewer, task_id, GET_TASK)
    response = REPOS.responses.get(task_id)
    language = resolve_language(_query().get("lang") or _language())
    chosen = task.recorded_outcome or FOLLOW_UP_OUTCOMES[0]
    outcomes = [
        Choice(o, text(language, f"results_outcome_{o}"), o == chosen) for o in FOLLOW_UP_OUTCOMES
    ]
    url = f"{CONFIG.results_url}/follow-up/{task_id}"
    overdue = task.outcome == "open" and task.due_at is not None and task.due_at <= CONFIG.clock()
    view = TaskView(
        task=task,
        comment=str(response.comment) if response is not None and response.comment else "",
        overdue=overdue,
        can_record=can_record(viewer),
        outcomes=outcomes,
        action_url=url,
        max_note=MAX_NOTE,
        saved=saved,
    )
    html = render_results_task(
        language=language,
        names=CATALOGUE.names,
        view=view,
        zone=CONFIG.reporting_time_zone,
        chrome=_chrome(principal),
    )
    return _page(html)


def _task_refused(view: Callable[[Principal], Response]) -> Callable[[Principal], Response]:
    """A task page: a task outside the scope is not found (its existence is not told)."""

    def guarded(principal: Principal) -> Response:
        try:
            return view(principal)
        except TaskNotFound:
            return _message("error_404_title", "error_404_body", 404)
        except NotAllowed:
            return _message("results_forbidden_title", "results_forbidden_body", 403)
        except ValueError:
            return _message("results_bad_outcome_title", "results_bad_outcome_body", 400)

    return guarded


@app.route("/results/follow-up/{task_id}", methods=["GET"])
def show_task(task_id: str) -> Response:
    saved = _query().get("saved") == "1"
    return _signed_in(_task_refused(lambda principal: _task_page(principal, task_id, saved=saved)))


@app.route(
    "/results/follow-up/{task_id}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
def post_outcome(task_id: str) -> Response:
    """A manager's outcome and note: CSRF token and Origin checked first, then the role and
    the scope (record_outcome); then back to the task's page (POST, redirect, GET)."""

    def view(principal: Principal) -> Response:
        form = _form()
        refused = _cross_site(principal, form, "outcome")
        if refused is not None:
            return refused
        if not _TASK_ID.fullmatch(task_id):
            raise TaskNotFound(task_id)
        record_outcome(
            Viewer(principal.role, principal.scope),
            task_id,
            first(form, "outcome") or "",
            first(form, "note") or "",
            get=GET_TASK,
            save=SAVE_OUTCOME,
            now=CONFIG.clock(),
            by=principal.user_id,
        )
        logger.info("outcome recorded", extra={"role": principal.role.value})
        return _redirect(f"{CONFIG.results_url}/follow-up/{task_id}?saved=1")

    return _signed_in(_task_refused(view))


@app.route("/results/sign-in", methods=["GET"])
def sign_in_page() -> Response:
    if CONFIG.local_sign_in:
        return _page(_sign_in_form(error=False))
    state, verifier, challenge = new_pkce()
    callback = f"{CONFIG.results_url}/auth/callback"
    pending = pending_cookie(PKCE_COOKIE, f"{state}.{verifier}", 600, COOKIES)
    return _redirect(
        authorize_url(CONFIG.sign_in_url, CONFIG.client_id, callback, state, challenge), pending
    )


def _sign_in_form(*, error: bool) -> str:
    return render_results_sign_in(
        language=_language(),
        company=CATALOGUE.company,
        action_url=f"{CONFIG.results_url}/sign-in",
        error=error,
    )


def _start_session(id_token: str) -> Response:
    try:
        principal = verify_id_token(id_token, pool=POOL, keys=KEYS.get, now=_now())
    except TokenRefused as refused:
        logger.info("sign-in refused", extra={"reason": str(refused)})
        return _message("results_no_access_title", "results_no_access_body", 403)
    cookie = session_cookie(id_token, principal.expires_at, _now(), COOKIES)
    logger.info("signed in", extra={"role": principal.role.value})
    return _redirect(CONFIG.results_url, cookie, pending_cookie(PKCE_COOKIE, "", 0, COOKIES))


@app.route(
    "/results/sign-in", methods=["POST"], content_types=["application/x-www-form-urlencoded"]
)
def sign_in_post() -> Response:
    if not CONFIG.local_sign_in:  # in the cloud, only the managed login takes passwords
        return _message("error_404_title", "error_404_body", 404)
    form = _form()
    email, password = first(form, "email") or "", first(form, "password") or ""
    try:
        token = password_sign_in(
            client("cognito-idp", CONFIG.region), CONFIG.client_id, email, password
        )
    except SignInFailed as failed:
        logger.info("sign-in failed", extra={"reason": str(failed)})
        return _page(_sign_in_form(error=True), 401)
    return _start_session(token)


@app.route("/results/auth/callback", methods=["GET"])
def callback() -> Response:
    query = _query()
    pending = cookie_value(_headers().get("cookie"), PKCE_COOKIE)
    state, _, verifier = (pending or "").partition(".")
    if not pending or not state or query.get("state") != state or not query.get("code"):
        return _message("results_no_access_title", "results_no_access_body", 400)
    try:
        token = exchange_code(
            CONFIG.sign_in_url,
            CONFIG.client_id,
            query["code"],
            f"{CONFIG.results_url}/auth/callback",
            verifier,
        )
    except SignInFailed as failed:
        logger.info("sign-in failed", extra={"reason": str(failed)})
        return _message("results_no_access_title", "results_no_access_body", 400)
    return _start_session(token)


def _cross_site(principal: Principal, form: Form, what: str) -> Response | None:
    """A 403 page for a form post without the session's CSRF token or from another origin;
    None when it may go on."""
    try:
        check_form_post(
            key=form_key(),
            token_id=principal.token_id,
            submitted=first(form, "csrf"),
            headers=_headers(),
            origin=ORIGIN,
        )
    except CsrfRefused as refused:
        logger.info(f"{what} refused", extra={"reason": str(refused)})
        return _message("results_forbidden_title", "results_forbidden_body", 403)
    return None


def _form() -> Form:
    request = app.current_request
    assert request is not None
    return request_form(request.raw_body, request.headers.get("content-type", ""))


@app.route(
    "/results/sign-out", methods=["POST"], content_types=["application/x-www-form-urlencoded"]
)
def sign_out() -> Response:
    principal = _principal()
    if principal is not None:
        refused = _cross_site(principal, _form(), "sign-out")
        if refused is not None:
            return refused
    signed_out = f"{CONFIG.results_url}/signed-out"
    if CONFIG.local_sign_in:
        return _redirect(signed_out, cleared_cookie(COOKIES))
    return _redirect(
        logout_url(CONFIG.sign_in_url, CONFIG.client_id, signed_out), cleared_cookie(COOKIES)
    )


@app.route("/results/signed-out", methods=["GET"])
def signed_out() -> Response:
    return _message("results_signed_out_title", "results_signed_out_body", 200)
