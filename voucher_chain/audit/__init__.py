"""The audit: an event indexer into SQL (:mod:`.indexer`), regulator reports (:mod:`.reports`),
anomaly rules (:mod:`.anomalies`), verification against the chain (:mod:`.verify`) and signed
exports (:mod:`.export`). It reads the chain and never writes to it."""

from voucher_chain.audit.anomalies import Anomaly, detect
from voucher_chain.audit.config import AnomalyConfig, load_config
from voucher_chain.audit.db import open_database
from voucher_chain.audit.errors import AuditError, ExportInvalid, IndexMismatch, ReorgDetected
from voucher_chain.audit.indexer import Indexer, SyncResult
from voucher_chain.audit.reports import Filters
from voucher_chain.audit.service import AuditService

__all__ = [
    "Anomaly",
    "AnomalyConfig",
    "AuditError",
    "AuditService",
    "ExportInvalid",
    "Filters",
    "IndexMismatch",
    "Indexer",
    "ReorgDetected",
    "SyncResult",
    "detect",
    "load_config",
    "open_database",
]
