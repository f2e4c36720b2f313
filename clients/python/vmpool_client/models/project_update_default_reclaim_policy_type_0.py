from enum import StrEnum


class ProjectUpdateDefaultReclaimPolicyType0(StrEnum):
    DELETE = "delete"
    SNAPSHOT_THEN_DELETE = "snapshot_then_delete"
    STOP = "stop"

    def __str__(self) -> str:
        return str(self.value)
