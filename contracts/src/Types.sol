// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @dev What an organisation is. There is deliberately no kind for an individual: only organisations,
/// identified by the hash of their unified social credit code, can be registered. `None` marks an
/// unknown organisation id.
enum OrgKind {
    None,
    Enterprise,
    StartupTeam,
    Institution,
    Issuer,
    Finance,
    Regulator,
    Bank,
    Governor
}

/// @dev `Suspended` is set by the registrar (governor or issuer), `Frozen` by supervision (regulator).
enum OrgStatus {
    None,
    Active,
    Suspended,
    Frozen
}

/// @dev A registered organisation. Holdings (settlement money, vouchers) belong to the organisation and sit at
/// its vault address (see {Vaults}); its accounts are only keys that act for it.
struct Organisation {
    OrgKind kind;
    OrgStatus status;
    uint32 region; // GB/T 2260 six-digit code
    uint32 employees;
    uint32 industry; // GB/T 4754 industry code
    uint64 registrar; // organisation that registered it
    bytes32 creditCodeHash; // keccak256 of the unified social credit code
    bytes32 affiliation; // declared affiliation group; 0 = none
}

/// @dev Bit masks over {OrgKind}, used to state which kinds may call a function.
library Kinds {
    uint256 internal constant ENTERPRISE = 1 << uint8(OrgKind.Enterprise);
    uint256 internal constant STARTUP_TEAM = 1 << uint8(OrgKind.StartupTeam);
    uint256 internal constant INSTITUTION = 1 << uint8(OrgKind.Institution);
    uint256 internal constant ISSUER = 1 << uint8(OrgKind.Issuer);
    uint256 internal constant FINANCE = 1 << uint8(OrgKind.Finance);
    uint256 internal constant REGULATOR = 1 << uint8(OrgKind.Regulator);
    uint256 internal constant BANK = 1 << uint8(OrgKind.Bank);
    uint256 internal constant GOVERNOR = 1 << uint8(OrgKind.Governor);
    /// @dev Kinds that may hold vouchers.
    uint256 internal constant VOUCHER_HOLDERS = ENTERPRISE | STARTUP_TEAM;

    function bit(OrgKind kind) internal pure returns (uint256) {
        return 1 << uint8(kind);
    }
}

/// @dev Where an organisation's holdings sit: an address derived from its id alone, with no key behind it. A
/// protocol constant, computed in place by every contract (an external call to the registry for a hash would cost
/// each payment ~2,600 gas and a call frame); {ParticipantRegistry-vaultOf} answers it for everyone else.
library Vaults {
    function vaultOf(uint64 orgId) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("VoucherChain.vault", orgId)))));
    }
}

/// @dev Errors shared by every protocol contract.
interface IProtocolErrors {
    /// @dev The governor has paused the protocol.
    error ProtocolPaused();
    /// @dev `account` is not an account of an organisation of one of the kinds in `allowedKinds` (a {Kinds} mask).
    error ProtocolUnauthorizedAccount(address account, uint256 allowedKinds);
    /// @dev The organisation acting is not active.
    error ProtocolOrgNotActive(uint64 orgId, OrgStatus status);
    /// @dev A one-time wiring call was made twice, or with a zero address.
    error ProtocolAlreadyWired();
    /// @dev An amount that must be positive was zero.
    error ProtocolZeroAmount();
}
