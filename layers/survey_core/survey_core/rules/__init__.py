"""Pure decision rules: eligibility, scoring, SMS reply reading, escalation, follow-up."""
