from enum import StrEnum


class PlacementStrategy(StrEnum):
    BALANCED = "balanced"
    PACK = "pack"
    SPREAD = "spread"

    def __str__(self) -> str:
        return str(self.value)
