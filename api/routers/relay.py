"""Self-custody: relaying an EIP-712 ForwardRequest the organisation signed with its own key."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Ctx, CurrentOrg, Idempotent
from api.errors import NotFound, NotOwnRequest
from api.schemas.resources import RelayCreate, RelayPublic

router = APIRouter(prefix="/relay", tags=["relay"])


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
