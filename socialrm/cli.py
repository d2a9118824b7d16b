"""Command line: ``socialrm demo`` and ``socialrm aggregate``.

Each subcommand lives in the module of its area and registers itself through ``add_*_command``.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="socialrm", description="Social-choice reward modeling for RLHF.")
    sub = parser.add_subparsers(dest="command", required=True)
    from . import _cli_commands

    _cli_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
