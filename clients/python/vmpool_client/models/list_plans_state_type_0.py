from enum import StrEnum


class ListPlansStateType0(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    PROPOSED = "proposed"
    RUNNING = "running"
    SUPERSEDED = "superseded"

    def __str__(self) -> str:
        return str(self.value)
