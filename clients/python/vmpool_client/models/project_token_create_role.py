from enum import StrEnum


class ProjectTokenCreateRole(StrEnum):
    MEMBER = "member"
    READER = "reader"

    def __str__(self) -> str:
        return str(self.value)
