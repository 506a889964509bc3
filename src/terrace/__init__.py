"""Terrace: raw geodata in; reviewed, versioned, standards-based APIs out."""

__version__ = "0.1.0"
