"""The lake export function's configuration, parsed once from its environment (template.yaml)."""

from __future__ import annotations

from collections.abc import Mapping

from ..config import Common, ConfigError
from .rows import ESCALATIONS, INVITATIONS, RESPONSES


def _flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(f"environment variable {name} must be true or false")
    return value == "true"


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required")
    return value


class LakeExportConfig(Common, frozen=True):
    bucket: str
    key_secret_arn: str  # the pseudonym key (Secrets Manager)
    export_comments: bool  # the LakeExportComments parameter

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LakeExportConfig:
        return cls(
            **cls.common_kwargs(environ),  # type: ignore[arg-type]
            bucket=_required(environ, "LAKE_BUCKET"),
            key_secret_arn=_required(environ, "LAKE_KEY_SECRET_ARN"),
            export_comments=_flag(environ, "LAKE_EXPORT_COMMENTS"),
        )

    @property
    def entities(self) -> dict[str, str]:
        """Physical table name -> the entity its stream carries."""
        return {
            self.tables.responses: RESPONSES,
            self.tables.invitations: INVITATIONS,
            self.tables.escalations: ESCALATIONS,
        }
