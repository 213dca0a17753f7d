"""Harbour: a survivor-centred national response to human trafficking."""

__version__ = "0.1.0"
