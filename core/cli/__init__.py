"""`python -m core <command> ...`: the engine's command line.

Each command lives in its own module under core/cli/ exposing `add_parser(subparsers)` (which sets
`func` on its parser) so that commands stay small and independent. Conventions shared by every command:

- `--json [PATH]`: write the command's machine-readable result to PATH, or to standard output when no
  path is given (human-readable output then goes to standard error).
- Bad input exits with status 2 and one clear line on standard error (raise `UsageError` or any
  `ValueError` subclass from core); no stack trace.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

COMMAND_MODULES = ("data", "train", "battle", "forecast", "risk")
"""Modules under core.cli that register a sub-command; a module that does not exist yet is skipped."""

JSON_STDOUT = "-"


class UsageError(ValueError):
    """Bad command-line input: printed as one line, exit status 2."""


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add the shared `--json [PATH]` option (no PATH: standard output)."""
    parser.add_argument(
        "--json",
        nargs="?",
        const=JSON_STDOUT,
        default=None,
        metavar="PATH",
        help="write the result as JSON to PATH (standard output when PATH is omitted)",
    )


def emit_json(payload: dict[str, Any], target: str | None) -> None:
    """Write `payload` as JSON to `target` (a path, or '-' for standard output); no-op when None."""
    if target is None:
        return
    text = json.dumps(payload, indent=2, default=str, allow_nan=False)
    if target == JSON_STDOUT:
        sys.stdout.write(text + "\n")
    else:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def human_stream(args: argparse.Namespace):
    """Where human-readable output goes: stderr when JSON is on stdout, else stdout."""
    return sys.stderr if getattr(args, "json", None) == JSON_STDOUT else sys.stdout


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Neon Arena engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"core.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as exc:  # core's typed errors subclass ValueError
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
