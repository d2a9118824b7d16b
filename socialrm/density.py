"""Density estimation over rater latents (Gaussian mixtures)."""

__all__: list[str] = []
