"""Travesía: registration, screening, protection and programmes for migration authorities of transit countries."""

__version__ = "0.1.0"
