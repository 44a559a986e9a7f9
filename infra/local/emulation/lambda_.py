"""Lambda: moto's invoke runs the real handler in-process (moto would run it in Docker)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .patching import patch

if TYPE_CHECKING:
    from ..adapter import LocalAdapter


def run_functions_in_process(adapter: LocalAdapter) -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
        function = adapter.functions_by_code_key.get(self.code.get("S3Key", ""))
        if function is None:
            return json.dumps({"errorType": "UnknownFunction"}), True, ""
        if isinstance(event, (str, bytes)):
            event = json.loads(event or "{}")
        payload, errored = adapter.invoke(function, event)
        return payload, errored, ""

    patch(LambdaFunction, "_invoke_lambda", invoke_in_process)
