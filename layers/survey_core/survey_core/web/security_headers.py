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
