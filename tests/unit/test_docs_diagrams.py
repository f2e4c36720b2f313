"""docs/architecture.md shows each entity's transitions exactly as the tables say."""

from __future__ import annotations

from pathlib import Path

from vmpool.domain.diagrams import DIAGRAMS

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_the_architecture_page_shows_the_transition_tables_as_they_are() -> None:
    text = DOC.read_text()
    for name, diagram in DIAGRAMS.items():
        block = f"`{name}`:\n\n```mermaid\n{diagram}\n```"
        assert block in text, f"{name}'s diagram is out of date: run scripts/state_diagrams.py"
