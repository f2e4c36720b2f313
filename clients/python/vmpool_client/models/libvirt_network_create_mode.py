from enum import StrEnum


class LibvirtNetworkCreateMode(StrEnum):
    ISOLATED = "isolated"
    ROUTED = "routed"

    def __str__(self) -> str:
        return str(self.value)
