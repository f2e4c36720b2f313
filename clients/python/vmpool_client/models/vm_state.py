from enum import StrEnum


class VmState(StrEnum):
    CRASHED = "crashed"
    CREATING = "creating"
    DELETING = "deleting"
    ERROR = "error"
    MIGRATING = "migrating"
    PAUSED = "paused"
    REBOOTING = "rebooting"
    RESIZING = "resizing"
    RUNNING = "running"
    SHUTTING_DOWN = "shutting_down"
    STARTING = "starting"
    STOPPED = "stopped"
    STOPPING = "stopping"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
