"""The escalate rule in template.yaml must carry the pattern the catalogue asks for.

EventBridge invokes the escalate function only for answers the rule matches, so a survey whose
threshold is higher than the rule's would never get its callback tasks. `make check-catalogue`
(and so `make test` and `make deploy`) runs this; it prints the pattern to paste when they differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    sys.path.insert(0, str(ROOT / "layers" / "survey_core"))
    from survey_core.catalogue import load_catalogue
    from survey_core.rules.escalation import detail_pattern

    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    rule = template["Resources"]["EscalateFunction"]["Properties"]["Events"]["Detractors"]
    current = rule["Properties"]["Pattern"].get("detail")
    wanted = detail_pattern(load_catalogue())
    if current == wanted:
        print("template.yaml: the escalate rule matches the catalogue")
        return 0
    print(
        "template.yaml: EscalateFunction's Detractors rule does not match the catalogue's "
        "escalation rules; set its Pattern.detail to:\n" + json.dumps(wanted, indent=2),
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
