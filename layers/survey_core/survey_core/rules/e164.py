"""A phone number in E.164 form (+ and 7 to 15 digits): the one rule the SMS gateway
(dal/gateways.py) shares with eligibility, apart so the gateway does not load the eligibility
rules in every function that sends or reads nothing by SMS."""

import re

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
