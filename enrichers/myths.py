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
foresees, ``settings.classifier`` may name a labelled JSON Lines file (the development corpus):
a character n-gram logistic regression per myth is trained on it when the enricher is built
(deterministic; no I/O afterwards), and its probability adds ``weight`` to a myth's score above
``threshold``, half of it within ``margin`` below. It never sets a myth on its own unless it is
confident enough to reach ``settings.min_hits``; without the file the enricher runs on the
lexicon alone.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from enrichers.base import Enricher, Labels
from enrichers.lexicon import load_lexicon, normalize
from enrichers.relevance import LEXICON_DIR, SettingsReader, normalized_text
from sada.errors import DataFileError
from sada.model import MYTHS, Mention
from sada.settings import REPO_ROOT

log = logging.getLogger(__name__)

DEFAULT_PATH = LEXICON_DIR / "myths.yaml"
HELPER_LABELS = ("bracelet_ctx", "bracelet_fears_ctx")
WEAK = tuple(f"{m}_weak" for m in MYTHS)


class MythEnricher(Enricher):
    """Sets ``myths``: the misconceptions a relevant post spreads or corrects."""

    name: ClassVar[str] = "myths"
    version: ClassVar[str] = "1.0.0"
    reads: ClassVar[frozenset[str]] = frozenset({"text", "title", "relevant"})
    sets: ClassVar[frozenset[str]] = frozenset({"myths"})

    def __init__(self, path: str | Path | None = None) -> None:
        self.lexicon = load_lexicon(path or DEFAULT_PATH, allowed_labels=MYTHS + WEAK + HELPER_LABELS)
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
        self._labels = [label for label in MYTHS + WEAK + HELPER_LABELS if label in self.lexicon.terms]
        self.classifier = _MythClassifier.from_settings(s) if "classifier" in s.data else None

    def label(self, mention: Mention) -> Labels:
        if not mention.relevant:
            return Labels({"myths": []}, confidence=0.9)
        myths, confidence = self.decide(normalized_text(mention))
        return Labels({"myths": myths}, confidence=confidence)

    def scores(self, norm: str) -> dict[str, float]:
        """Matches per myth in an already normalised text (gated words included)."""
        counts: dict[str, float] = {}
        for hit in self.lexicon.find(norm, self._labels):
            counts[hit.label] = counts.get(hit.label, 0) + 1
        out = {}
        for m in MYTHS:
            score = counts.get(m, 0) + self.weak_weight * counts.get(f"{m}_weak", 0)
            if score:
                out[m] = score
        for myth, terms, requires in self.gated:
            if counts.get(terms) and counts.get(requires):
                out[myth] = out.get(myth, 0) + self.weak_weight * counts[terms]
        if self.classifier is not None:
            for myth, extra in self.classifier.scores(norm).items():
                out[myth] = out.get(myth, 0) + extra
        return out

    def decide(self, norm: str) -> tuple[list[str], float]:
        scores = self.scores(norm)
        ranked = sorted((m for m, v in scores.items() if v >= self.min_hits),
                        key=lambda m: (-scores[m], MYTHS.index(m)))
        # Posts usually carry one myth: a second one must be as well evidenced as the first, or
        # reach settings.extra_min_score.
        chosen = ranked[:1] + [m for m in ranked[1: self.max_myths]
                               if scores[m] >= min(scores[ranked[0]], self.extra_min)]
        if not chosen:
            return [], 0.7
        return sorted(chosen, key=MYTHS.index), round(min(0.95, 0.5 + 0.15 * scores[chosen[0]]), 3)


