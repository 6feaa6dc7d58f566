"""The shared text classifier (enrichers/classifier.py) and how the enrichers use it.

Deterministic training, batched scoring, the lexicon-only fallback when the training file is
missing, validation errors naming the file and the field, the decision rules that combine
lexicon and probability, and the grouped folds of the cross-validation.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from enrichers import classifier as clf
from enrichers.lexicon import normalize
from enrichers.myths import MythEnricher
from enrichers.stance import StanceEnricher
from enrichers.topics import TopicEnricher
from enrichers.toxicity import ToxicityEnricher
from sada.errors import DataFileError
from sada.model import MYTHS
from tests.builders import mention


def _row(text, *, relevant=True, topics=(), myths=(), stance="neutral", toxicity="none", named=False, title=None,
         lang="fr"):
    return {"text": text, "title": title, "lang": lang, "relevant": relevant, "topics": list(topics),
            "myths": list(myths), "stance": stance, "toxicity": toxicity, "has_named_entity": named}


# A small corpus with a made-up word ("zorglub") that only the classifier can learn: no lexicon
# lists it, so a label that follows it comes from the classifier.
CORPUS = (
    [_row(f"zorglub encore zorglub numero {i}", myths=["impunity"], stance="oppose") for i in range(8)]
    + [_row(f"la loi, les peines alternatives et le tribunal de la ville {i}", stance="neutral") for i in range(8)]
    + [_row(f"bravo pour cette réforme formidable {i}", stance="support") for i in range(8)]
    + [_row(f"comment ça marche exactement {i} ?", stance="question") for i in range(8)]
    + [_row(f"frobnitz frobnitz les gens {i}", relevant=False, toxicity="hate") for i in range(6)]
    + [_row(f"cette loi sur le bracelet {i}", topics=["electronic_monitoring"]) for i in range(6)]
)


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    return clf.load_rows(_write(tmp_path_factory.mktemp("train") / "labels.jsonl", CORPUS))


@pytest.fixture(scope="module")
def model(rows):
    return clf.train(rows, thresholds={"myths:impunity": 0.5, "toxicity:hate": 0.5})


def post(text, **fields):
    return mention(0, text=text, **fields)


# --------------------------------------------------------------------------------------------
# Training and scoring
# --------------------------------------------------------------------------------------------


def test_training_is_deterministic(rows):
    texts = [clf.classifier_doc(t) for t in ("zorglub zorglub", "bravo pour la réforme", "comment ça marche ?", "rien")]
    lexicons = clf.default_lexicons()
    first = clf.train(rows, lexicons=lexicons).probabilities(texts)
    second = clf.train(rows, lexicons=lexicons).probabilities(texts)
    assert np.array_equal(first, second)
    assert first.shape == (4, len(clf.train(rows).heads))
    assert ((first >= 0) & (first <= 1)).all()


def test_scores_are_batched_and_cached(model):
    texts = [clf.classifier_doc(t) for t in ("zorglub partout", "bravo 👏", "zorglub partout")]
    scores = model.scores(texts, "myths")
    assert len(scores) == 3 and scores[0] == scores[2]
    assert scores[0]["impunity"] > 0.5 > scores[1]["impunity"]
    assert model.probabilities(texts[:1]).tolist() == model.probabilities(texts[:1]).tolist()


def test_the_classifier_reads_question_marks_and_emojis():
    doc = clf.classifier_doc("C'est une honte 😡 ! Pourquoi ?", "Titre")
    assert doc[:2] == (" titre c est une honte pourquoi ", "? 😡")
    assert clf.classifier_doc("rien")[:2] == (" rien ", "")


def test_the_classifier_reads_the_same_concepts_in_every_language_and_script():
    """The concept block is what lets a pattern learnt in French hold in Darija and Arabic."""
    fr = clf.classifier_doc("Ils vont libérer tous les prisonniers, les prisons seront vides", lang="fr")
    ary = clf.classifier_doc("ghadi ytl9o ga3 l7abssa, l7bs ghadi ybqa khawi", lang="ary")
    ar = clf.classifier_doc("سيطلقون سراح جميع السجناء وستصبح السجون فارغة", lang="ar")
    shared = set(fr.concepts.split()) & set(ary.concepts.split()) & set(ar.concepts.split())
    assert "release" in shared, (fr.concepts, ary.concepts, ar.concepts)
    # Arabizi folding only where Darija is possible: French words are not read as Arabizi.
    assert clf.classifier_doc("lbrasli", lang="fr").concepts != clf.classifier_doc("lbrasli", lang="ary").concepts
    # The future marker "ghadi" is not "ghda" (tomorrow), though both have the skeleton ghd.
    assert "tomorrow" not in clf.classifier_doc("ghadi ykhrjo", lang="ary").concepts.split()
    assert "tomorrow" in clf.classifier_doc("ghadi ykhrjo mn ghda", lang="ary").concepts.split()


@pytest.mark.parametrize(("plural", "singular", "lang"), [
    ("البراسليات", "البراسلي", "ary"),  # Darija sound feminine plural
    ("الأساور الإلكترونية والعقوبات", "السوار الإلكتروني والعقوبة", "ar"),  # ة is folded to ه
    ("lbrasliyat", "lbrasli", "ary"),  # the same in Arabizi
])
def test_a_plural_reads_the_concepts_of_its_singular(plural, singular, lang):
    concepts = clf.classifier_doc(singular, lang=lang).concepts
    assert concepts and clf.classifier_doc(plural, lang=lang).concepts == concepts


def test_heads_exist_only_for_labels_with_examples(model):
    assert "myths:impunity" in model.heads and "topics:electronic_monitoring" in model.heads
    assert "myths:foreign_agenda" not in model.heads  # no example: the lexicon alone decides
    assert model.scores([clf.Doc(" x ")], "myths")[0].keys() == {"impunity"}


# --------------------------------------------------------------------------------------------
# The training file: fallback and validation
# --------------------------------------------------------------------------------------------


def test_missing_training_file_falls_back_to_the_lexicon(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert clf.shared_classifier(tmp_path / "none.jsonl") is None
    assert "not found" in caplog.text
    lexicon = tmp_path / "myths.yaml"
    lexicon.write_text(f"version: 1\nsettings:\n  classifier: {{train_file: {tmp_path}/none.jsonl}}\n"
                       "labels:\n  impunity:\n    fr: [impunite]\n", encoding="utf-8")
    enricher = MythEnricher(lexicon)
    assert enricher.classifier is None
    labels = enricher.label_many([post("C'est l'impunité", relevant=True), post("zorglub", relevant=True)])
    assert [lab.values for lab in labels] == [{"myths": ["impunity"]}, {"myths": []}]


@pytest.mark.parametrize(("line", "field"), [
    ({"myths": ["not_a_myth"]}, "line 2.myths[0]"),
    ({"stance": "maybe"}, "line 2.stance"),
    ({"relevant": "yes"}, "line 2.relevant"),
    ({"text": ""}, "line 2.text"),
    ({"toxicity": None}, "line 2.toxicity"),
])
def test_a_bad_training_row_names_file_line_and_field(tmp_path, line, field):
    path = _write(tmp_path / "labels.jsonl", [CORPUS[0], {**CORPUS[1], **line}])
    with pytest.raises(DataFileError) as err:
        clf.load_rows(path)
    assert str(path) in str(err.value) and field in str(err.value)


def test_a_missing_field_and_broken_json_are_named(tmp_path):
    row = dict(CORPUS[0])
    del row["has_named_entity"]
    path = _write(tmp_path / "labels.jsonl", [row])
    with pytest.raises(DataFileError, match=r"line 1\.has_named_entity: missing"):
        clf.load_rows(path)
    path.write_text('{"text": \n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"labels\.jsonl: line 1: not valid JSON"):
        clf.load_rows(path)


def test_bad_decision_parameters_are_named(tmp_path):
    train = _write(tmp_path / "labels.jsonl", CORPUS)
    (tmp_path / clf.PARAMS_NAME).write_text(json.dumps({"C": {"topics": "big"}}), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"model\.json: C: expected an object of non-negative numbers"):
        clf.load_params(train)
    (tmp_path / clf.PARAMS_NAME).write_text(json.dumps({"C": {"sentiment": 1}}), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"C\.sentiment: unknown task"):
        clf.load_params(train)


def test_shared_classifier_is_trained_once_and_reads_its_parameters(tmp_path, caplog):
    train = _write(tmp_path / "labels.jsonl", CORPUS)
    (tmp_path / clf.PARAMS_NAME).write_text(json.dumps({
        "training_sha256": clf.file_digest(train), "C": {"myths": 2.0}, "thresholds": {"myths:impunity": 0.3}}),
        encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        first = clf.shared_classifier(train)
    assert first is clf.shared_classifier(train)
    assert first.threshold("myths:impunity") == 0.3 and first.threshold("myths:mass_release") == clf.DEFAULT_THRESHOLD
    assert "another version" not in caplog.text
    with open(train, "a", encoding="utf-8") as out:  # the file changed: retrained, stale parameters logged
        out.write(json.dumps(_row("zorglub de plus", myths=["impunity"])) + "\n")
    with caplog.at_level(logging.WARNING):
        assert clf.shared_classifier(train) is not first
    assert "another version" in caplog.text


def _docs():
    return [clf.classifier_doc(t) for t in ("zorglub zorglub", "bravo pour la réforme", "comment ça marche ?",
                                            "frobnitz les gens", "cette loi sur le bracelet", "rien du tout")]


def test_a_stored_model_scores_exactly_like_the_trained_one(model, tmp_path):
    store = clf.ModelCache(tmp_path)
    store.save("k", model)
    loaded = store.load("k", model.lexfeatures.lexicons, {"thresholds": {"myths:impunity": 0.5}})
    assert loaded is not None and loaded.heads == model.heads
    assert np.array_equal(loaded.probabilities(_docs()), model.probabilities(_docs()))
    assert loaded.threshold("myths:impunity") == 0.5
    # the words training met come back looked up, as in the process that trained (speed)
    assert set(model.vectorizer._word_cache) <= set(loaded.vectorizer._word_cache)


def test_the_shared_classifier_is_stored_and_restarts_without_training(tmp_path, monkeypatch, caplog):
    train = _write(tmp_path / "labels.jsonl", CORPUS)
    store = tmp_path / "cache"
    monkeypatch.setenv("SADA_MODEL_CACHE", str(store))
    monkeypatch.setattr(clf, "_SHARED", {})
    first = clf.shared_classifier(train)
    assert len(list(store.glob("*.npz"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although the stored model fits")

    monkeypatch.setattr(clf, "_SHARED", {})  # a new process
    monkeypatch.setattr(clf, "train", no_training)
    again = clf.shared_classifier(train)
    assert again is not first and np.array_equal(again.probabilities(_docs()), first.probabilities(_docs()))

    # A damaged file is reported and replaced by a new training, not trusted.
    [stored] = store.glob("*.npz")
    stored.write_bytes(stored.read_bytes()[:1000])  # cut short, as by a full disk
    monkeypatch.undo()
    monkeypatch.setenv("SADA_MODEL_CACHE", str(store))
    monkeypatch.setattr(clf, "_SHARED", {})
    with caplog.at_level(logging.WARNING):
        retrained = clf.shared_classifier(train)
    assert "unreadable" in caplog.text
    assert np.array_equal(retrained.probabilities(_docs()), first.probabilities(_docs()))
    assert clf.ModelCache(store).load(stored.stem, retrained.lexfeatures.lexicons, {}) is not None


def test_a_stored_model_is_found_only_for_the_same_data_and_parameters(tmp_path, monkeypatch):
    train = _write(tmp_path / "labels.jsonl", CORPUS)
    store = clf.ModelCache(tmp_path / "cache")
    key = store.key(train, {"myths": 2.0})
    assert store.key(train, {"myths": 2.0}) == key
    assert store.key(train, {"myths": 4.0}) != key  # another C
    with open(train, "a", encoding="utf-8") as out:
        out.write(json.dumps(_row("zorglub de plus", myths=["impunity"])) + "\n")
    assert store.key(train, {"myths": 2.0}) != key  # another training file
    monkeypatch.setenv("SADA_MODEL_CACHE", "off")
    assert clf.ModelCache.default() is None


# --------------------------------------------------------------------------------------------
# The enrichers combine lexicon and classifier
# --------------------------------------------------------------------------------------------


class _Counting:
    """Wraps a classifier and counts the batches it is asked to score."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def scores(self, texts, task):
        self.calls.append((task, len(texts)))
        return self.model.scores(texts, task)


