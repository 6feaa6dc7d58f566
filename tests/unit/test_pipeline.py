from typing import ClassVar

import pytest

from enrichers.base import Enricher, Labels, Pipeline
from sada.errors import PipelineError
from tests.builders import mention


class Lang(Enricher):
    name, version = "fake_lang", "1.0"
    reads: ClassVar = frozenset({"text"})
    sets: ClassVar = frozenset({"lang", "script"})

    def label(self, m):
        return Labels({"lang": "fr", "script": "latn"}, confidence=0.9)


class NeedsLang(Enricher):
    name, version = "needs_lang", "2.1"
    reads: ClassVar = frozenset({"text", "lang"})
    sets: ClassVar = frozenset({"stance"})

    def label(self, m):
        assert m.lang == "fr"  # sees the earlier enricher's output
        return Labels({"stance": "neutral"})


class Liar(Enricher):
    name, version = "liar", "1.0"
    reads: ClassVar = frozenset({"text"})
    sets: ClassVar = frozenset({"lang"})

    def label(self, m):
        return Labels({"lang": "fr", "toxicity": "none"})


def test_misordered_pipeline_fails_when_built():
    with pytest.raises(PipelineError, match=r"needs_lang.v2 reads \['lang'\]"):
        Pipeline([NeedsLang(), Lang()])


def test_pipeline_applies_in_order_and_records_provenance():
    out = Pipeline([Lang(), NeedsLang()]).run(mention(1))
    assert (out.lang, out.script, out.stance) == ("fr", "latn", "neutral")
    assert out.provenance["lang"].enricher == "fake_lang.v1"
    assert out.provenance["lang"].confidence == 0.9
    assert out.provenance["stance"].version == "2.1"
    assert out.enriched_at is not None and out.enriched_at.tzinfo is not None


def test_enricher_setting_undeclared_fields_is_an_error():
    with pytest.raises(PipelineError, match="undeclared"):
        Pipeline([Liar()]).run(mention(1))


class Counting(Enricher):
    name, version = "counting", "1.0"
    reads: ClassVar = frozenset({"text"})
    sets: ClassVar = frozenset({"lang"})

    def __init__(self):
        self.calls = 0

    def label(self, m):
        self.calls += 1
        return Labels({"lang": "fr"})


class Sequence_(Enricher):
    name, version = "sequence", "1.0"
    reads: ClassVar = frozenset({"text", "lang"})
    sets: ClassVar = frozenset({"cluster_id"})
    cacheable = False

    def __init__(self):
        self.n = 0

    def label(self, m):
        self.n += 1
        return Labels({"cluster_id": f"c{self.n}"})


def test_identical_texts_are_labelled_once_but_stateful_enrichers_see_every_copy():
    counting, seq = Counting(), Sequence_()
    pipeline = Pipeline([counting, seq])
    copies = [mention(i, text="Ils vont vider les prisons !  partagez") for i in range(50)]
    copies.append(mention(99, text="Ils  vont vider les prisons ! partagez"))  # whitespace only differs
    out = pipeline.run_many(copies[:20]) + pipeline.run_many(copies[20:])
    assert counting.calls == 1
    assert pipeline.cache_hits == 50 and pipeline.cache_misses == 1
    assert [m.cluster_id for m in out] == [f"c{i}" for i in range(1, 52)]
    assert all(m.lang == "fr" and m.provenance["lang"].enricher == "counting.v1" for m in out)


def test_cacheable_enricher_reading_stateful_output_is_refused():
    class ReadsCluster(Counting):
        reads: ClassVar = frozenset({"cluster_id"})
        sets: ClassVar = frozenset({"stance"})

    with pytest.raises(PipelineError, match="cacheable but reads"):
        Pipeline([Counting(), Sequence_(), ReadsCluster()])
