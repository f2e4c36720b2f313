"""Print the entities' transition tables as the Mermaid diagrams of docs/architecture.md."""

from vmpool.domain.diagrams import DIAGRAMS

for name, diagram in DIAGRAMS.items():
    print(f"`{name}`:\n\n```mermaid\n{diagram}\n```\n")
