from enum import StrEnum


class MigrateInStorageType0(StrEnum):
    COPY = "copy"
    SHARED = "shared"

    def __str__(self) -> str:
        return str(self.value)
