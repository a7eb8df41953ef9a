"""The settlement token: deposits (bank mints), withdrawals (bank burns), payments, balances."""

from __future__ import annotations

from voucher_chain.services.base import Service
from voucher_chain.services.models import TxRef, request_id_bytes

__all__ = ["MoneyService"]


class MoneyService(Service):
    def deposit(self, bank: str, account: str, amount: int, reference: str) -> TxRef:
        """The bank mints ``amount`` fen into the organisation of ``account`` against a deposit."""
        fn = self.p.settlement.functions.mint(account, amount, request_id_bytes(reference))
        return self._ref(self._send(fn, bank))

    def withdraw(self, bank: str, amount: int, reference: str) -> TxRef:
        """The bank burns ``amount`` fen of its own against a withdrawal paid out off chain."""
        fn = self.p.settlement.functions.burn(amount, request_id_bytes(reference))
        return self._ref(self._send(fn, bank))

    def pay(self, payer: str, to: str, amount: int) -> TxRef:
        return self._ref(self._send(self.p.settlement.functions.transfer(to, amount), payer))

    def balance(self, account: str) -> int:
        """The settlement balance of the organisation ``account`` acts for, in fen."""
        return int(self._call(self.p.settlement.functions.balanceOf(account)))

    def supply(self) -> tuple[int, int, int]:
        """(total supply, total minted, total burned) in fen."""
        s = self.p.settlement.functions
        return (
            int(self._call(s.totalSupply())),
            int(self._call(s.totalMinted())),
            int(self._call(s.totalBurned())),
        )
