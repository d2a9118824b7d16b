"""Subcommands of the ``socialrm`` command line; each area adds a ``_add_<name>`` function here."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction") -> None:
    """Add every subcommand to the ``socialrm`` parser."""
