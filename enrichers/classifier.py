"""A small shared text classifier: the statistical complement of the lexicons.

The rule-based enrichers (topics, myths, toxicity, stance) are lexicon-first: a lexicon term
is an editable, immediate decision. But a lexicon only finds the words someone listed, and the
lists were written from a few hundred posts; so each of these enrichers also asks this
classifier for the probability of its labels, batched in ``label_many``:

* topics, myths, toxicity: a label is set when the lexicon finds it **or** when its
  probability reaches the threshold chosen for it by cross-validation (topics also drop a
  lexicon hit the classifier finds very unlikely; toxicity keeps its priority, and its
  defamation still needs a named person or institution);
* stance: after the fixed rules, the most probable stance (see ``enrichers/stance.py``);
* relevance: a post with no reform word and no noise is about the reform when its probability
  of being relevant reaches the threshold (a reply in a thread: "Copier-coller de Paris, on
  importe leurs lois", see ``enrichers/relevance.py``).

What it is:

* **features**, in three blocks: TF-IDF (sublinear tf, smoothed idf, minimum document
  frequency 2, each block scaled to unit length) of character 2- to 5-grams inside each word
  padded with spaces (they survive free spelling, Arabic proclitics and Arabizi digits) and of
  word unigrams and bigrams, over the text ``enrichers.lexicon.normalize`` gives, plus the
  question marks and emojis it drops; and **lexicon hits**: log(1 + matches) of every label of
  the five lexicons (``data/lexicons/{topics,myths,toxicity,stance,relevance}.yaml``), which group
  synonyms across languages and scripts that a few hundred posts cannot teach n-grams;
* **model**: one binary logistic regression per label ("head", named ``task:label``:
  ``topics:day_fine``, ``myths:impunity``, ``toxicity:threat``, ``stance:support``...),
  liblinear (dual), balanced class weights, fixed ``random_state`` — training is deterministic;
* **data**: ``data/training/labels.jsonl`` (built by ``scripts/make-training-data.py``);
  topics, myths and stance heads learn from the relevant posts, toxicity heads from all;
* **decision parameters**: ``data/training/model.json`` next to it holds, per task, the
  regularisation ``C`` and, per head, the probability threshold, both chosen by grouped
  k-fold cross-validation on the training file (``python -m enrichers.classifier cv
  --write``, which also prints nested cross-validated figures); it records the training
  file's digest, and a mismatch is logged.

It is trained once per process, when the first enricher is built, and shared by every enricher
that names the same training file. Training on the 14 092 rows takes about two minutes, so the
trained model is stored (``ModelCache``: keyed by everything training reads) and the next process
with the same data and code loads it in a few seconds. Scoring is batched: a word's character
n-grams are looked up once and cached, a batch is one sparse matrix product for all heads,
the probabilities of the last posts are kept so the four enrichers that run one after the
other on a batch featurize each post once, and the lexicon hits are counted once for the
enricher and the classifier (``shared_lexicon``, ``lexicon_counts``).

Without the training file the enrichers log a warning and run on their lexicons alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import zipfile
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from enrichers.lexicon import Lexicon, file_digest, load_lexicon, normalize
from sada.errors import DataFileError
from sada.model import LANGS, MYTHS, STANCES, TOPICS, TOXICITY
from sada.settings import REPO_ROOT

log = logging.getLogger(__name__)

TRAINING_DIR = REPO_ROOT / "data" / "training"
LEXICON_DIR = REPO_ROOT / "data" / "lexicons"
CONCEPTS_FILE = REPO_ROOT / "data" / "concepts.yaml"
DEFAULT_TRAIN_FILE = TRAINING_DIR / "labels.jsonl"
PARAMS_NAME = "model.json"

TOXIC = tuple(t for t in TOXICITY if t != "none")
TASKS: dict[str, tuple[str, ...]] = {"topics": TOPICS, "myths": MYTHS, "toxicity": TOXIC, "stance": STANCES,
                                     "relevance": ("relevant",)}
# Tasks learnt from the relevant posts only (the enrichers give irrelevant posts no topic, no
# myth and a neutral stance without asking the classifier).
RELEVANT_ONLY = frozenset({"topics", "myths", "stance"})
DEFAULT_C = {"topics": 4.0, "myths": 4.0, "toxicity": 4.0, "stance": 2.0, "relevance": 16.0}
DEFAULT_THRESHOLD = 0.5
FIELDS = ("text", "title", "lang", "relevant", "topics", "myths", "stance", "toxicity", "has_named_entity")

CHAR_RANGE = (2, 5)
MIN_DF = 2
_WORD_CACHE_SIZE = 200_000
_PROBA_CACHE_SIZE = 20_000
LEXICON_WEIGHT = 0.5


# --------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One labelled training post (data/training/labels.jsonl)."""

    text: str
    title: str | None
    lang: str
    relevant: bool
    topics: tuple[str, ...]
    myths: tuple[str, ...]
    stance: str
    toxicity: str
    has_named_entity: bool

    @property
    def doc(self) -> Doc:
        return classifier_doc(self.text, self.title, self.lang)

    def labels(self, task: str) -> tuple[str, ...]:
        if task == "topics":
            return self.topics
        if task == "myths":
            return self.myths
        if task == "stance":
            return (self.stance,)
        if task == "toxicity":
            return () if self.toxicity == "none" else (self.toxicity,)
        if task == "relevance":
            return ("relevant",) if self.relevant else ()
        raise KeyError(task)