def test_a_label_the_lexicon_misses_comes_from_the_classifier_in_one_batch(model):
    counting = _Counting(model)
    myths = MythEnricher(classifier=counting)
    posts = [post("zorglub, toujours zorglub", relevant=True), post("Ils vont vider les prisons", relevant=True),
             post("zorglub", relevant=False)]
    labels = [lab.values["myths"] for lab in myths.label_many(posts)]
    assert labels == [["impunity"], ["mass_release"], []]
    assert counting.calls == [("myths", 2)]  # one call per batch, relevant posts only
    assert MythEnricher(classifier=None).label(posts[0]).values == {"myths": []}


def test_a_myth_the_lexicon_finds_but_the_classifier_finds_very_unlikely_is_dropped():
    myths = MythEnricher(classifier=None)
    myths.classifier, myths.veto = clf.Thresholds({"myths:mass_release": 0.4}), 0.5
    text = normalize("Ils vont vider les prisons")  # a lexicon term of mass_release
    low = dict.fromkeys(MYTHS, 0.0)
    assert myths.decide(text, {**low, "mass_release": 0.19})[0] == []  # below 0.5 × 0.4
    assert myths.decide(text, {**low, "mass_release": 0.2})[0] == ["mass_release"]  # kept: the lexicon decides
    assert myths.decide(text, None)[0] == ["mass_release"]  # no probabilities: the lexicon alone
    myths.veto = 0.0
    assert myths.decide(text, low)[0] == ["mass_release"]


