"""The search, index and kibana commands, as the ``sada`` parser (``sada/cli.py``) exposes them."""

from __future__ import annotations

import argparse

import pytest

from sada import cli, cli_search


@pytest.fixture
def parser() -> argparse.ArgumentParser:
    return cli.build_parser()  # it calls cli_search.register(sub)


def test_commands_parse_in_the_sada_parser(parser):
    args = parser.parse_args(["search", "peine alternative", "--lang", "fr,ar", "--lang", "ary", "--myth",
                              "impunity", "--since", "7d", "--limit", "5", "--sort", "newest", "--json"])
    assert args.func is cli_search._cmd_search
    assert cli_search._ids(args.lang) == ["fr", "ar", "ary"] and args.limit == 5 and args.sort == "newest"
    assert parser.parse_args(["search"]).query == ""
    assert parser.parse_args(["index", "--input", "f.jsonl"]).func is cli_search._cmd_index
    imp = parser.parse_args(["kibana", "import", "--url", "https://kb:5601", "--space", "ncsc"])
    assert imp.func is cli_search._cmd_kibana_import and imp.file.endswith("saved_objects.ndjson")
    assert parser.parse_args(["kibana", "validate", "--live"]).func is cli_search._cmd_kibana_validate
    # the existing commands are untouched
    assert parser.parse_args(["consume", "index"]).name == "index"


@pytest.mark.parametrize("argv", [["search", "--sort", "oldest"], ["kibana"], ["index"]])
def test_bad_arguments_are_refused(parser, argv):
    with pytest.raises(SystemExit):
        parser.parse_args(argv)
