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
