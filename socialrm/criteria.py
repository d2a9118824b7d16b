"""Criteria checks, distortion and manipulation search for voting rules."""

__all__: list[str] = []