def load_rows(path: str | Path) -> list[Row]:
    """Read and validate a training file; errors name the file, the line and the field."""
    path = Path(path)
    where = _display(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise DataFileError(where, "(file)", "not found") from exc
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise DataFileError(where, f"line {n}", f"not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise DataFileError(where, f"line {n}", "expected a JSON object")
        rows.append(_row(obj, where, n))
    if not rows:
        raise DataFileError(where, "(file)", "no training rows")
    return rows


def _row(obj: Mapping[str, Any], where: str, n: int) -> Row:
    def fail(field: str, problem: str) -> DataFileError:
        return DataFileError(where, f"line {n}.{field}", problem)

    missing = [f for f in FIELDS if f not in obj]
    if missing:
        raise fail(missing[0], f"missing; each line needs {list(FIELDS)}")
    text, title = obj["text"], obj["title"]
    if not isinstance(text, str) or not text.strip():
        raise fail("text", "expected a non-empty string")
    if title is not None and not isinstance(title, str):
        raise fail("title", "expected a string or null")
    for field in ("relevant", "has_named_entity"):
        if not isinstance(obj[field], bool):
            raise fail(field, f"expected true or false, got {obj[field]!r}")

    def one(field: str, allowed: tuple[str, ...]) -> str:
        if obj[field] not in allowed:
            raise fail(field, f"expected one of {list(allowed)}, got {obj[field]!r}")
        return obj[field]

    def many(field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = obj[field]
        if not isinstance(value, list):
            raise fail(field, f"expected a list of ids, got {value!r}")
        for i, v in enumerate(value):
            if v not in allowed:
                raise fail(f"{field}[{i}]", f"unknown id {v!r}; expected one of {list(allowed)}")
        return tuple(v for v in allowed if v in value)

    return Row(text=text, title=title, lang=one("lang", LANGS), relevant=obj["relevant"],
               topics=many("topics", TOPICS), myths=many("myths", MYTHS), stance=one("stance", STANCES),
               toxicity=one("toxicity", TOXICITY), has_named_entity=obj["has_named_entity"])


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------

_QUESTION = re.compile(r"[?؟¿]")
_EMOJI = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u274C\u203C\u2049]")


class Doc(NamedTuple):
    """What the classifier reads of a post: ``normalize`` of title and text (what the lexicons
    read too), the signs ``normalize`` drops (a "?" when the post has a question mark and each
    emoji: 👏, 🤡, 😡 say a lot about stance and toxicity), and the cross-lingual concepts of
    ``data/concepts.yaml`` the post mentions (the rumor clusterer's: «يطلقو», "ytl9o" and
    "libérer" are all ``release``), space-separated."""

    norm: str
    signs: str = ""
    concepts: str = ""


@lru_cache(maxsize=8192)
def classifier_doc(text: str, title: str | None = None, lang: str | None = None) -> Doc:
    """(Remembered for the last texts: the four enrichers that ask the classifier about a batch
    each build the documents of its posts.)"""
    raw = f"{title}\n{text}" if title else text
    signs = (["?"] if _QUESTION.search(raw) else []) + _EMOJI.findall(raw)
    return Doc(normalize(raw), " ".join(signs), " ".join(concepts_of(raw, lang)))


def mention_doc(mention: Any) -> Doc:
    """``classifier_doc`` of a mention (anything with ``text``, ``title`` and ``lang``)."""
    return classifier_doc(mention.text, mention.title, getattr(mention, "lang", None))


_CONCEPTS: Any = None


def concepts_of(raw: str, lang: str | None) -> list[str]:
    """The concept ids a text mentions, sorted (the clusterer's lexicon and matching rules:
    Arabizi terms only in Darija or undetermined text)."""
    global _CONCEPTS
    from enrichers import clusters  # the clusterer's module builds on the classifier's neighbours

    if _CONCEPTS is None:
        _CONCEPTS = clusters.shared_concepts(CONCEPTS_FILE)
    _, found = clusters.find_concepts(_CONCEPTS, raw, lang == "ary" or lang in (None, "und"))
    return sorted({m.key for m in found if m.key != clusters.IGNORE})


def _concept_grams(doc: Doc) -> list[str]:
    """Each concept, and each pair of concepts of the post: a claim is a combination ("prison"
    and "empty"), and a pair learnt in one language holds in every other."""
    ids = doc.concepts.split()
    return ids + [f"{a}+{b}" for k, a in enumerate(ids) for b in ids[k + 1:]]


def _char_grams(word: str) -> list[str]:
    """Character n-grams of one word padded with spaces (scikit-learn's ``char_wb``)."""
    padded = f" {word} "
    size = len(padded)
    lo, hi = CHAR_RANGE
    out = []
    for n in range(lo, hi + 1):
        if size < n:
            break
        out.extend(padded[k:k + n] for k in range(size - n + 1))
    return out


def _word_grams(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def _words(doc: Doc) -> list[str]:
    return doc.norm.split() + doc.signs.split()


class _Vectorizer:
    """TF-IDF of character n-grams, word n-grams and concepts (and their pairs); three blocks,
    each scaled to unit length per text."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        char_df: dict[str, int] = {}
        word_df: dict[str, int] = {}
        concept_df: dict[str, int] = {}
        for doc in docs:
            words = _words(doc)
            for g in {g for w in set(words) for g in _char_grams(w)}:
                char_df[g] = char_df.get(g, 0) + 1
            for g in set(_word_grams(words)):
                word_df[g] = word_df.get(g, 0) + 1
            for g in set(_concept_grams(doc)):
                concept_df[g] = concept_df.get(g, 0) + 1
        n = len(docs)
        self.char_vocab, self.char_idf = self._vocab(char_df, n)
        self.word_vocab, self.word_idf = self._vocab(word_df, n)
        self.concept_vocab, self.concept_idf = self._vocab(concept_df, n)
        self._word_cache: dict[str, array] = {}

    @classmethod
    def from_parts(cls, vocabs: Sequence[Sequence[str]], idfs: Sequence[np.ndarray]) -> _Vectorizer:
        """The vectorizer of ``parts()`` (a stored model): no document is read again."""
        self = cls.__new__(cls)
        (self.char_vocab, self.word_vocab, self.concept_vocab) = ({g: i for i, g in enumerate(v)} for v in vocabs)
        self.char_idf, self.word_idf, self.concept_idf = (np.asarray(x, dtype=np.float64) for x in idfs)
        self._word_cache = {}
        return self

    def parts(self) -> tuple[list[list[str]], list[np.ndarray]]:
        """The vocabularies (in id order) and idf weights of the three blocks."""
        vocabs = [sorted(v, key=v.__getitem__) for v in (self.char_vocab, self.word_vocab, self.concept_vocab)]
        return vocabs, [self.char_idf, self.word_idf, self.concept_idf]

    @property
    def width(self) -> int:
        return len(self.char_idf) + len(self.word_idf) + len(self.concept_idf)

    @staticmethod
    def _vocab(df: dict[str, int], n: int) -> tuple[dict[str, int], np.ndarray]:
        kept = sorted(g for g, d in df.items() if d >= MIN_DF)
        vocab = {g: i for i, g in enumerate(kept)}
        idf = np.array([np.log((1 + n) / (1 + df[g])) + 1.0 for g in kept], dtype=np.float64)
        return vocab, idf

    def _char_ids(self, word: str) -> array:
        vocab = self.char_vocab
        ids = array("l", [i for i in (vocab.get(g) for g in _char_grams(word)) if i is not None])
        if len(self._word_cache) >= _WORD_CACHE_SIZE:
            self._word_cache.clear()
        self._word_cache[word] = ids
        return ids

    def transform(self, docs: Sequence[Doc]):
        """(character block, word block, concept block): CSR matrices with one unit-length row
        per text."""
        char_ids: array[int] = array("l")
        char_len: array[int] = array("l")
        word_ids: array[int] = array("l")
        word_len: array[int] = array("l")
        concept_ids: array[int] = array("l")
        concept_len: array[int] = array("l")
        wvocab = self.word_vocab
        cvocab = self.concept_vocab
        char_cache = self._word_cache
        for doc in docs:
            words = _words(doc)
            before = len(char_ids)
            for w in words:
                ids = char_cache.get(w)
                if ids is None:
                    ids = self._char_ids(w)
                char_ids.extend(ids)
            char_len.append(len(char_ids) - before)
            _lookup(_word_grams(words), wvocab, word_ids, word_len)
            _lookup(_concept_grams(doc), cvocab, concept_ids, concept_len)
        return (_tfidf(char_ids, char_len, self.char_idf), _tfidf(word_ids, word_len, self.word_idf),
                _tfidf(concept_ids, concept_len, self.concept_idf))


def _lookup(grams: Iterable[str], vocab: Mapping[str, int], ids: array, lengths: array) -> None:
    """Append the vocabulary ids of one text's grams to ``ids`` and their count to ``lengths``."""
    before = len(ids)
    for g in grams:
        i = vocab.get(g)
        if i is not None:
            ids.append(i)
    lengths.append(len(ids) - before)


def _tfidf(ids: array, lengths: array, idf: np.ndarray):
    """Unit-length sublinear TF-IDF rows (CSR) from each text's feature ids, in one pass."""
    from scipy.sparse import csr_matrix

    n, width = len(lengths), len(idf)
    flat = np.frombuffer(ids, dtype=np.int_) if len(ids) else np.zeros(0, dtype=np.int_)
    doc = np.repeat(np.arange(n, dtype=np.int64), np.frombuffer(lengths, dtype=np.int_) if n else 0)
    keys, counts = np.unique(doc * width + flat, return_counts=True)  # sorted by text, then feature
    rows, cols = np.divmod(keys, width)
    data = (1.0 + np.log(counts)) * idf[cols]
    norm = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    norm[norm == 0] = 1.0
    data /= norm[rows]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n))))
    return csr_matrix((data, cols, indptr), shape=(n, width))


