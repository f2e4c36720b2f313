"""What every entity's state machine shares: a table of events, each allowed from some
states and leading to one, checked in one place.

An entity (`Vm`, `Migration`, `Plan`, `PlanStep`, `Host`) is a plain class that holds
its state as a string (as stored) and changes it only through its event methods, which
call `transition`. The persistence mapping (`vmpool.adapters.db.tables`) adds the
columns; no other code writes a state.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from vmpool.errors import InvalidTransition

S = TypeVar("S", bound=enum.StrEnum)


@dataclass(frozen=True, slots=True)
class Transition(Generic[S]):
    sources: frozenset[S]
    target: S


def allowed(sources: Iterable[S], target: S) -> Transition[S]:
    return Transition(frozenset(sources), target)


def transition(
    table: Mapping[str, Transition[S]], kind: str, label: str, event: str, current: S
) -> S:
    """The state `event` leads to from `current`, or InvalidTransition (409) naming both."""
    rule = table[event]
    if current not in rule.sources:
        raise InvalidTransition(
            f"cannot {event.replace('_', ' ')} {kind} {label} while it is {current.value}",
            state=current.value,
            allowed_from=sorted(s.value for s in rule.sources),
        )
    return rule.target


def edges(table: Mapping[str, Transition[S]]) -> list[tuple[str, str, str]]:
    """(from, event, to) for every allowed transition: the diagrams in the docs."""
    return sorted(
        (source.value, event, rule.target.value)
        for event, rule in table.items()
        for source in rule.sources
    )


def mermaid(table: Mapping[str, Transition[S]], initial: S) -> str:
    """The table as a Mermaid state diagram (docs/architecture.md shows each entity's)."""
    lines = ["stateDiagram-v2", f"    [*] --> {initial.value}"]
    lines += [f"    {a} --> {b}: {event}" for a, event, b in edges(table)]
    return "\n".join(lines)
