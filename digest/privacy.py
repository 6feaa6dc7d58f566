"""Law 09-08 in the digest: private persons masked, public figures and outlets named.

An author is *public* when the mention comes from a news outlet, when the account has at least
``public_followers`` followers, or when its handle is listed in ``privacy.public_accounts`` of the
recipients file (public figures, institutions). Anyone else is a private person: the digest
shows a masked handle such as ``@k***`` (first character only) and never the display name.

Inside post text, ``alerts.safetext.snippet`` masks every @handle, e-mail address and phone
number. Names of private persons written in plain words inside a post are **not** detected
(that would need person-name recognition on every language and script the campaign sees): the
digest quotes posts trimmed, and the Kibana links lead to the full text for people entitled to it.

Posts labelled hate, threat or defamation are never quoted (DOMAIN.md: never amplify
incitement); the digest shows a placeholder and the link, for a person to moderate or escalate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerts.safetext import clean, one_line, snippet
from digest.config import Privacy
from digest.labels import TOXICITY_FR

MASKED_TOXICITY = ("hate", "threat", "defamation")


@dataclass(frozen=True)
class Author:
    label: str
    public: bool


def _initial(value: str) -> str:
    for ch in value:
        if ch.isalnum():
            return ch.lower()
    return "x"


def author_of(mention: dict[str, Any], privacy: Privacy) -> Author:
    """How the digest names the author of ``mention`` (an Elasticsearch ``_source``)."""
    author = mention.get("author") or {}
    handle = clean(str(author.get("handle") or "")).removeprefix("@")
    name = clean(str(author.get("name") or ""))
    followers = int(author.get("followers") or 0)
    if mention.get("platform") == "news":
        return Author(one_line(name or mention.get("source") or handle or "média", 80), True)
    listed = handle.lower() in privacy.public_accounts if handle else False
    if listed or followers >= privacy.public_followers:
        if handle:
            return Author(one_line("@" + handle, 80) + (f" ({one_line(name, 60)})" if name else ""), True)
        return Author(one_line(name or "compte public", 80), True)
    if handle or name:
        return Author(f"@{_initial(handle or name)}***", False)
    return Author("compte privé", False)


def masked_reason(mention: dict[str, Any]) -> str | None:
    """Why a post must not be quoted (its toxicity label), or None."""
    tox = mention.get("toxicity")
    return TOXICITY_FR.get(tox, tox) if tox in MASKED_TOXICITY else None


def quote(mention: dict[str, Any], limit: int) -> str:
    """A post as the digest may quote it: cleaned, handles/e-mails/phones masked, trimmed."""
    reason = masked_reason(mention)
    if reason:
        return f"[contenu masqué ({reason}) — ouvrir le lien pour modérer]"
    title = mention.get("title")
    text = str(mention.get("text") or "")
    return snippet((f"{title} — " if title else "") + text, limit)