# --------------------------------------------------------------------------------------------
# Lexicon hits, shared by the enrichers and the classifier
# --------------------------------------------------------------------------------------------

_LEXICONS: dict[tuple[str, int, int], Lexicon] = {}
_COUNTS_CACHE_SIZE = 20_000


def shared_lexicon(path: str | Path, allowed_labels: Iterable[str] | None = None) -> Lexicon:
    """``load_lexicon``, but one object per file (and version of it) in a process, so that the
    enricher owning a lexicon and the classifier (which reads every lexicon's hits as features)
    count the hits of a text once."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return load_lexicon(path, allowed_labels)  # raises the usual "not found" error
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    lexicon = _LEXICONS.get(key)
    if lexicon is None:
        lexicon = load_lexicon(path)
        _LEXICONS[key] = lexicon
    if allowed_labels is not None:
        allowed = set(allowed_labels)
        for label in lexicon.terms:
            if label not in allowed:
                raise DataFileError(str(lexicon.path), f"labels.{label}",
                                    f"unknown label; expected one of {sorted(allowed)}")
    return lexicon


def lexicon_counts(lexicon: Lexicon, norm: str) -> dict[str, int]:
    """``lexicon.counts(norm)``, remembered for the last texts (read by enricher and classifier)."""
    cache: OrderedDict[str, dict[str, int]] | None = getattr(lexicon, "_sada_counts", None)
    if cache is None:
        cache = OrderedDict()
        lexicon._sada_counts = cache  # type: ignore[attr-defined]
    counts = cache.get(norm)
    if counts is None:
        counts = lexicon.counts(norm)
        cache[norm] = counts
        if len(cache) > _COUNTS_CACHE_SIZE:
            cache.popitem(last=False)
    return counts


def default_lexicons() -> list[Lexicon]:
    """The lexicons whose hits the classifier reads: those of the enrichers it serves."""
    return [shared_lexicon(LEXICON_DIR / f"{task}.yaml") for task in TASKS]


class _LexiconFeatures:
    """One feature per lexicon label: log(1 + hits) × ``LEXICON_WEIGHT``.

    The lexicons group synonyms of many languages under one label, which a few hundred posts
    cannot teach n-grams; as features they let the classifier weigh weak hints together.
    """

    def __init__(self, lexicons: Sequence[Lexicon]) -> None:
        self.lexicons = list(lexicons)
        self.columns = [(k, label) for k, lex in enumerate(self.lexicons) for label in lex.labels]

    @property
    def width(self) -> int:
        return len(self.columns)

    def matrix(self, docs: Sequence[Doc]) -> np.ndarray:
        out = np.zeros((len(docs), len(self.columns)))
        if not self.columns:
            return out
        for i, doc in enumerate(docs):
            counts = [lexicon_counts(lex, doc.norm) for lex in self.lexicons]
            for j, (k, label) in enumerate(self.columns):
                n = counts[k].get(label)
                if n:
                    out[i, j] = n
        np.log1p(out, out=out)
        out *= LEXICON_WEIGHT
        return out


# --------------------------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------------------------


class Thresholds:
    """The probability a head needs (``task:label`` → threshold), as the enrichers ask it."""

    def __init__(self, thresholds: Mapping[str, float] | None = None) -> None:
        self.thresholds: dict[str, float] = dict(thresholds or {})

    def threshold(self, head: str, default: float = DEFAULT_THRESHOLD) -> float:
        return float(self.thresholds.get(head, default))

    def plausible(self, labels: Iterable[str], probs: Mapping[str, float], task: str, veto: float) -> set[str]:
        """The labels (found by a lexicon) whose probability is not below ``veto`` × their
        threshold: a hit the classifier finds very unlikely in context is dropped."""
        return {label for label in labels if probs.get(label, 1.0) >= veto * self.threshold(f"{task}:{label}")}

    def predicted(self, probs: Mapping[str, float], task: str) -> set[str]:
        """The labels whose probability reaches their threshold."""
        return {label for label, p in probs.items() if p >= self.threshold(f"{task}:{label}")}


class TextClassifier(Thresholds):
    """Per-label probabilities for posts, and the thresholds chosen for them."""

    def __init__(self, vectorizer: _Vectorizer, lexfeatures: _LexiconFeatures, heads: list[str], coef: np.ndarray,
                 intercept: np.ndarray, thresholds: Mapping[str, float] | None = None,
                 params: Mapping[str, Any] | None = None) -> None:
        super().__init__(thresholds)
        self.vectorizer = vectorizer
        self.lexfeatures = lexfeatures
        self.heads = tuple(heads)
        self._column = {h: i for i, h in enumerate(self.heads)}
        n_char, n_word = len(vectorizer.char_idf), len(vectorizer.word_idf)
        n_text = vectorizer.width
        self._coef_char = np.ascontiguousarray(coef[:n_char])
        self._coef_word = np.ascontiguousarray(coef[n_char:n_char + n_word])
        self._coef_concept = np.ascontiguousarray(coef[n_char + n_word:n_text])
        self._coef_lex = np.ascontiguousarray(coef[n_text:])
        self._intercept = intercept
        self.params: dict[str, Any] = dict(params or {})
        self._cache: OrderedDict[Doc, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def coef(self) -> np.ndarray:
        """The (features × heads) weights, blocks in the order ``train`` stacks them."""
        return np.vstack([self._coef_char, self._coef_word, self._coef_concept, self._coef_lex])

    @property
    def intercept(self) -> np.ndarray:
        return self._intercept

    def probabilities(self, docs: Sequence[Doc]) -> np.ndarray:
        """An (n posts × heads) array of probabilities; one matrix product for the whole batch."""
        out = np.empty((len(docs), len(self.heads)))
        todo: dict[Doc, list[int]] = {}
        with self._lock:
            for i, doc in enumerate(docs):
                row = self._cache.get(doc)
                if row is None:
                    todo.setdefault(doc, []).append(i)
                else:
                    out[i] = row
        if todo:
            batch = list(todo)
            xc, xw, xk = self.vectorizer.transform(batch)
            z = xc @ self._coef_char + xw @ self._coef_word + xk @ self._coef_concept + self._intercept
            if self.lexfeatures.width:
                z = z + self.lexfeatures.matrix(batch) @ self._coef_lex
            probs = 1.0 / (1.0 + np.exp(-np.asarray(z)))
            with self._lock:
                for doc, p in zip(batch, probs, strict=True):
                    out[todo[doc]] = p
                    self._cache[doc] = p
                while len(self._cache) > _PROBA_CACHE_SIZE:
                    self._cache.popitem(last=False)
        return out

    def scores(self, docs: Sequence[Doc], task: str) -> list[dict[str, float]]:
        """Per post, ``{label: probability}`` for the task's labels that have a head."""
        labels = [(h.split(":", 1)[1], self._column[h]) for h in self.heads if h.startswith(f"{task}:")]
        if not docs:
            return []
        probs = self.probabilities(docs)
        return [{label: float(row[col]) for label, col in labels} for row in probs]


