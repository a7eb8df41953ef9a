"""An organisation's accounts (keys): add, rotate, remove.

The registry contract's rules, checked before anything is sent: an active account of the
organisation itself, or the governor, adds and removes accounts (``addAccount``,
``removeAccount``; never the last one); a rotation is signed by the replaced key itself
(``rotateAccount``), so the API rotates only keys it holds — a self-custody key signs its own
``rotateAccount`` and relays it (``/relay``); the governor replaces another organisation's key
(``recoverAccount``, for a lost key). Holdings sit in the organisation's vault, not at a key, so
a rotation moves nothing and strands nothing. Every step takes an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Annotated

from eth_utils.address import to_checksum_address
from fastapi import APIRouter, Path, Response

from api.auth import Principal, move_api_keys, revoke_api_keys_of
from api.context import ApiContext
from api.custody import forget, holds, new_account
from api.deps import Ctx, CurrentOrg, Idempotent
from api.errors import Forbidden, LastAccount, NotCustodial, NotFound
from api.schemas.organisations import AccountCreate, AccountPublic, AccountRemoved, AccountRotate
from voucher_chain.contracts import OrgKind
from voucher_chain.errors import ContractRevert
from voucher_chain.services import TxRef

router = APIRouter(prefix="/organisations/{org_id}/accounts", tags=["organisations"])

OrgId = Annotated[int, Path(gt=0, lt=2**64)]
Account = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{40}$")]


def _self_or_governor(principal: Principal, org_id: int) -> None:
    if principal.org_id != org_id and principal.kind != OrgKind.GOVERNOR:
        raise Forbidden(
            "only the organisation itself or the governor manages its accounts", org_id=org_id
        )


def _active_accounts(ctx: ApiContext, org_id: int, account: str) -> list[str]:
    """The organisation's active accounts; NotFound unless ``account`` is one of them."""
    accounts: list[str] = [to_checksum_address(a) for a in ctx.client.registry.get(org_id).accounts]
    if to_checksum_address(account) not in accounts:
        raise NotFound(
            f"{account} is not an active account of organisation {org_id}",
            org_id=org_id,
            account=account,
        )
    return accounts


def _rotate_in_keystore(ctx: ApiContext, org_id: int, old: str) -> AccountPublic:
    """Custodial to custodial: the keystore's own rotation (the new key records the key it
    replaced, the old one is wiped only once the chain has switched); a refused rotation
    destroys the new key again."""
    assert ctx.keystore is not None  # holds(ctx, old) was checked
    made: list[str] = []
    txs: list[TxRef] = []

    def register(old_key: str, new_key: str) -> None:
        made.append(new_key)
        txs.append(ctx.client.registry.rotate_account(old_key, new_key))

    try:
        new = ctx.keystore.rotate(old, register=register)
    except ContractRevert:
        for key in made:
            ctx.keystore.revoke(key)
        raise
    return AccountPublic(org_id=org_id, account=new, custody="custodial", replaces=old, tx=txs[0])


@router.post("", status_code=201, response_model=AccountPublic)
def add(
    ctx: Ctx, principal: CurrentOrg, org_id: OrgId, body: AccountCreate, once: Idempotent
) -> Response:
    """Adds an account: a key the API generates and keeps (custodial, when ``account`` is
    omitted) or the address of a key the organisation holds (self-custody)."""
    _self_or_governor(principal, org_id)
    actor = ctx.actor(principal)

    def work() -> AccountPublic:
        ctx.client.registry.get(org_id)  # RegistryUnknownOrganisation before any key is made
        with new_account(ctx, body.account, org_id, body.label) as (account, custody):
            tx = ctx.client.registry.add_account(actor, org_id, account)
        return AccountPublic(org_id=org_id, account=account, custody=custody, tx=tx)

    return once.run(work, status_code=201)


@router.post("/{account}/rotate", response_model=AccountPublic)
def rotate(
    ctx: Ctx,
    principal: CurrentOrg,
    org_id: OrgId,
    account: Account,
    body: AccountRotate,
    once: Idempotent,
) -> Response:
    """Replaces ``account`` by a new one in one transaction; the old key stops acting at once
    (and the API destroys it if it held it). The organisation keeps everything it holds."""
    _self_or_governor(principal, org_id)
    old = to_checksum_address(account)
    recovery = principal.org_id != org_id  # the governor, for another organisation
    actor = ctx.actor(principal) if recovery else old

    def work() -> AccountPublic:
        _active_accounts(ctx, org_id, old)
        if not recovery and not holds(ctx, old):
            raise NotCustodial(
                f"the API does not hold the key of {old}: a rotation is signed by the replaced "
                "key, so sign the registry's rotateAccount(new) with it and POST it to /relay",
                account=old,
            )
        if not recovery and body.account is None:
            rotated = _rotate_in_keystore(ctx, org_id, old)
        else:
            with new_account(ctx, body.account, org_id, f"replaces {old}") as (new, custody):
                if recovery:
                    tx = ctx.client.registry.recover_account(actor, old, new)
                else:
                    tx = ctx.client.registry.rotate_account(old, new)
            forget(ctx, old)
            rotated = AccountPublic(
                org_id=org_id, account=new, custody=custody, replaces=old, tx=tx
            )
        move_api_keys(ctx.db, org_id, old, rotated.account)  # same credentials, new signer
        return rotated

    return once.run(work)


@router.delete("/{account}", response_model=AccountRemoved)
def remove(
    ctx: Ctx, principal: CurrentOrg, org_id: OrgId, account: Account, once: Idempotent
) -> Response:
    """Removes an account (never the last one); it stops acting at once, and the API destroys
    its key if it held it."""
    _self_or_governor(principal, org_id)
    target = to_checksum_address(account)
    actor = ctx.actor(principal)

    def work() -> AccountRemoved:
        if len(_active_accounts(ctx, org_id, target)) == 1:
            raise LastAccount(
                f"{target} is the last account of organisation {org_id}: add another first",
                org_id=org_id,
                account=target,
            )
        tx: TxRef = ctx.client.registry.remove_account(actor, target)
        wiped = forget(ctx, target)
        revoke_api_keys_of(ctx.db, org_id, target)
        return AccountRemoved(org_id=org_id, account=target, key_wiped=wiped, tx=tx)

    return once.run(work)
