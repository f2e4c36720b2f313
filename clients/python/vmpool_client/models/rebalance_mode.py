from enum import StrEnum


class RebalanceMode(StrEnum):
    AUTO = "auto"
    OFF = "off"
    RECOMMEND = "recommend"

    def __str__(self) -> str:
        return str(self.value)