def train(rows: Sequence[Row], c: Mapping[str, float] | None = None, tasks: Iterable[str] = tuple(TASKS),
          thresholds: Mapping[str, float] | None = None, params: Mapping[str, Any] | None = None,
          lexicons: Sequence[Lexicon] = ()) -> TextClassifier:
    """Fit the vectorizer and one logistic regression per label (deterministic).

    ``lexicons``: the lexicons whose hits are features (none: text features only).
    """
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    c = {**DEFAULT_C, **(c or {})}
    docs = [r.doc for r in rows]
    vectorizer = _Vectorizer(docs)
    lexfeatures = _LexiconFeatures(lexicons)
    xc, xw, xk = vectorizer.transform(docs)
    x = hstack([xc, xw, xk, csr_matrix(lexfeatures.matrix(docs))]).tocsr()
    relevant = np.array([r.relevant for r in rows])
    heads, coefs, intercepts = [], [], []
    for task in tasks:
        mask = relevant if task in RELEVANT_ONLY else np.ones(len(rows), dtype=bool)
        xt = x[mask]
        rows_t = [r for r, keep in zip(rows, mask, strict=True) if keep]
        for label in TASKS[task]:
            y = np.array([label in r.labels(task) for r in rows_t])
            if y.sum() == 0 or y.sum() == len(y):
                continue  # nothing to learn: no head, the enricher keeps its lexicon
            # The dual problem: far fewer posts than features, so a second for every head.
            model = LogisticRegression(C=c[task], class_weight="balanced", solver="liblinear", dual=True,
                                       random_state=0, max_iter=1000)
            model.fit(xt, y)
            heads.append(f"{task}:{label}")
            coefs.append(model.coef_[0])
            intercepts.append(model.intercept_[0])
    coef = np.array(coefs).T if coefs else np.zeros((x.shape[1], 0))
    return TextClassifier(vectorizer, lexfeatures, heads, coef, np.array(intercepts), thresholds, params)


