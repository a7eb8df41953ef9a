"""Organisations: one's own, any (for a regulator), and registering new ones.

Who may register whom is the registry contract's rule, checked here before anything is sent: the
governor registers any kind but a governor; an issuer registers enterprises, start-up teams and
institutions in its own region (``ParticipantRegistry.registerOrganisation``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from api import auth
from api.auth import Principal
from api.custody import new_account
from api.deps import Client, Ctx, CurrentOrg, Idempotent, require_kinds
from api.errors import Forbidden, NotFound
from api.schemas.auth import ApiKeyCreated, ApiKeyPublic
from api.schemas.organisations import OrganisationRegister, OrganisationRegistered
from api.schemas.resources import OrganisationMe
from voucher_chain.contracts import OrgKind, OrgStatus
from voucher_chain.contracts.regions import matches
from voucher_chain.services import Organisation, OrganisationCreate, VoucherClient

router = APIRouter(prefix="/organisations", tags=["organisations"])

RegistrarOrg = Annotated[Principal, Depends(require_kinds(OrgKind.GOVERNOR, OrgKind.ISSUER))]
#: What an issuer may register (``Kinds.VOUCHER_HOLDERS | Kinds.INSTITUTION``).
ISSUER_REGISTERS = (OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM, OrgKind.INSTITUTION)


def check_registrar(
    client: VoucherClient, principal: Principal, body: OrganisationRegister
) -> None:
    """Forbidden unless the chain would let ``principal`` register ``body``."""
    if principal.kind != OrgKind.ISSUER:
        return  # the governor registers any kind but a governor (the schema refuses that)
    if body.kind not in ISSUER_REGISTERS:
        raise Forbidden(
            "an issuer registers only enterprises, start-up teams and institutions; the governor "
            f"registers a {body.kind.name.lower()}",
            kind=body.kind.name.lower(),
        )
    own_region = client.registry.get(principal.org_id).region
    if not matches(own_region, body.region):
        raise Forbidden(
            f"region {body.region} is outside the issuer's region {own_region}",
            region=body.region,
            issuer_region=own_region,
        )


@router.post("", status_code=201, response_model=OrganisationRegistered)
def register(
    ctx: Ctx, principal: RegistrarOrg, body: OrganisationRegister, once: Idempotent
) -> Response:
    """Registers an organisation with its first account: a key the API generates and keeps
    (custodial, when ``account`` is omitted) or the address of the organisation's own key."""
    check_registrar(ctx.client, principal, body)
    actor = ctx.actor(principal)

    def work() -> OrganisationRegistered:
        label = f"{body.kind.name.lower()} {body.region}"
        with new_account(ctx, body.account, None, label) as (account, custody):
            fields = body.model_dump(exclude={"account"})
            org = ctx.client.registry.register(actor, OrganisationCreate(**fields, account=account))
        key = None
        if custody == "custodial":
            holder = Principal(org_id=org.id, kind=org.kind, account=account, via="api-key")
            note = f"first key, registered by organisation {principal.org_id}"
            record, secret = auth.create_api_key(ctx.db, holder, "write", note)
            key = ApiKeyCreated(**record, secret=secret)
        return OrganisationRegistered(
            organisation=org, account=account, custody=custody, api_key=key
        )

    def without_secret(result: BaseModel) -> BaseModel:
        assert isinstance(result, OrganisationRegistered)
        if result.api_key is None:
            return result
        public = ApiKeyPublic(**result.api_key.model_dump(exclude={"secret"}))
        return result.model_copy(update={"api_key": public})

    return once.run(work, status_code=201, replay_body=without_secret)


@router.get("/me")
def me(client: Client, principal: CurrentOrg) -> OrganisationMe:
    return OrganisationMe(
        organisation=client.registry.get(principal.org_id),
        account=principal.account,
        settlement_balance=client.money.balance(principal.account),
    )


@router.get("/{org_id}")
def get(
    client: Client, principal: CurrentOrg, org_id: Annotated[int, Path(gt=0, lt=2**64)]
) -> Organisation:
    """An organisation: one's own, or any for a regulator."""
    if org_id != principal.org_id and principal.kind != OrgKind.REGULATOR:
        raise Forbidden("an organisation sees only itself", org_id=org_id)
    org = client.registry.get(org_id)
    if org.status == OrgStatus.NONE:
        raise NotFound(f"no organisation {org_id}", org_id=org_id)
    return org
