"""``sada kibana import`` against a real loopback HTTP server that answers like Kibana 8.19.

The server records every request (method, path, headers, body) and enforces what Kibana
enforces (the ``kbn-xsrf`` header, a multipart ``file`` field); the tests check what was sent
and how each answer — success, partial failure, 401, 500, no server — is reported.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from sada.errors import ConfigError
from sada.kibana import KibanaError, KibanaSettings, import_saved_objects, load_ndjson
from sada.settings import Settings

SECRET = "s3cr3t-Pa55"  # a password or API key that must never be printed


class FakeKibana:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                url = urlsplit(self.path)
                fake.requests.append({"path": url.path, "query": parse_qs(url.query), "body": body,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
                if "kbn-xsrf" not in {k.lower() for k in self.headers}:
                    status, answer = 400, {"statusCode": 400, "error": "Bad Request",
                                           "message": "Request must contain a kbn-xsrf header."}
                else:
                    status, answer = fake.answers.get(url.path.rsplit("/api/", 1)[-1], (404, {"statusCode": 404}))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kibana():
    fake = FakeKibana()
    objects, _ = load_ndjson()
    fake.answers["saved_objects/_import"] = (200, {
        "success": True, "successCount": len(objects), "warnings": [],
        "successResults": [{"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"]["title"]}}
                           for o in objects]})
    fake.answers["kibana/settings"] = (200, {"settings": {"dateFormat:tz": {"userValue": "Africa/Casablanca"}}})
    yield fake
    fake.close()


def _multipart(request: dict) -> dict[str, tuple[str | None, str, bytes]]:
    msg = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + request["headers"]["content-type"].encode() + b"\r\n\r\n" + request["body"])
    assert msg.is_multipart()
    return {part.get_param("name", header="content-disposition"):
            (part.get_filename(), part.get_content_type(), part.get_payload(decode=True)) for part in msg.iter_parts()}


def test_import_posts_the_file_with_xsrf_and_basic_auth_then_sets_the_time_zone(kibana):
    kb = KibanaSettings(username="sada_admin", password=SECRET)
    report = import_saved_objects(kibana.url + "/", kibana=kb, settings=Settings(index_prefix="camp2-"), space="ncsc")
    objects, _ = load_ndjson()
    assert report.success_count == report.objects == len(objects)

    imp, settings_call = kibana.requests
    assert imp["path"] == "/s/ncsc/api/saved_objects/_import" and imp["query"] == {"overwrite": ["true"]}
    assert imp["headers"]["kbn-xsrf"]
    assert imp["headers"]["authorization"] == "Basic " + base64.b64encode(f"sada_admin:{SECRET}".encode()).decode()
    filename, ctype, payload = _multipart(imp)["file"]
    assert filename == "saved_objects.ndjson" and ctype == "application/ndjson"
    sent = [json.loads(line) for line in payload.decode("utf-8").splitlines()]
    assert [(o["type"], o["id"]) for o in sent] == [(o["type"], o["id"]) for o in objects]
    titles = {o["id"]: o["attributes"]["title"] for o in sent if o["type"] == "index-pattern"}
    assert titles == {"sada-mentions": "camp2-mentions", "sada-alerts": "camp2-alerts",
                      "sada-clusters": "camp2-clusters"}  # the data views follow the index prefix
    assert all("_line" not in o for o in sent)

    assert settings_call["path"] == "/s/ncsc/api/kibana/settings"
    assert json.loads(settings_call["body"]) == {"changes": {"dateFormat:tz": "Africa/Casablanca",
                                                             "defaultIndex": "sada-mentions"}}
    assert report.settings["dateFormat:tz"] == "Africa/Casablanca"


def test_api_key_and_default_space_and_no_settings(kibana):
    import_saved_objects(kibana.url, kibana=KibanaSettings(api_key=SECRET), settings=Settings(),
                         apply_settings=False)
    assert len(kibana.requests) == 1
    assert kibana.requests[0]["path"] == "/api/saved_objects/_import"
    assert kibana.requests[0]["headers"]["authorization"] == f"ApiKey {SECRET}"


def test_partial_failure_names_each_object_and_its_reason(kibana, caplog):
    kibana.answers["saved_objects/_import"] = (200, {"success": False, "successCount": 21, "errors": [
        {"id": "sada-lens-alerts", "type": "lens", "meta": {"title": "Alertes dans le temps", "icon": "lensApp"},
         "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "sada-alerts"}]}},
        {"id": "sada-dashboard-veille", "type": "dashboard", "meta": {"title": "Veille — peines alternatives"},
         "error": {"type": "unknown", "message": "[panelsJSON]: could not parse", "statusCode": 400}},
    ]})
    with pytest.raises(KibanaError) as err:
        import_saved_objects(kibana.url, kibana=KibanaSettings(username="u", password=SECRET), settings=Settings())
    text = str(err.value)
    assert "imported 21 of 23" in text and "2 failed" in text
    assert "lens 'sada-lens-alerts' «Alertes dans le temps»: missing_references ['sada-alerts']" in text
    assert "dashboard 'sada-dashboard-veille'" in text and "[panelsJSON]: could not parse" in text
    assert len(kibana.requests) == 1  # no settings change after a failed import
    assert SECRET not in text and SECRET not in caplog.text


@pytest.mark.parametrize("status,message,hint", [
    (401, "[security_exception]: unable to authenticate user [u]", "SADA_KIBANA_USERNAME"),
    (403, "Unable to bulk_create index-pattern", "privilege"),
    (500, "An internal server error occurred.", "Kibana's log"),
])
def test_http_errors_are_explained_without_secrets(kibana, caplog, status, message, hint):
    kibana.answers["saved_objects/_import"] = (status, {"statusCode": status, "error": "x", "message": message})
    with pytest.raises(KibanaError) as err:
        import_saved_objects(kibana.url, kibana=KibanaSettings(username="u", password=SECRET), settings=Settings())
    assert f"Kibana answered {status}" in str(err.value) and message in str(err.value) and hint in str(err.value)
    assert SECRET not in str(err.value) and SECRET not in caplog.text


def test_no_kibana_there_and_credentials_in_the_url(kibana):
    url = kibana.url
    kibana.close()
    with pytest.raises(KibanaError, match="cannot reach Kibana"):
        import_saved_objects(url, kibana=KibanaSettings(api_key=SECRET), settings=Settings(), timeout=5)
    with pytest.raises(ConfigError, match="credentials in the Kibana URL"):
        import_saved_objects(f"http://u:{SECRET}@127.0.0.1:9", kibana=KibanaSettings(), settings=Settings())


def test_command_line_reads_credentials_from_the_environment_and_never_prints_them(kibana):
    import os

    env = {**os.environ, "SADA_KIBANA_API_KEY": SECRET}
    cmd = [sys.executable, "-m", "sada.cli_search", "kibana", "import", "--url", kibana.url]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "imported 23 of 23 saved objects" in ok.stdout and "dateFormat:tz = Africa/Casablanca" in ok.stdout
    assert kibana.requests[0]["headers"]["authorization"] == f"ApiKey {SECRET}"

    kibana.answers["saved_objects/_import"] = (401, {"statusCode": 401, "message": "unauthorized"})
    failed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 2 and "Kibana answered 401" in failed.stderr
    assert SECRET not in failed.stdout + failed.stderr + ok.stdout + ok.stderr
