"""The pure domain: the pool model and its rules, with no I/O.

Nothing in this package may import SQLAlchemy, libvirt, FastAPI or do I/O;
a test in tests/unit enforces it. That keeps placement and planning pure
functions of a cluster state, which can be run and tested offline.
"""
