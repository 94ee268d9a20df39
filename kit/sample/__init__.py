"""The simulated sample lake and its truth file."""

from .generator import generate, main

__all__ = ["generate", "main"]