# --------------------------------------------------------------------------------------------
# One trained model per training file and process
# --------------------------------------------------------------------------------------------

_SHARED: dict[tuple[str, int, int], TextClassifier] = {}
_SHARED_LOCK = threading.Lock()


def load_params(train_file: Path) -> dict[str, Any]:
    """The decision parameters chosen by cross-validation for this training file, or {}."""
    path = train_file.with_name(PARAMS_NAME)
    if not path.is_file():
        log.warning("%s not found: the classifier uses C=%s and a probability threshold of %s "
                    "(run `python -m enrichers.classifier cv --write`)", _display(path), DEFAULT_C, DEFAULT_THRESHOLD)
        return {}
    try:
        params = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataFileError(_display(path), "(file)", f"not valid JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise DataFileError(_display(path), "(root)", "expected an object")
    for field in ("C", "thresholds"):
        value = params.get(field, {})
        if not isinstance(value, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value.values()):
            raise DataFileError(_display(path), field, "expected an object of non-negative numbers")
    unknown = [t for t in params.get("C", {}) if t not in TASKS]
    if unknown:
        raise DataFileError(_display(path), f"C.{unknown[0]}", f"unknown task; expected one of {list(TASKS)}")
    if params.get("training_sha256") != file_digest(train_file):
        log.warning("%s was chosen on another version of %s: rerun `python -m enrichers.classifier cv --write`",
                    _display(path), _display(train_file))
    elif "lexicons_sha256" in params and params["lexicons_sha256"] != lexicons_digest():
        log.warning("%s was chosen with other versions of data/lexicons (their hits are features): rerun "
                    "`python -m enrichers.classifier cv --write`", _display(path))
    return params


def lexicons_digest() -> str:
    """One digest of the lexicon files whose hits are features."""
    digest = hashlib.sha256()
    for task in TASKS:
        digest.update((LEXICON_DIR / f"{task}.yaml").read_bytes())
    digest.update(CONCEPTS_FILE.read_bytes())  # its concepts are features too
    return digest.hexdigest()


def shared_classifier(train_file: str | Path | None = None) -> TextClassifier | None:
    """The classifier trained on ``train_file`` (once per process), or None when it is missing."""
    path = Path(train_file) if train_file is not None else DEFAULT_TRAIN_FILE
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        log.warning("training file %s not found: the enrichers use their lexicons alone", _display(path))
        return None
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _SHARED_LOCK:
        model = _SHARED.get(key)
        if model is None:
            params = load_params(path)
            lexicons = default_lexicons()
            stored = ModelCache.default()
            cache_key = stored.key(path, params.get("C")) if stored else ""
            model = stored.load(cache_key, lexicons, params) if stored else None
            if model is None:
                model = train(load_rows(path), c=params.get("C"), thresholds=params.get("thresholds"), params=params,
                              lexicons=lexicons)
                if stored:
                    stored.save(cache_key, model)
            _SHARED.clear()  # a retrained file replaces the previous model
            _SHARED[key] = model
        return model


class ModelCache:
    """Trained models on disk, so that a consumer restarts in seconds instead of retraining.

    Training is deterministic, so a stored model is exactly the one training would give; it is
    found by a key over everything training reads: the training file, the lexicons and concepts
    (their hits are features), C, the code of ``enrichers/`` (featurisation) and the versions of
    scikit-learn and NumPy. Anything else changed means another key, and a new training.
    The directory is ``SADA_MODEL_CACHE``, or ``<Settings.home>/cache/classifier``;
    ``SADA_MODEL_CACHE=off`` trains every time. A damaged file is reported and replaced.
    """

    FORMAT = "1"
    KEEP = 4  # models kept: the newest few, for switching between versions of the data

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls) -> ModelCache | None:
        value = os.environ.get("SADA_MODEL_CACHE", "")
        if value.lower() == "off":
            return None
        if value:
            return cls(Path(value))
        from sada.settings import get_settings
        return cls(get_settings().home / "cache" / "classifier")

    def key(self, train_file: Path, c: Mapping[str, float] | None) -> str:
        digest = hashlib.sha256(f"format {self.FORMAT}\n".encode())
        digest.update(file_digest(train_file).encode())
        digest.update(lexicons_digest().encode())
        digest.update(json.dumps({**DEFAULT_C, **(c or {})}, sort_keys=True).encode())
        for source in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
        import sklearn
        digest.update(f"sklearn {sklearn.__version__} numpy {np.__version__}".encode())
        return digest.hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.npz"

    def load(self, key: str, lexicons: Sequence[Lexicon], params: Mapping[str, Any]) -> TextClassifier | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                def lines(name: str) -> list[str]:
                    text = str(z[name])
                    return text.split("\n") if text else []

                vectorizer = _Vectorizer.from_parts([lines(f"vocab_{b}") for b in _BLOCKS],
                                                    [z[f"idf_{b}"] for b in _BLOCKS])
                heads, words = lines("heads"), lines("words")
                coef, intercept = np.array(z["coef"]), np.array(z["intercept"])
            lexfeatures = _LexiconFeatures(lexicons)
            if coef.shape != (vectorizer.width + lexfeatures.width, len(heads)) or intercept.shape != (len(heads),):
                raise ValueError(f"shape {coef.shape} does not fit the vocabularies and lexicons")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("stored model %s is unreadable (%s): training again", path, exc)
            return None
        for word in words:  # the words training met, as the process that trained has them at hand
            vectorizer._char_ids(word)
        path.touch()  # the least recently used are the ones pruned
        log.info("classifier loaded from %s (%d heads)", path, len(heads))
        return TextClassifier(vectorizer, lexfeatures, heads, coef, intercept, params.get("thresholds"), params)

    def save(self, key: str, model: TextClassifier) -> None:
        vocabs, idfs = model.vectorizer.parts()
        if any("\n" in g for v in vocabs for g in v) or any("\n" in h for h in model.heads):
            return  # cannot happen with normalised words; never store what would not load back
        arrays = {f"vocab_{b}": np.array("\n".join(v)) for b, v in zip(_BLOCKS, vocabs, strict=True)}
        arrays.update({f"idf_{b}": x for b, x in zip(_BLOCKS, idfs, strict=True)})
        arrays.update(heads=np.array("\n".join(model.heads)), coef=model.coef, intercept=model.intercept,
                      words=np.array("\n".join(w for w in model.vectorizer._word_cache if "\n" not in w)))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{os.getpid()}.tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, self._path(key))  # whole or absent, for a process starting meanwhile
            for old in sorted(self.directory.glob("*.npz"), key=lambda p: p.stat().st_mtime)[:-self.KEEP]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not store the trained model in %s (%s): the next start trains again",
                        self.directory, exc)


