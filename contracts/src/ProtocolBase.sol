// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IProtocolErrors, Organisation} from "./Types.sol";
import {ParticipantRegistry} from "./ParticipantRegistry.sol";

/// @title ProtocolBase
/// @dev What every protocol contract other than the registry shares: the registry, the trusted forwarder for
/// self-custody wallets, the global pause and the check of who is calling.
abstract contract ProtocolBase is ERC2771Context, IProtocolErrors {
    ParticipantRegistry internal immutable _registry;

    constructor(address forwarder, ParticipantRegistry registry_) ERC2771Context(forwarder) {
        _registry = registry_;
    }

    modifier whenNotPaused() {
        if (_registry.paused()) revert ProtocolPaused();
        _;
    }

    /// @notice The participant registry this contract trusts.
    function registry() external view returns (ParticipantRegistry) {
        return _registry;
    }

    /// @dev The calling organisation, which must be active and of a kind in `allowedKinds`.
    function _actor(uint256 allowedKinds) internal view returns (uint64 orgId, Organisation memory org) {
        return _registry.requireActor(_msgSender(), allowedKinds);
    }
}
