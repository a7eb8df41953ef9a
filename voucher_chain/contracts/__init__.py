"""The protocol's contracts from Python: artifacts, deployment, typed mirrors, revert decoding."""

from voucher_chain.contracts.artifacts import PROTOCOL_CONTRACTS, Artifact, load_artifact
from voucher_chain.contracts.deploy import (
    DEFAULT_CATEGORIES,
    DEFAULT_VOUCHER_URI,
    Protocol,
    deploy_protocol,
)
from voucher_chain.contracts.revert import ErrorDecoder, protocol_error_decoder, revert_data_of
from voucher_chain.contracts.tx import call, transact
from voucher_chain.contracts.types import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    OrgStatus,
    ProgramKind,
    ProgramTerms,
    SettlementMethod,
)

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_VOUCHER_URI",
    "PROTOCOL_CONTRACTS",
    "Artifact",
    "Category",
    "ErrorDecoder",
    "KindMask",
    "OrderState",
    "OrgKind",
    "OrgStatus",
    "ProgramKind",
    "ProgramTerms",
    "Protocol",
    "SettlementMethod",
    "call",
    "deploy_protocol",
    "load_artifact",
    "protocol_error_decoder",
    "revert_data_of",
    "transact",
]
