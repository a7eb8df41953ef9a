"""Self-custody: relaying an EIP-712 ForwardRequest the organisation signed with its own key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import Ctx, CurrentOrg, Idempotent
from api.errors import NotFound, NotOwnRequest
from api.schemas.resources import RelayCreate, RelayPublic, RelayTemplate
from voucher_chain.contracts import call
from voucher_chain.signer import FORWARD_REQUEST_TYPES, forwarder_domain

router = APIRouter(prefix="/relay", tags=["relay"])


@router.get("/template")
def template(ctx: Ctx, principal: CurrentOrg) -> RelayTemplate:
    """What a self-custody wallet needs to sign a request for its account: the forwarder's
    EIP-712 domain and types, the account's next forwarder nonce, the chain's time (for the
    deadline) and the protocol contracts the relayer forwards to."""
    if ctx.relayer is None:
        raise NotFound("this API has no relayer account configured")
    p = ctx.protocol
    types: dict[str, Any] = {k: [dict(f) for f in v] for k, v in FORWARD_REQUEST_TYPES.items()}
    return RelayTemplate(
        domain=forwarder_domain(p.forwarder),
        types=types,
        account=principal.account,
        nonce=int(call(p.forwarder.functions.nonces(principal.account))),
        chain_time=int(p.w3.eth.get_block("latest")["timestamp"]),
        contracts={"programs": p.programs.address, "orders": p.orders.address},
    )


@router.post("", response_model=RelayPublic)
def relay(ctx: Ctx, principal: CurrentOrg, body: RelayCreate, once: Idempotent) -> Response:
    """Relays a signed request from the API's relayer account; the call runs as its signer,
    who must be an account of the calling organisation."""
    relayer = ctx.relayer
    if relayer is None:
        raise NotFound("this API has no relayer account configured")
    message = body.request.get("message")
    signer = str(message.get("from", "")) if isinstance(message, dict) else ""
    if signer.lower() not in {
        a.lower() for a in ctx.client.registry.get(principal.org_id).accounts
    }:
        raise NotOwnRequest("the request is not signed by an account of your organisation")

    def send() -> RelayPublic:
        receipt = relayer.relay(body.request, body.signature)
        return RelayPublic(
            tx_hash=receipt["transactionHash"].to_0x_hex(),
            block_number=receipt["blockNumber"],
            signer=signer,
            target=str(body.request["message"]["to"]),
        )

    return once.run(send)