_BLOCKS = ("char", "word", "concept")


def from_settings(settings: Any, task: str) -> TextClassifier | None:
    """The classifier named by a lexicon file's ``settings.classifier.train_file``, or None.

    ``settings`` is the enricher's ``SettingsReader``; no ``classifier`` setting means the
    lexicon alone; a missing file is logged and means the lexicon alone too.
    """
    block = settings.data.get("classifier")
    if block is None:
        return None
    name = block.get("train_file") if isinstance(block, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise settings.fail("classifier.train_file", "expected the path of the training file (JSON Lines)")
    path = Path(name) if Path(name).is_absolute() else REPO_ROOT / name
    if not path.is_file():
        log.warning("%s: settings.classifier.train_file %s not found; %s use the lexicon alone",
                    settings.path, name, task)
        return None
    return shared_classifier(path)


# --------------------------------------------------------------------------------------------
# Cross-validation: `python -m enrichers.classifier cv [--folds 5] [--write]`
# --------------------------------------------------------------------------------------------
#
# Everything here runs offline, on the training file only. Folds are grouped (viral copies and
# near-copies of a post stay in one fold) and stratified on the rarer labels. The script
#   1. picks C per task by out-of-fold average precision,
#   2. picks each head's threshold on out-of-fold probabilities (see `_pick_thresholds`),
#   3. measures the whole decision (lexicon + classifier, as the enrichers run it) by nested
#      cross-validation: thresholds are chosen again inside each outer training part, so the
#      held-out fold never helps choose them,
# and with --write stores C, thresholds and figures in data/training/model.json.

C_GRID = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
T_GRID = tuple(round(0.05 + 0.025 * i, 3) for i in range(37))  # 0.05 … 0.95
DUPLICATE_SIMILARITY = 0.6


def groups(rows: Sequence[Row]) -> list[int]:
    """A group id per row: rows whose character n-gram cosine reaches DUPLICATE_SIMILARITY
    (forwards of one post, a copy with "partagez" or emojis added) share one."""
    docs = [r.doc for r in rows]
    xc = _Vectorizer(docs).transform(docs)[0]
    sim = (xc @ xc.T).tocoo()
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, v in zip(sim.row, sim.col, sim.data, strict=True):
        if i < j and v >= DUPLICATE_SIMILARITY:
            parent[find(j)] = find(i)
    roots = [find(i) for i in range(len(rows))]
    ids: dict[int, int] = {}
    return [ids.setdefault(r, len(ids)) for r in roots]


def _row_keys(row: Row) -> list[str]:
    keys = [f"relevant:{row.relevant}", f"stance:{row.stance}", f"toxicity:{row.toxicity}"]
    return keys + [f"topics:{t}" for t in row.topics] + [f"myths:{m}" for m in row.myths]


def grouped_folds(rows: Sequence[Row], k: int = 5, seed: int = 0) -> list[int]:
    """A fold per row: whole groups, spread so each label is split evenly (deterministic)."""
    group_of = groups(rows)
    members: dict[int, list[int]] = {}
    for i, g in enumerate(group_of):
        members.setdefault(g, []).append(i)
    totals: dict[str, int] = {}
    for r in rows:
        for key in _row_keys(r):
            totals[key] = totals.get(key, 0) + 1
    rng = np.random.default_rng(seed)
    order = list(members)
    rng.shuffle(order)

    def rarity(g: int) -> float:
        return min(totals[key] for i in members[g] for key in _row_keys(rows[i]))

    order.sort(key=lambda g: (rarity(g), -len(members[g])))  # stable: shuffled ties
    fold_counts = [dict.fromkeys(totals, 0) for _ in range(k)]
    fold_sizes = [0] * k
    fold_of = [0] * len(rows)
    for g in order:
        keys: dict[str, int] = {}
        for i in members[g]:
            for key in _row_keys(rows[i]):
                keys[key] = keys.get(key, 0) + 1
        best = min(range(k), key=lambda f: (
            sum((fold_counts[f][key] + n) / totals[key] for key, n in keys.items() if totals[key] < len(rows) / 4),
            fold_sizes[f], f))
        for key, n in keys.items():
            fold_counts[best][key] += n
        fold_sizes[best] += len(members[g])
        for i in members[g]:
            fold_of[i] = best
    return fold_of


ALL_HEADS = tuple(f"{task}:{label}" for task, labels in TASKS.items() for label in labels)


def out_of_fold(rows: Sequence[Row], folds: Sequence[int], c: Mapping[str, float]) -> np.ndarray:
    """Out-of-fold probabilities, rows × ALL_HEADS (0 where a fold had nothing to learn)."""
    out = np.zeros((len(rows), len(ALL_HEADS)))
    inputs = [r.doc for r in rows]
    lexicons = default_lexicons()
    for f in sorted(set(folds)):
        train_idx = [i for i, g in enumerate(folds) if g != f]
        test_idx = [i for i, g in enumerate(folds) if g == f]
        model = train([rows[i] for i in train_idx], c=c, lexicons=lexicons)
        probs = model.probabilities([inputs[i] for i in test_idx])
        for col, head in enumerate(model.heads):
            out[test_idx, ALL_HEADS.index(head)] = probs[:, col]
    return out


def _targets(rows: Sequence[Row], head: str) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the rows the head is judged on, gold 0/1) for one head."""
    task, label = head.split(":", 1)
    mask = np.array([r.relevant or task not in RELEVANT_ONLY for r in rows])
    gold = np.array([label in r.labels(task) for r in rows])
    return mask, gold


def _average_precision(gold: np.ndarray, score: np.ndarray) -> float:
    if not gold.any():
        return 0.0
    order = np.argsort(-score, kind="stable")
    hits = gold[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def pick_c(rows: Sequence[Row], folds: Sequence[int]) -> tuple[dict[str, float], dict[str, dict[float, float]]]:
    """C per task: the best mean out-of-fold average precision of the task's heads."""
    table: dict[str, dict[float, float]] = {task: {} for task in TASKS}
    for c in C_GRID:
        oof = out_of_fold(rows, folds, dict.fromkeys(TASKS, c))
        for task in TASKS:
            aps = []
            for label in TASKS[task]:
                mask, gold = _targets(rows, f"{task}:{label}")
                if gold[mask].any():
                    aps.append(_average_precision(gold[mask], oof[mask, ALL_HEADS.index(f"{task}:{label}")]))
            table[task][c] = round(float(np.mean(aps)), 4) if aps else 0.0
    best = {task: max(C_GRID, key=lambda c, t=task: (table[t][c], -c)) for task in TASKS}
    return best, table


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = float(np.sum(pred & gold))
    denominator = float(np.sum(pred) + np.sum(gold))
    return 2 * tp / denominator if denominator else 0.0


