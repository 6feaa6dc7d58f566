"""Rule files, the watch list and the recipients file are validated before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alerts.config import RULES_DIR, load_rule_file, load_rules
from alerts.recipients import load_channels
from alerts.registry import CHANNEL_TYPES, RULE_TYPES, resolve_rule_type
from alerts.rules.keyword_watch import load_watchlist, normalize
from alerts.settings import AlertSettings
from sada.errors import DataFileError


def _rule(tmp: Path, name: str, **fields) -> Path:
    data = {"name": name.removesuffix(".yaml"), "type": "volume_spike", **fields}
    path = tmp / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_rules_cover_every_registered_type_and_validate():
    rules = load_rules(RULES_DIR)
    assert {r.type_name for r in rules} == set(RULE_TYPES)
    for rule_type in [*RULE_TYPES.values(), *CHANNEL_TYPES.values()]:
        assert rule_type.Options.model_config.get("extra") == "forbid"  # a typo in an option is an error


def test_versionless_type_names_resolve_to_the_latest_and_unknown_ones_list_the_registry(tmp_path):
    assert resolve_rule_type("rumor_cluster") is RULE_TYPES["rumor_cluster.v1"]
    with pytest.raises(DataFileError) as err:
        load_rule_file(_rule(tmp_path, "xx.yaml", type="volume_spik"))
    assert str(tmp_path / "xx.yaml") in str(err.value) and ": type:" in str(err.value)
    assert "volume_spike" in str(err.value)


@pytest.mark.parametrize(("fields", "where"), [
    ({"options": {"ratio": 0.5}}, "options.ratio"),
    ({"options": {"windw": "1h"}}, "options.windw"),
    ({"options": {"window": "une heure"}}, "options.window"),
    ({"severity": "urgent"}, "severity"),
    ({"cooldown": "1m"}, "cooldown"),
    ({"filter": {"langs": ["fr", "kabyle"]}}, "filter.langs"),
])
def test_errors_name_the_file_and_the_field(tmp_path, fields, where):
    path = _rule(tmp_path, "bad.yaml", **fields)
    with pytest.raises(DataFileError) as err:
        load_rule_file(path)
    assert err.value.path == str(path) and err.value.field == where


def test_two_files_cannot_define_the_same_rule(tmp_path):
    _rule(tmp_path, "aa.yaml")
    (tmp_path / "bb.yaml").write_text(yaml.safe_dump({"name": "aa", "type": "myth_surge"}), encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bb\.yaml: name: .*already used by .*aa\.yaml"):
        load_rules(tmp_path)


def test_the_keyword_watch_list_is_validated_naming_its_file(tmp_path):
    bad = tmp_path / "keywords.yaml"
    bad.write_text("version: 1\nterms:\n  evasion:\n    label: évasion\n    match: []\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_watchlist(bad)
    assert err.value.field == "terms.evasion.match"
    rule = tmp_path / "kw.yaml"
    rule.write_text(yaml.safe_dump({"name": "kw", "type": "keyword_watch", "options": {"watchlist": str(bad)}}),
                    encoding="utf-8")
    with pytest.raises(DataFileError, match="keywords.yaml: terms.evasion.match"):
        load_rule_file(rule)


def test_keyword_matching_ignores_case_accents_diacritics_and_arabic_prefixes():
    import re

    from alerts.rules.keyword_watch import _pattern

    evasion = re.compile(_pattern("évasion"))
    assert evasion.search(normalize("Une EVASION à Salé")) and evasion.search(normalize("l'évasion"))
    assert not evasion.search(normalize("invasion"))
    scandal = re.compile(_pattern("فضيحة"))
    for text in ("والفضيحة كبيرة", "فضيحه", "فَضِيحَة", "بالفضيحة"):
        assert scandal.search(normalize(text)), text
    assert not scandal.search(normalize("افتضاح"))
    assert re.compile(_pattern("évadé*")).search(normalize("trois évadés"))


def _recipients(tmp: Path, channels: dict) -> Path:
    path = tmp / "recipients.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "channels": channels}), encoding="utf-8")
    return path


def test_recipients_are_validated_naming_the_field(tmp_path):
    path = _recipients(tmp_path, {"email-cm": {"type": "email", "options": {"to": [{"email": "cm@@x"}]}}})
    with pytest.raises(DataFileError) as err:
        load_channels(path, AlertSettings())
    assert err.value.field == "channels.email-cm.options.to.0.email"
    path = _recipients(tmp_path, {"tg": {"type": "pigeon"}})
    with pytest.raises(DataFileError, match="channels.tg.type: unknown channel type 'pigeon'"):
        load_channels(path, AlertSettings())


def test_a_channel_without_its_secret_in_the_environment_is_refused_at_load(tmp_path, monkeypatch):
    monkeypatch.delenv("SADA_HOOK_SECRET", raising=False)
    path = _recipients(tmp_path, {"hook": {"type": "webhook", "options": {
        "url": "https://hooks.example/x", "secret_env": "SADA_HOOK_SECRET"}}})
    with pytest.raises(DataFileError) as err:
        load_channels(path, AlertSettings())
    assert err.value.field == "channels.hook.options.secret_env" and "SADA_HOOK_SECRET is not set" in str(err.value)
    monkeypatch.setenv("SADA_HOOK_SECRET", "s3cr3t-value-123")
    (channel,) = load_channels(path, AlertSettings())
    assert channel.name == "hook"
    disabled = _recipients(tmp_path, {"hook": {"type": "webhook", "enabled": False, "options": {
        "url": "https://hooks.example/x", "secret_env": "SADA_UNSET_SECRET"}}})
    assert load_channels(disabled, AlertSettings()) == []


def test_the_shipped_recipients_file_is_valid():
    channels = load_channels(None, AlertSettings(), check_secrets=False)
    assert [c.name for c in channels] == ["email-cm"]
