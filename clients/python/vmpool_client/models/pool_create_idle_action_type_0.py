from enum import StrEnum


class PoolCreateIdleActionType0(StrEnum):
    RECLAIM = "reclaim"
    REPORT = "report"

    def __str__(self) -> str:
        return str(self.value)
