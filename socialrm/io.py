"""Saving and loading models (safetensors, written atomically)."""

__all__: list[str] = []
