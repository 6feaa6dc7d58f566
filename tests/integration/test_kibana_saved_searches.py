"""The shipped Kibana objects against the real Elasticsearch.

Every saved search's KQL (translated as Kibana translates it, with its stored time range) runs
against labelled mentions indexed by the index consumer's documents, and returns exactly the
expected ones; every field the objects use exists in the live mappings of real indices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consumers.index import to_document
from sada import es as sada_es
from sada.indices import ensure_indices, template_names
from sada.kibana import live_fields, load_ndjson, saved_search_query, validate_objects
from sada.model import MYTHS, Mention

NOW = datetime.now(UTC).replace(microsecond=0)


def _mention(key: str, days_ago: float = 1, **labels) -> Mention:
    base = {"lang": "fr", "script": "latn", "relevant": True, "topics": [], "myths": [], "stance": "neutral",
            "toxicity": "none", "entities": [], "cluster_id": None}
    return Mention(id=key, platform="facebook", source="facebook:page:campaign", text=f"post {key}",
                   url=f"https://facebook.test/{key}", published_at=NOW - timedelta(days=days_ago),
                   collected_at=NOW, author={"handle": key}, **{**base, **labels})


LABELLED = [
    _mention("insult", toxicity="insult"),
    _mention("hate", toxicity="hate", stance="oppose"),
    _mention("clean"),
    _mention("hate_but_noise", toxicity="hate", relevant=False),      # keyword noise: not ours to moderate
    _mention("unlabelled", relevant=None, toxicity=None, stance=None, lang=None, myths=None),
    _mention("rumor_oppose", myths=["mass_release"], stance="oppose", cluster_id="c1"),
    _mention("rumor_question", myths=["impunity"], stance="question", cluster_id="c2"),
    _mention("rumor_corrected", myths=["mass_release"], stance="support", cluster_id="c1"),
    _mention("rumor_old", days_ago=10, myths=["crime_will_rise"], stance="oppose"),
    _mention("rumor_noise", myths=["impunity"], stance="oppose", relevant=False),
    _mention("question", stance="question", topics=["day_fine"]),
    *[_mention(f"myth_{m}", myths=[m], stance="neutral") for m in MYTHS],
]

EXPECTED = {
    "sada-search-a-moderer": {"insult", "hate"},
    "sada-search-rumeurs-actives": {"rumor_oppose", "rumor_question"} | {f"myth_{m}" for m in MYTHS},
    "sada-search-questions": {"question", "rumor_question"},
    **{f"sada-search-myth-{m.replace('_', '-')}": {f"myth_{m}"} for m in MYTHS},
}
EXPECTED["sada-search-myth-mass-release"] |= {"rumor_oppose", "rumor_corrected"}
EXPECTED["sada-search-myth-impunity"] |= {"rumor_question"}
EXPECTED["sada-search-myth-crime-will-rise"] |= {"rumor_old"}  # no stored time range on myth searches


@pytest.fixture(scope="module")
def live(services):
    import uuid

    from sada.settings import Settings

    prefix = f"t{uuid.uuid4().hex[:10]}-"
    settings = Settings(topic_prefix=prefix, index_prefix=prefix)
    es = sada_es.client(settings)
    sada_es.ensure_templates(settings, es)
    installed = ensure_indices(settings, es)
    ops = []
    for m in LABELLED:
        ops += [{"index": {"_index": sada_es.mentions_index_for(settings, m.published_at), "_id": m.id}},
                to_document(m, NOW)]
    resp = es.bulk(operations=ops, refresh=True)
    assert not resp["errors"], resp
    yield settings, es, installed
    es.indices.delete(index=f"{prefix}*", ignore_unavailable=True, allow_no_indices=True)
    for name in [settings.index("sada-mentions"), *template_names(settings)]:
        es.options(ignore_status=404).indices.delete_index_template(name=name)
    es.close()


def test_every_saved_search_returns_the_expected_mentions(live):
    settings, es, _ = live
    objects, problems = load_ndjson()
    assert not problems
    searches = [o for o in objects if o["type"] == "search"]
    assert {s["id"] for s in searches} == set(EXPECTED), "every saved search needs its expected result here"
    for search in searches:
        query = saved_search_query(search, time_field="published_at")
        resp = es.search(index=sada_es.mentions_alias(settings), query=query, size=200)
        found = {h["_id"] for h in resp["hits"]["hits"]}
        title = search["attributes"]["title"]
        assert found == EXPECTED[search["id"]], f"«{title}»: got {sorted(found)}"


def test_objects_use_only_fields_of_the_live_mappings(live):
    settings, es, installed = live
    assert settings.index("clusters") in installed and settings.index("alerts") in installed
    fields = live_fields(es, settings)
    assert fields["mentions"]["text_variants.fr"] == "text"
    assert fields["alerts"]["fired_at"] == "date" and fields["clusters"]["representative.ar"] == "text"
    objects, _ = load_ndjson()
    problems = validate_objects(objects, fields)
    assert not problems, "\n".join(problems.items)
    # The check is real: a field the live mapping lacks is reported.
    fields["mentions"].pop("reach")
    problems = validate_objects(objects, fields)
    assert any("'reach'" in p for p in problems.items)


def test_ensure_indices_is_idempotent_and_upgrades_existing_mention_indices(live):
    settings, es, _ = live
    current = sada_es.mentions_index_for(settings, NOW)
    alias = {sada_es.mentions_alias(settings): {}}
    # An index made by an older template (no text_variants, Kibana's default "*" search fields),
    # and one whose text field was mapped differently by hand (cannot be upgraded in place).
    body = sada_es.mentions_template(settings)["template"]
    older = settings.index("legacy-mentions-a")
    props = {k: v for k, v in body["mappings"]["properties"].items() if k != "text_variants"}
    es.indices.create(index=older, mappings={"dynamic": False, "properties": props}, aliases=alias,
                      settings={"analysis": body["settings"]["analysis"]})
    odd = settings.index("legacy-mentions-b")
    es.indices.create(index=odd, mappings={"properties": {"text": {"type": "keyword"}}}, aliases=alias)
    try:
        done = ensure_indices(settings, es)
        assert older in done and current in done and odd not in done  # reported, the others go on
        mapping = es.indices.get_mapping(index=older)[older]["mappings"]["properties"]
        assert mapping["text_variants"]["fields"]["fr"]["analyzer"] == "sada_french"
        got = es.indices.get_settings(index=older, name="index.query.default_field")
        assert "text_variants" in got[older]["settings"]["index"]["query"]["default_field"]
        assert set(ensure_indices(settings, es)) == set(done) - {settings.index("clusters"), settings.index("alerts")}
    finally:
        es.indices.delete(index=[older, odd])
