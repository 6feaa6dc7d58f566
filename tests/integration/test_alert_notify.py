"""Alerts reach people: mentions → alert consumer → Kafka ``alerts`` → notify consumer → channels.

Real Kafka and Elasticsearch (``sada up``), a real SMTP server (aiosmtpd, STARTTLS and AUTH on
loopback) and a real HTTP server on loopback standing in for the webhook endpoints and the
Telegram Bot API. The tests parse what arrived.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from email import policy
from html import escape as html_escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts.channels.webhook import verify
from alerts.model import Alert
from alerts.settings import AlertSettings
from alerts.store import AlertStore
from consumers.alert import AlertHandler
from consumers.notify import NotifyHandler
from consumers.runloop import RunLoop
from sada import es as sada_es
from sada import kafka as sada_kafka
from sada.knowledge import myths
from sada.model import Mention
from tests.integration.conftest import read_topic, run_until

SECRET = "whsec-7f2a1c9e-loopback"
BOT_TOKEN = "123456:TEST-telegram-token-xyz"
SMTP_PASSWORD = "smtp-pass-9d8c7b"
UTC = dt.UTC


# -- loopback servers ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "smtp.crt", tmp / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpSink:
    """What the SMTP server received: envelope, raw message, whether TLS and AUTH were used."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802 - aiosmtpd's hook
        self.messages.append({"from": envelope.mail_from, "to": sorted(envelope.rcpt_tos),
                              "raw": envelope.original_content, "tls": session.ssl is not None,
                              "auth": bool(session.authenticated)})
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"sada" and \
            auth_data.password == SMTP_PASSWORD.encode()
        if isinstance(auth_data, LoginPassword):
            self.logins.append(auth_data.login)
        return AuthResult(success=ok)


@pytest.fixture
def smtp(tmp_path):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, authenticator=sink.authenticate, auth_require_tls=True)
    controller.start()
    sink.port, sink.ca_file = controller.port, cert
    yield sink
    controller.stop()


