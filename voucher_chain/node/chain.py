"""The chain's rules: Prague with a base fee pinned at 0, equal timestamps allowed, own chain id.

Two departures from Ethereum mainnet, both needed by a single-authority chain with zero gas price:

* **Base fee stays 0.** EIP-1559 lifts the base fee by at least 1 wei after any block above the
  gas target and never brings it back (the decrease rounds to 0), after which every fee-0
  transaction fails. :class:`ZeroFeePragueVM` creates every header with ``base_fee_per_gas=0``
  and validates exactly that.
* **A block may share its parent's timestamp.** Blocks are sealed every few tens of
  milliseconds; Ethereum's "strictly later" rule would push chain time ahead of the wall clock
  by up to a second per block under load. Timestamps are the wall clock, never going backwards.

The gas limit is constant (the genesis gas limit), so block size is the producer's choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    MessageAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    StateAPI,
    TransactionContextAPI,
    TransactionFieldsAPI,
    WithdrawalAPI,
)
from eth.chains.base import MiningChain
from eth.constants import POST_MERGE_DIFFICULTY, POST_MERGE_MIX_HASH, POST_MERGE_NONCE
from eth.rlp.blocks import BaseBlock
from eth.typing import AccountDetails
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth.vm.forks.paris import ParisVM
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth_typing import Address, BlockNumber
from eth_utils.exceptions import ValidationError

from voucher_chain.node import interpreter
from voucher_chain.node.account_cache import AccountCache, SlotCache, caching_account_db_class
from voucher_chain.node.estimate import watched_opcodes
from voucher_chain.node.ordered_trie import ordered_trie_root_and_nodes
from voucher_chain.node.speedups import install as install_speedups

__all__ = [
    "DEFAULT_GAS_LIMIT",
    "ZeroFeePragueVM",
    "VoucherChainEVM",
    "chain_class",
    "genesis_params",
]

#: Gas limit of every block: large, since the producer (not the fee market) sizes blocks.
DEFAULT_GAS_LIMIT = 1_000_000_000

install_speedups()  # py-trie's and pyrlp's helpers without their loops (.speedups)

_POST_MERGE_OMMERS_HASH = bytes.fromhex(
    "1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"
)


#: JUMPDEST analyses by code: (valid positions, invalid positions), filled as jumps are checked.
_ANALYSES: dict[bytes, tuple[set[int], set[int]]] = {}
_MAX_ANALYSES = 4_096


def jump_analysis(code: bytes) -> tuple[set[int], set[int]]:
    """The shared JUMPDEST analysis of ``code``: the sets in which py-evm's ``CodeStream``
    memoises which positions are opcodes (not PUSH data). A position's validity depends on the
    code bytes alone, so one analysis serves every execution of the same code in this process;
    py-evm keeps it per call frame, and re-scanning a 20 KB contract's code for each frame was
    ~10 % of the node's CPU under ``scripts/bench``. Single set operations: safe under the GIL."""
    analysis = _ANALYSES.get(code)
    if analysis is None:
        if len(_ANALYSES) >= _MAX_ANALYSES:
            _ANALYSES.clear()
        analysis = _ANALYSES[code] = (set(), set())
    return analysis


class VoucherChainComputation(PragueComputation):
    """Prague's computation, run by the node's opcode loop (:mod:`.interpreter`; py-evm's own
    inside :func:`.interpreter.reference_loop`), with the code's JUMPDEST analysis shared
    (:func:`jump_analysis`) and ``GAS``/call opcodes that report to an estimate's watch
    (:mod:`.estimate`)."""

    opcodes = watched_opcodes(PragueComputation.opcodes)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code: Any = self.code
        code.valid_positions, code.invalid_positions = jump_analysis(self.msg.code)

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        """py-evm's ``apply_computation`` (same bookkeeping, same precompile exit) with the
        opcode loop replaced by :func:`.interpreter.run`."""
        if interpreter.uses_reference():
            return super().apply_computation(
                state, message, transaction_context, parent_computation
            )
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            precompile = computation.precompiles.get(message.code_address)
            if precompile is not None:
                if not message.is_delegation:
                    precompile(computation)
                return computation
            interpreter.run(computation)
        return computation


class VoucherChainState(PragueState):
    computation_class = VoucherChainComputation


