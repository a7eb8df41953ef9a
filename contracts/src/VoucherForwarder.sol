// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title VoucherForwarder
/// @notice Relays EIP-712 `ForwardRequest`s signed by self-custody wallets, so that the protocol sees the
/// signing organisation's account as the sender. Nonces, deadlines and the chain id in the domain make a
/// request impossible to replay.
contract VoucherForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("VoucherChain") {}
}
