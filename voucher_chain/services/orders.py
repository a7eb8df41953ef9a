"""The order lifecycle: place, accept, reject, cancel, deliver, confirm (instant settlement),
claim, dispute, resolve, expire — each safe to retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from eth_typing import ABIEvent
from eth_utils.abi import event_abi_to_log_topic
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from voucher_chain.contracts.types import OrderState, SettlementMethod
from voucher_chain.services.base import Service
from voucher_chain.services.idempotency import once
from voucher_chain.services.models import (
    DisputeResolution,
    Order,
    OrderCreate,
    OrderStep,
    Settlement,
    TxRef,
    request_id_bytes,
)

__all__ = ["OrderService"]


class OrderService(Service):
    def place(self, enterprise: str, order: OrderCreate) -> Order:
        """Places an order; retrying with the same request id returns the first order."""
        rid = request_id_bytes(order.request_id)

        def lookup() -> Order | None:
            order_id = int(self._call(self.p.orders.functions.orderOfRequest(rid)))
            if order_id == 0:
                return None
            placed = self._logs(self.p.orders, "OrderPlaced", {"orderId": order_id})
            return self.get(order_id, placed[0][1] if placed else None)

        def send() -> Order:
            fn = self.p.orders.functions.placeOrder(
                order.service_id,
                order.quantity,
                order.program_id,
                order.units,
                order.own_funds,
                rid,
            )
            receipt = self._send(fn, enterprise)
            order_id = self._event(receipt, self.p.orders, "OrderPlaced")["orderId"]
            return self.get(order_id, self._ref(receipt))

        return once(lookup, send, look_first=False)  # OrderDuplicateRequest

    def accept(self, institution: str, order_id: int) -> Order:
        fn = self.p.orders.functions.accept(order_id)
        return self._step(institution, order_id, fn, lambda s: s >= OrderState.ACCEPTED)

    def reject(self, institution: str, order_id: int, reason_code: int) -> Order:
        fn = self.p.orders.functions.reject(order_id, reason_code)
        return self._step(institution, order_id, fn, lambda s: s == OrderState.REJECTED)

    def cancel(self, enterprise: str, order_id: int) -> Order:
        fn = self.p.orders.functions.cancel(order_id)
        return self._step(enterprise, order_id, fn, lambda s: s == OrderState.CANCELLED)

    def deliver(self, institution: str, order_id: int, deliverable_hash: bytes) -> Order:
        fn = self.p.orders.functions.deliver(order_id, deliverable_hash)
        done = (OrderState.DELIVERED, OrderState.SETTLED)
        return self._step(institution, order_id, fn, lambda s: s in done)

    def dispute(self, enterprise: str, order_id: int, reason_hash: bytes) -> Order:
        fn = self.p.orders.functions.dispute(order_id, reason_hash)
        done = (OrderState.DISPUTED, OrderState.RESOLVED)
        return self._step(enterprise, order_id, fn, lambda s: s in done)

    def resolve(self, actor: str, order_id: int, split: DisputeResolution) -> Order:
        fn = self.p.orders.functions.resolveDispute(order_id, split.units, split.own_funds)
        return self._step(actor, order_id, fn, lambda s: s == OrderState.RESOLVED)

    def expire(self, actor: str, order_id: int) -> Order:
        fn = self.p.orders.functions.expire(order_id)
        return self._step(actor, order_id, fn, lambda s: s == OrderState.EXPIRED)

    def confirm(self, enterprise: str, order_id: int) -> Settlement:
        """Confirms delivery: the institution is paid in this transaction. Retries pay nothing."""
        return self._settle(enterprise, order_id, self.p.orders.functions.confirm(order_id))

    def claim(self, institution: str, order_id: int) -> Settlement:
        """Claims payment after the silent confirmation window. Retries pay nothing."""
        return self._settle(institution, order_id, self.p.orders.functions.claim(order_id))

    # -- queries ----------------------------------------------------------------------------------

    def get(self, order_id: int, tx: TxRef | None = None) -> Order:
        o = self._call(self.p.orders.functions.order(order_id))
        return Order(
            id=order_id,
            program_id=o[0],
            service_id=o[1],
            enterprise_org=o[2],
            institution_org=o[3],
            category=o[4],
            state=OrderState(o[5]),
            placed_at=o[6],
            delivered_at=o[7],
            units=o[8],
            price=o[9],
            voucher_value=o[10],
            own_funds=o[11],
            deliverable_hash="0x" + bytes(o[12]).hex(),
            request_id="0x" + bytes(o[13]).hex(),
            tx=tx,
        )

    def find(self, *, org_id: int | None = None, state: OrderState | None = None) -> list[Order]:
        """Orders where ``org_id`` is the enterprise or the institution, optionally in ``state``."""
        count = int(self._call(self.p.orders.functions.orderCount()))
        out = []
        for order_id in range(1, count + 1):
            o = self.get(order_id)
            if org_id is not None and org_id not in (o.enterprise_org, o.institution_org):
                continue
            if state is not None and o.state != state:
                continue
            out.append(o)
        return out

    def settlements(self, institution_org: int) -> list[Settlement]:
        """Every payment an institution received for orders, with its transaction."""
        logs = self._logs(self.p.orders, "OrderSettled", {"institutionOrg": institution_org})
        return [self._settlement(args, ref) for args, ref in logs]

    def steps(self, order_id: int) -> list[OrderStep]:
        """Every event of an order, oldest first, each with its transaction and time. Every
        order-book event has the order id as its first indexed argument: one log query."""
        topic = "0x" + order_id.to_bytes(32, "big").hex()
        logs = self.p.w3.eth.get_logs(
            {"address": self.p.orders.address, "fromBlock": 0, "topics": [None, topic]}
        )
        by_topic = {
            "0x" + event_abi_to_log_topic(cast(ABIEvent, e)).hex(): cast(ABIEvent, e)["name"]
            for e in self.p.orders.abi
            if e.get("type") == "event"
        }
        times: dict[int, int] = {}
        out = []
        for log in logs:
            name = by_topic.get("0x" + bytes(log["topics"][0]).hex())
            if name is None:
                continue
            block = int(log["blockNumber"])
            if block not in times:
                times[block] = int(self.p.w3.eth.get_block(block)["timestamp"])
            ref = TxRef(tx_hash=log["transactionHash"].to_0x_hex(), block_number=block)
            out.append(OrderStep(step=name.removeprefix("Order"), tx=ref, at=times[block]))
        return out

    # -- internals --------------------------------------------------------------------------------

    def _step(
        self,
        actor: str,
        order_id: int,
        fn: ContractFunction,
        done: Callable[[OrderState], bool],
    ) -> Order:
        def lookup() -> Order | None:
            o = self.get(order_id)
            return o if done(o.state) else None

        def send() -> Order:
            return self.get(order_id, self._ref(self._send(fn, actor)))

        return once(lookup, send, look_first=False)  # OrderInvalidState

    def _settle(self, actor: str, order_id: int, fn: ContractFunction) -> Settlement:
        def lookup() -> Settlement | None:
            logs = self._logs(self.p.orders, "OrderSettled", {"orderId": order_id})
            return self._settlement(*logs[0]) if logs else None

        def send() -> Settlement:
            receipt = self._send(fn, actor)
            args = self._event(receipt, self.p.orders, "OrderSettled")
            return self._settlement(args, self._ref(receipt), receipt)

        return once(lookup, send, look_first=False)  # OrderInvalidState

    def _settlement(
        self, args: dict[str, Any], ref: TxRef, receipt: TxReceipt | None = None
    ) -> Settlement:
        """The settlement of ``args`` (an ``OrderSettled`` event), with the rewards its
        transaction paid: from ``receipt`` when the caller holds it, else fetched."""
        rewards = 0
        if receipt is None and ref.tx_hash is not None:
            receipt = self.p.w3.eth.get_transaction_receipt(ref.tx_hash)  # type: ignore[arg-type]
        if receipt is not None:
            rewards = sum(e["amount"] for e in self._events(receipt, self.p.programs, "RewardPaid"))
        return Settlement(
            order_id=args["orderId"],
            institution_org=args["institutionOrg"],
            voucher_value=args["voucherValue"],
            own_funds=args["ownFunds"],
            rewards=rewards,
            method=SettlementMethod(args["method"]),
            tx=ref,
        )
