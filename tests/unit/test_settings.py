import pytest
from pydantic import SecretStr, ValidationError

from sada.settings import Settings


def test_precedence_argument_over_environment_over_file_over_default(tmp_path, monkeypatch):
    for name in ("SADA_ES_URL", "SADA_KAFKA_BOOTSTRAP", "SADA_INDEX_PREFIX", "SADA_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)  # the test sets its own layers
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SADA_ES_URL=http://from-file:9200\nSADA_KAFKA_BOOTSTRAP=file:9092\n"
                                   "SADA_INDEX_PREFIX=file-\n")
    monkeypatch.setenv("SADA_KAFKA_BOOTSTRAP", "env:9092")
    monkeypatch.setenv("SADA_INDEX_PREFIX", "env-")
    s = Settings(index_prefix="arg-")
    assert s.index_prefix == "arg-"
    assert s.kafka_bootstrap == "env:9092"
    assert s.es_url == "http://from-file:9200"
    assert s.timezone == "Africa/Casablanca"


def test_secrets_never_show_in_repr_or_dump(monkeypatch):
    monkeypatch.setenv("SADA_ES_PASSWORD", "hunter2-very-secret")
    s = Settings()
    assert isinstance(s.es_password, SecretStr)
    assert "hunter2" not in repr(s)
    assert "hunter2" not in str(s.model_dump())


def test_bad_values_are_refused_naming_the_field():
    with pytest.raises(ValidationError, match="index_prefix"):
        Settings(index_prefix="Camp 2")
    with pytest.raises(ValidationError, match="timezone"):
        Settings(timezone="Mars/Olympus")


def test_prefixes_apply_to_topics_and_indices():
    s = Settings(topic_prefix="t1-", index_prefix="i1-")
    assert s.topic("mentions.raw") == "t1-mentions.raw"
    assert s.index("mentions") == "i1-mentions"
