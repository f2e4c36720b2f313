from enum import StrEnum


class Strategy(StrEnum):
    BALANCE = "balance"
    CONSOLIDATE = "consolidate"

    def __str__(self) -> str:
        return str(self.value)
