"""``data/alerts/recipients.yaml``: which channels exist and who they reach, validated on load.

Errors name the file and the field (``channels.email-cm.options.to.0.email``); a channel whose
secret is not in the environment is refused at load, naming the variable (never its value).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.channels.base import Channel
from alerts.config import location, read_yaml
from alerts.settings import AlertSettings
from sada.errors import DataFileError

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{1,40}$")


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    enabled: bool = True
    min_severity: Literal["info", "warning", "critical"] = "warning"
    rules: list[str] | None = Field(None, description="only these rules (default: every rule)")
    options: dict[str, Any] = Field(default_factory=dict)


class RecipientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    channels: dict[str, ChannelSpec] = Field(min_length=1)


def load_channels(path: Path | None = None, env: AlertSettings | None = None, tz: ZoneInfo | None = None,
                  *, check_secrets: bool = True) -> list[Channel]:
    """The enabled channels of a recipients file, each validated against its type's options."""
    from alerts.registry import resolve_channel_type

    env = env or AlertSettings()
    path = Path(path or env.alert_recipients)
    data = read_yaml(path)
    try:
        spec = RecipientsFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, location(err["loc"]), err["msg"].removeprefix("Value error, ")) from exc
    channels: list[Channel] = []
    for name, ch in spec.channels.items():
        where = f"channels.{name}"
        if not _NAME.match(name):
            raise DataFileError(path, where, "use 2-41 lowercase letters, digits, '-' or '_'")
        try:
            ctype = resolve_channel_type(ch.type)
        except KeyError as exc:
            raise DataFileError(path, f"{where}.type", str(exc.args[0])) from exc
        try:
            options = ctype.Options.model_validate(ch.options)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise DataFileError(path, f"{where}.options.{location(err['loc'])}", err["msg"].removeprefix("Value error, ")) from exc
        if not ch.enabled:
            continue
        channel = ctype(name, options, env, min_severity=ch.min_severity, rules=ch.rules, tz=tz)
        if check_secrets:
            for field, var in channel.secrets_env().items():
                if not os.environ.get(var):
                    raise DataFileError(path, f"{where}.options.{field}",
                                        f"environment variable {var} is not set (secrets come from the environment)")
        channels.append(channel)
    return channels
