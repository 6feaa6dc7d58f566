"""The engine's promises, one at a time, on small hand-made timelines (injected clock)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from alerts.config import RuleSpec
from alerts.engine import Engine
from alerts.model import Alert, Resolution
from alerts.registry import resolve_rule_type
from alerts.series import Series
from sada.model import Mention

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Casablanca
WEEK = timedelta(weeks=1)
_ids = itertools.count()


def rule(type_name: str, name: str | None = None, options: dict | None = None, **spec):
    cls = resolve_rule_type(type_name)
    opts = options or {}
    return cls(RuleSpec(name=name or type_name.replace("_", "-"), type=type_name, options=opts, **spec),
               cls.Options.model_validate(opts))


def mention(at: datetime, *, source: str = "x:recent_search", platform: str = "x", followers: int = 300,
            **labels) -> Mention:
    n = next(_ids)
    fields = dict(lang="fr", relevant=True, stance="neutral", toxicity="none", myths=[], cluster_id=None)
    fields.update(labels)
    return Mention.new(platform=platform, source=source, native_id=f"n{n}", url=f"https://x.example/{n}",
                       text=f"Les peines alternatives, message {n}", published_at=at, collected_at=at,
                       author={"id": f"h:{n}", "handle": f"u{n}", "followers": followers}, **fields)


def run(engine: Engine, mentions: list[Mention]) -> list:
    out = []
    for m in sorted(mentions, key=lambda x: x.collected_at):
        out += engine.process(m, m.collected_at)
    return out


def alerts(outputs) -> list[Alert]:
    return [o for o in outputs if isinstance(o, Alert)]


def steady(start: datetime, hours: int, per_hour: int, **labels) -> list[Mention]:
    return [mention(start + timedelta(minutes=(60 / per_hour) * i), **labels) for i in range(hours * per_hour)]


def test_three_against_zero_is_no_spike_and_a_cold_start_needs_a_large_count():
    engine = Engine([rule("volume_spike")])
    quiet = [mention(T0 + timedelta(hours=h)) for h in range(0, 24 * 8, 6)]      # a sleepy week
    burst = [mention(T0 + 8 * timedelta(days=1) + timedelta(minutes=i)) for i in range(12)]
    assert alerts(run(engine, quiet + burst)) == []
    cold = Engine([rule("volume_spike")])
    assert alerts(run(cold, steady(T0, 1, 60))) == []  # 60 in an hour but nothing to compare with


def test_a_spike_fires_once_then_escalates_when_sustained_instead_of_falling_silent():
    engine = Engine([rule("volume_spike", cooldown="1h")])
    history = steady(T0 - WEEK - timedelta(hours=2), 6, 6)                       # 6 an hour, a week ago
    surge = steady(T0, 3, 40)                                                    # 40 an hour, for 3 hours
    out = alerts(run(engine, history + surge))
    assert [(a.kind, a.severity) for a in out] == [("fired", "warning"), ("escalated", "critical")]
    assert out[0].fired_at < T0 + timedelta(minutes=40)
    assert out[1].fired_at >= out[0].fired_at + timedelta(hours=1)
    assert out[1].episode_id == out[0].episode_id and out[0].baseline and out[0].count >= 20


def test_worse_severity_escalates_at_once_and_repeats_are_deduplicated():
    engine = Engine([rule("toxicity_surge", cooldown="2h", options={"cold_start_count": 8})])
    hate = [mention(T0 + timedelta(minutes=i), toxicity="hate", stance="oppose") for i in range(20)]
    threats = [mention(T0 + timedelta(minutes=20 + i), toxicity="threat", stance="oppose") for i in range(3)]
    out = alerts(run(engine, hate + threats))
    assert [(a.kind, a.severity) for a in out] == [("fired", "warning"), ("escalated", "critical")]
    assert out[1].fired_at == threats[-1].collected_at  # the third threat: at once, no cooldown wait
    assert out[1].details["threats"] == 3 and out[1].details["masked"]
    assert all(m["masked"] and "haine" in m["text"] or "menace" in m["text"] for m in out[1].details["top_mentions"])


def test_a_silent_source_is_an_outage_and_its_silence_does_not_resolve_other_alerts():
    flat = rule("collector_flatline", filter={"relevant_only": False}, options={"min_history": "24h"})
    tox = rule("toxicity_surge", cooldown="30m", options={"cold_start_count": 8})
    engine = Engine([flat, tox])
    # Two sources, each about 12 an hour for two days.
    base = [mention(T0 + timedelta(minutes=5 * i), source=s) for i in range(12 * 48) for s in ("x:a", "x:b")]
    out = run(engine, base)
    start = T0 + timedelta(hours=48)
    wave = [mention(start + timedelta(minutes=i), source="x:b", toxicity="hate") for i in range(10)]
    # x:a goes silent; x:b keeps talking for 5 hours.
    later = [mention(start + timedelta(minutes=15 + 5 * i), source="x:b") for i in range(60)]
    out += run(engine, wave + later)
    (outage,) = [a for a in alerts(out) if a.rule == "collector-flatline"]
    assert outage.key == "x:a" and outage.fired_at <= start + timedelta(hours=1, minutes=30)
    assert [a.rule for a in alerts(out) if a.rule == "toxicity-surge"] == ["toxicity-surge"]
    assert not [o for o in out if isinstance(o, Resolution) and o.rule == "toxicity-surge"]  # not calm, silent
    assert engine.stats["resolution_held_by_outage"] > 0
    back = [mention(start + timedelta(hours=5, minutes=1 + i), source=s) for i in range(0, 240, 5) for s in ("x:a", "x:b")]
    out = run(engine, back)
    resolved = [o.rule for o in out if isinstance(o, Resolution)]
    assert resolved[0] == "collector-flatline" and "toxicity-surge" in resolved


def test_seasonal_baselines_leave_out_weeks_with_an_outage():
    spike = rule("volume_spike")
    series = Series()
    now = (T0 + 3 * WEEK).timestamp()
    week = WEEK.total_seconds()
    for k, n in ((1, 2), (2, 30), (3, 20)):  # one week ago an outage (2), then ordinary weeks (30, 20)
        for i in range(n):
            series.add(now - k * week - 1800 + i, fine_from=0)

    class Ctx:
        history_start = now - 4 * week

        def __init__(self, outage):
            self.outage = outage

        def outage_overlaps(self, start, end):
            return self.outage and start <= now - week < end

    b0, b1 = spike.window_buckets(spike.options.window, now)
    with_outage = spike.baseline("k", series, b0, b1, Ctx(True), weeks=3)
    spike.forget_baselines()
    without = spike.baseline("k", series, b0, b1, Ctx(False), weeks=3)
    assert with_outage == (25.0, "seasonal", 2)
    assert without[0] == round(52 / 3, 10) or abs(without[0] - 52 / 3) < 1e-9
    assert without[1:] == ("seasonal", 3)


def test_collector_heartbeats_tell_calm_from_outage():
    flat = rule("collector_flatline", filter={"relevant_only": False},
                options={"heartbeat_timeout": "1h", "heartbeat_failures": 2})
    engine = Engine([flat])
    run(engine, [mention(T0 + timedelta(minutes=i), source="telegram:qanoun") for i in range(5)])
    for h in range(1, 6):   # runs succeed every hour but find nothing: calm, not an outage
        engine.heartbeat("telegram:qanoun", T0 + timedelta(hours=h), ok=True, produced=0)
        assert alerts(engine.advance(T0 + timedelta(hours=h, minutes=1))) == []
    engine.heartbeat("telegram:qanoun", T0 + timedelta(hours=6), ok=False, produced=0)
    engine.heartbeat("telegram:qanoun", T0 + timedelta(hours=6, minutes=30), ok=False, produced=0)
    (outage,) = alerts(engine.advance(T0 + timedelta(hours=6, minutes=31)))
    assert outage.key == "telegram:qanoun" and "échec" in outage.summary


def test_info_alerts_wait_for_the_daily_summary_at_eight_casablanca_time():
    watch = rule("keyword_watch", severity="info", cooldown="30m")
    engine = Engine([watch])
    evening = T0 + timedelta(hours=9)        # 20:00 in Casablanca
    posts = [mention(evening + timedelta(minutes=i), text_override=True) for i in range(3)]
    posts = [p.model_copy(update={"text": "Appel au boycott des peines alternatives"}) for p in posts]
    out = alerts(run(engine, posts))
    assert [(a.severity, a.delivery) for a in out] == [("info", "summary")]
    assert alerts(engine.advance(T0 + timedelta(hours=20))) == []          # 07:00 local: not yet
    (summary,) = alerts(engine.advance(T0 + timedelta(hours=21, minutes=1)))  # 08:01 local
    assert summary.kind == "summary" and summary.delivery == "page"
    assert [i["alert_id"] for i in summary.details["items"]] == [out[0].alert_id]
    assert summary.fired_at.astimezone(engine.tz).hour == 8


def test_acknowledged_critical_episodes_are_not_reminded():
    def reminders(ack: bool) -> int:
        engine = Engine([rule("toxicity_surge", cooldown="30m", remind_every="1h")])
        first = alerts(run(engine, [mention(T0 + timedelta(minutes=i), toxicity="threat") for i in range(3)]))
        if ack:
            engine.acknowledge(first[0].alert_id)
        more = [mention(T0 + timedelta(minutes=5 + 2 * i), toxicity="threat") for i in range(60)]
        return len([a for a in alerts(run(engine, more)) if a.kind == "reminder"])

    assert reminders(ack=False) >= 1
    assert reminders(ack=True) == 0


def test_a_hostile_big_account_alerts_at_once_and_a_second_post_joins_the_episode():
    engine = Engine([rule("high_reach_hostile", cooldown="6h")])
    post = mention(T0, followers=80_000, stance="oppose", myths=["impunity"])
    (alert,) = alerts(run(engine, [post]))
    assert alert.fired_at == post.collected_at and alert.severity == "warning"
    assert alert.details["myth"]["id"] == "impunity" and alert.details["myth"]["counter_ar"]
    assert alert.details["top_mentions"][0]["author"] == "@" + post.author.handle
    again = post.model_copy(update={"id": "x-2", "collected_at": T0 + timedelta(hours=1),
                                    "published_at": T0 + timedelta(hours=1)})
    assert alerts(run(engine, [again])) == []  # same author, same episode, nothing worse


def test_private_authors_and_their_handles_are_masked_in_alerts():
    engine = Engine([rule("toxicity_surge", options={"cold_start_count": 5, "min_count": 5})])
    posts = [mention(T0 + timedelta(minutes=i), toxicity="insult" if i % 2 else "hate", followers=150)
             for i in range(16)]
    posts.append(mention(T0 + timedelta(minutes=17), toxicity="defamation", followers=150))
    out = alerts(run(engine, [p.model_copy(update={"text": "@voisin_ali appelle le 0612345678"}) for p in posts]))
    for m in out[0].details["top_mentions"]:
        assert m["author"] == "compte privé" and "voisin_ali" not in m["text"] and "0612345678" not in m["text"]



def _redelivered(mentions: list[Mention], lags: tuple[timedelta, ...],
                 every: int = 1) -> list[tuple[datetime, Mention]]:
    """The stream as an at-least-once pipeline may deliver it: every ``every``-th stretch of 20
    mentions delivered again after each of ``lags`` (a stage retried batches it had already
    produced), in time order."""
    out = [(m.collected_at, m) for m in mentions]
    for lag in lags:
        out += [(m.collected_at + lag, m) for i, m in enumerate(mentions) if (i // 20) % every == 0]
    return sorted(out, key=lambda pair: pair[0])


def _feed(engine: Engine, stream: list[tuple[datetime, Mention]]) -> list:
    out = []
    for at, m in stream:
        now = max(at, datetime.fromtimestamp(engine.now, UTC)) if engine.now is not None else at
        out += engine.process(m, now)
    return out


def test_redelivered_batches_are_counted_once_and_raise_no_false_spike():
    history = steady(T0 - WEEK - timedelta(hours=2), 6, 6)
    calm = steady(T0, 3, 6)  # today as calm as last week, but every mention delivered three times
    engine = Engine([rule("volume_spike", cooldown="1h")])
    out = _feed(engine, _redelivered(history + calm, (timedelta(minutes=2), timedelta(minutes=5))))
    assert alerts(out) == []
    assert engine.stats["mentions"] == len(history) + len(calm)
    assert engine.stats["duplicates"] == 2 * (len(history) + len(calm))


def test_duplicates_change_no_alert_of_a_real_surge_and_survive_a_snapshot():
    history = steady(T0 - WEEK - timedelta(hours=2), 6, 6)
    surge = steady(T0, 3, 40)
    once = alerts(run(Engine([rule("volume_spike", cooldown="1h")]), history + surge))
    assert once, "the surge itself must alert"

    engine = Engine([rule("volume_spike", cooldown="1h")])
    stream = _redelivered(history + surge, (timedelta(minutes=2),), every=2)
    half = len(stream) // 2
    out = _feed(engine, stream[:half])
    # A restart in the middle: the restored engine still knows what it has counted.
    engine = Engine.restore([rule("volume_spike", cooldown="1h")], engine.snapshot())
    out += _feed(engine, stream[half:])
    assert [(a.alert_id, a.kind, a.severity, a.count) for a in alerts(out)] == \
           [(a.alert_id, a.kind, a.severity, a.count) for a in once]
