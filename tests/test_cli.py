"""The command line: help with examples everywhere, one-line errors, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest

from smartcity.cli.main import COMMANDS, cli, main


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "smartcity")
def test_every_command_has_help_with_an_example(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example:" in text
    example = text.split("Example:", 1)[1]
    assert "smartcity" in example


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_imports(name: str) -> None:
    """A listed command whose module is missing or broken fails here, not at a user's prompt."""
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    assert command.name == name


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "smartcity.cli.main", *args], capture_output=True, text=True,
                          env=full_env, timeout=120)


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (("kafka", "start", "--brokers", "many"), {}, "--brokers"),
        (("topics", "create", "--nope"), {}, "--nope"),
        (("no-such-command",), {}, "no-such-command"),
        (("config", "show"), {"SMARTCITY_KAFKA_PARTITIONS": "lots"}, "kafka.partitions"),
        (("config", "show"), {"SMARTCITY_KAFKA_BOOTSTRAP_SERVERS": "host-without-port"}, "bootstrap_servers"),
        (("topics", "describe", "-X", "novalue"), {}, "key=value"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], env: dict[str, str], needle: str) -> None:
    result = run(*args, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("smartcity: error:") and needle in lines[0]
    assert "Traceback" not in result.stderr


def test_config_show_masks_secrets_and_reflects_layers(tmp_path) -> None:
    (tmp_path / "smartcity.toml").write_text('[kafka]\ntopic_prefix = "metro"\n')
    result = subprocess.run(
        [sys.executable, "-m", "smartcity.cli.main", "config", "show", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "SMARTCITY_KAFKA_PROPERTY_SASL_PASSWORD": "s3cret", "SMARTCITY_LAKE_FORMAT": "csv"},
    )
    assert result.returncode == 0, result.stderr
    assert '"topic_prefix": "metro"' in result.stdout and '"format": "csv"' in result.stdout
    assert "s3cret" not in result.stdout and "****" in result.stdout


def test_unreachable_broker_is_a_one_line_error() -> None:
    result = run("topics", "describe", "--bootstrap-servers", "127.0.0.1:1")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "cannot reach Kafka at 127.0.0.1:1" in result.stderr
