"""The SQLModel tables of the whole cycle and the contracts of its input files.

Importing this package registers every table on `SQLModel.metadata` (what Alembic compares).
"""

from models.audit import AuditHead, AuditLog
from models.case import CaseIn, CaseParty, CriminalCase
from models.follow_up import AccountabilityEntry, CapacityNotice, FollowUp, SupervisionNotice, SweepDay
from models.incident import Dispatch, Incident, IncidentDue, ResponseBreach, UnitStatusEvent, UnitStatusIn
from models.installation import InstallationFact
from models.intake import QuarantinedRow, SourceFile
from models.jurisdiction import (
    Community,
    CommunityIn,
    Officer,
    OfficerIn,
    PatrolUnit,
    PatrolUnitIn,
    Place,
    PlaceIn,
    Station,
    StationIn,
)
from models.review import ReviewSnapshot
from models.reward import RewardEntry
from models.risk import Risk, RiskLevelChange, RiskLinkKey
from models.signal import AnalysisIn, CallIn, Signal, SignalParty, TipIn, VisitIn
from models.tip import Tip

__all__ = [
    "AccountabilityEntry",
    "AnalysisIn",
    "AuditHead",
    "AuditLog",
    "CallIn",
    "CapacityNotice",
    "CaseIn",
    "CaseParty",
    "Community",
    "CommunityIn",
    "CriminalCase",
    "Dispatch",
    "FollowUp",
    "Incident",
    "IncidentDue",
    "InstallationFact",
    "Officer",
    "OfficerIn",
    "PatrolUnit",
    "PatrolUnitIn",
    "Place",
    "PlaceIn",
    "QuarantinedRow",
    "ResponseBreach",
    "ReviewSnapshot",
    "RewardEntry",
    "Risk",
    "RiskLevelChange",
    "RiskLinkKey",
    "Signal",
    "SignalParty",
    "SourceFile",
    "Station",
    "StationIn",
    "SupervisionNotice",
    "SweepDay",
    "Tip",
    "TipIn",
    "UnitStatusEvent",
    "UnitStatusIn",
    "VisitIn",
]
