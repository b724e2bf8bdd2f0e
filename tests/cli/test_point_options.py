"""The operating-point options are declared once (`cli/point_options.py`) and every command that
sets a point (`build`, `filter`, `view`, `report`) gets the same ones (issue 11 item 10: `build` and
`filter` repeated the list). On the old code `report` lacked --critic-metadata,
--min-generation-completeness and --relation-threshold, and `filter` lacked --critic-metadata."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from intentkg.cli.main import cli
from intentkg.cli.point_options import PointOptions, with_point_options
from intentkg.errors import ConfigError

FLAGS = ["--critic-metadata", "--min-completeness", "--min-generation-completeness", "--max-input-similarity",
         "--min-plausibility", "--min-typicality", "--relation-threshold", "--ignore-flag", "--off"]


def test_every_point_command_takes_every_point_option():
    runner = CliRunner()
    for command in ("build", "filter", "view", "report"):
        result = runner.invoke(cli, [command, "--help"], env={"COLUMNS": "300"}, terminal_width=300)
        assert result.exit_code == 0, result.output
        missing = [flag for flag in FLAGS if flag not in result.output]
        assert not missing, (command, missing)


def test_the_options_reach_the_command_as_one_object_and_make_a_point(tmp_path):
    seen: list[PointOptions] = []
    app = typer.Typer()

    @app.command()
    @with_point_options
    def run(name: str = typer.Option("x"), options: PointOptions = PointOptions()) -> None:
        seen.append(options)
        typer.echo(name)

    result = CliRunner().invoke(app, ["--name", "y", "--min-plausibility", "0.7", "--relation-threshold",
                                      "used_for_event=0.9", "--ignore-flag", "generic_tail", "--off", "completeness"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "y"
    given = seen[0]
    assert (given.min_plausibility, given.relation_threshold, given.ignore_flag, given.off) == (
        0.7, ["used_for_event=0.9"], ["generic_tail"], ["completeness"])
    assert given.min_completeness is None and given.critic_metadata is None

    from intentkg.operating_point import OperatingPoint

    point = given.on(OperatingPoint())
    assert point.min_plausibility == 0.7 and point.per_relation == {"used_for_event": 0.9}
    assert point.min_completeness is None and "generic_tail" in point.ignore_flags

    with pytest.raises(ConfigError, match="write relation=0.7"):
        PointOptions(relation_threshold=["used_for_event"]).on(OperatingPoint())
