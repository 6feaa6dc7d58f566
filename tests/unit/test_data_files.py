import pytest

from sada.errors import DataFileError
from sada.es import mentions_template
from sada.kafka import load_topics
from sada.model import Mention
from sada.settings import Settings


def test_shipped_topics_file_is_valid():
    topics = load_topics()
    assert {"mentions.raw", "mentions.enriched", "mentions.dlq", "alerts"} <= set(topics)
    assert all("retention.ms" in t["config"] for t in topics.values())


def test_topics_file_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "topics.yaml"
    bad.write_text("topics:\n  mentions.raw:\n    partitions: zero\n")
    with pytest.raises(DataFileError) as err:
        load_topics(bad)
    assert str(bad) in str(err.value) and "topics.mentions.raw.partitions" in str(err.value)


def test_every_taxonomy_field_is_a_keyword_and_every_model_field_is_mapped():
    props = mentions_template(Settings())["template"]["mappings"]["properties"]
    for name in ("lang", "script", "topics", "myths", "stance", "toxicity", "cluster_id", "platform", "source"):
        assert props[name]["type"] == "keyword", name
    assert props["entities"]["properties"]["id"]["type"] == "keyword"
    assert props["relevant"]["type"] == "boolean"
    missing = set(Mention.model_fields) - set(props)
    assert not missing, f"Mention fields absent from the mapping: {missing}"


def test_template_uses_prefix_and_alias():
    body = mentions_template(Settings(index_prefix="camp2-", es_replicas=1))
    assert body["index_patterns"] == ["camp2-mentions-*"]
    assert "camp2-mentions" in body["template"]["aliases"]
    assert body["template"]["settings"]["number_of_replicas"] == 1


def test_production_plugin_registration_matches_the_sources():
    import json

    from sada.services import plugin_components
    from sada.settings import REPO_ROOT

    shipped = json.loads((REPO_ROOT / "infra/compose/sada-analysis/named_components.json").read_text())
    assert shipped == plugin_components()
    template_filters = {f["type"] for f in mentions_template(Settings())["template"]["settings"]["analysis"]["filter"].values()}
    assert template_filters <= set(plugin_components()["org.elasticsearch.plugin.analysis.TokenFilterFactory"])


def _duplicated(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("loader", "name", "body"), [
    ("concepts", "concepts.yaml",
     "version: 1\nconcepts:\n  release:\n    terms:\n      fr: [libérer]\n      ar: [أطلق]\n      fr: [relâcher]\n"),
    ("lexicon", "topics.yaml",
     "version: 1\nlabels:\n  day_fine:\n    fr: [amende journalière]\n  day_fine:\n    en: [day fine]\n"),
    ("topics", "topics.yaml", "topics:\n  mentions.raw: {partitions: 3}\n  mentions.raw: {partitions: 1}\n"),
])
def test_a_key_written_twice_in_a_data_file_is_an_error_not_a_silent_overwrite(tmp_path, loader, name, body):
    from enrichers.clusters import load_concepts
    from enrichers.lexicon import load_lexicon

    path = _duplicated(tmp_path, name, body)
    load = {"concepts": load_concepts, "lexicon": load_lexicon, "topics": load_topics}[loader]
    with pytest.raises(DataFileError) as err:
        load(path)
    message = str(err.value)
    assert str(path.name) in message and "twice" in message and "line" in message
