"""Chengguan: grid-based comprehensive urban management for district bureaus."""

__version__ = "0.1.0"
