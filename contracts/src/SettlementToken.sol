// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Kinds, OrgKind, OrgStatus, Vaults} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";
import {ProtocolBase} from "./ProtocolBase.sol";

/// @title SettlementToken
/// @notice CNY in fen (2 decimals), minted by a bank against a real deposit and burned against a real
/// withdrawal. Only registered organisations (at their vault) and the protocol's escrow contracts can hold it.
/// An account's balance is its organisation's: {balanceOf} of any account of an organisation reads the vault.
///
/// The protocol's escrow contracts (program budgets, order own funds) may move money from an organisation that
/// is calling them without a separate approval: they only ever pull from their own caller. They move money with
/// {escrowPull} and {escrowPay}, which skip the registry: the escrow has checked the pause and its parties in the
/// same transaction, and derives their vaults itself.
contract SettlementToken is ERC20, ProtocolBase {
    mapping(address escrow => bool) private _escrows;
    uint256 private _totalMinted;
    uint256 private _totalBurned;

    /// @dev `holder` is neither a registered organisation nor a protocol escrow (an individual's or an unknown
    /// address): it can never hold settlement money. Also: money sent to an escrow that is not pulling it.
    error SettlementInvalidHolder(address holder);
    /// @dev The organisation paying is not active (suspended or frozen).
    error SettlementHolderNotActive(address holder, OrgStatus status);
    /// @dev Only the protocol's escrow contracts may call this.
    error SettlementNotEscrow(address caller);

    /// @dev Emitted when a bank mints money against a deposit into an organisation's vault.
    event Minted(uint64 indexed bankOrg, address indexed vault, uint256 amount, bytes32 indexed depositRef);
    /// @dev Emitted when a bank burns money from its own vault against a withdrawal paid out off chain.
    event Burned(uint64 indexed bankOrg, uint256 amount, bytes32 indexed withdrawalRef);
    /// @dev Emitted when the governor designates (or withdraws) a protocol escrow contract.
    event EscrowSet(address indexed escrow, bool trusted);

    constructor(
        address forwarder,
        ParticipantRegistry registry_
    ) ERC20("VoucherChain CNY settlement (fen)", "vCNY") ProtocolBase(forwarder, registry_) {}

    /// @notice One unit is one fen.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Designates a protocol escrow contract. Governor only. Emits {EscrowSet}.
    function setEscrow(address escrow, bool trusted) external {
        _actor(Kinds.GOVERNOR);
        if (escrow == address(0)) revert ProtocolAlreadyWired();
        _escrows[escrow] = trusted;
        emit EscrowSet(escrow, trusted);
    }

    /// @notice Mints `amount` fen into the vault of the organisation of `to` against deposit `depositRef`.
    /// Bank only. Emits {Minted} and {Transfer}.
    function mint(address to, uint256 amount, bytes32 depositRef) external {
        (uint64 bankOrg, ) = _actor(Kinds.BANK);
        address vault = _registry.holderOf(to);
        _mint(vault, amount);
        emit Minted(bankOrg, vault, amount, depositRef);
    }

    /// @notice Burns `amount` fen from the calling bank's own vault against withdrawal `withdrawalRef`.
    /// Bank only. Emits {Burned} and {Transfer}.
    function burn(uint256 amount, bytes32 withdrawalRef) external {
        (uint64 bankOrg, ) = _actor(Kinds.BANK);
        _burn(Vaults.vaultOf(bankOrg), amount);
        emit Burned(bankOrg, amount, withdrawalRef);
    }

    /// @notice Total fen ever minted; `totalSupply() == totalMinted() - totalBurned()`.
    function totalMinted() external view returns (uint256) {
        return _totalMinted;
    }

    /// @notice Total fen ever burned.
    function totalBurned() external view returns (uint256) {
        return _totalBurned;
    }

    /// @notice Whether `escrow` is a protocol escrow contract.
    function isEscrow(address escrow) external view returns (bool) {
        return _escrows[escrow];
    }

    /// @notice The balance of the organisation `account` acts for (or of `account` itself if it is an escrow).
    function balanceOf(address account) public view override returns (uint256) {
        return super.balanceOf(_registry.holderOf(account));
    }

    /// @notice The allowance the organisation `owner` acts for gave the organisation `spender` acts for.
    function allowance(address owner, address spender) public view override returns (uint256) {
        return super.allowance(_registry.holderOf(owner), _registry.holderOf(spender));
    }

    /// @notice Approves the organisation `spender` acts for (any of its accounts) to move the caller's
    /// organisation's money. Allowances are between organisations, so they survive key rotation.
    function approve(address spender, uint256 value) public override returns (bool) {
        _approve(_registry.spenderHolderOf(_msgSender()), _registry.holderOf(spender), value);
        return true;
    }

    /// @notice Pays `value` fen from the caller's organisation to the organisation of `to`.
    function transfer(address to, uint256 value) public override returns (bool) {
        _transfer(_registry.spenderHolderOf(_msgSender()), _registry.holderOf(to), value);
        return true;
    }

    /// @notice Moves `value` fen from the organisation of `from`; protocol escrows need no allowance.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        address spender = _msgSender();
        address source = _registry.holderOf(from);
        if (!_escrows[spender]) _spendAllowance(source, _registry.spenderHolderOf(spender), value);
        _transfer(source, _registry.holderOf(to), value);
        return true;
    }

    /// @notice Pays `value` fen from the calling escrow to `vault`. Protocol escrows only, from entry points that
    /// checked the pause and their parties and that derived `vault` from the organisation's id ({Vaults}): the
    /// token repeats none of it (what {transfer} asks the registry four times for). Emits {Transfer}.
    function escrowPay(address vault, uint256 value) external {
        _escrowMove(msg.sender, vault, value);
    }

    /// @notice Pulls `value` fen from `vault` into the calling escrow, on the terms of {escrowPay}: the escrow has
    /// checked that `vault` is its active caller's organisation's. Emits {Transfer}.
    function escrowPull(address vault, uint256 value) external {
        _escrowMove(vault, msg.sender, value);
    }

    /// @dev `counterparty` is never the zero address (money would be minted or burned uncounted) nor an
    /// escrow (each escrow's balance is exactly what its books say it holds).
    function _escrowMove(address from, address to, uint256 value) private {
        if (!_escrows[msg.sender]) revert SettlementNotEscrow(msg.sender);
        if (value == 0) revert ProtocolZeroAmount();
        address counterparty = from == msg.sender ? to : from;
        if (counterparty == address(0) || _escrows[counterparty]) revert SettlementInvalidHolder(counterparty);
        ERC20._update(from, to, value);
    }

    /// @dev The one place every other balance change passes: pause, zero amounts, who may hold and who may pay.
    function _update(address from, address to, uint256 value) internal override {
        if (_registry.paused()) revert ProtocolPaused();
        if (value == 0) revert ProtocolZeroAmount();
        if (from == address(0)) {
            _totalMinted += value;
        } else if (!_escrows[from]) {
            (OrgKind kind, OrgStatus status) = _registry.vaultKind(from);
            if (kind == OrgKind.None) revert SettlementInvalidHolder(from);
            if (status != OrgStatus.Active) revert SettlementHolderNotActive(from, status);
        }
        if (to == address(0)) {
            _totalBurned += value;
        } else if (_escrows[to]) {
            // An escrow receives money only when it pulls it itself (a program's funding, an
            // order's own funds): money minted or paid into it would be counted by nothing.
            if (_msgSender() != to) revert SettlementInvalidHolder(to);
        } else if (_registry.kindOfVault(to) == OrgKind.None) {
            revert SettlementInvalidHolder(to);
        }
        super._update(from, to, value);
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
}
