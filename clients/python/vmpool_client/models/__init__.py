"""Contains all the data models used in inputs/outputs"""

from .admin_token_create import AdminTokenCreate
from .bridge_network_create import BridgeNetworkCreate
from .capacity_out import CapacityOut
from .device_request_in import DeviceRequestIn
from .disk_create import DiskCreate
from .disk_create_storage import DiskCreateStorage
from .disk_format import DiskFormat
from .disk_list import DiskList
from .disk_out import DiskOut
from .disk_resize import DiskResize
from .error_body import ErrorBody
from .error_detail import ErrorDetail
from .error_detail_details import ErrorDetailDetails
from .evacuation_item_out import EvacuationItemOut
from .evacuation_out import EvacuationOut
from .event_list import EventList
from .event_out import EventOut
from .event_out_details import EventOutDetails
from .foreign_domain_out import ForeignDomainOut
from .group_create import GroupCreate
from .group_list import GroupList
from .group_out import GroupOut
from .group_out_members import GroupOutMembers
from .group_policy import GroupPolicy
from .health import Health
from .host_create import HostCreate
from .host_device_list import HostDeviceList
from .host_device_out import HostDeviceOut
from .host_device_update import HostDeviceUpdate
from .host_huge_pages_out import HostHugePagesOut
from .host_list import HostList
from .host_out import HostOut
from .host_overrides_out import HostOverridesOut
from .host_room_out import HostRoomOut
from .host_score_out import HostScoreOut
from .host_state import HostState
from .host_update import HostUpdate
from .huge_pages_out import HugePagesOut
from .image_list import ImageList
from .image_out import ImageOut
from .lease_renew import LeaseRenew
from .libvirt_network_create import LibvirtNetworkCreate
from .libvirt_network_create_mode import LibvirtNetworkCreateMode
from .list_plans_state_type_0 import ListPlansStateType0
from .load_out import LoadOut
from .migrate_in import MigrateIn
from .migrate_in_storage_type_0 import MigrateInStorageType0
from .migration_out import MigrationOut
from .migration_page import MigrationPage
from .migration_state import MigrationState
from .network_list import NetworkList
from .network_out import NetworkOut
from .nic_create import NicCreate
from .nic_create_model import NicCreateModel
from .nic_list import NicList
from .nic_out import NicOut
from .numa_cell_out import NumaCellOut
from .placement_strategy import PlacementStrategy
from .plan_create import PlanCreate
from .plan_list import PlanList
from .plan_out import PlanOut
from .plan_out_components_after import PlanOutComponentsAfter
from .plan_out_components_before import PlanOutComponentsBefore
from .plan_step_out import PlanStepOut
from .pool_create import PoolCreate
from .pool_create_default_reclaim_policy_type_0 import PoolCreateDefaultReclaimPolicyType0
from .pool_create_idle_action_type_0 import PoolCreateIdleActionType0
from .pool_list import PoolList
from .pool_out import PoolOut
from .pool_policy_in import PoolPolicyIn
from .pool_policy_in_default_reclaim_policy_type_0 import PoolPolicyInDefaultReclaimPolicyType0
from .pool_policy_in_idle_action_type_0 import PoolPolicyInIdleActionType0
from .pool_score_out import PoolScoreOut
from .pool_score_out_components import PoolScoreOutComponents
from .project_create import ProjectCreate
from .project_create_default_reclaim_policy_type_0 import ProjectCreateDefaultReclaimPolicyType0
from .project_list import ProjectList
from .project_out import ProjectOut
from .project_token_create import ProjectTokenCreate
from .project_token_create_role import ProjectTokenCreateRole
from .project_update import ProjectUpdate
from .project_update_default_reclaim_policy_type_0 import ProjectUpdateDefaultReclaimPolicyType0
from .readiness import Readiness
from .readiness_role import ReadinessRole
from .rebalance_mode import RebalanceMode
from .rejection_out import RejectionOut
from .resources_out import ResourcesOut
from .snapshot_create import SnapshotCreate
from .snapshot_list import SnapshotList
from .snapshot_out import SnapshotOut
from .strategy import Strategy
from .token_created import TokenCreated
from .token_list import TokenList
from .token_out import TokenOut
from .usage_out import UsageOut
from .vm_create import VmCreate
from .vm_create_cpu_policy import VmCreateCpuPolicy
from .vm_create_disk_storage import VmCreateDiskStorage
from .vm_create_hugepages_type_0 import VmCreateHugepagesType0
from .vm_create_reclaim_policy_type_0 import VmCreateReclaimPolicyType0
from .vm_out import VmOut
from .vm_page import VmPage
from .vm_resize import VmResize
from .vm_state import VmState

__all__ = (
    "AdminTokenCreate",
    "BridgeNetworkCreate",
    "CapacityOut",
    "DeviceRequestIn",
    "DiskCreate",
    "DiskCreateStorage",
    "DiskFormat",
    "DiskList",
    "DiskOut",
    "DiskResize",
    "ErrorBody",
    "ErrorDetail",
    "ErrorDetailDetails",
    "EvacuationItemOut",
    "EvacuationOut",
    "EventList",
    "EventOut",
    "EventOutDetails",
    "ForeignDomainOut",
    "GroupCreate",
    "GroupList",
    "GroupOut",
    "GroupOutMembers",
    "GroupPolicy",
    "Health",
    "HostCreate",
    "HostDeviceList",
    "HostDeviceOut",
    "HostDeviceUpdate",
    "HostHugePagesOut",
    "HostList",
    "HostOut",
    "HostOverridesOut",
    "HostRoomOut",
    "HostScoreOut",
    "HostState",
    "HostUpdate",
    "HugePagesOut",
    "ImageList",
    "ImageOut",
    "LeaseRenew",
    "LibvirtNetworkCreate",
    "LibvirtNetworkCreateMode",
    "ListPlansStateType0",
    "LoadOut",
    "MigrateIn",
    "MigrateInStorageType0",
    "MigrationOut",
    "MigrationPage",
    "MigrationState",
    "NetworkList",
    "NetworkOut",
    "NicCreate",
    "NicCreateModel",
    "NicList",
    "NicOut",
    "NumaCellOut",
    "PlacementStrategy",
    "PlanCreate",
    "PlanList",
    "PlanOut",
    "PlanOutComponentsAfter",
    "PlanOutComponentsBefore",
    "PlanStepOut",
    "PoolCreate",
    "PoolCreateDefaultReclaimPolicyType0",
    "PoolCreateIdleActionType0",
    "PoolList",
    "PoolOut",
    "PoolPolicyIn",
    "PoolPolicyInDefaultReclaimPolicyType0",
    "PoolPolicyInIdleActionType0",
    "PoolScoreOut",
    "PoolScoreOutComponents",
    "ProjectCreate",
    "ProjectCreateDefaultReclaimPolicyType0",
    "ProjectList",
    "ProjectOut",
    "ProjectTokenCreate",
    "ProjectTokenCreateRole",
    "ProjectUpdate",
    "ProjectUpdateDefaultReclaimPolicyType0",
    "Readiness",
    "ReadinessRole",
    "RebalanceMode",
    "RejectionOut",
    "ResourcesOut",
    "SnapshotCreate",
    "SnapshotList",
    "SnapshotOut",
    "Strategy",
    "TokenCreated",
    "TokenList",
    "TokenOut",
    "UsageOut",
    "VmCreate",
    "VmCreateCpuPolicy",
    "VmCreateDiskStorage",
    "VmCreateHugepagesType0",
    "VmCreateReclaimPolicyType0",
    "VmOut",
    "VmPage",
    "VmResize",
    "VmState",
)