def test_topics_union_of_lexicon_and_classifier(model):
    topics = TopicEnricher(classifier=model)
    assert topics.label(post("La loi 43.22 et le TIG", relevant=True)).values["topics"] == ["community_service"]
    labels = topics.label(post("cette loi sur le bracelet, encore", relevant=True))  # the lexicon finds it too
    assert labels.values["topics"] == ["electronic_monitoring"]
    assert TopicEnricher(classifier=None).label(post("cette loi, encore et encore", relevant=True)).values["topics"] == []
    learnt = model.scores([clf.classifier_doc("cette loi sur le, encore")], "topics")[0]
    assert learnt["electronic_monitoring"] >= 0.5  # learnt from "cette loi sur le", which no lexicon lists
    assert "electronic_monitoring" in topics.label(post("cette loi sur le, encore", relevant=True)).values["topics"]


def test_toxicity_from_the_classifier_keeps_priority_and_the_defamation_gate(model):
    tox = ToxicityEnricher(classifier=model)
    assert tox.label(post("frobnitz frobnitz les gens")).values == {"toxicity": "hate"}
    assert tox.label(post("frobnitz, je vais te tuer")).values == {"toxicity": "threat"}  # lexicon threat wins
    gate = clf.Thresholds({"toxicity:defamation": 0.0})  # "defamation" for every post...
    tox.classifier = gate
    probs = {"insult": 0.0, "hate": 0.0, "threat": 0.0, "defamation": 0.9}
    assert tox.decide(" le ministre a tout decide ", [], probs)[0] == "none"  # ...but nobody is named
    assert tox.decide(" le ministre a tout decide ", [{"label": "PER"}], probs)[0] == "defamation"