def _smoothed_best(values: dict[float, float]) -> float:
    """The grid point with the best value averaged with its two neighbours (small data)."""
    grid = sorted(values)
    smooth = {t: np.mean([values[grid[j]] for j in range(max(0, i - 1), min(len(grid), i + 2))])
              for i, t in enumerate(grid)}
    return max(grid, key=lambda t: (round(smooth[t], 6), t))


class _System:
    """The five enrichers that use the classifier, run on training rows as the pipeline runs
    them (gold language and named-entity flag stand for the earlier enrichers; relevance is
    measured on its own, and the others get the gold relevance, so that each figure is that
    enricher's)."""

    def __init__(self) -> None:
        from enrichers.myths import MythEnricher
        from enrichers.relevance import RelevanceEnricher
        from enrichers.stance import StanceEnricher
        from enrichers.topics import TopicEnricher
        from enrichers.toxicity import ToxicityEnricher

        self.enrichers = {"relevance": RelevanceEnricher(classifier=None), "topics": TopicEnricher(classifier=None),
                          "myths": MythEnricher(classifier=None), "toxicity": ToxicityEnricher(classifier=None),
                          "stance": StanceEnricher(classifier=None)}

    @staticmethod
    def mentions(rows: Sequence[Row]) -> list[Any]:
        from datetime import UTC, datetime

        from sada.model import Mention

        when = datetime(2026, 1, 1, tzinfo=UTC)
        named = [{"id": None, "text": "-", "label": "PER"}]
        # Only news articles have a title in the labelled corpora: the stance rule for articles
        # applies to them.
        return [Mention.new(platform="replay", source="training", native_id=str(i), text=r.text, title=r.title,
                            kind="article" if r.title else "post", published_at=when, collected_at=when,
                            lang=r.lang, relevant=r.relevant, entities=named if r.has_named_entity else [])
                for i, r in enumerate(rows)]

    def run(self, mentions: list[Any], scorer: Thresholds | None, only: str | None = None,
            fixed: Mapping[str, list] | None = None) -> dict[str, list]:
        """Predictions per task; ``fixed`` gives earlier tasks' predictions (to rerun stance)."""
        for enricher in self.enrichers.values():
            enricher.classifier = scorer
        out: dict[str, list] = dict(fixed or {})
        if "relevance" not in out and only in (None, "relevance"):
            out["relevance"] = [lab.values["relevant"] for lab in self.enrichers["relevance"].label_many(mentions)]
        for task in ("topics", "myths", "toxicity"):
            if task not in out and only in (None, task):
                out[task] = [lab.values[task] for lab in self.enrichers[task].label_many(mentions)]
        if only in (None, "stance"):
            updated = [m.model_copy(update={"myths": my, "toxicity": tx})
                       for m, my, tx in zip(mentions, out["myths"], out["toxicity"], strict=True)]
            out["stance"] = [lab.values["stance"] for lab in self.enrichers["stance"].label_many(updated)]
        return out


def _pick_thresholds(rows: Sequence[Row], oof: np.ndarray) -> dict[str, float]:
    """Per head of topics, myths, toxicity and relevance, the threshold that maximises the out-of-fold F1
    of the classifier alone, smoothed over neighbouring grid points (small data).

    The classifier alone, not "lexicon or classifier": the lexicons were written from part of
    the training posts, so on those posts they look perfect, and a threshold chosen for the
    combination would learn to never use the classifier. Stance needs no threshold: the
    classifier's most probable stance decides.
    """
    thresholds: dict[str, float] = {}
    named = np.array([r.has_named_entity for r in rows])
    for task in ("topics", "myths", "toxicity", "relevance"):
        for label in TASKS[task]:
            head = f"{task}:{label}"
            mask, gold = _targets(rows, head)
            if not gold[mask].any():
                continue
            prob = oof[:, ALL_HEADS.index(head)]
            gate = named if head == "toxicity:defamation" else np.ones(len(rows), dtype=bool)
            values = {t: _f1(((prob >= t) & gate)[mask], gold[mask]) for t in T_GRID}
            thresholds[head] = _smoothed_best(values)
    return thresholds


