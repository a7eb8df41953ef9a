// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Kinds, OrgKind, OrgStatus, Organisation, Vaults} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";
import {IOrderBookView, ProgramManager, ProgramState} from "./ProgramManager.sol";
import {ProtocolBase} from "./ProtocolBase.sol";
import {ServiceCatalogue} from "./ServiceCatalogue.sol";
import {SettlementToken} from "./SettlementToken.sol";
import {VoucherToken} from "./VoucherToken.sol";

enum OrderState {
    None,
    Placed,
    Accepted,
    Delivered,
    Settled,
    Cancelled,
    Rejected,
    Disputed,
    Resolved,
    Expired
}

/// @dev How an order was paid: confirmed by the enterprise, claimed by the institution after the silent
/// confirmation window, or resolved by the issuer or a regulator after a dispute.
enum SettlementMethod {
    Confirmed,
    Claimed,
    Resolved
}

struct Order {
    uint64 programId;
    uint64 serviceId;
    uint64 enterpriseOrg;
    uint64 institutionOrg;
    uint8 category;
    OrderState state;
    uint64 placedAt;
    uint64 deliveredAt;
    uint128 units;
    uint128 price;
    uint128 voucherValue;
    uint128 ownFunds;
    bytes32 deliverableHash;
    bytes32 requestId;
}