def test_stance_without_clue_takes_the_classifier_not_a_blanket_oppose(model):
    stance = StanceEnricher(classifier=model)
    text = "comment ça marche exactement pour mon frère ?"
    assert stance.label(post(text, relevant=True, myths=[], toxicity="none", lang="fr")).values == {"stance": "question"}
    lexicon_only = StanceEnricher(classifier=None)
    no_clue = "la loi 43.22 et mon voisin, encore"
    assert lexicon_only.decide(f" {no_clue} ", [])[0] == lexicon_only.default == "oppose"  # the fallback
    probs = stance.classifier.scores([clf.classifier_doc(no_clue)], "stance")[0]
    assert stance.decide(f" {no_clue} ", [], probs=probs)[0] == max(probs, key=probs.get)
    # With a classifier, its most probable stance decides after the fixed rules...
    probs = {"support": 0.7, "oppose": 0.2, "neutral": 0.05, "question": 0.05}
    assert stance.decide(" ils vont vider les prisons ", ["mass_release"], probs=probs)[0] == "support"
    assert lexicon_only.decide(" ils vont vider les prisons ", ["mass_release"])[0] == "oppose"
    # ...and "is this true?" stays a question whatever the classifier says.
    assert stance.decide(" wach s7i7 ghadi ytl9o ga3 l7abssa ", ["mass_release"], asks=True, probs=probs)[0] == "question"


