"""Docs change with behaviour: every `intentkg ...` command line a doc shows parses with the CLI as it is.

A line of a code block must parse strictly: the command exists, every flag is one of its options,
every value has its option's type, nothing required is missing. An inline mention (`intentkg distill
train --rounds K` in a sentence) may leave out what is required and write placeholders, but its
command and flags must exist (`intentkg annotate` names a group, `kg query --query/--product` two
flags). Parsing only: nothing runs. Optional parts written ``[--flag VALUE]`` are checked as if
given; ``a|b|c`` stands for its first choice."""

from __future__ import annotations

import re
import shlex
from functools import lru_cache
from pathlib import Path

import pytest
import typer
from typer._click.exceptions import BadOptionUsage, UsageError  # typer 0.29 carries its own click

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted(p.name for p in (REPO / "docs").glob("*.md")) + ["../README.md", "../DEVELOPERS.md"]


COMMAND = re.compile(r"^intentkg [a-z]")  # "intentkg  steps/s ..." in a block is a bench's output


def command_lines(text: str) -> list[tuple[str, bool]]:
    """(line, strict) for the `intentkg ...` lines of a markdown text: code-block lines (continuations
    joined, comments cut; strict) and inline code spans (mentions)."""
    found, joined, fenced = [], "", False
    for raw in text.splitlines():
        if raw.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or raw.startswith("    "):
            line = joined + raw.strip()
            if line.endswith("\\"):
                joined = line[:-1].rstrip() + " "
                continue
            joined = ""
            line = line.split(" # ", 1)[0].split("  #", 1)[0].strip()
            if COMMAND.match(line):
                found.append((line, True))
        found += [(span, False) for span in re.findall(r"`(intentkg [^`]+)`", raw) if COMMAND.match(span)]
    return found


@lru_cache(maxsize=1)
def _cli():
    from intentkg.cli.main import cli

    return typer.main.get_command(cli)


def parse(line: str, strict: bool = True) -> None:
    """Parse one command line with the CLI's click command; raises UsageError where it drifted
    (``strict=False``: missing required parameters and values of the wrong type are let through)."""
    if " / " in line:  # `intentkg kg query / export / explore`: each of the commands
        first, *others = line.split(" / ")
        prefix = first.rsplit(" ", 1)[0]
        for each in [first, *(f"{prefix} {o}" for o in others)]:
            parse(each, strict)
        return
    line = re.sub(r"<[^>]+>", "X", line).split(" && ")[0].removesuffix(" &")  # placeholders, shell
    words = [w.strip("[]") for w in shlex.split(line)[1:]]
    words = [w.split("|")[0] if "|" in w else w for w in words if w]
    either = next((w for w in words if re.fullmatch(r"--[\w-]+(/--[\w-]+)+", w)), None)
    if either is not None:  # `--query/--product`: each of the flags
        for flag in either.split("/"):
            parse(" ".join(["intentkg", *(flag if w == either else shlex.quote(w) for w in words)]), strict)
        return
    command = _cli()
    context = command.make_context("intentkg", list(words))
    while hasattr(command, "resolve_command") and words and not words[0].startswith("-"):  # a group
        name, command, words = command.resolve_command(context, words)  # no such command: UsageError
        if not words and not strict and hasattr(command, "resolve_command"):
            return  # a group named in a sentence
        try:
            context = command.make_context(name, list(words), parent=context)
        except typer.BadParameter:  # a missing or mistyped value (MissingParameter is one): checked after
            if strict:              # the flags were parsed, so an unknown flag has failed before
                raise
            return
        except BadOptionUsage:  # `--query` named without its value
            if strict:
                raise
            return
        except typer.Exit:  # --help
            return


def cases():
    for doc in DOCS:
        for line, strict in command_lines((REPO / "docs" / doc).resolve().read_text()):
            yield pytest.param(line, strict, id=f"{doc}: {line[:60]}")


@pytest.mark.parametrize("line,strict", list(cases()))
def test_the_documented_command_parses(line, strict):
    try:
        parse(line, strict)
    except UsageError as exc:
        pytest.fail(f"{line}\n  -> {exc.format_message()}")


def test_a_drifted_command_line_is_caught():
    with pytest.raises(UsageError, match="--no-such-flag"):
        parse("intentkg distill train -w ws --base smollm2-135m-instruct --no-such-flag 3")
    with pytest.raises(UsageError):
        parse("intentkg distill train -w ws")  # --base is required
    parse("intentkg distill train --rounds K", strict=False)  # a mention: --base left out, K a placeholder
    parse("intentkg distill data / train / export", strict=False)
    parse("intentkg lineage ws <any row id> && intentkg status ws")
    with pytest.raises(UsageError):
        parse("intentkg distill data / train / exprot", strict=False)
    with pytest.raises(UsageError, match="--round"):
        parse("intentkg distill train --round K", strict=False)
    with pytest.raises(UsageError):
        parse("intentkg distil data -w ws", strict=False)
    assert command_lines("    intentkg distill eval -w WS \\\n        [--split test|dev]  # a comment\n"
                         "      intentkg  steps/s 0.04\nRun `intentkg status ws` or\n") == [
        ("intentkg distill eval -w WS [--split test|dev]", True), ("intentkg status ws", False)]
