from enum import StrEnum


class VmCreateDiskStorage(StrEnum):
    LOCAL = "local"
    SHARED = "shared"

    def __str__(self) -> str:
        return str(self.value)
