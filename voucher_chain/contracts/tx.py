"""Sending a contract transaction or call, with reverts raised as the domain error tree.

This is the minimal seam the signer/SDK will replace: it relies on the web3 connection to sign
(eth-tester's unlocked accounts, or a signing middleware).
"""

from __future__ import annotations

from typing import Any

from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from voucher_chain.contracts.revert import protocol_error_decoder, revert_data_of
from voucher_chain.errors import TransactionFailed

__all__ = ["call", "transact"]


def transact(fn: ContractFunction, sender: str, *, timeout: float = 30.0) -> TxReceipt:
    """Sends ``fn`` from ``sender`` and waits for its receipt.

    Raises :class:`~voucher_chain.errors.ContractRevert` with the decoded custom error when the
    contract rejects it, :class:`~voucher_chain.errors.TransactionFailed` when it fails otherwise.
    """
    params: TxParams = {"from": sender}
    try:
        tx_hash = fn.transact(params)
    except Exception as exc:
        data = revert_data_of(exc)
        if data is None:
            raise
        raise protocol_error_decoder().decode(data) from None
    receipt = fn.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        raise TransactionFailed(
            f"transaction {tx_hash.to_0x_hex()} failed without revert data",
            tx_hash=tx_hash.to_0x_hex(),
        )
    return receipt


def call(fn: ContractFunction, sender: str | None = None) -> Any:
    """Calls ``fn`` (read-only); reverts raise :class:`~voucher_chain.errors.ContractRevert`."""
    params: TxParams = {"from": sender} if sender else {}
    try:
        return fn.call(params)
    except Exception as exc:
        data = revert_data_of(exc)
        if data is None:
            raise
        raise protocol_error_decoder().decode(data) from None
