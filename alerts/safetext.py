"""User text made safe to show: bidi controls neutralised, private data masked, long posts trimmed.

Posts are hostile input. Before any rendering (HTML, plain text, Slack, Telegram):
- bidi override and isolate characters are removed, so a post cannot reorder the text around it
  (a "Trojan Source" style spoof of the alert's own figures or links);
- other control characters are dropped and whitespace is collapsed;
- @handles, e-mail addresses and phone numbers of private persons are masked (Law 09-08);
- posts are trimmed at a word boundary.
HTML escaping is the renderer's job (``html.escape`` on every value); this module prepares the text.
"""

from __future__ import annotations

import re
import unicodedata

# LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM: none may come from a post.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
RLI, FSI, PDI = "\u2067", "\u2068", "\u2069"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HANDLE = re.compile(r"(?<![\w@])@[\w.]{2,}(?:@[\w.-]+)?", re.UNICODE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\d)(?:\+|00)?(?:212|0)[\s.-]?[5-7](?:[\s.-]?\d){8}(?!\d)")
_RTL_CHARS = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_LTR_CHARS = re.compile(r"[A-Za-z\u00c0-\u024f]")


def neutralize_bidi(text: str) -> str:
    """Remove every bidi embedding, override, isolate and mark character."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def clean(text: str | None) -> str:
    """NFC, no bidi controls, no control characters, whitespace collapsed to single spaces."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = neutralize_bidi(text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def trim(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def mask_private(text: str) -> str:
    """Mask @handles, e-mail addresses and phone numbers that a post may carry."""
    text = _EMAIL.sub("[e-mail masqué]", text)
    text = _PHONE.sub("[numéro masqué]", text)
    return _HANDLE.sub("@…", text)


def snippet(text: str | None, limit: int = 280) -> str:
    """A post as an alert may quote it: cleaned, private data masked, trimmed."""
    return trim(mask_private(clean(text)), limit)


def is_rtl(text: str) -> bool:
    """True when most strong characters are right-to-left (Arabic script)."""
    rtl = len(_RTL_CHARS.findall(text))
    ltr = len(_LTR_CHARS.findall(text))
    return rtl > ltr


def direction(text: str) -> str:
    return "rtl" if is_rtl(text) else "ltr"


def isolate(text: str) -> str:
    """Wrap text in a Unicode isolate so it cannot reorder what surrounds it in plain text.

    Arabic text gets RLI…PDI (right to left); anything else FSI…PDI (first strong character).
    ``text`` must already be cleaned: an unbalanced PDI inside would close the isolate early.
    """
    return f"{RLI if is_rtl(text) else FSI}{text}{PDI}"


def one_line(text: str | None, limit: int = 200) -> str:
    """For headers and subjects: cleaned, single line, trimmed."""
    return trim(clean(text), limit)


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters (after ``clean``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
