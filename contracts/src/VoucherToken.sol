// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Kinds, OrgKind} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";
import {ProtocolBase} from "./ProtocolBase.sol";

/// @title VoucherToken
/// @notice Innovation vouchers as non-transferable ERC-1155 balances: token id = program id, one unit = one
/// voucher of the program's face value (one fen for an electronic quota). Vouchers sit in the vault of the
/// enterprise or start-up team they were issued to, or in the order book while locked in an order. They move
/// only by issue, lock, redeem, refund, expire and revoke, all performed by the protocol; any other transfer or
/// approval reverts. {balanceOf} of any account of an organisation reads the organisation's vault.
contract VoucherToken is ERC1155, ProtocolBase {
    address private _programs;
    address private _orderBook;

    /// @dev Vouchers cannot be transferred or approved by their holder.
    error VoucherNonTransferable();
    /// @dev `holder` is not an enterprise's or start-up team's vault, nor the order book: it can never hold
    /// vouchers.
    error VoucherInvalidHolder(address holder);
    /// @dev Only the program manager and the order book move vouchers.
    error VoucherUnauthorizedOperator(address caller);

    /// @dev Emitted once, when the governor wires the protocol contracts that may move vouchers.
    event OperatorsSet(address indexed programs, address indexed orderBook);

    constructor(
        address forwarder,
        ParticipantRegistry registry_,
        string memory uri_
    ) ERC1155(uri_) ProtocolBase(forwarder, registry_) {}

    /// @notice Wires the program manager and the order book, once. Governor only. Emits {OperatorsSet}.
    function setOperators(address programs, address orderBook) external {
        _actor(Kinds.GOVERNOR);
        if (_programs != address(0) || programs == address(0) || orderBook == address(0)) {
            revert ProtocolAlreadyWired();
        }
        _programs = programs;
        _orderBook = orderBook;
        emit OperatorsSet(programs, orderBook);
    }

    /// @notice Sets the metadata URI template. Governor only. Emits {URI} for token id 0.
    function setURI(string calldata newUri) external {
        _actor(Kinds.GOVERNOR);
        _setURI(newUri);
        emit URI(newUri, 0);
    }

    /// @notice Mints `units` vouchers of program `id` into `vault`. Program manager only.
    function mint(address vault, uint256 id, uint256 units) external {
        _onlyOperator(_programs);
        _move(address(0), vault, id, units);
    }

    /// @notice Burns `units` vouchers of program `id` held at `holder` (revocation, expiry, redemption).
    /// Program manager (any holder) or order book (its own holdings) only.
    function burn(address holder, uint256 id, uint256 units) external {
        if (!(msg.sender == _programs || (msg.sender == _orderBook && holder == _orderBook))) {
            revert VoucherUnauthorizedOperator(msg.sender);
        }
        _move(holder, address(0), id, units);
    }

    /// @notice Moves `units` vouchers from `vault` into the order book's escrow. Order book only.
    function lock(address vault, uint256 id, uint256 units) external {
        _onlyOperator(_orderBook);
        _move(vault, _orderBook, id, units);
    }

    /// @notice Returns `units` vouchers from the order book's escrow to `vault`. Order book only.
    function unlock(address vault, uint256 id, uint256 units) external {
        _onlyOperator(_orderBook);
        _move(_orderBook, vault, id, units);
    }

    /// @notice The balance of program `id` of the organisation `account` acts for.
    function balanceOf(address account, uint256 id) public view override returns (uint256) {
        return super.balanceOf(_registry.holderOf(account), id);
    }

    /// @notice Always reverts: vouchers are not transferable.
    function safeTransferFrom(address, address, uint256, uint256, bytes memory) public pure override {
        revert VoucherNonTransferable();
    }

    /// @notice Always reverts: vouchers are not transferable.
    function safeBatchTransferFrom(
        address,
        address,
        uint256[] memory,
        uint256[] memory,
        bytes memory
    ) public pure override {
        revert VoucherNonTransferable();
    }

    /// @notice Always reverts: vouchers cannot be delegated.
    function setApprovalForAll(address, bool) public pure override {
        revert VoucherNonTransferable();
    }

    /// @notice The program manager and the order book wired in.
    function operators() external view returns (address programs, address orderBook) {
        return (_programs, _orderBook);
    }

    function _onlyOperator(address operator) private view {
        if (msg.sender != operator || operator == address(0)) revert VoucherUnauthorizedOperator(msg.sender);
    }

    function _move(address from, address to, uint256 id, uint256 units) private {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = id;
        values[0] = units;
        _update(from, to, ids, values);
    }

    /// @dev The one place every balance change passes: no zero moves, and only voucher holders or the order
    /// book may receive.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        for (uint256 i = 0; i < values.length; ++i) {
            if (values[i] == 0) revert ProtocolZeroAmount();
        }
        if (to != address(0) && to != _orderBook) {
            OrgKind kind = _registry.kindOfVault(to);
            if ((Kinds.bit(kind) & Kinds.VOUCHER_HOLDERS) == 0) revert VoucherInvalidHolder(to);
        }
        super._update(from, to, ids, values);
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
