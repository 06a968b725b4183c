"""All ORM classes, in one package (relationships lazy="raise": nothing loads by accident)."""

from travesia.models.audit import AuditChainHead, AuditEvent, AuditTreeNode
from travesia.models.auth import ApiToken, LoginFailure, User, UserRole, UserStation, WebSession
from travesia.models.base import Base
from travesia.models.biometrics import BiometricCandidate, BiometricIndexState, BiometricTemplate
from travesia.models.enrolment import BiometricSample, Document, Encounter, Person, StagedImage, TravelGroup
from travesia.models.exchange import ExportJob, PartnerKey, PartnerRequest, SharingAgreement
from travesia.models.identity import IdentityDecision
from travesia.models.network import Inspection, InspectionSubject, NetworkCluster, Seizure, TravelContact
from travesia.models.programmes import Flight, ManifestEntry, PathwayProgramme, PathwayReferral
from travesia.models.protection import (
    AsylumClaim,
    CaseNote,
    FollowUp,
    ProtectionCase,
    ProtectionFlag,
    Referral,
    SafeConductPass,
    TraffickingScreening,
)
from travesia.models.screening import (
    Alert,
    AlertReview,
    Screening,
    Watchlist,
    WatchlistChange,
    WatchlistEntry,
    WatchlistVersion,
)
from travesia.models.stations import STATION_KINDS, Station
from travesia.models.statistics import StatsDaily, StatsGroupFirst, StatsGroupsDaily, StatsWatermark
from travesia.models.sync import RegionPerson, StationKey, SyncBatch, SyncCursor, SyncNotice, SyncSentSample, SyncState

__all__ = [
    "STATION_KINDS",
    "Alert",
    "AlertReview",
    "ApiToken",
    "AsylumClaim",
    "AuditChainHead",
    "AuditEvent",
    "AuditTreeNode",
    "Base",
    "BiometricCandidate",
    "BiometricIndexState",
    "BiometricSample",
    "BiometricTemplate",
    "CaseNote",
    "Document",
    "Encounter",
    "ExportJob",
    "Flight",
    "FollowUp",
    "IdentityDecision",
    "Inspection",
    "InspectionSubject",
    "LoginFailure",
    "ManifestEntry",
    "NetworkCluster",
    "PartnerKey",
    "PartnerRequest",
    "PathwayProgramme",
    "PathwayReferral",
    "Person",
    "ProtectionCase",
    "ProtectionFlag",
    "Referral",
    "RegionPerson",
    "SafeConductPass",
    "Screening",
    "Seizure",
    "SharingAgreement",
    "StagedImage",
    "Station",
    "StationKey",
    "StatsDaily",
    "StatsGroupFirst",
    "StatsGroupsDaily",
    "StatsWatermark",
    "SyncBatch",
    "SyncCursor",
    "SyncNotice",
    "SyncSentSample",
    "SyncState",
    "TraffickingScreening",
    "TravelContact",
    "TravelGroup",
    "User",
    "UserRole",
    "UserStation",
    "Watchlist",
    "WatchlistChange",
    "WatchlistEntry",
    "WatchlistVersion",
    "WebSession",
]
