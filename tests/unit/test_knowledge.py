import pytest

from sada.errors import DataFileError
from sada.knowledge import load_myths
from sada.model import MYTHS


def test_every_myth_has_validated_counter_arguments_in_french_and_arabic():
    book = load_myths()
    assert set(book.myths) == set(MYTHS)
    for myth in book.myths.values():
        assert myth.counter.fr and myth.counter.ar


def test_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "myths.yaml"
    bad.write_text("version: 1\nas_of: '2026'\nmyths:\n  impunity:\n    title: {fr: x}\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_myths(bad)
    assert str(bad) in str(err.value) and "myths.impunity.title.ar" in str(err.value)


def test_unknown_myth_id_is_refused(tmp_path):
    import yaml

    from sada.knowledge import MYTHS_FILE

    data = yaml.safe_load(MYTHS_FILE.read_text(encoding="utf-8"))
    data["myths"]["made_up"] = data["myths"]["impunity"]
    bad = tmp_path / "myths.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataFileError, match="myths.made_up"):
        load_myths(bad)
