"""Errors the CLI reports as one line with exit code 2 (usage or input errors)."""

from __future__ import annotations


class DeployKitError(Exception):
    """A problem with the user's input or environment that they can fix.

    The message is one sentence naming the file, line or value, then what to do.
    """

    exit_code = 2


class UsageError(DeployKitError):
    """Invalid options or arguments."""


class InputError(DeployKitError):
    """A file the user gave (or the project contains) cannot be used as it is."""
