"""Bridgehead (桥头堡): the station network's prevention cycle, as Prefect flows over SQLModel tables."""

__version__ = "0.1.0"
