"""Stance toward the reform: support, oppose, neutral or question (TAXONOMY.md ``stance``).

Rules of thumb from the taxonomy and the annotation guidelines, applied with the editable lexicon
``data/lexicons/stance.yaml``, in this order:

1. not about the reform → ``neutral``;
2. a toxic post (insult, hate, threat, defamation; ``toxicity``, set by the toxicity enricher)
   attacks → ``oppose``;
3. a news article (``kind`` in ``settings.news_kinds``), even one reporting a rebuttal, or a
   post of hashtags, links and emojis only (``lang == "und"``) → ``neutral``;
4. asking whether a claim is true ("quelqu'un peut confirmer ?", "واش صحيح", "wach s7i7") →
   ``question``;
5. a myth (``myths``, set by the myth enricher) with a correction ("faux", "intox", "إشاعة",
   "ماشي صحيح", "kdob", "machi s7i7"...) → ``support``; a myth without one → ``oppose``
   (spreading it), unless the post clearly praises the reform;
6. otherwise a post that asks (a question mark with a question word, or an explicit request for
   an explanation) and takes no clear side → ``question``; praise against rejection words decide
   ``support`` / ``oppose``; plain information (news wording, figures) → ``neutral``.

The shared classifier (``enrichers/classifier.py``; ``settings.classifier`` names its training
file) reads the same lexicon hits as features, with the words and the signs (question marks,
emojis) of the post: when it is there, it takes the decision of step 6 — the most probable
stance — instead of the hand-written cascade, which cross-validation found less accurate on
posts the lexicons were not written from; and an insult no longer makes a post ``oppose`` by
itself (insulting the law's critics is ``support``): the classifier decides. Without the
classifier, rule 2 covers insults too and a comment with no clue at all gets
``settings.default`` (``oppose``: the most frequent stance of such comments in the training
data, but only 20 of 44 of them — a blanket rule the classifier replaces when it is there).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from enrichers import classifier as clf
from enrichers.base import Enricher, Labels
from enrichers.relevance import LEXICON_DIR, SettingsReader, mention_text, normalized_text, require_labels
from sada.model import STANCES, Kind, Mention

DEFAULT_PATH = LEXICON_DIR / "stance.yaml"
LABELS = ("correction", "correction_weak", "support", "oppose", "question", "ask", "verify", "news")
_QUESTION_MARKS = ("?", "؟", "¿")


class StanceEnricher(Enricher):
    """Sets ``stance`` from the post's wording, the myths found in it and its toxicity."""

    name: ClassVar[str] = "stance"
    version: ClassVar[str] = "1.1.0"
    reads: ClassVar[frozenset[str]] = frozenset(
        {"text", "title", "kind", "relevant", "myths", "lang", "toxicity"})
    sets: ClassVar[frozenset[str]] = frozenset({"stance"})

    def __init__(self, path: str | Path | None = None, classifier: clf.TextClassifier | None | str = "settings") -> None:
        """``classifier``: the shared classifier to use, None for the lexicon alone, or
        ``"settings"`` (the default) for the one ``settings.classifier`` names."""
        self.lexicon = clf.shared_lexicon(path or DEFAULT_PATH, allowed_labels=LABELS)
        require_labels(self.lexicon, ("correction", "support", "oppose", "question"))
        s = SettingsReader(self.lexicon)
        self.weak_weight = s.number("weak_weight", 0.5, low=0.0)
        self.tie = s.choice("tie", "neutral", STANCES)
        self.myth_support_margin = s.number("myth_support_margin", 2, low=0)
        self.unsure = s.number("classifier.unsure", 0.0, low=0.0, high=1.0) \
            if isinstance(s.data.get("classifier"), dict) else 0.0
        self.lean = s.number("lean", 2, low=1)
        self.news_kinds = frozenset(s.ids("news_kinds", [k.value for k in Kind], ("article",)))
        self.default = s.choice("default", "oppose", STANCES)
        self.classifier = clf.from_settings(s, "stance") if classifier == "settings" else classifier

    def label(self, mention: Mention) -> Labels:
        return self.label_many([mention])[0]

    def label_many(self, mentions: list[Mention]) -> list[Labels]:
        out: list[Labels | None] = [None] * len(mentions)
        todo = []
        for i, m in enumerate(mentions):
            if not m.relevant:
                out[i] = Labels({"stance": "neutral"}, confidence=0.9)
            elif m.toxicity not in (None, "none") and (m.toxicity != "insult" or self.classifier is None):
                out[i] = Labels({"stance": "oppose"}, confidence=0.8)
            elif m.kind in self.news_kinds or m.lang == "und":
                # News, or only hashtags, links and emojis.
                out[i] = Labels({"stance": "neutral"}, confidence=0.8)
            else:
                todo.append(i)
        probs = (self.classifier.scores([clf.mention_doc(mentions[i]) for i in todo], "stance")
                 if self.classifier and todo else [None] * len(todo))
        for i, p in zip(todo, probs, strict=True):
            m = mentions[i]
            text = mention_text(m)
            stance, confidence = self.decide(normalized_text(m), m.myths or [],
                                             asks=any(q in text for q in _QUESTION_MARKS), probs=p)
            out[i] = Labels({"stance": stance}, confidence=confidence)
        return out  # type: ignore[return-value]

    def decide(self, norm: str, myths: list[str], asks: bool = False,
               probs: dict[str, float] | None = None) -> tuple[str, float]:
        """(stance, confidence) for an already normalised relevant, non-toxic post.

        ``asks``: the post has a question mark (normalisation drops punctuation); ``probs``:
        the classifier's probability per stance, when there is a classifier (it then decides
        after the "is this true?" rule).
        """
        c = clf.lexicon_counts(self.lexicon, norm)
        support, oppose = c.get("support", 0), c.get("oppose", 0)
        correction = c.get("correction", 0) + self.weak_weight * c.get("correction_weak", 0)
        pro = support + c.get("correction", 0)
        if c.get("verify", 0) and (asks or c.get("ask", 0)):
            return "question", _conf(0.6, c["verify"])
        if probs:
            best = max(probs, key=lambda k: (probs[k], -STANCES.index(k)))
            # An unsure classifier (no stance reaches classifier.unsure) defers to words that
            # clearly take a side, when no myth is involved ("Second chances matter…").
            if probs[best] < self.unsure and not myths and abs(pro - oppose) >= self.lean:
                return ("support" if pro > oppose else "oppose"), 0.5
            return best, round(min(0.95, probs[best] / (sum(probs.values()) or 1.0)), 3)
        if myths:
            if correction >= 1 and correction + support > oppose:
                return "support", _conf(0.55, correction + support - oppose)
            if support - oppose >= self.myth_support_margin:
                return "support", 0.55
            return "oppose", _conf(0.55, len(myths) + oppose)
        # Without a myth, facts and negations ("n'est pas", 1 077...) are plain information.
        question = (asks and c.get("question", 0) > 0) or c.get("ask", 0) > 0
        if question and pro - oppose <= 1 and oppose - pro <= 1:
            return "question", _conf(0.55, c.get("question", 0) + c.get("ask", 0))
        if pro > oppose:
            return "support", _conf(0.5, pro - oppose)
        if oppose > pro:
            return "oppose", _conf(0.5, oppose - pro)
        if pro:  # both, tied
            return self.tie, 0.4
        if c.get("news", 0) or c.get("correction_weak", 0):
            return "neutral", 0.5
        return self.default, 0.4


def _conf(base: float, evidence: float) -> float:
    return round(min(0.95, base + 0.1 * evidence), 3)
