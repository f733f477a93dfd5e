"""Soleware: an open platform for smart running shoes."""

__version__ = "0.1.0"
