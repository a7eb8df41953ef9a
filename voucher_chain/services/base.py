"""What every domain service shares: the deployed protocol and a way to send transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxReceipt

from voucher_chain.contracts import Protocol, call
from voucher_chain.services.models import TxRef

__all__ = ["Service", "Transact"]

#: Sends a contract call from an account and returns its receipt, raising ContractRevert on a
#: revert: :func:`voucher_chain.contracts.transact` (the node signs) or
#: :meth:`voucher_chain.signer.Submitter.transact` (our signer signs).
Transact = Callable[[ContractFunction, str], TxReceipt]


class Service:
    """Base of the domain services: holds the protocol and the transactor."""

    def __init__(self, protocol: Protocol, transact: Transact) -> None:
        self.p = protocol
        self._transact = transact

    def _send(self, fn: ContractFunction, sender: str) -> TxReceipt:
        return self._transact(fn, sender)

    @staticmethod
    def _call(fn: ContractFunction) -> Any:
        return call(fn)

    @staticmethod
    def _ref(receipt: TxReceipt) -> TxRef:
        return TxRef(
            tx_hash=receipt["transactionHash"].to_0x_hex(), block_number=receipt["blockNumber"]
        )

    @staticmethod
    def _events(receipt: TxReceipt, contract: Contract, name: str) -> list[dict[str, Any]]:
        return [
            dict(e["args"])
            for e in contract.events[name]().process_receipt(receipt, errors=DISCARD)
        ]

    @staticmethod
    def _logs(
        contract: Contract, event: str, filters: dict[str, Any]
    ) -> list[tuple[dict[str, Any], TxRef]]:
        """Past events of ``contract`` matching indexed ``filters``, each with its transaction."""
        logs = contract.events[event].get_logs(from_block=0, argument_filters=filters)
        return [
            (
                dict(log["args"]),
                TxRef(
                    tx_hash=log["transactionHash"].to_0x_hex(),
                    block_number=log["blockNumber"],
                    replayed=True,
                ),
            )
            for log in logs
        ]

    def _event(self, receipt: TxReceipt, contract: Contract, name: str) -> dict[str, Any]:
        found = self._events(receipt, contract, name)
        if len(found) != 1:
            raise AssertionError(f"expected one {name} event, got {len(found)}")
        return found[0]
