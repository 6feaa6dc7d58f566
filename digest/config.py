"""The digest's settings (``SADA_DIGEST_*``) and its recipients file, validated on load.

``data/digest/recipients.yaml`` is edited by the campaign team: who receives the digest, who is
told when it fails, and which authors are public (Law 09-08). A mistake stops the digest with a
message naming the file and the field (``recipients.2.email: 'x' is not an e-mail address``).
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sada.errors import DataFileError
from sada.settings import REPO_ROOT, Settings

RECIPIENTS_FILE = REPO_ROOT / "data" / "digest" / "recipients.yaml"
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_HANDLE = re.compile(r"^[\w.\-]{1,64}(@[\w.\-]+)?$")


class DigestSettings(BaseSettings):
    """What the digest reads from the environment; SMTP, Kibana and time zone are ``sada.settings``'."""

    model_config = SettingsConfigDict(env_prefix="SADA_DIGEST_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    recipients_file: Path = Field(RECIPIENTS_FILE, description="who receives the digest (YAML)")
    archive_dir: Path | None = Field(None, description="folder of the archived HTML; default SADA_HOME/digests")
    top_mentions: int = Field(10, ge=1, le=50, description="mentions listed by reach")
    top_clusters: int = Field(5, ge=1, le=20, description="rumor clusters listed")
    questions: int = Field(5, ge=1, le=20, description="public questions listed")
    claim_minutes: float = Field(30.0, gt=0, description="a send claimed longer ago than this was interrupted")

    def archive_folder(self, settings: Settings) -> Path:
        return self.archive_dir or settings.home / "digests"


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=120)
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(c in value for c in "\r\n<>"):
            raise ValueError("a name is one line, without < or >")
        return value.strip()


class Privacy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_followers: int = Field(10_000, ge=0, description="from this many followers an author is public")
    public_accounts: list[str] = Field(default_factory=list, description="handles of public figures and institutions")

    @field_validator("public_accounts")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        out = []
        for i, handle in enumerate(value):
            handle = handle.strip().removeprefix("@")
            if not _HANDLE.match(handle):
                raise ValueError(f"item {i}: {handle!r} is not a handle")
            out.append(handle.lower())
        return out


class RecipientsBook(BaseModel):
    """The validated content of ``data/digest/recipients.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=1)
    subject_prefix: str = Field("[Sada]", max_length=40)
    recipients: list[Person] = Field(min_length=1)
    ops: list[Person] = Field(default_factory=list)
    privacy: Privacy = Field(default_factory=Privacy)

    @field_validator("subject_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if any(c in value for c in "\r\n"):
            raise ValueError("one line")
        return value.strip()


def _location(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(root)"


def load_recipients(path: Path | str | None = None) -> RecipientsBook:
    """Read and validate a recipients file; DataFileError names the file and the field."""
    import yaml

    path = Path(path or DigestSettings().recipients_file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFileError(path, "(file)", "not found") from exc
    except yaml.YAMLError as exc:
        raise DataFileError(path, "(file)", f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DataFileError(path, "(root)", "expected a mapping with version, recipients, ops and privacy")
    try:
        return RecipientsBook.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DataFileError(path, _location(err["loc"]), err["msg"].removeprefix("Value error, ")) from exc