def test_insults_go_to_the_classifier_other_toxicity_opposes(model):
    stance = StanceEnricher(classifier=model)
    bravo = "bravo pour cette réforme formidable, les critiques sont des abrutis"
    assert stance.label(post(bravo, relevant=True, myths=[], toxicity="insult")).values == {"stance": "support"}
    assert stance.label(post(bravo, relevant=True, myths=[], toxicity="threat")).values == {"stance": "oppose"}
    assert StanceEnricher(classifier=None).label(post(bravo, relevant=True, myths=[], toxicity="insult")).values == \
        {"stance": "oppose"}


# --------------------------------------------------------------------------------------------
# Cross-validation folds
# --------------------------------------------------------------------------------------------


def test_grouped_folds_keep_copies_together_and_are_deterministic(rows):
    copies = [clf._row(_row("URGENT partagez : 30 000 détenus libérés le 18 novembre", myths=["mass_release"]), "x", 1),
              clf._row(_row("URGENT partagez : 30 000 détenus libérés le 18 novembre !!! 🚨", myths=["mass_release"]), "x", 2)]
    data = list(rows) + copies
    folds = clf.grouped_folds(data, k=5)
    assert folds == clf.grouped_folds(data, k=5)
    assert folds[-1] == folds[-2]
    assert set(folds) == set(range(5))
    group = clf.groups(data)
    assert group[-1] == group[-2] and len(set(group)) < len(data)


def test_an_unsure_stance_classifier_defers_to_words_that_clearly_take_a_side(model):
    stance = StanceEnricher(classifier=model)
    norm = normalize("Second chances matter. Alternative sentences make sense.")
    unsure = {"support": 0.23, "oppose": 0.27, "neutral": 0.11, "question": 0.0}
    assert stance.unsure > 0.27
    assert stance.decide(norm, [], probs=unsure)[0] == "support"
    # a confident classifier keeps the last word, and so does an unsure one when a myth is named
    assert stance.decide(norm, [], probs={**unsure, "oppose": 0.8})[0] == "oppose"
    assert stance.decide(norm, ["victims_forgotten"], probs=unsure)[0] == "oppose"
