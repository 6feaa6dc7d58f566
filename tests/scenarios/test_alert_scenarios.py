"""End-to-end scenarios (pure, no services): a calm week, then a week of crises, through the engine.

What a Community Manager would live through: nothing during the calm week; one page per crisis
(plus one escalation when it gets worse), at the time it happens; surges explained by an alert
already sent are grouped, never lost (they reach the daily summary); a restart anywhere in the
middle changes nothing.
"""

from __future__ import annotations

import json
from datetime import time

import pytest

from alerts.config import load_rules
from alerts.engine import Engine
from alerts.model import Alert, Resolution
from alerts.replay import replay
from tests.scenarios.timeline import START, TZ, WEEK, fortnight


def _run(mentions, engine=None):
    engine = engine or Engine(load_rules())
    return engine, list(replay(engine, mentions))


@pytest.fixture(scope="module")
def scenario():
    mentions, expected, builder = fortnight()
    engine, outputs = _run(mentions)
    return mentions, expected, builder, engine, outputs


def _alerts(outputs):
    return [o for o in outputs if isinstance(o, Alert)]


def test_the_calm_week_raises_nothing(scenario):
    mentions, _, _, _, outputs = scenario
    calm_end = START + WEEK
    assert sum(1 for m in mentions if m.collected_at < calm_end) > 900  # a real week of traffic
    early = [a for a in _alerts(outputs) if a.fired_at < calm_end]
    assert early == [], [a.summary for a in early]


def test_each_crisis_pages_once_at_the_time_it_happens(scenario):
    _, expected, _, _, outputs = scenario
    paged = [a for a in _alerts(outputs) if a.delivery == "page" and a.kind != "summary"]
    got = sorted((a.rule, a.kind, a.severity, a.key) for a in paged)
    assert got == sorted((c.rule, c.kind, c.severity, c.key) for c in expected)
    for crisis in expected:
        (alert,) = [a for a in paged if (a.rule, a.kind, a.key) == (crisis.rule, crisis.kind, crisis.key)]
        assert crisis.earliest <= alert.fired_at <= crisis.latest, (
            f"{crisis.rule} {crisis.kind} at {alert.fired_at.astimezone(TZ)}, expected between "
            f"{crisis.earliest} and {crisis.latest}")


def test_a_rumor_crossing_into_arabic_escalates_with_the_validated_counter_arguments(scenario):
    _, _, _, _, outputs = scenario
    fired, escalated = [a for a in _alerts(outputs) if a.rule == "rumor-cluster"]
    assert fired.details["cluster"]["languages"] == {"fr": fired.count}
    assert escalated.severity == "critical" and len([n for n in escalated.details["cluster"]["languages"].values()
                                                     if n >= 3]) >= 2
    myth = escalated.details["myth"]
    assert myth["id"] == "mass_release" and myth["counter_fr"] and myth["counter_ar"]
    assert "cluster_id" in escalated.details["discover_url"] and escalated.episode_id == fired.episode_id
    top = escalated.details["top_mentions"]
    assert 0 < len(top) <= 5
    assert [m["followers"] for m in top] == sorted((m["followers"] for m in top), reverse=True)
    assert any(m["dir"] == "rtl" for m in top)  # the Arabic and Darija posts are marked right to left


def test_surges_explained_by_a_sent_alert_are_grouped_and_reach_the_daily_summary(scenario):
    _, _, _, _, outputs = scenario
    alerts = _alerts(outputs)
    grouped = [a for a in alerts if a.delivery == "grouped"]
    assert {a.rule for a in grouped} >= {"myth-surge", "volume-spike"}
    ids = {a.alert_id for a in alerts}
    for g in grouped:
        assert g.details["grouped_into"] in ids  # points to the alert that explains it
    summaries = [a for a in alerts if a.kind == "summary"]
    summarised = {item["alert_id"] for s in summaries for item in s.details["items"]}
    assert {g.alert_id for g in grouped} <= summarised  # none lost
    for s in summaries:
        assert s.fired_at.astimezone(TZ).time() >= time(8, 0) and s.fired_at.astimezone(TZ).hour == 8


def test_the_silent_collector_is_an_outage_and_its_late_backlog_is_no_spike(scenario):
    _, _, builder, _, outputs = scenario
    source, start, end = builder.silences[0]
    (outage,) = [a for a in _alerts(outputs) if a.rule == "collector-flatline"]
    assert outage.key == source and outage.details["outage"] and outage.baseline >= 10
    (recovered,) = [o for o in outputs if isinstance(o, Resolution) and o.rule == "collector-flatline"]
    assert end <= recovered.resolved_at <= end + (end - start) / 8
    after = [a for a in _alerts(outputs) if end <= a.fired_at <= end + (end - start)]
    assert after == []  # the backlog lands in the hours it was published, not in one spike


def test_restarting_the_engine_mid_scenario_changes_nothing(scenario):
    """Restart five times — mid rumor, mid hate wave, mid fait divers, mid outage — in one run."""
    mentions, _, _, _, outputs = scenario
    cuts = [int(len(mentions) * f) for f in (0.3, 0.505, 0.62, 0.78, 0.93)] + [len(mentions)]
    engine, got, start = Engine(load_rules()), [], 0
    for cut in cuts:
        got += list(replay(engine, mentions[start:cut]))
        saved = json.loads(json.dumps(engine.snapshot()))   # what goes to Elasticsearch and back
        engine = Engine.restore(load_rules(), saved)         # a new process, rule files read again
        start = cut
    assert len(got) == len(outputs)
    assert [o.model_dump(mode="json") if isinstance(o, Alert) else o for o in got] == [
        o.model_dump(mode="json") if isinstance(o, Alert) else o for o in outputs]
