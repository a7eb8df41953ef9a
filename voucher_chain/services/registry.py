"""Organisations and their accounts: registration, keys, suspension and supervision."""

from __future__ import annotations

from voucher_chain.contracts.types import OrgKind, OrgStatus
from voucher_chain.services.base import Service
from voucher_chain.services.models import Organisation, OrganisationCreate, TxRef, text_hash
from voucher_chain.signer.keystore import Keystore

__all__ = ["RegistryService"]


class RegistryService(Service):
    def register(self, registrar: str, org: OrganisationCreate) -> Organisation:
        """Registers an organisation with its first account (governor, or an issuer locally)."""
        fn = self.p.registry.functions.registerOrganisation(
            int(org.kind),
            org.region,
            text_hash(org.credit_code),
            org.employees,
            org.industry,
            text_hash(org.affiliation),
            org.account,
        )
        receipt = self._send(fn, registrar)
        return self.get(self._event(receipt, self.p.registry, "OrganisationRegistered")["orgId"])

    def get(self, org_id: int) -> Organisation:
        raw = self._call(self.p.registry.functions.organisation(org_id))
        kind, status, region, employees, industry, registrar, code_hash, affiliation = raw
        return Organisation(
            id=org_id,
            kind=OrgKind(kind),
            status=OrgStatus(status),
            region=region,
            employees=employees,
            industry=industry,
            registrar=registrar,
            credit_code_hash="0x" + bytes(code_hash).hex(),
            affiliation="0x" + bytes(affiliation).hex(),
            vault=self._call(self.p.registry.functions.vaultOf(org_id)),
            accounts=list(self._call(self.p.registry.functions.accountsOf(org_id))),
        )

    def org_of(self, account: str) -> int:
        """The organisation an account acts for (0 if none or no longer active)."""
        org_id, active = self._call(self.p.registry.functions.orgOf(account))
        return int(org_id) if active else 0

    def update_profile(
        self, actor: str, org_id: int, employees: int, industry: int, affiliation: str | None
    ) -> TxRef:
        fn = self.p.registry.functions.updateProfile(
            org_id, employees, industry, text_hash(affiliation)
        )
        return self._ref(self._send(fn, actor))

    def add_account(self, actor: str, org_id: int, account: str) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.addAccount(org_id, account), actor))

    def remove_account(self, actor: str, account: str) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.removeAccount(account), actor))

    def rotate_account(self, account: str, new_account: str) -> TxRef:
        """Key rotation: ``account`` hands its place in the organisation to ``new_account``."""
        return self._ref(self._send(self.p.registry.functions.rotateAccount(new_account), account))

    def rotate_key(self, keystore: Keystore, account: str) -> str:
        """Key rotation end to end: a fresh key of the same organisation in ``keystore``, the
        registry's ``rotateAccount`` signed by the old key, then the old key revoked and wiped."""
        return keystore.rotate(account, register=self.rotate_account)

    def recover_account(self, governor: str, lost: str, new_account: str) -> TxRef:
        fn = self.p.registry.functions.recoverAccount(lost, new_account)
        return self._ref(self._send(fn, governor))

    def suspend(self, actor: str, org_id: int, reason_code: int) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.suspend(org_id, reason_code), actor))

    def reinstate(self, actor: str, org_id: int) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.reinstate(org_id), actor))

    def freeze(self, regulator: str, org_id: int, reason_code: int) -> TxRef:
        fn = self.p.registry.functions.freeze(org_id, reason_code)
        return self._ref(self._send(fn, regulator))

    def unfreeze(self, regulator: str, org_id: int) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.unfreeze(org_id), regulator))

    def pause(self, governor: str) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.pause(), governor))

    def unpause(self, governor: str) -> TxRef:
        return self._ref(self._send(self.p.registry.functions.unpause(), governor))

    def paused(self) -> bool:
        return bool(self._call(self.p.registry.functions.paused()))
