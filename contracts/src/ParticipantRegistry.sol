// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IProtocolErrors, Kinds, OrgKind, OrgStatus, Organisation, Vaults} from "./Types.sol";
import {Regions} from "./Regions.sol";

/// @title ParticipantRegistry
/// @notice Who may take part: organisations (never individuals), their accounts, and their status. It is also
/// the allowlist the permissioned chain accepts transactions from ({isActiveAccount}) and the holder of the
/// protocol-wide pause switch.
///
/// Holdings belong to organisations, not keys: each organisation has a vault address derived from its id
/// ({vaultOf}), which no key controls. Settlement money and vouchers sit there; the organisation's accounts act
/// for it. Rotating or recovering a key therefore never strands a balance.
contract ParticipantRegistry is ERC2771Context, Pausable, IProtocolErrors {
    struct AccountRecord {
        uint64 orgId;
        bool active;
    }

    uint64 private _orgCount;
    mapping(uint64 orgId => Organisation) private _orgs;
    mapping(uint64 orgId => address[]) private _accountsOf;
    mapping(address account => AccountRecord) private _accounts;
    mapping(address vault => uint64 orgId) private _orgOfVault;
    mapping(bytes32 creditCodeHash => uint64 orgId) private _orgOfCreditCode;

    /// @dev The kind is not one that can be registered (individuals, unknown values, a second governor).
    error RegistryInvalidKind(uint8 kind);
    /// @dev The region is not a six-digit GB/T 2260 code.
    error RegistryInvalidRegion(uint32 region);
    /// @dev The region is outside the registering issuer's own region.
    error RegistryRegionOutsideJurisdiction(uint32 region, uint32 issuerRegion);
    /// @dev No unified social credit code hash was given: only organisations can be registered.
    error RegistryMissingCreditCode();
    /// @dev An organisation with this credit code is already registered.
    error RegistryDuplicateCreditCode(bytes32 creditCodeHash, uint64 existingOrgId);
    /// @dev An enterprise or start-up team must declare at least one employee.
    error RegistryInvalidEmployees(uint32 employees);
    /// @dev The account is the zero address.
    error RegistryZeroAccount();
    /// @dev The account already belongs (or belonged) to an organisation; accounts are never reused.
    error RegistryAccountAlreadyRegistered(address account, uint64 orgId);
    /// @dev The account is not an active account of any organisation.
    error RegistryUnknownAccount(address account);
    /// @dev There is no organisation with this id.
    error RegistryUnknownOrganisation(uint64 orgId);
    /// @dev The caller may not manage this organisation.
    error RegistryNotRegistrar(address account, uint64 orgId);
    /// @dev Removing the account would leave the organisation without any account.
    error RegistryLastAccount(uint64 orgId, address account);
    /// @dev The status change is not allowed from the organisation's current status.
    error RegistryInvalidStatusChange(uint64 orgId, OrgStatus from, OrgStatus to);

    /// @dev Emitted when an organisation is registered, with its first account.
    event OrganisationRegistered(
        uint64 indexed orgId,
        OrgKind indexed kind,
        uint32 indexed region,
        bytes32 creditCodeHash,
        address account,
        address vault,
        uint64 registrar
    );
    /// @dev Emitted when an organisation's employees, industry or affiliation change.
    event OrganisationProfileUpdated(uint64 indexed orgId, uint32 employees, uint32 industry, bytes32 affiliation);
    /// @dev Emitted when an organisation's status changes (suspension, freeze, reinstatement).
    event OrganisationStatusChanged(uint64 indexed orgId, OrgStatus status, uint32 reasonCode, uint64 indexed byOrg);
    /// @dev Emitted when an account is added to an organisation.
    event AccountAdded(uint64 indexed orgId, address indexed account, uint64 indexed byOrg);
    /// @dev Emitted when an account stops acting for its organisation (removal, rotation or recovery).
    event AccountRemoved(uint64 indexed orgId, address indexed account, uint64 indexed byOrg);

    constructor(
        address forwarder,
        address governorAccount,
        bytes32 governorCreditCodeHash,
        uint32 governorRegion
    ) ERC2771Context(forwarder) {
        _register(OrgKind.Governor, governorRegion, governorCreditCodeHash, 0, 0, bytes32(0), governorAccount, 0);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Organisations
    // ----------------------------------------------------------------------------------------------------------

    /// @notice Registers an organisation with its first account. The governor may register any kind except a
    /// second governor; an issuer may register enterprises, start-up teams and institutions in its own region.
    /// Emits {OrganisationRegistered} and {AccountAdded}.
    function registerOrganisation(
        uint8 kind,
        uint32 region,
        bytes32 creditCodeHash,
        uint32 employees,
        uint32 industry,
        bytes32 affiliation,
        address account
    ) external whenNotPaused returns (uint64 orgId) {
        if (kind == 0 || kind >= uint8(OrgKind.Governor)) revert RegistryInvalidKind(kind);
        OrgKind k = OrgKind(kind);
        (uint64 registrar, Organisation memory reg) = requireActor(_msgSender(), Kinds.GOVERNOR | Kinds.ISSUER);
        if (reg.kind == OrgKind.Issuer) {
            if ((Kinds.bit(k) & (Kinds.VOUCHER_HOLDERS | Kinds.INSTITUTION)) == 0) revert RegistryInvalidKind(kind);
            if (Regions.isValidCode(region) && !Regions.matches(reg.region, region)) {
                revert RegistryRegionOutsideJurisdiction(region, reg.region);
            }
        }
        if ((Kinds.bit(k) & Kinds.VOUCHER_HOLDERS) != 0 && employees == 0) revert RegistryInvalidEmployees(employees);
        return _register(k, region, creditCodeHash, employees, industry, affiliation, account, registrar);
    }

    /// @notice Updates the size, industry and affiliation group of an organisation. Registrar or governor only.
    /// Emits {OrganisationProfileUpdated}.
    function updateProfile(uint64 orgId, uint32 employees, uint32 industry, bytes32 affiliation) external whenNotPaused {
        (, Organisation storage org) = _registrarOf(orgId);
        if ((Kinds.bit(org.kind) & Kinds.VOUCHER_HOLDERS) != 0 && employees == 0) {
            revert RegistryInvalidEmployees(employees);
        }
        org.employees = employees;
        org.industry = industry;
        org.affiliation = affiliation;
        emit OrganisationProfileUpdated(orgId, employees, industry, affiliation);
    }

    /// @notice Suspends an active organisation. Registrar or governor only. Emits {OrganisationStatusChanged}.
    function suspend(uint64 orgId, uint32 reasonCode) external whenNotPaused {
        (uint64 byOrg, Organisation storage org) = _registrarOf(orgId);
        if (org.kind == OrgKind.Governor) {
            revert RegistryInvalidStatusChange(orgId, org.status, OrgStatus.Suspended);
        }
        _changeStatus(orgId, org, OrgStatus.Active, OrgStatus.Suspended, reasonCode, byOrg);
    }

    /// @notice Lifts a suspension. Registrar or governor only. Emits {OrganisationStatusChanged}.
    function reinstate(uint64 orgId) external whenNotPaused {
        (uint64 byOrg, Organisation storage org) = _registrarOf(orgId);
        _changeStatus(orgId, org, OrgStatus.Suspended, OrgStatus.Active, 0, byOrg);
    }

    /// @notice Freezes an active or suspended organisation: none of its accounts can act until it is unfrozen.
    /// Regulator or governor only; works while the protocol is paused. Emits {OrganisationStatusChanged}.
    function freeze(uint64 orgId, uint32 reasonCode) external {
        (uint64 byOrg, ) = requireActor(_msgSender(), Kinds.REGULATOR | Kinds.GOVERNOR);
        Organisation storage org = _existing(orgId);
        if (org.kind == OrgKind.Governor || org.status == OrgStatus.Frozen) {
            revert RegistryInvalidStatusChange(orgId, org.status, OrgStatus.Frozen);
        }
        org.status = OrgStatus.Frozen;
        emit OrganisationStatusChanged(orgId, OrgStatus.Frozen, reasonCode, byOrg);
    }

    /// @notice Unfreezes an organisation, which becomes active. Regulator or governor only.
    /// Emits {OrganisationStatusChanged}.
    function unfreeze(uint64 orgId) external {
        (uint64 byOrg, ) = requireActor(_msgSender(), Kinds.REGULATOR | Kinds.GOVERNOR);
        _changeStatus(orgId, _existing(orgId), OrgStatus.Frozen, OrgStatus.Active, 0, byOrg);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Accounts
    // ----------------------------------------------------------------------------------------------------------

    /// @notice Adds an account to an organisation. An active account of the organisation itself or the governor.
    /// Emits {AccountAdded}.
    function addAccount(uint64 orgId, address account) external whenNotPaused {
        uint64 byOrg = _selfOrGovernor(orgId);
        _addAccount(orgId, account, byOrg);
    }

    /// @notice Removes an account from its organisation; the last account cannot be removed. An active account
    /// of the same organisation or the governor. Emits {AccountRemoved}.
    function removeAccount(address account) external whenNotPaused {
        uint64 orgId = _activeRecord(account).orgId;
        uint64 byOrg = _selfOrGovernor(orgId);
        _removeAccount(orgId, account, byOrg);
    }

    /// @notice Key rotation: the calling account is replaced by `newAccount` in its organisation.
    /// Emits {AccountAdded} and {AccountRemoved}.
    function rotateAccount(address newAccount) external whenNotPaused {
        address account = _msgSender();
        uint64 orgId = _activeRecord(account).orgId;
        requireActor(account, type(uint256).max); // a suspended or frozen organisation cannot act
        _addAccount(orgId, newAccount, orgId);
        _removeAccount(orgId, account, orgId);
    }

    /// @notice Recovery of a lost key by the governor: `lostAccount` is replaced by `newAccount` in its
    /// organisation. Works while the protocol is paused. Emits {AccountAdded} and {AccountRemoved}.
    function recoverAccount(address lostAccount, address newAccount) external {
        (uint64 byOrg, ) = requireActor(_msgSender(), Kinds.GOVERNOR);
        uint64 orgId = _activeRecord(lostAccount).orgId;
        _addAccount(orgId, newAccount, byOrg);
        _removeAccount(orgId, lostAccount, byOrg);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Pause
    // ----------------------------------------------------------------------------------------------------------

    /// @notice Pauses every value-moving operation of the protocol. Governor only. Emits {Paused}.
    function pause() external {
        requireActor(_msgSender(), Kinds.GOVERNOR);
        _pause();
    }

    /// @notice Lifts the pause. Governor only. Emits {Unpaused}.
    function unpause() external {
        requireActor(_msgSender(), Kinds.GOVERNOR);
        _unpause();
    }

    // ----------------------------------------------------------------------------------------------------------
    // Views
    // ----------------------------------------------------------------------------------------------------------

    /// @notice The calling organisation of `account`, which must be active and of a kind in `allowedKinds`.
    function requireActor(
        address account,
        uint256 allowedKinds
    ) public view returns (uint64 orgId, Organisation memory org) {
        AccountRecord memory rec = _accounts[account];
        if (!rec.active) revert ProtocolUnauthorizedAccount(account, allowedKinds);
        org = _orgs[rec.orgId];
        if ((Kinds.bit(org.kind) & allowedKinds) == 0) revert ProtocolUnauthorizedAccount(account, allowedKinds);
        if (org.status != OrgStatus.Active) revert ProtocolOrgNotActive(rec.orgId, org.status);
        return (rec.orgId, org);
    }

    /// @notice Whether `account` may send transactions: an active account of an active organisation.
    /// This is the permissioned chain's allowlist.
    function isActiveAccount(address account) external view returns (bool) {
        AccountRecord memory rec = _accounts[account];
        return rec.active && _orgs[rec.orgId].status == OrgStatus.Active;
    }

    /// @notice The organisation an account acts (or acted) for; 0 if none.
    function orgOf(address account) external view returns (uint64 orgId, bool active) {
        AccountRecord memory rec = _accounts[account];
        return (rec.orgId, rec.active);
    }

    /// @notice An organisation's record. Reverts for an unknown id.
    function organisation(uint64 orgId) external view returns (Organisation memory) {
        return _existing(orgId);
    }

    /// @notice The active accounts of an organisation.
    function accountsOf(uint64 orgId) external view returns (address[] memory) {
        return _accountsOf[orgId];
    }

    /// @notice Number of registered organisations; ids run from 1 to this number.
    function organisationCount() external view returns (uint64) {
        return _orgCount;
    }

    /// @notice The address at which an organisation's holdings sit. No key controls it.
    function vaultOf(uint64 orgId) public pure returns (address) {
        return Vaults.vaultOf(orgId);
    }

    /// @notice The organisation whose vault `vault` is; 0 if it is not a vault.
    function orgOfVault(address vault) external view returns (uint64) {
        return _orgOfVault[vault];
    }

    /// @notice Where the holdings of `account` sit: its organisation's vault if it is (or was) an account of a
    /// registered organisation, otherwise `account` itself.
    function holderOf(address account) external view returns (address) {
        uint64 orgId = _accounts[account].orgId;
        return orgId == 0 ? account : vaultOf(orgId);
    }

    /// @notice Like {holderOf}, for an account about to spend: an account that no longer acts for its
    /// organisation (removed, rotated or recovered) is refused, so a replaced key can never move its former
    /// organisation's money.
    function spenderHolderOf(address account) external view returns (address) {
        AccountRecord memory rec = _accounts[account];
        if (rec.orgId == 0) return account;
        if (!rec.active) revert ProtocolUnauthorizedAccount(account, 0);
        return vaultOf(rec.orgId);
    }

    /// @notice The kind of the organisation whose vault `vault` is (`None` if it is not a vault).
    function kindOfVault(address vault) external view returns (OrgKind) {
        return _orgs[_orgOfVault[vault]].kind;
    }

    /// @notice The kind and status of the organisation whose vault `vault` is (`None` if it is not a vault).
    function vaultKind(address vault) external view returns (OrgKind kind, OrgStatus status) {
        Organisation storage org = _orgs[_orgOfVault[vault]];
        return (org.kind, org.status);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Internals
    // ----------------------------------------------------------------------------------------------------------

    function _register(
        OrgKind kind,
        uint32 region,
        bytes32 creditCodeHash,
        uint32 employees,
        uint32 industry,
        bytes32 affiliation,
        address account,
        uint64 registrar
    ) private returns (uint64 orgId) {
        if (!Regions.isValidCode(region)) revert RegistryInvalidRegion(region);
        if (creditCodeHash == bytes32(0)) revert RegistryMissingCreditCode();
        uint64 existing = _orgOfCreditCode[creditCodeHash];
        if (existing != 0) revert RegistryDuplicateCreditCode(creditCodeHash, existing);
        orgId = ++_orgCount;
        _orgs[orgId] = Organisation({
            kind: kind,
            status: OrgStatus.Active,
            region: region,
            employees: employees,
            industry: industry,
            registrar: registrar,
            creditCodeHash: creditCodeHash,
            affiliation: affiliation
        });
        _orgOfCreditCode[creditCodeHash] = orgId;
        address vault = vaultOf(orgId);
        _orgOfVault[vault] = orgId;
        emit OrganisationRegistered(orgId, kind, region, creditCodeHash, account, vault, registrar);
        _addAccount(orgId, account, registrar == 0 ? orgId : registrar);
    }

    function _addAccount(uint64 orgId, address account, uint64 byOrg) private {
        if (account == address(0)) revert RegistryZeroAccount();
        uint64 existing = _accounts[account].orgId;
        if (existing != 0) revert RegistryAccountAlreadyRegistered(account, existing);
        _accounts[account] = AccountRecord({orgId: orgId, active: true});
        _accountsOf[orgId].push(account);
        emit AccountAdded(orgId, account, byOrg);
    }

    function _removeAccount(uint64 orgId, address account, uint64 byOrg) private {
        address[] storage list = _accountsOf[orgId];
        uint256 n = list.length;
        if (n == 1) revert RegistryLastAccount(orgId, account);
        for (uint256 i = 0; i < n; ++i) {
            if (list[i] == account) {
                list[i] = list[n - 1];
                list.pop();
                break;
            }
        }
        // The record keeps its organisation id so the address can never be registered again.
        _accounts[account].active = false;
        emit AccountRemoved(orgId, account, byOrg);
    }

    function _changeStatus(
        uint64 orgId,
        Organisation storage org,
        OrgStatus from,
        OrgStatus to,
        uint32 reasonCode,
        uint64 byOrg
    ) private {
        if (org.status != from) revert RegistryInvalidStatusChange(orgId, org.status, to);
        org.status = to;
        emit OrganisationStatusChanged(orgId, to, reasonCode, byOrg);
    }

    function _existing(uint64 orgId) private view returns (Organisation storage org) {
        org = _orgs[orgId];
        if (org.kind == OrgKind.None) revert RegistryUnknownOrganisation(orgId);
    }

    function _activeRecord(address account) private view returns (AccountRecord memory rec) {
        rec = _accounts[account];
        if (!rec.active) revert RegistryUnknownAccount(account);
    }

    /// @dev The governor, or the issuer that registered `orgId`.
    function _registrarOf(uint64 orgId) private view returns (uint64 byOrg, Organisation storage org) {
        Organisation memory caller;
        (byOrg, caller) = requireActor(_msgSender(), Kinds.GOVERNOR | Kinds.ISSUER);
        org = _existing(orgId);
        if (caller.kind != OrgKind.Governor && org.registrar != byOrg) revert RegistryNotRegistrar(_msgSender(), orgId);
    }

    /// @dev An active account of `orgId` itself, or the governor.
    function _selfOrGovernor(uint64 orgId) private view returns (uint64 byOrg) {
        _existing(orgId);
        AccountRecord memory rec = _accounts[_msgSender()];
        if (rec.active && rec.orgId == orgId) {
            requireActor(_msgSender(), type(uint256).max);
            return orgId;
        }
        (byOrg, ) = requireActor(_msgSender(), Kinds.GOVERNOR);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }

    /// @dev The pause reverts with the protocol-wide {ProtocolPaused} error, like every other contract.
    function _requireNotPaused() internal view override {
        if (paused()) revert ProtocolPaused();
    }
}