/// @title OrderBook
/// @notice Orders for listed R&D services, paid with vouchers plus the enterprise's own funds, both escrowed
/// here when the order is placed. When the enterprise confirms delivery the institution is paid in that same
/// transaction: the vouchers are burned, the program's escrow pays their value and the own funds are released.
contract OrderBook is ProtocolBase, IOrderBookView {
    SettlementToken private immutable _money;
    VoucherToken private immutable _vouchers;
    ServiceCatalogue private immutable _catalogue;
    ProgramManager private immutable _programs;

    uint64 private _orderCount;
    mapping(uint64 orderId => Order) private _orders;
    mapping(bytes32 requestId => uint64 orderId) private _orderOfRequest;
    mapping(uint64 programId => uint256) private _openOrders;

    /// @dev The request id is zero or was already used by `existingOrderId`: the order has already been placed.
    error OrderDuplicateRequest(bytes32 requestId, uint64 existingOrderId);
    /// @dev There is no order with this id.
    error OrderUnknown(uint64 orderId);
    /// @dev The order is in `state`, which does not allow this step.
    error OrderInvalidState(uint64 orderId, OrderState state);
    /// @dev The caller's organisation is not the party this step belongs to.
    error OrderNotParty(uint64 orderId, uint64 orgId);
    /// @dev The service is not available (unlisted, withdrawn or its category retired).
    error OrderServiceUnavailable(uint64 serviceId);
    /// @dev An order needs a quantity of at least one.
    error OrderZeroQuantity();
    /// @dev The price does not fit in 128 bits.
    error OrderPriceOverflow(uint256 price);
    /// @dev Voucher value plus own funds must equal the price exactly.
    error OrderAmountMismatch(uint256 price, uint256 voucherValue, uint256 ownFunds);
    /// @dev The counterparty is not active.
    error OrderCounterpartyNotActive(uint64 orgId, OrgStatus status);
    /// @dev The institution is no longer accredited for the service's category.
    error OrderInstitutionNotAccredited(uint64 institutionOrg, uint8 category);
    /// @dev Enterprise and institution belong to the same declared affiliation group: related parties cannot trade.
    error OrderRelatedParties(uint64 enterpriseOrg, uint64 institutionOrg, bytes32 affiliation);
    /// @dev A delivery needs the hash of the deliverable.
    error OrderEmptyDeliverable(uint64 orderId);
    /// @dev The institution may claim only after the confirmation window, at `claimableAt`.
    error OrderConfirmWindowOpen(uint64 orderId, uint64 claimableAt);
    /// @dev An open order can be expired only after the program's settlement deadline.
    error OrderNotExpirable(uint64 orderId, uint64 settlementDeadline);
    /// @dev A dispute split cannot pay more than the order escrowed.
    error OrderInvalidSplit(uint64 orderId, uint128 units, uint128 ownFunds);

    /// @dev Emitted when an enterprise places an order, with the vouchers and own funds escrowed.
    event OrderPlaced(
        uint64 indexed orderId,
        uint64 indexed programId,
        uint64 indexed enterpriseOrg,
        uint64 institutionOrg,
        uint64 serviceId,
        uint128 units,
        uint128 voucherValue,
        uint128 ownFunds,
        bytes32 requestId
    );
    /// @dev Emitted when the institution accepts an order.
    event OrderAccepted(uint64 indexed orderId, uint64 indexed institutionOrg);
    /// @dev Emitted when the institution rejects an order; everything is refunded.
    event OrderRejected(uint64 indexed orderId, uint64 indexed institutionOrg, uint32 reasonCode);
    /// @dev Emitted when the enterprise cancels an order before acceptance; everything is refunded.
    event OrderCancelled(uint64 indexed orderId, uint64 indexed enterpriseOrg);
    /// @dev Emitted when the institution delivers, with the hash of the deliverable.
    event OrderDelivered(uint64 indexed orderId, uint64 indexed institutionOrg, bytes32 deliverableHash);
    /// @dev Emitted when the enterprise disputes an order.
    event OrderDisputed(uint64 indexed orderId, uint64 indexed enterpriseOrg, bytes32 reasonHash);
    /// @dev Emitted when an order is paid: `voucherValue` from the program's escrow, `ownFunds` released.
    event OrderSettled(
        uint64 indexed orderId,
        uint64 indexed programId,
        uint64 indexed institutionOrg,
        uint128 voucherValue,
        uint128 ownFunds,
        SettlementMethod method
    );
    /// @dev Emitted when a dispute is resolved; what the institution was not paid went back to the enterprise.
    event DisputeResolved(uint64 indexed orderId, uint64 indexed byOrg, uint128 unitsPaid, uint128 ownFundsPaid);
    /// @dev Emitted when an open order is expired after the settlement deadline; everything is refunded.
    event OrderExpired(uint64 indexed orderId, uint64 indexed byOrg);

    constructor(
        address forwarder,
        ParticipantRegistry registry_,
        SettlementToken money,
        VoucherToken vouchers,
        ServiceCatalogue catalogue,
        ProgramManager programs
    ) ProtocolBase(forwarder, registry_) {
        _money = money;
        _vouchers = vouchers;
        _catalogue = catalogue;
        _programs = programs;
    }

    /// @notice Places an order for `quantity` units of a listed service, paying `units` vouchers of `programId`
    /// and `ownFunds` fen of the enterprise's own money; both are escrowed here. Enterprise or start-up team
    /// only; `requestId` makes the call idempotent. Emits {OrderPlaced}.
    function placeOrder(
        uint64 serviceId,
        uint32 quantity,
        uint64 programId,
        uint128 units,
        uint128 ownFunds,
        bytes32 requestId
    ) external whenNotPaused returns (uint64 orderId) {
        (uint64 entOrg, Organisation memory ent) = _actor(Kinds.VOUCHER_HOLDERS);
        if (requestId == bytes32(0) || _orderOfRequest[requestId] != 0) {
            revert OrderDuplicateRequest(requestId, _orderOfRequest[requestId]);
        }
        if (quantity == 0) revert OrderZeroQuantity();
        orderId = ++_orderCount;
        Order storage o = _orders[orderId];
        o.programId = programId;
        o.serviceId = serviceId;
        o.enterpriseOrg = entOrg;
        o.state = OrderState.Placed;
        o.placedAt = uint64(block.timestamp);
        o.units = units;
        o.ownFunds = ownFunds;
        o.requestId = requestId;
        _priceAndCheck(o, ent, quantity);
        _orderOfRequest[requestId] = orderId;
        ++_openOrders[programId];
        emit OrderPlaced(
            orderId,
            programId,
            entOrg,
            o.institutionOrg,
            serviceId,
            units,
            o.voucherValue,
            ownFunds,
            requestId
        );
        address entVault = Vaults.vaultOf(entOrg);
        _vouchers.lock(entVault, programId, units);
        if (ownFunds != 0) _money.escrowPull(entVault, ownFunds);
    }

    /// @notice The institution accepts a placed order. Emits {OrderAccepted}.
    function accept(uint64 orderId) external whenNotPaused {
        (Order storage o, uint64 orgId) = _asInstitution(orderId);
        _requireState(orderId, o, OrderState.Placed);
        o.state = OrderState.Accepted;
        emit OrderAccepted(orderId, orgId);
    }

    /// @notice The institution rejects a placed or accepted order; everything is refunded.
    /// Emits {OrderRejected}.
    function reject(uint64 orderId, uint32 reasonCode) external whenNotPaused {
        (Order storage o, uint64 orgId) = _asInstitution(orderId);
        if (o.state != OrderState.Placed && o.state != OrderState.Accepted) revert OrderInvalidState(orderId, o.state);
        o.state = OrderState.Rejected;
        emit OrderRejected(orderId, orgId, reasonCode);
        _payOut(o, 0, 0);
    }

    /// @notice The enterprise cancels an order the institution has not accepted; everything is refunded.
    /// Emits {OrderCancelled}.
    function cancel(uint64 orderId) external whenNotPaused {
        (Order storage o, uint64 orgId) = _asEnterprise(orderId);
        _requireState(orderId, o, OrderState.Placed);
        o.state = OrderState.Cancelled;
        emit OrderCancelled(orderId, orgId);
        _payOut(o, 0, 0);
    }

    /// @notice The institution records delivery with the hash of the deliverable. Emits {OrderDelivered}.
    function deliver(uint64 orderId, bytes32 deliverableHash) external whenNotPaused {
        (Order storage o, uint64 orgId) = _asInstitution(orderId);
        _requireState(orderId, o, OrderState.Accepted);
        if (deliverableHash == bytes32(0)) revert OrderEmptyDeliverable(orderId);
        o.state = OrderState.Delivered;
        o.deliveredAt = uint64(block.timestamp);
        o.deliverableHash = deliverableHash;
        emit OrderDelivered(orderId, orgId, deliverableHash);
    }

    /// @notice The enterprise confirms delivery and the institution is paid in this same transaction: vouchers
    /// burned, their value paid from the program's escrow, own funds released. Emits {OrderSettled}.
    function confirm(uint64 orderId) external whenNotPaused {
        (Order storage o, ) = _asEnterprise(orderId);
        _requireState(orderId, o, OrderState.Delivered);
        _settle(orderId, o, SettlementMethod.Confirmed);
    }

    /// @notice The institution claims payment for a delivered order the enterprise left unconfirmed for the
    /// program's confirmation window. Emits {OrderSettled}.
    function claim(uint64 orderId) external whenNotPaused {
        (Order storage o, ) = _asInstitution(orderId);
        _requireState(orderId, o, OrderState.Delivered);
        uint64 claimableAt = o.deliveredAt + _programs.terms(o.programId).confirmWindow;
        if (block.timestamp < claimableAt) revert OrderConfirmWindowOpen(orderId, claimableAt);
        _settle(orderId, o, SettlementMethod.Claimed);
    }

    /// @notice The enterprise disputes an accepted or delivered order, pending resolution by the issuer or a
    /// regulator. Emits {OrderDisputed}.
    function dispute(uint64 orderId, bytes32 reasonHash) external whenNotPaused {
        (Order storage o, uint64 orgId) = _asEnterprise(orderId);
        if (o.state != OrderState.Accepted && o.state != OrderState.Delivered) revert OrderInvalidState(orderId, o.state);
        o.state = OrderState.Disputed;
        emit OrderDisputed(orderId, orgId, reasonHash);
    }

    /// @notice Resolves a dispute: the institution is paid `units` of the order's vouchers and `ownFunds` of its
    /// own funds (all of both: settle; none: refund; otherwise a split), the rest goes back to the enterprise.
    /// The program's issuer or a regulator. Emits {DisputeResolved} and, if anything is paid, {OrderSettled}.
    function resolveDispute(uint64 orderId, uint128 units, uint128 ownFunds) external whenNotPaused {
        Order storage o = _existing(orderId);
        (uint64 orgId, Organisation memory org) = _actor(Kinds.ISSUER | Kinds.REGULATOR);
        if (org.kind != OrgKind.Regulator && _programs.state(o.programId).issuerOrg != orgId) {
            revert OrderNotParty(orderId, orgId);
        }
        _requireState(orderId, o, OrderState.Disputed);
        if (units > o.units || ownFunds > o.ownFunds) revert OrderInvalidSplit(orderId, units, ownFunds);
        o.state = OrderState.Resolved;
        emit DisputeResolved(orderId, orgId, units, ownFunds);
        if (units != 0 || ownFunds != 0) {
            uint128 voucherPaid = units * _programs.terms(o.programId).faceValue;
            emit OrderSettled(orderId, o.programId, o.institutionOrg, voucherPaid, ownFunds, SettlementMethod.Resolved);
        }
        _payOut(o, units, ownFunds);
    }

    /// @notice After the program's settlement deadline, the enterprise, the institution or the program's issuer
    /// expires an order that was never delivered; everything is refunded. Emits {OrderExpired}.
    function expire(uint64 orderId) external whenNotPaused {
        Order storage o = _existing(orderId);
        (uint64 orgId, ) = _actor(Kinds.VOUCHER_HOLDERS | Kinds.INSTITUTION | Kinds.ISSUER);
        ProgramState memory ps = _programs.state(o.programId);
        if (orgId != o.enterpriseOrg && orgId != o.institutionOrg && orgId != ps.issuerOrg) {
            revert OrderNotParty(orderId, orgId);
        }
        if (o.state != OrderState.Placed && o.state != OrderState.Accepted) revert OrderInvalidState(orderId, o.state);
        uint64 deadline = _programs.terms(o.programId).settlementDeadline;
        if (block.timestamp <= deadline) revert OrderNotExpirable(orderId, deadline);
        o.state = OrderState.Expired;
        emit OrderExpired(orderId, orgId);
        _payOut(o, 0, 0);
    }

    /// @notice An order. Reverts for an unknown id.
    function order(uint64 orderId) external view returns (Order memory) {
        return _existing(orderId);
    }

    /// @notice Number of orders; ids run from 1 to this number.
    function orderCount() external view returns (uint64) {
        return _orderCount;
    }

    /// @notice The order placed with `requestId`; 0 if none.
    function orderOfRequest(bytes32 requestId) external view returns (uint64) {
        return _orderOfRequest[requestId];
    }

    /// @notice Orders of a program still holding escrow (placed, accepted, delivered or disputed).
    function openOrders(uint64 programId) external view returns (uint256) {
        return _openOrders[programId];
    }

    /// @dev Every check of a new order against the service, the parties and the program's rules; fills in the
    /// institution, category, price and voucher value.
    function _priceAndCheck(Order storage o, Organisation memory ent, uint32 quantity) private {
        ServiceCatalogue.Service memory svc = _catalogue.service(o.serviceId);
        if (!svc.active) revert OrderServiceUnavailable(o.serviceId);
        _catalogue.requireActiveCategory(svc.category);
        Organisation memory inst = _registry.organisation(svc.institutionOrg);
        if (inst.status != OrgStatus.Active) revert OrderCounterpartyNotActive(svc.institutionOrg, inst.status);
        if (!_catalogue.isAccredited(svc.institutionOrg, svc.category)) {
            revert OrderInstitutionNotAccredited(svc.institutionOrg, svc.category);
        }
        if (ent.affiliation != bytes32(0) && ent.affiliation == inst.affiliation) {
            revert OrderRelatedParties(o.enterpriseOrg, svc.institutionOrg, ent.affiliation);
        }
        uint256 price = uint256(svc.price) * quantity;
        if (price > type(uint128).max) revert OrderPriceOverflow(price);
        uint256 voucherValue = _programs.validateOrder(o.programId, inst.region, svc.category, o.units, price);
        if (voucherValue + o.ownFunds != price) revert OrderAmountMismatch(price, voucherValue, o.ownFunds);
        o.institutionOrg = svc.institutionOrg;
        o.category = svc.category;
        o.price = uint128(price);
        o.voucherValue = uint128(voucherValue);
    }

    function _settle(uint64 orderId, Order storage o, SettlementMethod method) private {
        o.state = OrderState.Settled;
        emit OrderSettled(orderId, o.programId, o.institutionOrg, o.voucherValue, o.ownFunds, method);
        _payOut(o, o.units, o.ownFunds);
    }

    /// @dev Closes an order's escrow: `units` vouchers redeemed and `ownFunds` paid to the institution, the rest
    /// returned to the enterprise. The order's state is already final when this runs.
    function _payOut(Order storage o, uint128 units, uint128 ownFunds) private {
        --_openOrders[o.programId];
        uint64 programId = o.programId;
        address entVault = Vaults.vaultOf(o.enterpriseOrg);
        if (units != 0) _vouchers.burn(address(this), programId, units);
        if (o.units > units) _vouchers.unlock(entVault, programId, o.units - units);
        if (ownFunds != 0) _money.escrowPay(Vaults.vaultOf(o.institutionOrg), ownFunds);
        if (o.ownFunds > ownFunds) _money.escrowPay(entVault, o.ownFunds - ownFunds);
        if (units != 0 || ownFunds != 0) {
            _programs.redeem(programId, o.enterpriseOrg, o.institutionOrg, o.category, units, ownFunds);
        }
    }

    function _asEnterprise(uint64 orderId) private view returns (Order storage o, uint64 orgId) {
        o = _existing(orderId);
        (orgId, ) = _actor(Kinds.VOUCHER_HOLDERS);
        if (orgId != o.enterpriseOrg) revert OrderNotParty(orderId, orgId);
    }

    function _asInstitution(uint64 orderId) private view returns (Order storage o, uint64 orgId) {
        o = _existing(orderId);
        (orgId, ) = _actor(Kinds.INSTITUTION);
        if (orgId != o.institutionOrg) revert OrderNotParty(orderId, orgId);
    }

    function _requireState(uint64 orderId, Order storage o, OrderState expected) private view {
        if (o.state != expected) revert OrderInvalidState(orderId, o.state);
    }

    function _existing(uint64 orderId) private view returns (Order storage o) {
        o = _orders[orderId];
        if (o.state == OrderState.None) revert OrderUnknown(orderId);
    }
}
