"""JSON-RPC over WebSocket and eth_subscribe (newHeads, logs), with web3.py's
WebSocketProvider."""

from __future__ import annotations

import asyncio

from web3 import AsyncWeb3, WebSocketProvider

from tests.node.conftest import DevChain
from voucher_chain.contracts import OrgKind


def test_subscriptions_push_new_heads_and_logs(dev_chain: DevChain) -> None:
    url = dev_chain.server.url.replace("http://", "ws://")
    registry = dev_chain.protocol.registry.address
    topic = dev_chain.protocol.registry.events.OrganisationRegistered().topic

    async def scenario() -> tuple[int, list[object], list[object]]:
        async with AsyncWeb3(WebSocketProvider(url)) as w3:
            chain_id = await w3.eth.chain_id
            heads = await w3.eth.subscribe("newHeads")
            logs = await w3.eth.subscribe("logs", {"address": registry, "topics": [topic]})
            await asyncio.to_thread(dev_chain.register, OrgKind.ISSUER)
            seen_heads: list[object] = []
            seen_logs: list[object] = []
            async for message in w3.socket.process_subscriptions():
                if message["subscription"] == heads:
                    seen_heads.append(message["result"])
                elif message["subscription"] == logs:
                    seen_logs.append(message["result"])
                if seen_logs and seen_heads:
                    break
            assert await w3.eth.unsubscribe(heads)
            return chain_id, seen_heads, seen_logs

    chain_id, heads, logs = asyncio.run(asyncio.wait_for(scenario(), timeout=30))
    assert chain_id == dev_chain.node.chain_id
    assert heads and "stateRoot" in heads[0]  # type: ignore[operator]
    assert len(logs) == 1
