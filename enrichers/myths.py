"""Misconceptions: which myths about the reform a relevant post spreads or corrects.

Each myth id (TAXONOMY.md ``myths``) has its terms in the editable lexicon
``data/lexicons/myths.yaml``: the claim's wording and the words people use to answer it, in
every language and script, since a post that corrects a myth carries its id too (the stance
enricher tells the two apart).

A myth may also have a ``<myth>_weak`` list of words that only hint at it ("victime", "riches"):
each counts ``settings.weak_weight`` of a match, so it takes two of them, or one with a strong
term. Some words are about a myth only next to another word ("couper" is a bracelet fear only
in a post about the bracelet): the file's ``settings.gated`` lists, for a myth, a helper label
of such words and the helper label that must also match.

Lexicons are the primary, editable mechanism. As a complement for paraphrases no list
foresees, ``settings.classifier.train_file`` names the training file of the shared classifier
(``enrichers/classifier.py``, trained once per process): a myth whose probability reaches the
threshold chosen for it by cross-validation gets ``settings.classifier.weight`` added to its
score (by default enough on its own); and a myth the lexicon finds but the classifier finds very
unlikely in context (below ``settings.classifier.veto`` × its threshold) is dropped: on posts
no list was written from, the lexicon's hits alone were less precise than the classifier that
reads them as features (a victims' association's proposal is not "victims are forgotten").
Without the file the enricher runs on the lexicon alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels
from enrichers.relevance import LEXICON_DIR, SettingsReader, normalized_text
from sada.errors import DataFileError
from sada.model import MYTHS, Mention

DEFAULT_PATH = LEXICON_DIR / "myths.yaml"
HELPER_LABELS = ("bracelet_ctx", "bracelet_fears_ctx")
WEAK = tuple(f"{m}_weak" for m in MYTHS)


class MythEnricher(Enricher):
    """Sets ``myths``: the misconceptions a relevant post spreads or corrects."""

    name: ClassVar[str] = "myths"
    version: ClassVar[str] = "1.2.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "relevant"})
    sets: ClassVar[frozenset[str]] = frozenset({"myths"})

    def __init__(self, path: str | Path | None = None, classifier: clf.TextClassifier | None | str = "settings") -> None:
        """``classifier``: the shared classifier to use, None for the lexicon alone, or
        ``"settings"`` (the default) for the one ``settings.classifier`` names."""
        self.lexicon = clf.shared_lexicon(path or DEFAULT_PATH, allowed_labels=MYTHS + WEAK + HELPER_LABELS)
        s = SettingsReader(self.lexicon)
        self.min_hits = s.number("min_hits", 1, low=0.1)
        self.weak_weight = s.number("weak_weight", 0.5, low=0.0)
        self.max_myths = int(s.number("max_myths", 2, low=1))
        self.extra_min = s.number("extra_min_score", 1.5, low=0.0)
        self.gated: list[tuple[str, str, str]] = []  # (myth, terms label, required label)
        gated = s.data.get("gated", {}) or {}
        if not isinstance(gated, dict):
            raise s.fail("gated", "expected a mapping of myth id → {terms, requires}")
        for myth, rule in gated.items():
            where = f"settings.gated.{myth}"
            if myth not in MYTHS:
                raise DataFileError(str(self.lexicon.path), where, f"unknown myth; expected one of {list(MYTHS)}")
            if not isinstance(rule, dict) or set(rule) != {"terms", "requires"}:
                raise DataFileError(str(self.lexicon.path), where, "expected a mapping with 'terms' and 'requires'")
            for key in ("terms", "requires"):
                if rule[key] not in HELPER_LABELS:
                    raise DataFileError(str(self.lexicon.path), f"{where}.{key}",
                                        f"expected one of the helper labels {list(HELPER_LABELS)}")
            self.gated.append((myth, rule["terms"], rule["requires"]))
        self.classifier = clf.from_settings(s, "myths") if classifier == "settings" else classifier
        self.classifier_weight = s.number("classifier.weight", self.min_hits, low=0.0) \
            if isinstance(s.data.get("classifier"), dict) else self.min_hits
        self.veto = s.number("classifier.veto", 0.0, low=0.0, high=1.0) \
            if isinstance(s.data.get("classifier"), dict) else 0.0

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        relevant = [m for m in mentions if m.relevant]
        probs = iter(self.classifier.scores([clf.mention_doc(m) for m in relevant], "myths")
                     if self.classifier and relevant else [None] * len(relevant))
        out = []
        for m in mentions:
            if not m.relevant:
                out.append(Labels({"myths": []}, confidence=0.9))
                continue
            myths, confidence = self.decide(normalized_text(m), next(probs))
            out.append(Labels({"myths": myths}, confidence=confidence))
        return out

    def scores(self, norm: str, probs: dict[str, float] | None = None) -> dict[str, float]:
        """Matches per myth in an already normalised text (gated words included)."""
        counts = clf.lexicon_counts(self.lexicon, norm)
        out = {}
        for m in MYTHS:
            score = counts.get(m, 0) + self.weak_weight * counts.get(f"{m}_weak", 0)
            if score:
                out[m] = score
        for myth, terms, requires in self.gated:
            if counts.get(terms) and counts.get(requires):
                out[myth] = out.get(myth, 0) + self.weak_weight * counts[terms]
        if probs and self.classifier is not None:
            if self.veto:
                kept = self.classifier.plausible(out, probs, "myths", self.veto)
                out = {m: v for m, v in out.items() if m in kept}
            for myth in self.classifier.predicted(probs, "myths"):
                out[myth] = out.get(myth, 0) + self.classifier_weight
        return out

    def decide(self, norm: str, probs: dict[str, float] | None = None) -> tuple[list[str], float]:
        """Myth ids for an already normalised text, and a confidence.

        ``probs``: the classifier's probability per myth, when there is a classifier.
        """
        scores = self.scores(norm, probs)
        ranked = sorted((m for m, v in scores.items() if v >= self.min_hits),
                        key=lambda m: (-scores[m], MYTHS.index(m)))
        # Posts usually carry one myth: a second one must be as well evidenced as the first, or
        # reach settings.extra_min_score.
        chosen = ranked[:1] + [m for m in ranked[1: self.max_myths]
                               if scores[m] >= min(scores[ranked[0]], self.extra_min)]
        if not chosen:
            return [], 0.7
        return sorted(chosen, key=MYTHS.index), round(min(0.95, 0.5 + 0.15 * scores[chosen[0]]), 3)
