"""Toxicity: what a moderator should look at (TAXONOMY.md ``toxicity``).

Applies to every post, relevant to the reform or not, with the editable lexicon
``data/lexicons/toxicity.yaml``:

* ``threat``: threats or incitement to violence;
* ``hate``: attacks on a group (origin, religion, gender, detainees as a group, migrants...);
* ``defamation``: an accusation of a crime, corruption or bribery aimed at a named person or
  institution — an entity labelled PER or ORG by the entity enricher (``entities``), or a
  designated body in a named place ("le parquet de Tanger", "l9oda f casa": a ``target`` word
  with a LOC entity) — and not worded as a report or as the law's exclusion list ("accusé de",
  تستثني...); an anonymous "le ministre corrompu" is not defamation;
* ``insult``: insults aimed at a person or at the page's community.

When several apply, the most serious wins (``settings.priority``: threat > hate > defamation >
insult). Each label may have a ``<label>_weak`` list of words that only hint at it ("migrants"
is hate only next to "dehors", "ces gens"...): each counts ``settings.weak_weight`` of a match.

Lexicons come first; as a complement, ``settings.classifier`` names the training file of the
shared classifier (``enrichers/classifier.py``): a class the lexicon missed is found when its
probability reaches the threshold chosen for it by cross-validation. The classifier's
defamation obeys the same conditions as the lexicon's (a named target, not a report), and the
priority decides between classes as above. Without the file the lexicon works alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels
from enrichers.relevance import LEXICON_DIR, SettingsReader, normalized_text, require_labels
from sada.errors import DataFileError
from sada.model import ENTITY_LABELS, Mention

DEFAULT_PATH = LEXICON_DIR / "toxicity.yaml"
_SCORED = ("threat", "hate", "insult", "accusation")
LABELS = _SCORED + tuple(f"{k}_weak" for k in _SCORED) + ("target", "reported")
_LEVELS = ("threat", "hate", "defamation", "insult")


class ToxicityEnricher(Enricher):
    """Sets ``toxicity`` to none, insult, hate, threat or defamation."""

    name: ClassVar[str] = "toxicity"
    version: ClassVar[str] = "1.1.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "entities"})
    sets: ClassVar[frozenset[str]] = frozenset({"toxicity"})

    def __init__(self, path: str | Path | None = None, classifier: clf.TextClassifier | None | str = "settings") -> None:
        """``classifier``: the shared classifier to use, None for the lexicon alone, or
        ``"settings"`` (the default) for the one ``settings.classifier`` names."""
        self.lexicon = clf.shared_lexicon(path or DEFAULT_PATH, allowed_labels=LABELS)
        require_labels(self.lexicon, ("threat", "hate", "insult", "accusation"))
        s = SettingsReader(self.lexicon)
        priority = s.ids("priority", _LEVELS, _LEVELS)
        if sorted(priority) != sorted(_LEVELS):
            raise DataFileError(str(self.lexicon.path), "settings.priority",
                                f"expected each of {list(_LEVELS)} exactly once")
        self.priority = priority
        self.entity_labels = frozenset(s.ids("entity_labels", ENTITY_LABELS, ("PER", "ORG")))
        self.place_labels = frozenset(s.ids("place_labels", ENTITY_LABELS, ("LOC",)))
        self.weak_weight = s.number("weak_weight", 0.5, low=0.0)
        self.classifier = clf.from_settings(s, "toxicity") if classifier == "settings" else classifier

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        inputs = [clf.mention_doc(m) for m in mentions] if self.classifier else []
        probs = self.classifier.scores(inputs, "toxicity") if inputs else [None] * len(mentions)
        out = []
        for m, p in zip(mentions, probs, strict=True):
            toxicity, confidence = self.decide(normalized_text(m), m.entities or [], p)
            out.append(Labels({"toxicity": toxicity}, confidence=confidence))
        return out

    def decide(self, norm: str, entities: Iterable[Any] = (),
               probs: dict[str, float] | None = None) -> tuple[str, float]:
        """(toxicity id, confidence) for an already normalised text and its entities.

        ``probs``: the classifier's probability per class, when there is a classifier.
        """
        c = clf.lexicon_counts(self.lexicon, norm)
        score = {k: c.get(k, 0) + self.weak_weight * c.get(f"{k}_weak", 0) for k in _SCORED}
        found = {k: v for k, v in score.items() if v >= 1 and k != "accusation"}
        learnt = self.classifier.predicted(probs, "toxicity") if probs and self.classifier else set()
        for k in learnt - {"defamation"}:
            found[k] = max(found.get(k, 0), 1 + probs[k])
        accusation = score["accusation"] if score["accusation"] >= 1 else (1 + probs["defamation"]
                                                                          if "defamation" in learnt else 0)
        if accusation and not c.get("reported"):
            labels = {e.get("label") if isinstance(e, dict) else getattr(e, "label", None) for e in entities}
            if labels & self.entity_labels or (c.get("target") and labels & self.place_labels):
                found["defamation"] = accusation
        for level in self.priority:
            if level in found:
                return level, round(min(0.95, 0.6 + 0.1 * found[level]), 3)
        hints = sum(score.values())
        return "none", round(max(0.5, 0.85 - 0.1 * hints), 3)
