"""Topics: which parts of the reform a relevant post is about (TAXONOMY.md ``topics``).

Each topic id has its terms in the editable lexicon ``data/lexicons/topics.yaml``, in every
language and script; a topic is set when its terms match often enough. A topic may also have a
``<topic>_weak`` list of words that only hint at it (DGAPR, parquet: named in many posts that
are not about how the law is applied): each counts ``settings.weak_weight`` of a match. A post
that is not about the reform gets no topic, so the enricher reads ``relevant``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from enrichers.base import Enricher, Labels
from enrichers.lexicon import load_lexicon
from enrichers.relevance import LEXICON_DIR, SettingsReader, normalized_text
from sada.errors import DataFileError
from sada.model import TOPICS, Mention

DEFAULT_PATH = LEXICON_DIR / "topics.yaml"
WEAK = tuple(f"{t}_weak" for t in TOPICS)


class TopicEnricher(Enricher):
    """Sets ``topics``: zero or more TAXONOMY topic ids; empty when the post is not relevant."""

    name: ClassVar[str] = "topics"
    version: ClassVar[str] = "1.0.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "relevant"})
    sets: ClassVar[frozenset[str]] = frozenset({"topics"})

    def __init__(self, path: str | Path | None = None) -> None:
        self.lexicon = load_lexicon(path or DEFAULT_PATH, allowed_labels=TOPICS + WEAK)
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

    def label(self, mention: Mention) -> Labels:
        if not mention.relevant:
            return Labels({"topics": []}, confidence=0.9)
        topics, confidence = self.decide(normalized_text(mention))
        return Labels({"topics": topics}, confidence=confidence)

    def decide(self, norm: str) -> tuple[list[str], float]:
        """Topic ids for an already normalised text, in TAXONOMY order, and a confidence."""
        found = self.lexicon.counts(norm)
        counts = {t: found.get(t, 0) + self.weak_weight * found.get(f"{t}_weak", 0) for t in TOPICS}
        topics = [t for t in TOPICS if counts[t] > 0 and counts[t] >= self.min_hits[t]]
        if not topics:
            return [], 0.5
        weakest = min(counts[t] / self.min_hits[t] for t in topics)
        return topics, round(min(0.95, 0.55 + 0.15 * weakest), 3)
