"""A sentence a person can act on, for every error the protocol contracts can revert with.

Templates use ``str.format`` fields named after the error's parameters, with format specs for
values that need a human form: ``:yuan`` (an amount in fen), ``:status``, ``:kind``, ``:state``,
``:pkind`` (enum values) and ``:date`` (a unix time).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["MESSAGES", "describe"]

ORG_KINDS = (
    "none",
    "enterprise",
    "start-up team",
    "institution",
    "issuer",
    "finance",
    "regulator",
    "bank",
    "governor",
)
ORG_STATUSES = ("unregistered", "active", "suspended", "frozen")
ORDER_STATES = (
    "none",
    "placed",
    "accepted",
    "delivered",
    "settled",
    "cancelled",
    "rejected",
    "disputed",
    "resolved",
    "expired",
)
PROGRAM_KINDS = ("voucher", "reward")

MESSAGES: dict[str, str] = {
    # Shared
    "ProtocolPaused": "The protocol is paused by the governor; try again once it is lifted.",
    "ProtocolUnauthorizedAccount": (
        "Account {account} may not do this: it is not an active account of an organisation "
        "of an allowed kind (kind mask {allowedKinds})."
    ),
    "ProtocolOrgNotActive": (
        "Organisation {orgId} is {status:status}; it cannot act until it is active again."
    ),
    "ProtocolAlreadyWired": "The protocol contracts are already wired together.",
    "ProtocolZeroAmount": "The amount must be greater than zero.",
    # Registry
    "RegistryInvalidKind": (
        "Kind {kind} cannot be registered here: only organisations (enterprises, start-up teams, "
        "institutions, issuers, finance, regulators, banks) can, never individuals."
    ),
    "RegistryInvalidRegion": "{region} is not a six-digit GB/T 2260 region code.",
    "RegistryRegionOutsideJurisdiction": (
        "Region {region} is outside the issuer's region {issuerRegion}; ask that region's issuer "
        "or the governor."
    ),
    "RegistryMissingCreditCode": (
        "A unified social credit code is required: only organisations can be registered."
    ),
    "RegistryDuplicateCreditCode": (
        "This unified social credit code is already registered as organisation {existingOrgId}."
    ),
    "RegistryInvalidEmployees": (
        "An enterprise or start-up team must declare at least one employee (got {employees})."
    ),
    "RegistryZeroAccount": "The account address is empty.",
    "RegistryAccountAlreadyRegistered": (
        "Account {account} already belongs (or belonged) to organisation {orgId}; use a new key."
    ),
    "RegistryUnknownAccount": "Account {account} is not an active account of any organisation.",
    "RegistryUnknownOrganisation": "There is no organisation {orgId}.",
    "RegistryNotRegistrar": (
        "Account {account} may not manage organisation {orgId}: only its registrar or the governor."
    ),
    "RegistryLastAccount": (
        "Account {account} is the last account of organisation {orgId}; add another first."
    ),
    "RegistryInvalidStatusChange": (
        "Organisation {orgId} is {from:status}; it cannot become {to:status} from there."
    ),
    # Settlement token
    "SettlementInvalidHolder": (
        "{holder} is not a registered organisation: settlement money can only go to organisations."
    ),
    "SettlementHolderNotActive": "The paying organisation is {status:status}; it cannot pay.",
    "SettlementNotEscrow": (
        "{caller} is not a protocol escrow contract: only escrows pay out and pull in this way."
    ),
    # Vouchers
    "VoucherNonTransferable": (
        "Vouchers cannot be transferred or approved; they move only by issue, order, redemption, "
        "refund, expiry and revocation."
    ),
    "VoucherInvalidHolder": (
        "{holder} cannot hold vouchers: only enterprises and start-up teams can."
    ),
    "VoucherUnauthorizedOperator": "{caller} may not move vouchers.",
    # Catalogue
    "CatalogueTooManyCategories": "The category list is full (256 categories).",
    "CatalogueEmptyName": "A name is required.",
    "CatalogueUnknownCategories": "Category mask {mask} names categories that are not defined.",
    "CatalogueInactiveCategory": "Category {category} is not defined or has been retired.",
    "CatalogueNotInstitution": "Organisation {orgId} is not an institution.",
    "CatalogueNotAccredited": (
        "Institution {institutionOrg} is not accredited for category {category}; ask the issuer "
        "to accredit it first."
    ),
    "CatalogueUnknownService": "There is no service {serviceId}.",
    "CatalogueNotServiceOwner": (
        "Service {serviceId} belongs to another institution, not organisation {orgId}."
    ),
    "CatalogueOutsideJurisdiction": (
        "Institution {institutionOrg} is in region {region}, outside the issuer's region "
        "{issuerRegion}."
    ),
    # Programs
    "ProgramUnknown": "There is no program {programId}.",
    "ProgramIsClosed": "Program {programId} is closed.",
    "ProgramWrongKind": "Program {programId} is a {kind:pkind} program; this needs the other kind.",
    "ProgramNotIssuer": "Organisation {orgId} is not the issuer of program {programId}.",
    "ProgramNotFinance": "Organisation {orgId} is not the finance bureau of program {programId}.",
    "ProgramInvalidFinance": "Organisation {financeOrg} is not a finance bureau.",
    "ProgramInvalidSchedule": (
        "The schedule is inconsistent: issuance {issueStart:date} – {issueEnd:date} must end in "
        "the future, and issuance end ≤ expiry {expiry:date} ≤ settlement deadline "
        "{settlementDeadline:date}."
    ),
    "ProgramInvalidCategories": (
        "Category mask {categories} is empty or names categories that are not defined."
    ),
    "ProgramInvalidShare": "The share must be between 1 and 10000 basis points (got {shareBps}).",
    "ProgramInvalidFaceValue": "A voucher program needs a positive face value.",
    "ProgramInvalidUnits": (
        "Per-order units must satisfy 1 ≤ minimum ≤ maximum (got {minUnits}–{maxUnits})."
    ),
    "ProgramInvalidEligibility": (
        "Eligible kinds must be enterprises and/or start-up teams (got mask {eligibleKinds})."
    ),
    "ProgramInvalidRegion": (
        "Region pattern {pattern} is invalid, or a region list is empty (0 means national)."
    ),
    "ProgramInvalidRollover": (
        "Program {targetId} cannot receive the rollover of program {programId}: it must be an open "
        "program of the same issuer, finance bureau and kind, for the next fiscal year."
    ),
    "ProgramDuplicateRequest": (
        "Request {requestId} was already used: the operation it names has been done already."
    ),
    "ProgramIssuanceClosed": (
        "Program {programId} issues vouchers only from {issueStart:date} to {issueEnd:date}."
    ),
    "ProgramIneligibleKind": (
        "Organisation {orgId} ({kind:kind}) is not eligible for program {programId}."
    ),
    "ProgramIneligibleRegion": (
        "Organisation {orgId} in region {region} is not eligible for program {programId}."
    ),
    "ProgramIneligibleSize": (
        "Organisation {orgId} has {employees} employees; program {programId} allows at most "
        "{maxEmployees}."
    ),
    "ProgramHolderCapExceeded": (
        "Issuing {requested:yuan} would exceed organisation {orgId}'s cap in program {programId}; "
        "at most {remaining:yuan} more can be issued."
    ),
    "ProgramInsufficientEscrow": (
        "Program {programId} has only {available:yuan} of escrowed budget not yet covering "
        "vouchers; {requested:yuan} was asked. Finance must top up the escrow first."
    ),
    "ProgramApplicationNotPending": "Application {applicationId} does not exist or is not pending.",
    "ProgramNotSpendable": (
        "Vouchers of program {programId} can be spent only from {issueStart:date} until they "
        "expire at {expiry:date}."
    ),
    "ProgramCategoryNotAllowed": (
        "Program {programId} does not pay for services of category {category}."
    ),
    "ProgramRegionNotAllowed": (
        "Vouchers of program {programId} cannot be spent at an institution in region "
        "{institutionRegion}: the program does not allow that region."
    ),
    "ProgramUnitsOutOfRange": (
        "An order may use {minUnits} to {maxUnits} vouchers of program {programId}; {units} were "
        "offered."
    ),
    "ProgramVoucherShareExceeded": (
        "Vouchers may pay at most {maxVoucherValue:yuan} of this price under program {programId} "
        "(own-fund matching); {voucherValue:yuan} was offered. Pay the rest from own funds."
    ),
    "ProgramNotEnded": (
        "Program {programId} can close only after its settlement deadline "
        "{settlementDeadline:date}."
    ),
    "ProgramHasOpenOrders": (
        "Program {programId} still has {openOrders} open orders; settle, resolve or expire them "
        "first."
    ),
    "ProgramEnrolmentRefused": (
        "Institution {institutionOrg} is already enrolled in program {programId}, or in the "
        "maximum number of reward programs."
    ),
    "ProgramOnlyOrderBook": "{caller} is not the order book.",
    # Orders
    "OrderDuplicateRequest": (
        "Request {requestId} already placed order {existingOrderId} (or is empty); nothing was "
        "placed twice."
    ),
    "OrderUnknown": "There is no order {orderId}.",
    "OrderInvalidState": "Order {orderId} is {state:state}; this step is not possible now.",
    "OrderNotParty": "Organisation {orgId} is not the party that may do this on order {orderId}.",
    "OrderServiceUnavailable": "Service {serviceId} is not available.",
    "OrderZeroQuantity": "An order needs a quantity of at least one.",
    "OrderPriceOverflow": "The order's price {price} is too large.",
    "OrderAmountMismatch": (
        "Vouchers ({voucherValue:yuan}) plus own funds ({ownFunds:yuan}) must equal the price "
        "({price:yuan})."
    ),
    "OrderCounterpartyNotActive": "Organisation {orgId} is {status:status}; it cannot trade now.",
    "OrderInstitutionNotAccredited": (
        "Institution {institutionOrg} is no longer accredited for category {category}."
    ),
    "OrderRelatedParties": (
        "Enterprise {enterpriseOrg} and institution {institutionOrg} belong to the same "
        "affiliation group: related parties cannot trade with vouchers."
    ),
    "OrderEmptyDeliverable": "Delivery of order {orderId} needs the hash of the deliverable.",
    "OrderConfirmWindowOpen": (
        "The enterprise may still confirm order {orderId}; the institution can claim from "
        "{claimableAt:date}."
    ),
    "OrderNotExpirable": (
        "Order {orderId} can be expired only after the settlement deadline "
        "{settlementDeadline:date}."
    ),
    "OrderInvalidSplit": (
        "A split of order {orderId} cannot pay more than it escrowed ({units} vouchers, "
        "{ownFunds:yuan} own funds asked)."
    ),
    # OpenZeppelin
    "ERC20InsufficientBalance": (
        "Not enough settlement money: the balance is {balance:yuan}, {needed:yuan} is needed."
    ),
    "ERC20InsufficientAllowance": (
        "{spender} may move only {allowance:yuan}; {needed:yuan} is needed."
    ),
    "ERC20InvalidSender": "{sender} cannot send settlement money.",
    "ERC20InvalidReceiver": "{receiver} cannot receive settlement money.",
    "ERC20InvalidApprover": "{approver} cannot approve.",
    "ERC20InvalidSpender": "{spender} cannot be approved.",
    "ERC1155InsufficientBalance": (
        "Not enough vouchers of program {tokenId}: {balance} held, {needed} needed."
    ),
    "ERC1155InvalidSender": "{sender} cannot send vouchers.",
    "ERC1155InvalidReceiver": "{receiver} cannot receive vouchers.",
    "ERC1155InvalidApprover": "{approver} cannot approve.",
    "ERC1155InvalidOperator": "{operator} cannot operate vouchers.",
    "ERC1155MissingApprovalForAll": "{operator} is not approved by {owner}.",
    "ERC1155InvalidArrayLength": "Ids ({idsLength}) and values ({valuesLength}) differ in length.",
    "ERC2771ForwarderInvalidSigner": (
        "The relayed request was not signed by {from} (signer {signer}): it was tampered with, or "
        "signed for another chain or forwarder."
    ),
    "ERC2771ForwarderExpiredRequest": (
        "The relayed request expired at {deadline:date}; sign a new one."
    ),
    "ERC2771ForwarderMismatchedValue": (
        "The relayed request asks for value {requestedValue} but {msgValue} was sent."
    ),
    "ERC2771ForwarderNoRefundReceiver": "A batch with failed requests needs a refund receiver.",
    "ERC2771UntrustfulTarget": "{target} does not trust forwarder {forwarder}.",
    "InvalidAccountNonce": "The nonce is stale: {account}'s current nonce is {currentNonce}.",
    "SafeERC20FailedOperation": "A settlement-token transfer by {token} failed.",
    "EnforcedPause": "The protocol is paused.",
    "ExpectedPause": "The protocol is not paused.",
    "FailedCall": "A call failed.",
    "InsufficientBalance": "Insufficient native balance: {balance} held, {needed} needed.",
    "InvalidShortString": "A string is too long for its short-string slot.",
    "StringTooLong": "The string {str} is too long.",
    # Solidity built-ins
    "Error": "The contract rejected the call: {message}",
    "Panic": (
        "The contract hit an internal check (panic code {code}): an arithmetic overflow or bug."
    ),
    "UnknownError": "The contract rejected the call with data no known ABI explains: {data}",
}


_ENUMS: dict[str, tuple[str, ...]] = {
    "status": ORG_STATUSES,
    "kind": ORG_KINDS,
    "state": ORDER_STATES,
    "pkind": PROGRAM_KINDS,
}


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "yuan" and isinstance(value, int):
            return f"¥{value // 100:,}.{value % 100:02d}"
        names = _ENUMS.get(format_spec)
        if names is not None and isinstance(value, int):
            return names[value] if 0 <= value < len(names) else str(value)
        if format_spec == "date" and isinstance(value, int):
            return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
        formatted: str = super().format_field(value, format_spec)
        return formatted


_FORMATTER = _Formatter()


def describe(name: str, args: Mapping[str, Any]) -> str:
    """The sentence for error ``name`` with ``args`` filled in (the name itself as a fallback)."""
    template = MESSAGES.get(name)
    if template is None:
        listed = ", ".join(f"{k}={v}" for k, v in args.items())
        return f"The contract rejected the call: {name}({listed})"
    try:
        text: str = _FORMATTER.format(template, **args)
        return f"{text} [{name}]"
    except (KeyError, IndexError, ValueError):
        return f"{template} [{name}]"