class _MythClassifier:
    """Character n-gram logistic regressions, one per myth, trained when the enricher is built.

    Training uses scikit-learn; scoring a post is a dictionary lookup per n-gram and one small
    matrix product, since scikit-learn's per-document overhead would cost more than all the
    lexicons together.
    """

    def __init__(self, texts: list[str], labels: list[list[str]], *, threshold: float, margin: float,
                 weight: float, c: float) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.threshold, self.margin, self.weight = threshold, margin, weight
        vectorizer = TfidfVectorizer(analyzer=_char_ngrams, sublinear_tf=True)
        x = vectorizer.fit_transform(texts)
        self.myths = [m for m in MYTHS if any(m in y for y in labels)]
        coefs, intercepts = [], []
        for myth in self.myths:
            y = np.array([myth in row for row in labels])
            model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", random_state=0)
            model.fit(x, y)
            coefs.append(model.coef_[0])
            intercepts.append(model.intercept_[0])
        self._index = {gram: i for i, gram in enumerate(vectorizer.get_feature_names_out())}
        self._idf = vectorizer.idf_
        self._weights = np.array(coefs).T * self._idf[:, None]  # idf folded into the coefficients
        self._intercept = np.array(intercepts)

    @classmethod
    def from_settings(cls, s: SettingsReader) -> _MythClassifier | None:
        name = s.data["classifier"].get("train_file") if isinstance(s.data["classifier"], dict) else None
        if not isinstance(name, str) or not name.strip():
            raise s.fail("classifier.train_file", "expected the path of a labelled JSON Lines file")
        path = Path(name) if Path(name).is_absolute() else REPO_ROOT / name
        if not path.is_file():
            log.warning("%s: settings.classifier.train_file %s not found; myths use the lexicon alone",
                        s.path, name)
            return None
        texts, labels = [], []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row: dict[str, Any] = json.loads(line)
                gold = row["gold"]
                if not gold.get("relevant"):
                    continue
                myths = [m for m in gold.get("myths") or [] if m in MYTHS]
                text = f"{row['title']}\n{row['text']}" if row.get("title") else row["text"]
            except (ValueError, KeyError, TypeError) as exc:
                raise DataFileError(str(path), f"line {n}", f"expected a mention with a 'gold' object ({exc})") from exc
            texts.append(normalize(text))
            labels.append(myths)
        if not any(labels):
            raise s.fail("classifier.train_file", f"{name} has no relevant post with a myth to learn from")
        return _trained(tuple(texts), tuple(tuple(y) for y in labels),
                        s.number("classifier.threshold", 0.5, low=0.0, high=1.0),
                        s.number("classifier.margin", 0.15, low=0.0, high=1.0),
                        s.number("classifier.weight", 1.0, low=0.0),
                        s.number("classifier.C", 4.0, low=0.001))

    def probabilities(self, norm: str) -> dict[str, float]:
        """P(myth) for an already normalised text, as the trained models would give it."""
        import numpy as np

        counts: dict[int, int] = {}
        index = self._index
        for gram in _char_ngrams(norm):
            i = index.get(gram)
            if i is not None:
                counts[i] = counts.get(i, 0) + 1
        if counts:
            rows = np.fromiter(counts, dtype=np.intp, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))
            norm2 = float(np.sqrt(np.sum((tf * self._idf[rows]) ** 2)))
            z = (tf @ self._weights[rows]) / norm2 + self._intercept
        else:
            z = self._intercept
        probs = 1.0 / (1.0 + np.exp(-z))
        return dict(zip(self.myths, probs.tolist(), strict=True))

    def scores(self, norm: str) -> dict[str, float]:
        out = {}
        for myth, p in self.probabilities(norm).items():
            if p >= self.threshold:
                out[myth] = self.weight
            elif p >= self.threshold - self.margin:
                out[myth] = self.weight / 2
        return out


@lru_cache(maxsize=4)
def _trained(texts: tuple[str, ...], labels: tuple[tuple[str, ...], ...], threshold: float, margin: float,
             weight: float, c: float) -> _MythClassifier:
    """One training per corpus and settings in a process (the model is read-only)."""
    return _MythClassifier(list(texts), [list(y) for y in labels], threshold=threshold, margin=margin,
                           weight=weight, c=c)


def _char_ngrams(text: str) -> list[str]:
    """Character 3- to 5-grams of each word padded with spaces (scikit-learn's ``char_wb``)."""
    grams = []
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in (3, 4, 5):
            if size <= n:
                grams.append(padded)
                break
            grams.extend(padded[k:k + n] for k in range(size - n + 1))
    return grams
