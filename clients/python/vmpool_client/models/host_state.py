from enum import StrEnum


class HostState(StrEnum):
    FENCED = "fenced"
    MAINTENANCE = "maintenance"
    UNREACHABLE = "unreachable"
    UP = "up"

    def __str__(self) -> str:
        return str(self.value)
