// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Kinds, OrgKind, OrgStatus, Organisation, Vaults} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";
import {ProtocolBase} from "./ProtocolBase.sol";
import {Regions} from "./Regions.sol";
import {ServiceCatalogue} from "./ServiceCatalogue.sol";
import {SettlementToken} from "./SettlementToken.sol";
import {VoucherToken} from "./VoucherToken.sol";

/// @dev `Voucher`: vouchers issued to enterprises, spent on orders. `Reward`: pays enrolled institutions a share
/// of each order they settle for eligible enterprises (Zhejiang's provincial carriers, Shandong's bonus).
enum ProgramKind {
    Voucher,
    Reward
}

/// @dev What an issuer fixes when it creates a program. Amounts are in fen, times in unix seconds.
struct ProgramTerms {
    ProgramKind kind;
    uint16 fiscalYear;
    uint64 financeOrg; // the finance bureau that escrows the budget and receives what is left
    uint128 faceValue; // fen per voucher unit: 500000 for Beijing's ¥5,000 vouchers, 1 for a quota in fen
    uint128 perHolderCap; // fen per enterprise (voucher) or per institution (reward); 0 = no cap
    uint32 minUnits; // per order (voucher programs)
    uint32 maxUnits; // per order (voucher programs)
    uint16 shareBps; // voucher: share of the price above the threshold vouchers may pay; reward: share paid
    uint128 fullCoverThreshold; // voucher: vouchers may pay the whole price up to this amount
    uint256 categories; // bit mask over the catalogue's categories
    uint32[] spendRegions; // institution region patterns where vouchers may be spent ([0] = national)
    uint32[] eligibleRegions; // enterprise region patterns
    uint256 eligibleKinds; // {Kinds} mask: enterprises and/or start-up teams
    uint32 maxEmployees; // 0 = any size
    uint64 issueStart;
    uint64 issueEnd;
    uint64 expiry; // last moment an order may be placed with the vouchers
    uint64 settlementDeadline; // after it, open orders can be expired and the program closed
    uint32 confirmWindow; // seconds after delivery before the institution may claim payment
}

/// @dev A program's running totals. `escrowed = funded + rolledIn - paid - returned`.
struct ProgramState {
    uint64 issuerOrg;
    bool closed;
    uint64 rolloverTo;
    uint128 funded;
    uint128 rolledIn;
    uint128 paid;
    uint128 returned;
    uint128 issuedUnits;
    uint128 redeemedUnits;
    uint128 revokedUnits;
    uint128 expiredUnits;
}

enum ApplicationStatus {
    None,
    Pending,
    Approved,
    Rejected
}

struct Application {
    uint64 programId;
    uint64 enterpriseOrg;
    uint128 units;
    ApplicationStatus status;
    bytes32 requestId;
}

interface IOrderBookView {
    function openOrders(uint64 programId) external view returns (uint256);
}

