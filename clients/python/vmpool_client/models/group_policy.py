from enum import StrEnum


class GroupPolicy(StrEnum):
    AFFINITY = "affinity"
    ANTI_AFFINITY = "anti-affinity"

    def __str__(self) -> str:
        return str(self.value)
