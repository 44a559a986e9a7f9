"""The headers every HTTP response of the survey app carries: its own pages, Chalice's router
errors (functions/collect/app.py's middleware) and the answers API Gateway gives by itself
(the SurveyApi's GatewayResponses in template.yaml; a unit test keeps them equal to these).

No script runs and nothing loads from elsewhere (inline style only), forms post to the page
itself, no site may frame the page, the link's token never leaves in a Referer, no cache keeps
a personal page, and browsers only ever come back over HTTPS."""

SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}


def results_headers(sign_in_url: str | None) -> dict[str, str]:
    """The results view's headers: the survey pages' own, except that its forms may also lead
    to the managed login (sign-out redirects there: browsers check form-action on a form's
    redirects too), and a same-origin Referer is kept: under no-referrer, browsers send
    `Origin: null` on a same-origin POST, which the CSRF check refuses."""
    form_action = "form-action 'self'" + (f" {sign_in_url}" if sign_in_url else "")
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'self'", form_action)
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy, "Referrer-Policy": "same-origin"}
