from enum import StrEnum


class ReadinessRole(StrEnum):
    FOLLOWER = "follower"
    LEADER = "leader"
    SINGLE = "single"

    def __str__(self) -> str:
        return str(self.value)
