"""Rumor clusters kept in the real Elasticsearch: a restarted clusterer goes on where it stopped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from enrichers.clusters import ClusterEnricher, RumorClusterer, cluster_id_for
from sada import es as sada_es
from sada.cluster_store import ElasticsearchClusterStore
from sada.settings import Settings
from tests.builders import mention

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
RUMOR = [
    ("fr", "URGENT : à partir du 1er décembre, plus de 30.000 détenus vont être libérés avec un bracelet "
           "électronique. Le ministère de la Justice a validé la liste. Partagez !"),
    ("ary", "عاجل: ابتداء من فاتح دجنبر غادي يطلقو كثر من 30 ألف حباس بالبراسلي، ووزارة العدل صادقات على اللائحة"),
    ("ary", "3ajil: mn fati7 dojanbir ghadi ytl9o ktar mn 30 alf 7abbas b lbrasli, wizarat l3adl sad9at 3la lista"),
]
PARAPHRASE = ("en", "BREAKING: over 30,000 prisoners to be released with electronic bracelets from December 1st, "
                    "the Justice Ministry approved the list.")
OTHER = ("fr", "Il coupe le bracelet et disparaît, personne ne le retrouvera jamais.")


@pytest.fixture
def es_settings(services) -> Iterator[Settings]:
    """Settings with an index prefix of this test's own; its indices are deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    settings = Settings(index_prefix=prefix)
    yield settings
    es = sada_es.client(settings)
    es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, allow_no_indices=True)
    es.close()


def test_restart_loads_clusters_a_new_paraphrase_joins_and_redelivery_does_not_inflate(es_settings):
    store = ElasticsearchClusterStore(es_settings)
    first = RumorClusterer(store=store)
    ids = [first.assign(f"m{n}", text, lang=lang, published_at=T0 + timedelta(minutes=n), platform="facebook").cluster_id
           for n, (lang, text) in enumerate(RUMOR)]
    other = first.assign("o1", OTHER[1], lang="fr", published_at=T0, platform="x").cluster_id
    assert len(set(ids)) == 1 and ids[0] == cluster_id_for("m0") and other != ids[0]
    assert first.flush() == 2

    es = store.es
    es.indices.refresh(index=store.clusters_index)
    doc = es.get(index=store.clusters_index, id=ids[0])["_source"]
    assert doc["cluster_id"] == ids[0] and doc["size"] == 3
    assert doc["languages"] == ["ary", "fr"] and doc["lang_counts"] == {"ary": 2, "fr": 1}
    assert doc["platforms"] == ["facebook"] and doc["growth_per_hour"] == 3
    assert doc["member_sample"] == ["m0", "m1", "m2"] and doc["representative"].startswith("URGENT")
    assert doc["first_seen"].startswith("2026-11-18T09:00") and doc["last_seen"].startswith("2026-11-18T09:02")
    mapping = es.indices.get_mapping(index=store.clusters_index)[store.clusters_index]["mappings"]["properties"]
    assert mapping["cluster_id"]["type"] == "keyword" and mapping["last_seen"]["type"] == "date"

    # Restart: a new clusterer (a new process) loads the store.
    restarted = RumorClusterer(store=ElasticsearchClusterStore(es_settings))
    assert set(restarted.clusters) == {ids[0], other}
    lang, text = PARAPHRASE
    joined = restarted.assign("m3", text, lang=lang, published_at=T0 + timedelta(minutes=30), platform="x")
    assert joined.cluster_id == ids[0] and not joined.new
    # Kafka redelivers messages processed before the restart: same cluster, no new member.
    for n, (lang, text) in enumerate(RUMOR):
        again = restarted.assign(f"m{n}", text, lang=lang, published_at=T0 + timedelta(minutes=n))
        assert again.cluster_id == ids[0] and again.redelivered
    restarted.flush()
    es.indices.refresh(index=store.clusters_index)
    doc = es.get(index=store.clusters_index, id=ids[0])["_source"]
    assert doc["size"] == 4 and doc["languages"] == ["ary", "en", "fr"]
    es.indices.refresh(index=store.members_index)
    assert es.count(index=store.members_index)["count"] == 5
    assert es.get(index=store.members_index, id="m3")["_source"]["cluster_id"] == ids[0]


def test_the_enricher_saves_before_a_restart_and_saving_twice_is_harmless(es_settings):
    store = ElasticsearchClusterStore(es_settings)
    enricher = ClusterEnricher(RumorClusterer(store=store), flush_every=1000)
    ms = [mention(i, text=text) for i, (_, text) in enumerate(RUMOR)]
    first_ids = [enricher.label(m).values["cluster_id"] for m in ms]
    enricher.close()
    enricher.close()  # nothing pending: no write

    again = ClusterEnricher(RumorClusterer(store=ElasticsearchClusterStore(es_settings)))
    assert [again.label(m).values["cluster_id"] for m in ms] == first_ids  # all redelivered
    again.close()
    store.es.indices.refresh(index=store.clusters_index)
    assert store.es.get(index=store.clusters_index, id=first_ids[0])["_source"]["size"] == len(RUMOR)
