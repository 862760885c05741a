"""Fault tests: real processes, a database proxy that can fail, signals mid-work."""
