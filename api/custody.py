"""Where an organisation's accounts come from and where their keys go.

A new account is either *custodial* — the API generates its key and keeps it, encrypted, in its
keystore (:class:`voucher_chain.signer.Keystore`) and signs for it — or *self-custody* — the
client gives the address of a key it holds, and signs its own requests (``/relay``). A key the
API generated for a step the chain then refused is destroyed again, so a refusal leaves no
orphan key; a key of an account that stops acting (removed, rotated away) is destroyed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eth_utils.address import to_checksum_address

from api.context import ApiContext
from api.errors import AccountTaken, NotCustodial
from api.schemas.organisations import Custody
from voucher_chain.contracts import call
from voucher_chain.errors import ContractRevert

__all__ = ["ensure_unused", "forget", "holds", "new_account"]


def ensure_unused(ctx: ApiContext, account: str) -> None:
    """AccountTaken if ``account`` is or was an account of an organisation (never reused)."""
    org_id, _active = call(ctx.protocol.registry.functions.orgOf(to_checksum_address(account)))
    if org_id:
        raise AccountTaken(
            f"{account} is or was an account of organisation {org_id}; accounts are never reused",
            account=account,
            org_id=int(org_id),
        )


def holds(ctx: ApiContext, account: str) -> bool:
    """Whether the API holds an active key of ``account``."""
    return (
        ctx.keystore is not None and to_checksum_address(account) in ctx.keystore.active_addresses()
    )


def forget(ctx: ApiContext, account: str) -> bool:
    """Destroys the API's key of ``account`` if it holds one; whether it did."""
    if ctx.keystore is None or not holds(ctx, account):
        return False
    ctx.keystore.revoke(account)
    return True


@contextmanager
def new_account(
    ctx: ApiContext, given: str | None, org_id: int | None, label: str
) -> Iterator[tuple[str, Custody]]:
    """The account to register: ``given`` (self-custody), or a key generated in the keystore
    (custodial) that is destroyed again if the chain refuses the step that registers it."""
    if given is not None:
        ensure_unused(ctx, given)
        yield to_checksum_address(given), "self"
        return
    if ctx.keystore is None:
        raise NotCustodial("this API keeps no keys: give the new account's address (self-custody)")
    address = ctx.keystore.generate(org_id, label)
    try:
        yield address, "custodial"
    except ContractRevert:
        ctx.keystore.revoke(address)
        raise
