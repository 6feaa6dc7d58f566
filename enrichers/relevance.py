"""Relevance: is a post about the alternative-sentences reform, or keyword noise?

The collectors search for words that are also everyday words — a fashion *bracelet*, a traffic
*amende*, « à *peine* », international *العقوبات*, the price 43.22 — and for a reform other
countries have too. This enricher applies the noise filters of DOMAIN.md §3 with the editable
lexicon ``data/lexicons/relevance.yaml``:

* an ``anchor`` term (peines alternatives, الغرامة اليومية, l3o9oubat lbadila...) is enough;
* an ``anchor_soft`` term (bracelet électronique, TIG, البراسلي) or a ``context`` word of the
  debate (cette loi, هاد القانون, l7bs, victims, impunité...) counts unless a ``noise`` term
  (jewellery, smartwatch, traffic or football fine, CCTV...) is present;
* the law number (43.22, ٤٣٫٢٢, 43-22...) needs a ``law_word`` (loi, قانون, رقم);
* a post naming another country (Saudi Arabia, France...) is kept only with a Moroccan anchor:
  a ``morocco`` term, the law number, Darija (``lang == "ary"``), or a Moroccan outlet as its
  source; when that country is the post's subject ("en Algérie", a headline starting with
  «تونس»), only a ``morocco`` term or the law number keeps it.

Links count for their words too: a post that is only a link to ".../peines-alternatives-bilan"
is about the reform.

Many posts about the reform carry none of these words: replies in a thread under a reform
article ("Copier-coller de Paris, on importe leurs lois", «واش اللي عندو سابقة يدخل فيها؟»).
When the file's ``settings.classifier.train_file`` names the shared classifier's training file
(``enrichers/classifier.py``), a post with no reform evidence **and no noise or foreign-country
term** is relevant when its probability of being so reaches the threshold chosen for it by
cross-validation. The words still decide everything they see: the classifier never turns a
noise or foreign-country decision around.

This module also holds the small helpers the other rule-based enrichers share (the post's
text, normalised once, and typed access to a lexicon's ``settings``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels
from enrichers.lexicon import Lexicon, load_lexicon, normalize
from sada.errors import DataFileError
from sada.model import Mention
from sada.settings import REPO_ROOT

LEXICON_DIR = REPO_ROOT / "data" / "lexicons"
DEFAULT_PATH = LEXICON_DIR / "relevance.yaml"

LABELS = ("anchor", "anchor_soft", "context", "law_number", "law_word", "noise", "foreign",
          "foreign_subject", "morocco")
NO_EVIDENCE = "no reform evidence"
_LINK = re.compile(r"(?:https?://|www\.)(\S+)")


# --------------------------------------------------------------------------------------------
# Helpers shared by the rule-based enrichers (topics, myths, stance, toxicity)
# --------------------------------------------------------------------------------------------


def mention_text(mention: Mention) -> str:
    """The words a label is decided on: the title (articles) and the text."""
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text


def normalized_text(mention: Mention) -> str:
    """``normalize`` of the mention's title and text; cached, so enrichers share one call."""
    return normalize(mention_text(mention))


