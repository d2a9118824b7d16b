"""Profiles, voting rules and social orders (the social-choice engine's Python face)."""

__all__: list[str] = []
