"""The shipped Kibana saved objects, validated offline against the real template files."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys

import pytest

from sada.kibana import SAVED_OBJECTS_FILE, load_ndjson, template_fields, validate_file, validate_objects
from sada.model import MYTHS
from sada.settings import REPO_ROOT


def _objects():
    objects, problems = load_ndjson()
    assert not problems, problems.items
    return objects


def _by_id(objects):
    return {o["id"]: o for o in objects}


def test_shipped_file_validates_against_the_templates():
    objects, problems = validate_file()
    assert not problems, "\n".join(problems.items)
    assert len(objects) == 23


def test_shipped_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("build_saved_objects", REPO_ROOT / "infra/kibana/build_saved_objects.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert SAVED_OBJECTS_FILE.read_text(encoding="utf-8") == module.render(module.build()), \
        "regenerate it: .venv/bin/python infra/kibana/build_saved_objects.py"


def test_the_objects_the_analysts_asked_for_are_there():
    objects = _objects()
    titles = {o["attributes"]["title"]: o for o in objects}
    for title in ("À modérer", "Rumeurs actives", "Questions du public", "Veille — peines alternatives"):
        assert title in titles
    views = {o["attributes"]["title"]: o["attributes"] for o in objects if o["type"] == "index-pattern"}
    assert views["mentions"]["timeFieldName"] == "published_at" and views["alerts"]["timeFieldName"] == "fired_at"
    myth_searches = {json.loads(o["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
                     .rsplit("myths:", 1)[1] for o in objects if o["id"].startswith("sada-search-myth-")}
    assert myth_searches == set(MYTHS), "one saved search per TAXONOMY myth"
    dashboard = _by_id(objects)["sada-dashboard-veille"]
    on_dashboard = {r["id"] for r in dashboard["references"]}
    assert on_dashboard == {o["id"] for o in objects if o["type"] == "lens"}
    alerts_chart = _by_id(objects)["sada-lens-alerts"]
    assert alerts_chart["references"][0]["id"] == "sada-alerts"


def _broken(mutate) -> list[str]:
    objects = copy.deepcopy(_objects())
    mutate(_by_id(objects), objects)
    return validate_objects(objects).items


def _set_search_query(obj, kql):
    source = json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    source["query"]["query"] = kql
    obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"] = json.dumps(source)


def _lens_column(obj, column):
    return obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["layer1"]["columns"][column]


@pytest.mark.parametrize("mutate,expected", [
    (lambda by, _: by["sada-search-a-moderer"]["attributes"]["columns"].append("autor.handle"),
     "«À modérer»: column uses field 'autor.handle', absent from the mentions mapping"),
    (lambda by, _: _set_search_query(by["sada-search-questions"], "stance:question and langue:fr"),
     "query uses field 'langue', absent from the mentions mapping"),
    (lambda by, _: _set_search_query(by["sada-search-questions"], "stance:questions"),
     "stance:questions is not a TAXONOMY id"),
    (lambda by, _: _set_search_query(by["sada-search-questions"], "stance:(question"),
     "missing )"),
    (lambda by, _: by["sada-search-questions"]["attributes"]["sort"].__setitem__(0, ["text", "desc"]),
     "sort uses field 'text' of type text"),
    (lambda by, _: _lens_column(by["sada-lens-topics"], "topic").__setitem__("sourceField", "topic"),
     "column 'topic' (terms) uses field 'topic', absent from the mentions mapping"),
    (lambda by, _: _lens_column(by["sada-lens-volume-lang"], "date").__setitem__("sourceField", "lang"),
     "column 'date' (date_histogram) uses field 'lang' of type keyword, expected date/date_nanos"),
    (lambda by, _: _lens_column(by["sada-lens-alerts"], "severity").__setitem__("sourceField", "platform"),
     "absent from the alerts mapping"),
    (lambda by, _: by["sada-lens-myths"]["references"][0].__setitem__("id", "sada-mentionz"),
     "→ index-pattern 'sada-mentionz' is not in the file"),
    (lambda by, objects: objects.remove(by["sada-lens-top-authors"]),
     "reference 'p8:panel_p8' → lens 'sada-lens-top-authors' is not in the file"),
    (lambda by, _: by["sada-mentions"]["attributes"].__setitem__("timeFieldName", "published"),
     "timeFieldName uses field 'published'"),
    (lambda by, _: by["sada-search-questions"]["attributes"].__setitem__("tabs", []),
     "attributes Kibana's import would refuse: ['tabs']"),
    (lambda by, _: by["sada-search-questions"].__setitem__("typeMigrationVersion", "99.0.0"),
     "typeMigrationVersion must be '10.5.0'"),
    (lambda by, _: by["sada-dashboard-veille"]["attributes"].__setitem__("panelsJSON", "[{"),
     "attributes.panelsJSON is not JSON"),
])
def test_each_kind_of_mistake_is_reported_with_its_object(mutate, expected):
    problems = _broken(mutate)
    assert any(expected in p for p in problems), problems


def test_template_fields_include_subfields_and_objects():
    fields = template_fields()
    assert fields["mentions"]["text.ar"] == "text" and fields["mentions"]["author.handle"] == "keyword"
    assert fields["mentions"]["text_variants"] == "text"
    assert fields["alerts"]["details.kind"] == "keyword" and fields["clusters"]["representative.raw"] == "keyword"


def test_validate_command_reports_line_problems(tmp_path):
    lines = SAVED_OBJECTS_FILE.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "objects.ndjson"
    bad.write_text("\n".join([lines[0], "{oops", "", *lines[1:]]) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "sada.cli_search", "kibana", "validate", "--file", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "objects.ndjson:2: not JSON" in out.stderr and "objects.ndjson:3: blank line" in out.stderr
    ok = subprocess.run([sys.executable, "-m", "sada.cli_search", "kibana", "validate"], capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and "23 objects valid" in ok.stdout
