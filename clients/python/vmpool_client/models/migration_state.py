from enum import StrEnum


class MigrationState(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    COMPLETING = "completing"
    FAILED = "failed"
    PREPARING = "preparing"
    QUEUED = "queued"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
