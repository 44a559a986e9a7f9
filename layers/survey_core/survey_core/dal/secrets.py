"""Keys the stack makes for itself (Secrets Manager, GenerateSecretString): read once per cold
start by the function that needs one."""

from __future__ import annotations

from typing import Any

MIN_KEY_CHARACTERS = 32


def stack_key(secrets: Any, secret_arn: str) -> bytes:
    """A key made by CloudFormation with GenerateSecretString, as bytes."""
    value = str(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
    if len(value) < MIN_KEY_CHARACTERS:
        raise ValueError(f"the key is shorter than {MIN_KEY_CHARACTERS} characters")
    return value.encode("utf-8")
