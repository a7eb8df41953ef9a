"""What every request works with: the settings, the database, the chain and the keys."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from api.auth import Principal
from api.db import Database
from api.errors import NotCustodial
from api.settings import Settings
from voucher_chain.contracts import Protocol
from voucher_chain.services import VoucherClient
from voucher_chain.signer import Keystore, Relayer

__all__ = ["ApiContext"]


@dataclass
class ApiContext:
    settings: Settings
    db: Database
    protocol: Protocol
    client: VoucherClient
    keystore: Keystore | None
    relayer: Relayer | None

    def actor(self, principal: Principal) -> str:
        """The custodial account that signs for ``principal``'s organisation: its own account if
        the API holds that key, else another active key the API holds for the organisation."""
        held = self.keystore.active_addresses() if self.keystore is not None else []
        account = to_checksum_address(principal.account)
        if account in held:
            return account
        for address in held:
            if self.client.registry.org_of(address) == principal.org_id:
                return address
        raise NotCustodial(
            f"the API holds no key of organisation {principal.org_id}: sign an EIP-712 "
            "ForwardRequest with your own key and POST it to /relay",
            org_id=principal.org_id,
        )