class HttpReceiver:
    """Records every POST; ``plan`` scripts the status codes a path answers (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plan: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "at": time.time()})
                statuses = receiver.plan.get(self.path.split("?")[0])
                status = statuses.pop(0) if statuses else 200
                if self.path.startswith("/bot"):
                    payload = {"ok": status == 200, "result": {"message_id": len(receiver.requests)}}
                    if status != 200:
                        payload = {"ok": False, "error_code": status, "description": "Bad Request: chat not found"}
                else:
                    payload = {"ok": status == 200}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http():
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def cleanup_alert_template(settings):
    yield
    es = sada_es.client(settings)
    es.options(ignore_status=404).indices.delete_index_template(name=settings.index("sada-alerts"))
    es.close()


def write_recipients(path: Path, channels: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "channels": channels}, allow_unicode=True), encoding="utf-8")
    return path


def alert_env(smtp: SmtpSink, http: HttpReceiver, recipients: Path, **kw: Any) -> AlertSettings:
    return AlertSettings(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=True,
                         smtp_ca_file=str(smtp.ca_file), smtp_username="sada", smtp_password=SMTP_PASSWORD,
                         smtp_from="Sada <alertes@sada.test>", alert_recipients=recipients,
                         telegram_api_url=http.url(""), kibana_url="https://kibana.campagne.test",
                         alert_tick=600, **kw)


def produce(settings, topic: str, items: list[tuple[bytes, bytes]]) -> None:
    producer = sada_kafka.producer(settings)
    for key, value in items:
        producer.send(settings.topic(topic), key=key, value=value)
    producer.flush()
    producer.close()


def wait_for(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


# -- the mentions -------------------------------------------------------------------------------

HOSTILE = ('<script>alert("pwned")</script> Les riches achètent leur liberté & les pauvres vont en prison : '
           "\u202eeulav\u202c 2 000 DH par jour et t'es libre. " + "C'est la justice à deux vitesses. " * 12)
ARABIC = "العقوبات البديلة عدالة طبقية: الغني يشتري حريته والفقير يدخل السجن"


def hostile_mentions() -> list[Mention]:
    now = dt.datetime.now(UTC)
    common = dict(relevant=True, topics=["day_fine"], myths=["rich_buy_freedom"], stance="oppose", toxicity="none",
                  entities=[], cluster_id=None, published_at=now - dt.timedelta(minutes=6),
                  collected_at=now - dt.timedelta(minutes=1))
    big = Mention.new(platform="x", source="x:recent_search", native_id="9001", url="https://x.com/grand/status/9001",
                      text=HOSTILE, author={"id": "h:big1", "handle": "grand_compte", "followers": 900_000},
                      lang="fr", script="latn", **common)
    arab = Mention.new(platform="facebook", source="facebook:page:campaign", native_id="9002",
                       url="https://facebook.com/page/posts/9002", text=ARABIC,
                       author={"id": "h:big2", "handle": "saout_chaab", "followers": 120_000},
                       lang="ar", script="arab", **common)
    return [big, arab]


def run_alert_consumer(settings, env, expected_mentions: int) -> AlertHandler:
    handler = AlertHandler(settings, env=env, start_ticker=False)
    loop = RunLoop(settings, handler, poll_ms=200, stats_every=5)
    run_until(loop, lambda lp: lp.stats.processed >= expected_mentions, timeout=60)
    return handler


def run_notify(settings, env, done, timeout: float = 60.0) -> NotifyHandler:
    handler = NotifyHandler(settings, env=env, retry_poll=0.2)
    loop = RunLoop(settings, handler, poll_ms=200, stats_every=5)
    run_until(loop, lambda lp: done(handler, lp), timeout=timeout)
    return handler


def test_alerts_reach_email_webhooks_and_telegram_escaped_signed_and_once(
        settings, smtp, http, tmp_path, monkeypatch, caplog, cleanup_alert_template):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SADA_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SADA_TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    recipients = write_recipients(tmp_path / "recipients.yaml", {
        "email-cm": {"type": "email", "min_severity": "warning", "options": {"to": [
            {"name": "Community Manager", "email": "cm@campagne.test"},
            {"name": "Responsable", "email": "chef@campagne.test", "min_severity": "critical"}]}},
        "hook-json": {"type": "webhook", "options": {"url": http.url("/hook"), "format": "json"}},
        "hook-slack": {"type": "webhook", "options": {"url": http.url("/slack"), "format": "slack"}},
        "telegram-cm": {"type": "telegram", "options": {"chat_id": "-100777"}},
    })
    env = alert_env(smtp, http, recipients)
    mentions = hostile_mentions()
    produce(settings, "mentions.enriched", [(m.id.encode(), m.to_json_bytes()) for m in mentions])

    run_alert_consumer(settings, env, len(mentions))
    records = read_topic(settings, "alerts", 2)
    alerts = {a.key: a for a in (Alert.model_validate_json(r.value) for r in records)}
    critical, warning = alerts["h:big1"], alerts["h:big2"]
    assert (critical.severity, warning.severity) == ("critical", "warning")

    def all_delivered(handler: NotifyHandler, loop: RunLoop) -> bool:
        return loop.stats.processed >= 2 and len(smtp.messages) >= 2 and len(http.requests) >= 6

    run_notify(settings, env, all_delivered)

    # -- e-mail: recipients by severity, STARTTLS + AUTH, HTML and text parts -------------------
    assert len(smtp.messages) == 2
    by_id = {}
    for m in smtp.messages:
        msg = email.message_from_bytes(m["raw"], policy=policy.default)
        by_id[msg["X-Sada-Alert-Id"]] = (m, msg)
        assert m["tls"] and m["auth"] and m["from"] == "alertes@sada.test"
    sent_critical, msg = by_id[critical.alert_id]
    assert sent_critical["to"] == ["chef@campagne.test", "cm@campagne.test"]
    assert by_id[warning.alert_id][0]["to"] == ["cm@campagne.test"]  # the boss only gets critical ones
    assert msg["Subject"].startswith("[Sada] CRITIQUE · Publication hostile à forte audience")
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    raw = sent_critical["raw"].decode("utf-8", "replace") + text + html
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "&amp; les pauvres" in html
    assert "\u202e" not in raw and "\u202c" not in raw  # the bidi override is neutralised
    assert "…" in text and HOSTILE[:600] not in text      # the long post is trimmed
    counter = myths().myths["rich_buy_freedom"].counter
    assert counter.fr[0] in text and counter.ar[0] in html
    assert 'dir="rtl"' in html and "heure de Casablanca" in text
    discover = critical.details["discover_url"]
    assert discover.startswith("https://kibana.campagne.test/app/discover#/") and "h:big1" not in discover
    assert critical.mention_ids[0] in discover             # a link to exactly this post
    assert html_escape(discover, quote=True) in html and discover in text
    fired_local = critical.fired_at.astimezone(settings.tz)
    assert f"{fired_local.hour} h {fired_local.minute:02d}" in text

    _, arabic_msg = by_id[warning.alert_id]
    arabic_text = arabic_msg.get_body(("plain",)).get_content()
    arabic_html = arabic_msg.get_body(("html",)).get_content()
    assert f"\u2067{ARABIC}\u2069" in arabic_text          # isolated, right to left, in the text part
    assert f'<p dir="rtl" lang="ar" style="text-align:right;margin:4px 0;">{ARABIC}</p>' in arabic_html

    # -- webhooks: signed, JSON and Slack-compatible ----------------------------------------------
    hooks = http.at("/hook")
    assert len(hooks) == 2
    for req in hooks:
        headers = {k.lower(): v for k, v in req["headers"].items()}
        assert verify(SECRET.encode(), headers["x-sada-timestamp"], req["body"], headers["x-sada-signature"])
        assert not verify(b"wrong-secret", headers["x-sada-timestamp"], req["body"], headers["x-sada-signature"])
        payload = json.loads(req["body"])
        assert headers["idempotency-key"] == f"{payload['alert']['alert_id']}:hook-json"
    assert {json.loads(r["body"])["alert"]["alert_id"] for r in hooks} == {critical.alert_id, warning.alert_id}
    slack = [json.loads(r["body"]) for r in http.at("/slack")]
    assert len(slack) == 2 and all(s["blocks"] for s in slack)
    slack_text = json.dumps(slack, ensure_ascii=False)
    assert "<script>" not in slack_text and "&lt;script&gt;" in slack_text
    for req in http.at("/slack"):
        headers = {k.lower(): v for k, v in req["headers"].items()}
        assert verify(SECRET.encode(), headers["x-sada-timestamp"], req["body"], headers["x-sada-signature"])

    # -- Telegram: sendMessage, HTML escaped ------------------------------------------------------
    tg = http.at(f"/bot{BOT_TOKEN}/sendMessage")
    assert len(tg) == 2
    sent = [json.loads(r["body"]) for r in tg]
    assert {s["chat_id"] for s in sent} == {"-100777"} and {s["parse_mode"] for s in sent} == {"HTML"}
    assert all("<script>" not in s["text"] for s in sent) and any("&lt;script&gt;" in s["text"] for s in sent)

    # -- recorded in Elasticsearch ---------------------------------------------------------------
    store = AlertStore(sada_es.client(settings), settings)
    doc = store.get(critical.alert_id)
    assert doc["status"] == "new" and doc["rule"] == "high-reach-hostile"
    assert {c: d["status"] for c, d in doc["deliveries"].items()} == {
        "email-cm": "sent", "hook-json": "sent", "hook-slack": "sent", "telegram-cm": "sent"}

    # -- redelivery sends nothing twice; nor does the same alert under another id ---------------
    twin = critical.model_copy(update={"alert_id": "al-twin-of-critical"})   # e.g. re-read in another order
    store.write([twin])
    store.es.indices.refresh(index=store.alerts)
    produce(settings, "alerts", [(r.key, r.value) for r in records] + [(b"al-twin", twin.to_json_bytes())])
    run_notify(settings, env, lambda h, lp: lp.stats.processed >= 3, timeout=30)
    time.sleep(0.5)
    assert len(smtp.messages) == 2 and len(http.requests) == 6
    twin_doc = store.get("al-twin-of-critical")
    assert {d["status"] for d in twin_doc["deliveries"].values()} == {"suppressed"}
    assert critical.alert_id in twin_doc["deliveries"]["email-cm"]["detail"]

    # -- no secret ever logged -------------------------------------------------------------------
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (SECRET, BOT_TOKEN, SMTP_PASSWORD):
        assert secret not in logged
    store.es.close()


def test_failing_channels_are_retried_with_backoff_then_recorded_failed_never_dropped(
        settings, smtp, http, tmp_path, monkeypatch, cleanup_alert_template):
    monkeypatch.setenv("SADA_WEBHOOK_SECRET", SECRET)
    closed_port = _free_port()
    recipients = write_recipients(tmp_path / "recipients.yaml", {
        "flaky": {"type": "webhook", "options": {"url": http.url("/flaky")}},
        "refusing": {"type": "webhook", "options": {"url": http.url("/refusing")}},
        "down": {"type": "webhook", "options": {"url": f"http://127.0.0.1:{closed_port}/hook"}},
    })
    http.plan["/flaky"] = [503, 503, 503]      # 3 failures, then 200
    http.plan["/refusing"] = [400] * 10        # a permanent error
    env = alert_env(smtp, http, recipients, notify_attempts=2, notify_max_attempts=5, notify_backoff=0.2)
    mention = hostile_mentions()[0]
    produce(settings, "mentions.enriched", [(mention.id.encode(), mention.to_json_bytes())])
    run_alert_consumer(settings, env, 1)
    (record,) = read_topic(settings, "alerts", 1)
    alert = Alert.model_validate_json(record.value)
    store = AlertStore(sada_es.client(settings), settings)

    def settled(handler: NotifyHandler, loop: RunLoop) -> bool:
        doc = store.get(alert.alert_id) or {}
        states = {c: d.get("status") for c, d in (doc.get("deliveries") or {}).items()}
        return states.get("flaky") == "sent" and states.get("down") == "failed" and "refusing" in states

    run_notify(settings, env, settled, timeout=60)
    deliveries = store.get(alert.alert_id)["deliveries"]
    assert deliveries["flaky"]["status"] == "sent" and deliveries["flaky"]["attempts"] == 4
    flaky_times = [r["at"] for r in http.at("/flaky")]
    assert len(flaky_times) == 4
    gaps = [b - a for a, b in zip(flaky_times, flaky_times[1:], strict=False)]
    assert gaps[0] >= 0.15 and gaps[-1] > gaps[0]             # backoff grows between attempts
    assert deliveries["refusing"]["status"] == "failed" and deliveries["refusing"]["attempts"] == 1
    assert "HTTP 400" in deliveries["refusing"]["last_error"]
    assert deliveries["down"]["status"] == "failed" and deliveries["down"]["attempts"] == 5
    assert "unreachable" in deliveries["down"]["last_error"]

    dead = [json.loads(r.value) for r in read_topic(settings, "mentions.dlq", 2)]
    assert sorted(d["detail"].split(":")[0] for d in dead) == ["down", "refusing"]
    assert {d["reason"] for d in dead} == {"delivery_failed"}
    for d in dead:                                             # the alert itself travels with the reason
        import base64

        assert Alert.model_validate_json(base64.b64decode(d["original_b64"])).alert_id == alert.alert_id
    store.es.close()


def test_a_person_acknowledges_from_the_command_line_and_the_engine_stops_reminding(
        settings, smtp, http, tmp_path, monkeypatch, capsys, cleanup_alert_template):
    from sada.cli_alerts import main
    from sada.settings import get_settings

    recipients = write_recipients(tmp_path / "recipients.yaml", {
        "email-cm": {"type": "email", "options": {"to": [{"email": "cm@campagne.test"}]}}})
    env = alert_env(smtp, http, recipients)
    mention = hostile_mentions()[0]
    produce(settings, "mentions.enriched", [(mention.id.encode(), mention.to_json_bytes())])
    handler = run_alert_consumer(settings, env, 1)
    (record,) = read_topic(settings, "alerts", 1)
    alert = Alert.model_validate_json(record.value)

    es = sada_es.client(settings)
    es.indices.refresh(index=AlertStore(es, settings).alerts)  # searchable now, not in a second
    es.close()
    monkeypatch.setenv("SADA_TOPIC_PREFIX", settings.topic_prefix)
    monkeypatch.setenv("SADA_INDEX_PREFIX", settings.index_prefix)
    get_settings.cache_clear()
    try:
        assert main(["alerts", "list", "--status", "new"]) == 0
        assert alert.alert_id in capsys.readouterr().out
        assert main(["alerts", "ack", alert.alert_id, "--by", "cm"]) == 0
        out = capsys.readouterr().out
        assert f"{alert.alert_id} acknowledged by cm" in out and "high-reach-hostile" in out
        assert main(["alerts", "list", "--status", "acknowledged", "--json"]) == 0
        (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert listed["details"]["acknowledged_by"] == "cm"
        assert main(["alerts", "ack", "al-does-not-exist"]) == 2
    finally:
        get_settings.cache_clear()

    # The alert consumer reads acknowledgements back: the episode gets no more reminders.
    restarted = AlertHandler(settings, env=env, start_ticker=False)
    restarted.setup()
    try:
        assert ("ack", alert.alert_id) in restarted._acks()
        restarted.tick()
        assert any(ep.acked for ep in restarted.engine.episodes.values() if alert.alert_id in ep.alert_ids)
    finally:
        restarted.close()
    assert handler.emitted == 1