def _report(rows: Sequence[Row], pred: Mapping[str, list]) -> dict[str, Any]:
    """The figures `sada evaluate` prints, for the tasks the classifier serves."""
    from sada.offline import _multi, _prf, _single

    gold, got = [r.relevant for r in rows], pred["relevance"]
    return {
        "relevance": _prf(sum(g and p for g, p in zip(gold, got, strict=True)),
                          sum(p and not g for g, p in zip(gold, got, strict=True)),
                          sum(g and not p for g, p in zip(gold, got, strict=True))),
        "topics": _multi([set(r.topics) for r in rows], [set(p) for p in pred["topics"]], TOPICS),
        "myths": _multi([set(r.myths) for r in rows], [set(p) for p in pred["myths"]], MYTHS),
        "stance": _single([r.stance for r in rows], pred["stance"], STANCES),
        "toxicity": _single([r.toxicity for r in rows], pred["toxicity"], TOXICITY),
    }


def cross_validate(rows: Sequence[Row], k: int = 5, seed: int = 0, c: Mapping[str, float] | None = None,
                   progress: Any = None) -> dict[str, Any]:
    """C, thresholds (on all rows) and nested cross-validated figures of the whole decision."""
    say = progress or (lambda _msg: None)
    folds = grouped_folds(rows, k, seed)
    if c is None:
        say("choosing C per task")
        c, c_table = pick_c(rows, folds)
    else:
        c_table = {}
    system = _System()
    mentions = system.mentions(rows)
    say("choosing thresholds")
    thresholds = _pick_thresholds(rows, out_of_fold(rows, folds, c))
    pred: dict[str, list] = {task: [None] * len(rows) for task in TASKS}
    lexicon_only = system.run(mentions, None)
    for f in range(k):
        say(f"nested fold {f + 1}/{k}")
        inner = [i for i, g in enumerate(folds) if g != f]
        outer = [i for i, g in enumerate(folds) if g == f]
        inner_rows = [rows[i] for i in inner]
        inner_oof = out_of_fold(inner_rows, grouped_folds(inner_rows, k, seed), c)
        chosen = _pick_thresholds(inner_rows, inner_oof)
        model = train(inner_rows, c=c, thresholds=chosen, lexicons=default_lexicons())
        out = system.run([mentions[i] for i in outer], model)
        for task in TASKS:
            for i, value in zip(outer, out[task], strict=True):
                pred[task][i] = value
    return {"folds": k, "seed": seed, "rows": len(rows), "groups": len(set(groups(rows))), "C": c,
            "C_table": c_table, "thresholds": thresholds, "fold_of": folds,
            "cv": _report(rows, pred), "lexicon_only": _report(rows, lexicon_only), "predictions": pred}


def _print(result: Mapping[str, Any], out: Any) -> None:
    w = out.write
    w(f"{result['rows']} rows, {result['groups']} groups, {result['folds']} grouped folds; C {result['C']}\n")
    for name in ("lexicon_only", "cv"):
        r = result[name]
        title = "lexicon alone (tuned on part of these rows: optimistic)" if name == "lexicon_only" else \
            "lexicon + classifier, nested cross-validation"
        w(f"\n== {title}\n")
        w(f"relevance F1 {r['relevance']['f1']:.3f}   "
          f"topics micro-F1 {r['topics']['micro']['f1']:.3f}   myths macro-F1 {r['myths']['macro_f1']:.3f}   "
          f"stance accuracy {r['stance']['accuracy']:.3f}   toxicity macro-F1 {r['toxicity']['macro_f1']:.3f}\n")
        for block in ("topics", "myths", "stance", "toxicity"):
            w(f"  {block}: {'label':26} {'P':>6} {'R':>6} {'F1':>6} {'n':>5}\n")
            for lab, m in r[block]["per_label"].items():
                w(f"  {'':{len(block) + 2}}{lab:26} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
                  f"{m['support']:5d}\n")
    w("\nthresholds: " + ", ".join(f"{h} {t}" for h, t in result["thresholds"].items()) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m enrichers.classifier",
                                     description="Cross-validate the shared classifier on the training file.")
    parser.add_argument("command", choices=["cv"])
    parser.add_argument("--train-file", type=Path, default=DEFAULT_TRAIN_FILE)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-c", action="store_true", help="reuse the C of model.json instead of choosing it")
    parser.add_argument("--write", action="store_true", help=f"store C, thresholds and figures in {PARAMS_NAME}")
    parser.add_argument("--json", type=Path, help="also write the full result (predictions included) here")
    args = parser.parse_args(argv)
    rows = load_rows(args.train_file)
    c = None
    if args.keep_c:
        c = json.loads(args.train_file.with_name(PARAMS_NAME).read_text(encoding="utf-8"))["C"]
    result = cross_validate(rows, args.folds, args.seed, c=c, progress=lambda m: print(m, file=sys.stderr))
    _print(result, sys.stdout)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.write:
        params = {
            "about": "Chosen by `python -m enrichers.classifier cv --write` on the training file; "
                     "read by enrichers/classifier.py. Do not edit by hand: rerun the command.",
            "training_file": _display(args.train_file), "training_sha256": file_digest(args.train_file),
            "lexicons_sha256": lexicons_digest(),
            "rows": result["rows"], "folds": result["folds"], "seed": result["seed"], "C": result["C"],
            "thresholds": result["thresholds"],
            "cv": {task: {"summary": {k: v for k, v in figures.items() if k != "per_label"},
                          "per_label": figures.get("per_label", {})} for task, figures in result["cv"].items()},
        }
        path = args.train_file.with_name(PARAMS_NAME)
        path.write_text(json.dumps(params, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
        print(f"wrote {_display(path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
