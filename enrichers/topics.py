"""Topics: which parts of the reform a relevant post is about (TAXONOMY.md ``topics``).

Each topic id has its terms in the editable lexicon ``data/lexicons/topics.yaml``, in every
language and script; a topic is set when its terms match often enough. A topic may also have a
``<topic>_weak`` list of words that only hint at it (DGAPR, parquet: named in many posts that
are not about how the law is applied): each counts ``settings.weak_weight`` of a match. A post
that is not about the reform gets no topic, so the enricher reads ``relevant``.

Lexicons come first; as a complement for wordings no list foresees, ``settings.classifier``
names the training file of the shared classifier (``enrichers/classifier.py``): a topic the
lexicon missed is added when its probability reaches the threshold chosen for it by
cross-validation, and — since the classifier reads the lexicon's hits as features — a lexicon
topic the classifier finds very unlikely in context (below ``settings.classifier.veto`` × that
threshold) is dropped. Without the file the lexicon works alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels
from enrichers.relevance import LEXICON_DIR, SettingsReader, normalized_text
from sada.errors import DataFileError
from sada.model import TOPICS, Mention

DEFAULT_PATH = LEXICON_DIR / "topics.yaml"
WEAK = tuple(f"{t}_weak" for t in TOPICS)


class TopicEnricher(Enricher):
    """Sets ``topics``: zero or more TAXONOMY topic ids; empty when the post is not relevant."""

    name: ClassVar[str] = "topics"
    version: ClassVar[str] = "1.1.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "relevant"})
    sets: ClassVar[frozenset[str]] = frozenset({"topics"})

    def __init__(self, path: str | Path | None = None, classifier: clf.TextClassifier | None | str = "settings") -> None:
        """``classifier``: the shared classifier to use, None for the lexicon alone, or
        ``"settings"`` (the default) for the one ``settings.classifier`` names."""
        self.lexicon = clf.shared_lexicon(path or DEFAULT_PATH, allowed_labels=TOPICS + WEAK)
        s = SettingsReader(self.lexicon)
        default = s.number("min_hits", 1, low=0.1)
        self.weak_weight = s.number("weak_weight", 0.5, low=0.0)
        by_topic = s.data.get("min_hits_by_topic", {}) or {}
        if not isinstance(by_topic, dict):
            raise s.fail("min_hits_by_topic", "expected a mapping of topic id → number of matches")
        for topic in by_topic:
            if topic not in TOPICS:
                raise DataFileError(str(self.lexicon.path), f"settings.min_hits_by_topic.{topic}",
                                    f"unknown topic; expected one of {list(TOPICS)}")
        self.min_hits = {t: s.number(f"min_hits_by_topic.{t}", default, low=0.1) for t in TOPICS}
        self.classifier = clf.from_settings(s, "topics") if classifier == "settings" else classifier
        self.veto = s.number("classifier.veto", 0.0, low=0.0, high=1.0) \
            if isinstance(s.data.get("classifier"), dict) else 0.0

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        relevant = [m for m in mentions if m.relevant]
        probs = iter(self.classifier.scores([clf.mention_doc(m) for m in relevant], "topics")
                     if self.classifier and relevant else [None] * len(relevant))
        out = []
        for m in mentions:
            if not m.relevant:
                out.append(Labels({"topics": []}, confidence=0.9))
                continue
            topics, confidence = self.decide(normalized_text(m), next(probs))
            out.append(Labels({"topics": topics}, confidence=confidence))
        return out

    def decide(self, norm: str, probs: dict[str, float] | None = None) -> tuple[list[str], float]:
        """Topic ids for an already normalised text, in TAXONOMY order, and a confidence.

        ``probs``: the classifier's probability per topic, when there is a classifier.
        """
        found = clf.lexicon_counts(self.lexicon, norm)
        counts = {t: found.get(t, 0) + self.weak_weight * found.get(f"{t}_weak", 0) for t in TOPICS}
        topics = {t for t in TOPICS if counts[t] > 0 and counts[t] >= self.min_hits[t]}
        learnt: set[str] = set()
        if probs and self.classifier:
            learnt = self.classifier.predicted(probs, "topics")
            # The classifier reads the lexicon's hits too: a hit it finds very unlikely in this
            # post (below veto × the topic's threshold) is dropped.
            topics = self.classifier.plausible(topics, probs, "topics", self.veto)
        chosen = [t for t in TOPICS if t in topics or t in learnt]
        if not chosen:
            return [], 0.5
        conf = [min(0.95, 0.55 + 0.15 * counts[t] / self.min_hits[t]) if t in topics else 0.5 for t in chosen]
        if probs:
            conf = [max(c, probs.get(t, 0.0)) if t in learnt else c for c, t in zip(conf, chosen, strict=True)]
        return chosen, round(min(0.95, min(conf)), 3)
