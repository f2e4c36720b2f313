from enum import StrEnum


class VmCreateHugepagesType0(StrEnum):
    VALUE_0 = "2M"
    VALUE_1 = "1G"

    def __str__(self) -> str:
        return str(self.value)