/// @title ProgramManager
/// @notice Programs (one issuer, one fiscal year, one escrowed budget), applications and issuance of vouchers,
/// revocation, the redemption payout from escrow, reward payouts, and the close that expires what is left and
/// returns the unused budget to finance or rolls it into next year's program.
contract ProgramManager is ProtocolBase {
    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_REWARD_PROGRAMS = 8;

    SettlementToken private immutable _money;
    VoucherToken private immutable _vouchers;
    ServiceCatalogue private immutable _catalogue;
    address private _orderBook;

    uint64 private _programCount;
    mapping(uint64 programId => ProgramTerms) private _terms;
    mapping(uint64 programId => ProgramState) private _state;
    mapping(uint64 programId => uint64[]) private _holders;
    mapping(uint64 programId => mapping(uint64 orgId => uint128)) private _issuedValue;
    mapping(uint64 programId => mapping(uint64 orgId => uint128)) private _rewardPaid;
    mapping(uint64 institutionOrg => uint64[]) private _rewardPrograms;
    mapping(uint64 programId => mapping(uint64 institutionOrg => bool)) private _enrolled;
    uint64 private _applicationCount;
    mapping(uint64 applicationId => Application) private _applications;
    mapping(bytes32 requestId => bool) private _requestUsed;

    /// @dev There is no program with this id.
    error ProgramUnknown(uint64 programId);
    /// @dev The program is closed.
    error ProgramIsClosed(uint64 programId);
    /// @dev The program is of the other kind (voucher / reward) than the operation needs.
    error ProgramWrongKind(uint64 programId, ProgramKind kind);
    /// @dev The caller's organisation is not this program's issuer (or a regulator, where allowed).
    error ProgramNotIssuer(uint64 programId, uint64 orgId);
    /// @dev The caller's organisation is not this program's finance bureau.
    error ProgramNotFinance(uint64 programId, uint64 orgId);
    /// @dev The finance organisation named is not an active finance bureau.
    error ProgramInvalidFinance(uint64 financeOrg);
    /// @dev Times must satisfy now < issueEnd, issueStart < issueEnd <= expiry <= settlementDeadline.
    error ProgramInvalidSchedule(uint64 issueStart, uint64 issueEnd, uint64 expiry, uint64 settlementDeadline);
    /// @dev The category mask is empty or names undefined categories.
    error ProgramInvalidCategories(uint256 categories);
    /// @dev The share must be between 1 and 10000 basis points.
    error ProgramInvalidShare(uint16 shareBps);
    /// @dev A voucher program needs a positive face value.
    error ProgramInvalidFaceValue(uint128 faceValue);
    /// @dev Per-order units must satisfy 1 <= minUnits <= maxUnits.
    error ProgramInvalidUnits(uint32 minUnits, uint32 maxUnits);
    /// @dev Eligible kinds must be a non-empty subset of enterprise and start-up team.
    error ProgramInvalidEligibility(uint256 eligibleKinds);
    /// @dev A region pattern list is empty or holds an invalid pattern.
    error ProgramInvalidRegion(uint32 pattern);
    /// @dev The rollover target must be an open program of the same issuer, finance and kind, one year later.
    error ProgramInvalidRollover(uint64 programId, uint64 targetId);
    /// @dev The request id is zero or was already used: the operation it names has already been done.
    error ProgramDuplicateRequest(bytes32 requestId);
    /// @dev Vouchers can only be issued within the issuance window.
    error ProgramIssuanceClosed(uint64 programId, uint64 issueStart, uint64 issueEnd, uint64 timestamp);
    /// @dev The organisation's kind is not eligible for the program.
    error ProgramIneligibleKind(uint64 programId, uint64 orgId, OrgKind kind);
    /// @dev The organisation's region is not eligible for the program.
    error ProgramIneligibleRegion(uint64 programId, uint64 orgId, uint32 region);
    /// @dev The organisation has more employees than the program allows.
    error ProgramIneligibleSize(uint64 programId, uint64 orgId, uint32 employees, uint32 maxEmployees);
    /// @dev Issuing `requested` fen would exceed the per-enterprise cap; `remaining` fen may still be issued.
    error ProgramHolderCapExceeded(uint64 programId, uint64 orgId, uint256 requested, uint256 remaining);
    /// @dev Outstanding vouchers may never exceed the escrow; `available` fen are not yet covered.
    error ProgramInsufficientEscrow(uint64 programId, uint256 requested, uint256 available);
    /// @dev There is no application with this id, or it is no longer pending.
    error ProgramApplicationNotPending(uint64 applicationId);
    /// @dev The order is outside the program's validity (before issuance start or after expiry).
    error ProgramNotSpendable(uint64 programId, uint64 issueStart, uint64 expiry, uint64 timestamp);
    /// @dev The service's category is not one the program pays for.
    error ProgramCategoryNotAllowed(uint64 programId, uint8 category);
    /// @dev The institution's region is not one where the program's vouchers may be spent.
    error ProgramRegionNotAllowed(uint64 programId, uint32 institutionRegion);
    /// @dev The order uses a number of vouchers outside the program's per-order range.
    error ProgramUnitsOutOfRange(uint64 programId, uint256 units, uint32 minUnits, uint32 maxUnits);
    /// @dev Vouchers would pay more than the program's share of the price; own funds must cover the rest.
    error ProgramVoucherShareExceeded(uint64 programId, uint256 voucherValue, uint256 maxVoucherValue);
    /// @dev The program cannot close before its settlement deadline.
    error ProgramNotEnded(uint64 programId, uint64 settlementDeadline, uint64 timestamp);
    /// @dev The program cannot close while orders are open.
    error ProgramHasOpenOrders(uint64 programId, uint256 openOrders);
    /// @dev The institution is already enrolled in this reward program, or in too many open ones (8).
    error ProgramEnrolmentRefused(uint64 programId, uint64 institutionOrg);
    /// @dev Only the order book may call this.
    error ProgramOnlyOrderBook(address caller);

    /// @dev Emitted when an issuer creates a program.
    event ProgramCreated(
        uint64 indexed programId,
        uint64 indexed issuerOrg,
        uint64 indexed financeOrg,
        ProgramKind kind,
        uint16 fiscalYear,
        uint128 faceValue
    );
    /// @dev Emitted when finance escrows (more) budget.
    event ProgramFunded(uint64 indexed programId, uint64 indexed financeOrg, uint128 amount);
    /// @dev Emitted when the issuer names next year's program to roll the unused budget into.
    event RolloverSet(uint64 indexed programId, uint64 indexed targetId);
    /// @dev Emitted when an enterprise applies for vouchers.
    event ApplicationSubmitted(
        uint64 indexed applicationId,
        uint64 indexed programId,
        uint64 indexed enterpriseOrg,
        uint128 units,
        bytes32 requestId
    );
    /// @dev Emitted when the issuer rejects an application.
    event ApplicationRejected(uint64 indexed applicationId, uint64 indexed programId, uint32 reasonCode);
    /// @dev Emitted when vouchers are issued (`applicationId` 0 for direct issuance), with the request id of the
    /// application or direct issuance.
    event VouchersIssued(
        uint64 indexed programId,
        uint64 indexed enterpriseOrg,
        uint64 indexed applicationId,
        uint128 units,
        uint128 value,
        bytes32 requestId
    );
    /// @dev Emitted when vouchers are clawed back by the issuer or a regulator.
    event VouchersRevoked(
        uint64 indexed programId,
        uint64 indexed enterpriseOrg,
        uint64 indexed byOrg,
        uint128 units,
        uint32 reasonCode
    );
    /// @dev Emitted when vouchers of an order are redeemed and the institution is paid from escrow.
    event VouchersRedeemed(
        uint64 indexed programId,
        uint64 indexed enterpriseOrg,
        uint64 indexed institutionOrg,
        uint128 units,
        uint128 value
    );
    /// @dev Emitted when an enrolled institution receives a reward for a settled order.
    event RewardPaid(uint64 indexed programId, uint64 indexed institutionOrg, uint64 indexed enterpriseOrg, uint128 amount);
    /// @dev Emitted when an institution is enrolled as a reward beneficiary.
    event BeneficiaryEnrolled(uint64 indexed programId, uint64 indexed institutionOrg);
    /// @dev Emitted for each holder whose vouchers expire when the program closes.
    event VouchersExpired(uint64 indexed programId, uint64 indexed enterpriseOrg, uint128 units);
    /// @dev Emitted when the unused escrow goes back to finance at close.
    event BudgetReturned(uint64 indexed programId, uint64 indexed financeOrg, uint128 amount);
    /// @dev Emitted when the unused escrow rolls into next year's program at close.
    event BudgetRolledOver(uint64 indexed programId, uint64 indexed targetId, uint128 amount);
    /// @dev Emitted when a program closes.
    event ProgramClosed(uint64 indexed programId, uint128 expiredUnits, uint128 remainingEscrow);
    /// @dev Emitted once, when the governor wires in the order book.
    event OrderBookSet(address indexed orderBook);

    constructor(
        address forwarder,
        ParticipantRegistry registry_,
        SettlementToken money,
        VoucherToken vouchers,
        ServiceCatalogue catalogue
    ) ProtocolBase(forwarder, registry_) {
        _money = money;
        _vouchers = vouchers;
        _catalogue = catalogue;
    }

    /// @notice Wires the order book, once. Governor only. Emits {OrderBookSet}.
    function setOrderBook(address orderBook) external {
        _actor(Kinds.GOVERNOR);
        if (_orderBook != address(0) || orderBook == address(0)) revert ProtocolAlreadyWired();
        _orderBook = orderBook;
        emit OrderBookSet(orderBook);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Programs and budget
    // ----------------------------------------------------------------------------------------------------------

    /// @notice Creates a program. Issuer only. Emits {ProgramCreated}.
    function createProgram(ProgramTerms calldata t) external whenNotPaused returns (uint64 programId) {
        (uint64 issuerOrg, ) = _actor(Kinds.ISSUER);
        _validateTerms(t);
        programId = ++_programCount;
        _terms[programId] = t;
        _state[programId].issuerOrg = issuerOrg;
        emit ProgramCreated(programId, issuerOrg, t.financeOrg, t.kind, t.fiscalYear, t.faceValue);
    }

    /// @notice Escrows `amount` fen of budget from the program's finance bureau. Emits {ProgramFunded}.
    function fund(uint64 programId, uint128 amount) external whenNotPaused {
        (uint64 orgId, ) = _actor(Kinds.FINANCE);
        ProgramTerms storage t = _terms[programId];
        _open(programId);
        if (orgId != t.financeOrg) revert ProgramNotFinance(programId, orgId);
        if (amount == 0) revert ProtocolZeroAmount();
        _state[programId].funded += amount;
        emit ProgramFunded(programId, orgId, amount);
        _money.escrowPull(Vaults.vaultOf(orgId), amount);
    }

    /// @notice Names the program of the next fiscal year that receives this program's unused escrow at close.
    /// Issuer of both only. Emits {RolloverSet}.
    function setRollover(uint64 programId, uint64 targetId) external whenNotPaused {
        uint64 issuerOrg = _requireIssuer(programId, false);
        ProgramTerms storage a = _terms[programId];
        ProgramTerms storage b = _terms[targetId];
        ProgramState storage bs = _state[targetId];
        if (
            targetId == programId ||
            bs.issuerOrg != issuerOrg ||
            bs.closed ||
            b.financeOrg != a.financeOrg ||
            b.kind != a.kind ||
            b.fiscalYear != a.fiscalYear + 1
        ) revert ProgramInvalidRollover(programId, targetId);
        _state[programId].rolloverTo = targetId;
        emit RolloverSet(programId, targetId);
    }

    /// @notice Closes a program after its settlement deadline once no order is open: every outstanding voucher
    /// expires and the remaining escrow returns to finance or rolls into the named program. Issuer or finance.
    /// Emits {VouchersExpired} per holder, {BudgetReturned} or {BudgetRolledOver}, and {ProgramClosed}.
    function close(uint64 programId) external whenNotPaused {
        (uint64 orgId, ) = _actor(Kinds.ISSUER | Kinds.FINANCE);
        ProgramTerms storage t = _terms[programId];
        ProgramState storage s = _open(programId);
        if (orgId != s.issuerOrg && orgId != t.financeOrg) revert ProgramNotIssuer(programId, orgId);
        if (block.timestamp <= t.settlementDeadline) {
            revert ProgramNotEnded(programId, t.settlementDeadline, uint64(block.timestamp));
        }
        uint256 open = _orderBook == address(0) ? 0 : IOrderBookView(_orderBook).openOrders(programId);
        if (open != 0) revert ProgramHasOpenOrders(programId, open);

        s.closed = true;
        uint128 expired = uint128(outstandingUnits(programId));
        s.expiredUnits += expired;
        uint128 remaining = uint128(escrowed(programId));
        s.returned += remaining;
        uint64 target = s.rolloverTo;
        bool rolls = target != 0 && !_state[target].closed;
        if (rolls) _state[target].rolledIn += remaining;
        emit ProgramClosed(programId, expired, remaining);
        if (remaining != 0) {
            if (rolls) emit BudgetRolledOver(programId, target, remaining);
            else emit BudgetReturned(programId, t.financeOrg, remaining);
        }
        _expireHolders(programId);
        if (remaining != 0 && !rolls) _money.escrowPay(Vaults.vaultOf(t.financeOrg), remaining);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Applications and issuance
    // ----------------------------------------------------------------------------------------------------------

    /// @notice An eligible enterprise or start-up team applies for `units` vouchers. `requestId` makes the call
    /// idempotent. Emits {ApplicationSubmitted}.
    function applyForVouchers(
        uint64 programId,
        uint128 units,
        bytes32 requestId
    ) external whenNotPaused returns (uint64 applicationId) {
        (uint64 orgId, Organisation memory org) = _actor(Kinds.VOUCHER_HOLDERS);
        _useRequest(requestId);
        _checkIssuable(programId, orgId, org, units);
        applicationId = ++_applicationCount;
        _applications[applicationId] = Application({
            programId: programId,
            enterpriseOrg: orgId,
            units: units,
            status: ApplicationStatus.Pending,
            requestId: requestId
        });
        emit ApplicationSubmitted(applicationId, programId, orgId, units, requestId);
    }

    /// @notice Approves a pending application and issues its vouchers. The program's issuer only.
    /// Emits {VouchersIssued}.
    function approveApplication(uint64 applicationId) external whenNotPaused {
        Application storage a = _pending(applicationId);
        _requireIssuer(a.programId, false);
        a.status = ApplicationStatus.Approved;
        _issue(a.programId, a.enterpriseOrg, a.units, applicationId, a.requestId);
    }

    /// @notice Rejects a pending application. The program's issuer only. Emits {ApplicationRejected}.
    function rejectApplication(uint64 applicationId, uint32 reasonCode) external whenNotPaused {
        Application storage a = _pending(applicationId);
        _requireIssuer(a.programId, false);
        a.status = ApplicationStatus.Rejected;
        emit ApplicationRejected(applicationId, a.programId, reasonCode);
    }

    /// @notice Issues `units` vouchers directly to an eligible enterprise. The program's issuer only;
    /// `requestId` makes the call idempotent. Emits {VouchersIssued}.
    function issue(uint64 programId, uint64 enterpriseOrg, uint128 units, bytes32 requestId) external whenNotPaused {
        _requireIssuer(programId, false);
        _useRequest(requestId);
        _issue(programId, enterpriseOrg, units, 0, requestId);
    }

    /// @notice Claws back `units` unlocked vouchers from an enterprise. The program's issuer or a regulator.
    /// Emits {VouchersRevoked}.
    function revoke(uint64 programId, uint64 enterpriseOrg, uint128 units, uint32 reasonCode) external whenNotPaused {
        uint64 byOrg = _requireIssuer(programId, true);
        if (units == 0) revert ProtocolZeroAmount();
        _state[programId].revokedUnits += units;
        emit VouchersRevoked(programId, enterpriseOrg, byOrg, units, reasonCode);
        _vouchers.burn(Vaults.vaultOf(enterpriseOrg), programId, units);
    }

    /// @notice Enrols an institution as a beneficiary of a reward program. The program's issuer only.
    /// Emits {BeneficiaryEnrolled}.
    function enrollBeneficiary(uint64 programId, uint64 institutionOrg) external whenNotPaused {
        _requireIssuer(programId, false);
        ProgramTerms storage t = _terms[programId];
        if (t.kind != ProgramKind.Reward) revert ProgramWrongKind(programId, t.kind);
        Organisation memory inst = _registry.organisation(institutionOrg);
        if (inst.kind != OrgKind.Institution) revert ProgramIneligibleKind(programId, institutionOrg, inst.kind);
        if (!Regions.matchesAny(t.spendRegions, inst.region)) {
            revert ProgramIneligibleRegion(programId, institutionOrg, inst.region);
        }
        _dropClosedRewards(institutionOrg);
        if (_enrolled[programId][institutionOrg] || _rewardPrograms[institutionOrg].length == MAX_REWARD_PROGRAMS) {
            revert ProgramEnrolmentRefused(programId, institutionOrg);
        }
        _enrolled[programId][institutionOrg] = true;
        _rewardPrograms[institutionOrg].push(programId);
        emit BeneficiaryEnrolled(programId, institutionOrg);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Orders (called by the order book)
    // ----------------------------------------------------------------------------------------------------------

    /// @notice Reverts with the program rule an order would break; returns the voucher value of `units`.
    function validateOrder(
        uint64 programId,
        uint32 institutionRegion,
        uint8 category,
        uint256 units,
        uint256 price
    ) external view returns (uint256 voucherValue) {
        ProgramTerms storage t = _terms[programId];
        _open(programId);
        if (t.kind != ProgramKind.Voucher) revert ProgramWrongKind(programId, t.kind);
        if (block.timestamp < t.issueStart || block.timestamp > t.expiry) {
            revert ProgramNotSpendable(programId, t.issueStart, t.expiry, uint64(block.timestamp));
        }
        if ((t.categories >> category) & 1 == 0) revert ProgramCategoryNotAllowed(programId, category);
        if (!Regions.matchesAny(t.spendRegions, institutionRegion)) {
            revert ProgramRegionNotAllowed(programId, institutionRegion);
        }
        if (units < t.minUnits || units > t.maxUnits) {
            revert ProgramUnitsOutOfRange(programId, units, t.minUnits, t.maxUnits);
        }
        voucherValue = units * t.faceValue;
        uint256 cap = maxVoucherValue(programId, price);
        if (voucherValue > cap) revert ProgramVoucherShareExceeded(programId, voucherValue, cap);
    }

    /// @notice Pays an institution from escrow for `units` redeemed vouchers (already burned by the order book),
    /// plus any rewards due on the price paid (their value and `ownFunds`), in one transfer. Order book only.
    /// Emits {VouchersRedeemed} and {RewardPaid}.
    function redeem(
        uint64 programId,
        uint64 enterpriseOrg,
        uint64 institutionOrg,
        uint8 category,
        uint128 units,
        uint128 ownFunds
    ) external {
        if (msg.sender != _orderBook) revert ProgramOnlyOrderBook(msg.sender);
        uint128 value = 0;
        if (units != 0) {
            value = units * _terms[programId].faceValue;
            ProgramState storage s = _state[programId];
            s.redeemedUnits += units;
            s.paid += value;
            emit VouchersRedeemed(programId, enterpriseOrg, institutionOrg, units, value);
        }
        uint128 paidPrice = value + ownFunds;
        uint256 total = value;
        if (paidPrice != 0) total += _accrueRewards(enterpriseOrg, institutionOrg, category, paidPrice);
        if (total != 0) _money.escrowPay(Vaults.vaultOf(institutionOrg), total);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------------------

    /// @notice The terms of a program. Reverts for an unknown id.
    function terms(uint64 programId) external view returns (ProgramTerms memory) {
        _existing(programId);
        return _terms[programId];
    }

    /// @notice The running totals of a program. Reverts for an unknown id.
    function state(uint64 programId) external view returns (ProgramState memory) {
        return _existing(programId);
    }

    /// @notice Number of programs; ids run from 1 to this number.
    function programCount() external view returns (uint64) {
        return _programCount;
    }

    /// @notice Budget still in escrow: funded + rolled in − paid − returned.
    function escrowed(uint64 programId) public view returns (uint256) {
        ProgramState storage s = _state[programId];
        return uint256(s.funded) + s.rolledIn - s.paid - s.returned;
    }

    /// @notice Vouchers issued and not yet redeemed, revoked or expired (including those locked in orders).
    function outstandingUnits(uint64 programId) public view returns (uint256) {
        ProgramState storage s = _state[programId];
        return uint256(s.issuedUnits) - s.redeemedUnits - s.revokedUnits - s.expiredUnits;
    }

    /// @notice The fen value of the outstanding vouchers; never more than {escrowed}.
    function outstandingValue(uint64 programId) public view returns (uint256) {
        return outstandingUnits(programId) * _terms[programId].faceValue;
    }

    /// @notice The most vouchers may pay of an order of `price` fen: all of it up to the full-cover threshold,
    /// the program's share of the rest.
    function maxVoucherValue(uint64 programId, uint256 price) public view returns (uint256) {
        ProgramTerms storage t = _terms[programId];
        if (price <= t.fullCoverThreshold) return price;
        return t.fullCoverThreshold + ((price - t.fullCoverThreshold) * t.shareBps) / BPS;
    }

    /// @notice The fen value ever issued to an organisation under a program (what its cap counts).
    function issuedValueOf(uint64 programId, uint64 orgId) external view returns (uint256) {
        return _issuedValue[programId][orgId];
    }

    /// @notice The rewards an institution has received from a reward program.
    function rewardPaidOf(uint64 programId, uint64 institutionOrg) external view returns (uint256) {
        return _rewardPaid[programId][institutionOrg];
    }

    /// @notice The reward programs an institution is enrolled in (closed ones are dropped at its next enrolment).
    function rewardProgramsOf(uint64 institutionOrg) external view returns (uint64[] memory) {
        return _rewardPrograms[institutionOrg];
    }

    /// @notice The organisations ever issued vouchers of a program.
    function holders(uint64 programId) external view returns (uint64[] memory) {
        return _holders[programId];
    }

    /// @notice An application. Reverts for an unknown id.
    function application(uint64 applicationId) external view returns (Application memory a) {
        a = _applications[applicationId];
        if (a.status == ApplicationStatus.None) revert ProgramApplicationNotPending(applicationId);
    }

    /// @notice Number of applications; ids run from 1 to this number.
    function applicationCount() external view returns (uint64) {
        return _applicationCount;
    }

    /// @notice Whether a request id has been used for an application or a direct issuance.
    function requestUsed(bytes32 requestId) external view returns (bool) {
        return _requestUsed[requestId];
    }

    // ----------------------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------------------

    function _validateTerms(ProgramTerms calldata t) private view {
        (OrgKind fk, OrgStatus fs) = _registry.vaultKind(Vaults.vaultOf(t.financeOrg));
        if (fk != OrgKind.Finance || fs != OrgStatus.Active) revert ProgramInvalidFinance(t.financeOrg);
        if (
            !(t.issueStart < t.issueEnd &&
                t.issueEnd > block.timestamp &&
                t.issueEnd <= t.expiry &&
                t.expiry <= t.settlementDeadline)
        ) revert ProgramInvalidSchedule(t.issueStart, t.issueEnd, t.expiry, t.settlementDeadline);
        if (t.categories == 0 || (t.categories & ~_catalogue.definedMask()) != 0) {
            revert ProgramInvalidCategories(t.categories);
        }
        if (t.shareBps == 0 || t.shareBps > BPS) revert ProgramInvalidShare(t.shareBps);
        if (t.eligibleKinds == 0 || (t.eligibleKinds & ~Kinds.VOUCHER_HOLDERS) != 0) {
            revert ProgramInvalidEligibility(t.eligibleKinds);
        }
        _validatePatterns(t.spendRegions);
        _validatePatterns(t.eligibleRegions);
        if (t.kind == ProgramKind.Voucher) {
            if (t.faceValue == 0) revert ProgramInvalidFaceValue(t.faceValue);
            if (t.minUnits == 0 || t.minUnits > t.maxUnits) revert ProgramInvalidUnits(t.minUnits, t.maxUnits);
        }
    }

    function _validatePatterns(uint32[] calldata patterns) private pure {
        if (patterns.length == 0) revert ProgramInvalidRegion(0);
        for (uint256 i = 0; i < patterns.length; ++i) {
            if (!Regions.isValidPattern(patterns[i])) revert ProgramInvalidRegion(patterns[i]);
        }
    }

    function _checkIssuable(uint64 programId, uint64 orgId, Organisation memory org, uint128 units) private view {
        ProgramTerms storage t = _terms[programId];
        ProgramState storage s = _open(programId);
        if (t.kind != ProgramKind.Voucher) revert ProgramWrongKind(programId, t.kind);
        if (units == 0) revert ProtocolZeroAmount();
        if (block.timestamp < t.issueStart || block.timestamp > t.issueEnd) {
            revert ProgramIssuanceClosed(programId, t.issueStart, t.issueEnd, uint64(block.timestamp));
        }
        _checkEligible(programId, t, orgId, org);
        uint256 value = uint256(units) * t.faceValue;
        if (t.perHolderCap != 0) {
            uint256 already = _issuedValue[programId][orgId];
            uint256 remaining = already >= t.perHolderCap ? 0 : t.perHolderCap - already;
            if (value > remaining) revert ProgramHolderCapExceeded(programId, orgId, value, remaining);
        }
        uint256 esc = uint256(s.funded) + s.rolledIn - s.paid - s.returned;
        uint256 covered = outstandingValue(programId);
        uint256 available = esc > covered ? esc - covered : 0;
        if (value > available) revert ProgramInsufficientEscrow(programId, value, available);
    }

    function _checkEligible(uint64 programId, ProgramTerms storage t, uint64 orgId, Organisation memory org) private view {
        if ((Kinds.bit(org.kind) & t.eligibleKinds) == 0) revert ProgramIneligibleKind(programId, orgId, org.kind);
        if (!Regions.matchesAny(t.eligibleRegions, org.region)) {
            revert ProgramIneligibleRegion(programId, orgId, org.region);
        }
        if (t.maxEmployees != 0 && org.employees > t.maxEmployees) {
            revert ProgramIneligibleSize(programId, orgId, org.employees, t.maxEmployees);
        }
    }

    function _issue(
        uint64 programId,
        uint64 enterpriseOrg,
        uint128 units,
        uint64 applicationId,
        bytes32 requestId
    ) private {
        Organisation memory org = _registry.organisation(enterpriseOrg);
        if (org.status != OrgStatus.Active) revert ProtocolOrgNotActive(enterpriseOrg, org.status);
        _checkIssuable(programId, enterpriseOrg, org, units);
        uint128 value = units * _terms[programId].faceValue;
        if (_issuedValue[programId][enterpriseOrg] == 0) _holders[programId].push(enterpriseOrg);
        _issuedValue[programId][enterpriseOrg] += value;
        _state[programId].issuedUnits += units;
        emit VouchersIssued(programId, enterpriseOrg, applicationId, units, value, requestId);
        _vouchers.mint(Vaults.vaultOf(enterpriseOrg), programId, units);
    }

    /// @dev Books the rewards due to an institution on a settled order; returns their sum (paid by the caller).
    function _accrueRewards(
        uint64 enterpriseOrg,
        uint64 institutionOrg,
        uint8 category,
        uint128 paidPrice
    ) private returns (uint256 total) {
        uint64[] storage programs = _rewardPrograms[institutionOrg];
        uint256 n = programs.length;
        if (n == 0) return 0;
        Organisation memory ent = _registry.organisation(enterpriseOrg);
        for (uint256 i = 0; i < n; ++i) {
            uint64 r = programs[i];
            uint256 amount = _rewardDue(r, ent, institutionOrg, category, paidPrice);
            if (amount == 0) continue;
            _rewardPaid[r][institutionOrg] += uint128(amount);
            _state[r].paid += uint128(amount);
            total += amount;
            emit RewardPaid(r, institutionOrg, enterpriseOrg, uint128(amount));
        }
    }

    function _rewardDue(
        uint64 r,
        Organisation memory ent,
        uint64 institutionOrg,
        uint8 category,
        uint128 paidPrice
    ) private view returns (uint256 amount) {
        ProgramTerms storage t = _terms[r];
        if (_state[r].closed || block.timestamp < t.issueStart || block.timestamp > t.expiry) return 0;
        if ((t.categories >> category) & 1 == 0) return 0;
        if ((Kinds.bit(ent.kind) & t.eligibleKinds) == 0 || !Regions.matchesAny(t.eligibleRegions, ent.region)) {
            return 0;
        }
        if (t.maxEmployees != 0 && ent.employees > t.maxEmployees) return 0;
        amount = (uint256(paidPrice) * t.shareBps) / BPS;
        if (t.perHolderCap != 0) {
            uint256 got = _rewardPaid[r][institutionOrg];
            uint256 left = got >= t.perHolderCap ? 0 : t.perHolderCap - got;
            if (amount > left) amount = left;
        }
        uint256 esc = escrowed(r);
        if (amount > esc) amount = esc;
    }

    /// @dev Forgets an institution's closed reward programs, so they neither count toward the limit of open
    /// enrolments nor cost gas at settlement.
    function _dropClosedRewards(uint64 institutionOrg) private {
        uint64[] storage list = _rewardPrograms[institutionOrg];
        uint256 i = 0;
        while (i < list.length) {
            if (_state[list[i]].closed) {
                list[i] = list[list.length - 1];
                list.pop();
            } else {
                ++i;
            }
        }
    }

    /// @dev Burns every voucher of a closing program still held by an enterprise.
    function _expireHolders(uint64 programId) private {
        uint64[] storage list = _holders[programId];
        uint256 n = list.length;
        for (uint256 i = 0; i < n; ++i) {
            uint64 orgId = list[i];
            address vault = Vaults.vaultOf(orgId);
            uint256 units = _vouchers.balanceOf(vault, programId);
            if (units != 0) {
                emit VouchersExpired(programId, orgId, uint128(units));
                _vouchers.burn(vault, programId, units);
            }
        }
    }

    function _useRequest(bytes32 requestId) private {
        if (requestId == bytes32(0) || _requestUsed[requestId]) revert ProgramDuplicateRequest(requestId);
        _requestUsed[requestId] = true;
    }

    function _pending(uint64 applicationId) private view returns (Application storage a) {
        a = _applications[applicationId];
        if (a.status != ApplicationStatus.Pending) revert ProgramApplicationNotPending(applicationId);
    }

    /// @dev The caller must be the program's issuer (or, with `regulatorToo`, a regulator); returns its org.
    function _requireIssuer(uint64 programId, bool regulatorToo) private view returns (uint64 orgId) {
        Organisation memory org;
        (orgId, org) = _actor(regulatorToo ? Kinds.ISSUER | Kinds.REGULATOR : Kinds.ISSUER);
        ProgramState storage s = _open(programId);
        if (org.kind != OrgKind.Regulator && s.issuerOrg != orgId) revert ProgramNotIssuer(programId, orgId);
    }

    function _existing(uint64 programId) private view returns (ProgramState storage s) {
        s = _state[programId];
        if (s.issuerOrg == 0) revert ProgramUnknown(programId);
    }

    function _open(uint64 programId) private view returns (ProgramState storage s) {
        s = _existing(programId);
        if (s.closed) revert ProgramIsClosed(programId);
    }
}
