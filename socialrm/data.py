"""Preference datasets: raters x prompts x (possibly incomplete) rankings."""

__all__: list[str] = []