#: (parent hash, parameters) → the child header: a header is immutable, and every call and
#: estimate builds the same one for the block after the head through py-evm's five forks'
#: header functions (6 % of a read worker's time)
_CHILD_HEADERS: dict[Hashable, BlockHeaderAPI] = {}


class ZeroFeePragueVM(PragueVM):
    """Prague whose base fee is always 0 and whose blocks may share their parent's timestamp."""

    _state_class = VoucherChainState

    @staticmethod
    def next_timestamp(parent: BlockHeaderAPI) -> int:
        """The timestamp of a block after ``parent`` when none is given: the wall clock, never
        going backwards. A node may substitute its own rule (see :func:`chain_class`)."""
        return max(parent.timestamp, int(time.time()))

    @classmethod
    def create_header_from_parent(  # type: ignore[override]
        cls, parent_header: BlockHeaderAPI | None, **header_params: Any
    ) -> BlockHeaderAPI:
        if parent_header is None:  # genesis
            header: BlockHeaderAPI = PragueVM.create_header_from_parent(None, **header_params)
            return header
        header_params.setdefault("gas_limit", parent_header.gas_limit)
        header_params.setdefault("timestamp", cls.next_timestamp(parent_header))
        header_params.setdefault("difficulty", POST_MERGE_DIFFICULTY)
        try:
            key: Hashable = (parent_header.hash, tuple(sorted(header_params.items())))
            cached = _CHILD_HEADERS.get(key)
        except TypeError:  # an unhashable parameter: build it, as py-evm would
            key, cached = None, None
        if cached is not None:
            return cached
        child: BlockHeaderAPI = PragueVM.create_header_from_parent(parent_header, **header_params)
        child = child.copy(base_fee_per_gas=0)
        if key is not None:
            if len(_CHILD_HEADERS) >= 256:
                _CHILD_HEADERS.clear()
            _CHILD_HEADERS[key] = child
        return child

    def set_block_transactions_and_withdrawals(
        self,
        base_block: BlockAPI,
        new_header: BlockHeaderAPI,
        transactions: Sequence[SignedTransactionAPI],
        receipts: Sequence[ReceiptAPI],
        withdrawals: Sequence[WithdrawalAPI] | None = None,
    ) -> BlockAPI:
        """py-evm's, with the transaction and receipt tries built in one pass
        (:mod:`.ordered_trie`: same roots and nodes, ~6× less CPU)."""
        roots: dict[str, bytes] = {}
        for field, items in (("transaction_root", transactions), ("receipt_root", receipts)):
            root, nodes = ordered_trie_root_and_nodes([item.encode() for item in items])
            self.chaindb.persist_trie_data_dict(nodes)  # type: ignore[arg-type]
            roots[field] = root
        fields: dict[str, Any] = {"transactions": transactions}
        if withdrawals:
            root, nodes = ordered_trie_root_and_nodes([w.encode() for w in withdrawals])
            self.chaindb.persist_trie_data_dict(nodes)  # type: ignore[arg-type]
            roots["withdrawals_root"] = root
            fields["withdrawals"] = withdrawals
        fields["header"] = new_header.copy(**roots)
        return base_block.copy(**fields)

    def increment_blob_gas_used(
        self, old_header: BlockHeaderAPI, transaction: TransactionFieldsAPI
    ) -> BlockHeaderAPI:
        """py-evm copies the header after every transaction to add its blob gas; a transaction
        without blobs (every one here: blob transactions are refused) adds nothing."""
        if not get_total_blob_gas(transaction):
            return old_header
        header: BlockHeaderAPI = super().increment_blob_gas_used(old_header, transaction)
        return header

    @classmethod
    def validate_gas(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if header.gas_limit != parent_header.gas_limit:
            raise ValidationError(
                f"gas limit changed: {header.gas_limit} != parent {parent_header.gas_limit}"
            )
        if header.base_fee_per_gas != 0:
            raise ValidationError(f"base fee must be 0, got {header.base_fee_per_gas}")

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is None:
            raise ValidationError("Must have access to parent header to validate current header")
        if len(header.extra_data) > cls.extra_data_max_bytes:
            raise ValidationError("extra_data too long")
        cls.validate_gas(header, parent_header)
        if header.block_number != parent_header.block_number + 1:
            raise ValidationError(
                f"block #{header.block_number} does not follow parent #{parent_header.block_number}"
            )
        if header.timestamp < parent_header.timestamp:
            raise ValidationError("timestamp before parent's")
        if header.difficulty != POST_MERGE_DIFFICULTY or header.nonce != POST_MERGE_NONCE:
            raise ValidationError("difficulty and nonce must be post-merge values")
        if header.uncles_hash != _POST_MERGE_OMMERS_HASH:
            raise ValidationError("uncles hash must be empty")


assert issubclass(ZeroFeePragueVM, ParisVM)


class VoucherChainEVM(MiningChain):
    """A chain of :class:`ZeroFeePragueVM` blocks; :func:`chain_class` fixes its chain id."""

    vm_configuration = ((BlockNumber(0), ZeroFeePragueVM),)
    chain_id: int = 0

    def build_block(
        self, transactions: Sequence[SignedTransactionAPI], *, timestamp: int | None = None
    ) -> tuple[BaseBlock, tuple[ReceiptAPI, ...], tuple[ComputationAPI, ...]]:
        """Executes ``transactions`` on the head in one go and persists the block (not committed).

        ``mine_all`` without its validations of what was computed a moment ago (py-evm's
        ``validate_block`` recomputes the transaction trie it has just built, among others):
        the header checks run here; ``verify --replay`` re-checks a whole chain with py-evm's
        own import path.
        """
        parent = self.get_canonical_head()
        params: dict[str, Any] = {} if timestamp is None else {"timestamp": timestamp}
        base_header = self.create_header_from_parent(parent, **params)
        vm = self.get_vm(base_header)
        new_header, receipts, computations = vm.apply_all_transactions(transactions, base_header)
        filled = vm.set_block_transactions_and_withdrawals(
            vm.get_block(), new_header, transactions, receipts
        )
        block = vm.finalize_block(filled).block  # state root; mine_block = this + validate_block
        vm.validate_header(block.header, parent)
        self.chaindb.persist_block(block)
        self.header = self.create_header_from_parent(block.header)
        return block, receipts, computations  # type: ignore[return-value]


def chain_class(
    chain_id: int,
    next_timestamp: Callable[[BlockHeaderAPI], int] | None = None,
    account_cache: AccountCache | None = None,
    slot_cache: SlotCache | None = None,
) -> type[VoucherChainEVM]:
    """The chain class for ``chain_id``; ``next_timestamp`` replaces the VM's clock (the dev
    node's time travel), so calls and estimates run at the time the next block will carry;
    ``account_cache`` keeps encoded accounts and ``slot_cache`` storage values across blocks,
    by root (any state may share them)."""
    attrs: dict[str, Any] = {"chain_id": chain_id}
    vm_attrs: dict[str, Any] = {}
    if next_timestamp is not None:
        vm_attrs["next_timestamp"] = staticmethod(next_timestamp)
    if account_cache is not None and slot_cache is None:
        raise ValueError("the account cache goes with a slot cache")
    if slot_cache is not None:
        state = ZeroFeePragueVM.get_state_class()
        vm_attrs["_state_class"] = type(
            state.__name__,
            (state,),
            {"account_db_class": caching_account_db_class(slot_cache, account_cache)},
        )
    if vm_attrs:
        vm = type("ZeroFeePragueVM", (ZeroFeePragueVM,), vm_attrs)
        attrs["vm_configuration"] = ((BlockNumber(0), vm),)
    return type(f"VoucherChainEVM{chain_id}", (VoucherChainEVM,), attrs)


def genesis_params(
    *, authority: Address, timestamp: int, gas_limit: int = DEFAULT_GAS_LIMIT
) -> dict[str, Any]:
    """Genesis header fields. ``extra_data`` holds the sealing authority's address, so the
    genesis hash commits to who may seal the chain."""
    return {
        "coinbase": authority,
        "difficulty": POST_MERGE_DIFFICULTY,
        "extra_data": bytes(authority),
        "gas_limit": gas_limit,
        "mix_hash": POST_MERGE_MIX_HASH,
        "nonce": POST_MERGE_NONCE,
        "timestamp": timestamp,
        "base_fee_per_gas": 0,
        "withdrawals_root": bytes.fromhex(
            "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
        ),
        "blob_gas_used": 0,
        "excess_blob_gas": 0,
        "parent_beacon_block_root": b"\x00" * 32,
    }


def genesis_state(accounts: Mapping[Address, int]) -> dict[Address, AccountDetails]:
    """Genesis allocations: ``address → balance``."""
    return {
        address: {"balance": balance, "nonce": 0, "code": b"", "storage": {}}
        for address, balance in accounts.items()
    }
