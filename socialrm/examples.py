"""Example rater populations of DESIGN.md §6, as reusable generators."""

__all__: list[str] = []