class SettingsReader:
    """Typed access to a lexicon file's ``settings:`` with errors naming file and field."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.path = str(lexicon.path)
        self.data: Mapping[str, Any] = lexicon.meta

    def fail(self, field: str, problem: str) -> DataFileError:
        return DataFileError(self.path, f"settings.{field}", problem)

    def number(self, field: str, default: float, low: float = 0.0, high: float | None = None) -> float:
        value = _dig(self.data, field, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"expected a number, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise self.fail(field, f"expected a number {bound}, got {value!r}")
        return float(value)

    def strings(self, field: str, default: Iterable[str] = ()) -> tuple[str, ...]:
        value = _dig(self.data, field, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(field, f"expected a list of non-empty strings, got {value!r}")
        return tuple(v.strip() for v in value)

    def choice(self, field: str, default: str, allowed: Iterable[str]) -> str:
        value = _dig(self.data, field, default)
        allowed = tuple(allowed)
        if value not in allowed:
            raise self.fail(field, f"expected one of {list(allowed)}, got {value!r}")
        return value

    def ids(self, field: str, allowed: Iterable[str], default: Iterable[str] = ()) -> tuple[str, ...]:
        values = self.strings(field, default)
        allowed = tuple(allowed)
        for i, v in enumerate(values):
            if v not in allowed:
                raise self.fail(f"{field}[{i}]", f"unknown id {v!r}; expected one of {list(allowed)}")
        return values


def _dig(data: Mapping[str, Any], dotted: str, default: Any) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def require_labels(lexicon: Lexicon, required: Iterable[str]) -> None:
    """Fail when a label the enricher relies on is missing from the file."""
    missing = [label for label in required if label not in lexicon.terms]
    if missing:
        raise DataFileError(str(lexicon.path), f"labels.{missing[0]}",
                            f"missing; the file must define {list(required)}")


# --------------------------------------------------------------------------------------------
# The enricher
# --------------------------------------------------------------------------------------------


class RelevanceEnricher(Enricher):
    """Sets ``relevant`` (TAXONOMY.md): about the reform, or keyword noise."""

    name: ClassVar[str] = "relevance"
    version: ClassVar[str] = "1.1.0"
    # ``source`` (a Moroccan outlet) can decide a post that names another country; the URL is
    # not read, so that viral copies from one source still share the pipeline's cache entry.
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "lang", "source"})
    sets: ClassVar[frozenset[str]] = frozenset({"relevant"})

    def __init__(self, path: str | Path | None = None, classifier: Any = "settings") -> None:
        """``classifier``: the shared classifier to use, None for the words alone, or
        ``"settings"`` (the default) for the one ``settings.classifier`` names."""
        self.lexicon = load_lexicon(path or DEFAULT_PATH, allowed_labels=LABELS)
        require_labels(self.lexicon, ("anchor", "noise", "foreign", "morocco"))
        s = SettingsReader(self.lexicon)
        self.min_score = s.number("min_score", 1.0, low=0.0)
        self.weights = {label: s.number(f"weights.{label}", default)
                        for label, default in (("anchor", 2.0), ("anchor_soft", 1.0), ("context", 1.0),
                                               ("law_number", 2.0))}
        self.subject_window = s.number("subject_window", 12, low=0)
        self.domains = tuple(d.lower() for d in s.strings("moroccan_domains", (".ma",)))
        self.moroccan_langs = frozenset(s.strings("moroccan_langs", ("ary",)))
        self.classifier = clf.from_settings(s, "relevance") if classifier == "settings" else classifier

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        decided = [self._by_words(m) for m in mentions]
        unsure = [i for i, (_, _, why) in enumerate(decided) if why == NO_EVIDENCE]
        if unsure and self.classifier is not None:
            threshold = self.classifier.threshold("relevance:relevant")
            probs = self.classifier.scores([clf.mention_doc(mentions[i]) for i in unsure], "relevance")
            for i, p in zip(unsure, probs, strict=True):
                if p.get("relevant", 0.0) >= threshold:
                    decided[i] = (True, round(min(0.95, p["relevant"]), 3), "classifier")
        return [Labels({"relevant": relevant}, confidence=confidence, extra={"relevance": why})
                for relevant, confidence, why in decided]

    def _by_words(self, mention: Mention) -> tuple[bool, float, str]:
        norm = normalized_text(mention)
        links = _LINK.findall(mention.text)
        if links:
            norm = norm + normalize(" ".join(re.sub(r"[\W_]+", " ", link) for link in links))
        # Normalised only when a country is named (to see whether it starts the text or title).
        heads = (normalize(part) for part in (mention.text, mention.title) if part)
        return self.decide(norm, mention.lang, mention.source, heads)

    def decide(self, norm: str, lang: str | None = None, source: str | None = None,
               heads: Iterable[str] = ()) -> tuple[bool, float, str]:
        """(relevant, confidence, reason) for an already normalised text.

        ``heads``: the normalised text and title on their own, where a country named at the
        start is the post's subject (``norm`` itself is always one).
        """
        c = self.lexicon.counts(norm)
        w = self.weights
        noise = c.get("noise", 0)
        law = bool(c.get("law_number", 0) and c.get("law_word", 0))
        score = w["anchor"] * c.get("anchor", 0) + (w["law_number"] if law else 0.0)
        if not noise:
            score += w["anchor_soft"] * c.get("anchor_soft", 0) + w["context"] * c.get("context", 0)
        if score < self.min_score or score == 0:
            return False, (0.9 if noise else 0.75), ("noise" if noise else NO_EVIDENCE)
        moroccan_text = bool(c.get("morocco", 0) or law)
        if not moroccan_text and (
            c.get("foreign_subject", 0) or (c.get("foreign", 0) and self._subject(norm, heads))
        ):
            return False, 0.75, "another country is the subject"
        if c.get("foreign", 0) and not (moroccan_text or self._moroccan_context(lang, source)):
            return False, 0.7, "another country"
        strength = min(1.0, score / 4.0)
        return True, round(0.6 + 0.35 * strength, 3), "reform evidence"

    def _subject(self, norm: str, heads: Iterable[str]) -> bool:
        for head in (norm, *heads):
            for hit in self.lexicon.find(head, ("foreign",)):
                if hit.start <= self.subject_window:
                    return True
        return False

    def _moroccan_context(self, lang: str | None, source: str | None) -> bool:
        if lang in self.moroccan_langs:
            return True
        return bool(source and source.lower().split(":")[-1].split("/")[0].endswith(self.domains))
