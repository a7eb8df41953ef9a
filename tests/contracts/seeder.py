"""A scene built once per test module, before any test's :class:`World` exists.

Module-scoped scenes (register, fund, issue once; roll back per test) keep the contract suite
fast; the seeder keeps them from colliding with the per-test World.
"""

from __future__ import annotations

import itertools
from typing import Any

from web3 import Web3

from tests.world import BEIJING, Org, World
from voucher_chain.contracts import Category, OrgKind

ZERO_ID = b"\x00" * 32


class Seeder:
    """Builds this module's shared scene once, before any test's World exists.

    It registers organisations with accounts taken from the end of the genesis list, and uses
    credit codes, deposit references and request ids of its own, so the World each test gets
    (accounts from the front, codes and request ids numbered from 1) never collides with them.
    """

    def __init__(self, world: World, tag: str) -> None:
        self.world = world
        self._tag = tag
        self._accounts = iter(reversed(world.w3.eth.accounts[1:]))
        self._serial = itertools.count()
        self._bank = self.org(OrgKind.BANK, BEIJING)

    def _unique(self) -> bytes:
        return Web3.keccak(text=f"{self._tag}-{next(self._serial)}")

    def org(self, kind: OrgKind, region: int, *, employees: int = 20) -> Org:
        w, account = self.world, next(self._accounts)
        fn = w.p.registry.functions.registerOrganisation(
            int(kind), region, self._unique(), employees, 6510, ZERO_ID, account
        )
        args = w.event(w.send(fn, w.governor), w.p.registry, "OrganisationRegistered")
        return Org(id=args["orgId"], kind=kind, region=region, account=account, vault=args["vault"])

    def institution(self, region: int) -> Org:
        inst = self.org(OrgKind.INSTITUTION, region, employees=100)
        accredit = self.world.p.catalogue.functions.accredit(inst.id, Category.mask())
        self.world.send(accredit, self.world.governor)
        return inst

    def deposit(self, org: Org, amount: int) -> None:
        mint = self.world.p.settlement.functions.mint(org.account, amount, self._unique())
        self.world.send(mint, self._bank)

    def program(self, issuer: Org, finance: Org, budget: int, **overrides: Any) -> int:
        w = self.world
        program_id = w.create_program(issuer, w.terms(finance, **overrides))
        self.deposit(finance, budget)
        w.send(w.p.programs.functions.fund(program_id, budget), finance)
        return program_id

    def issue(self, issuer: Org, program_id: int, ent: Org, units: int) -> None:
        fn = self.world.p.programs.functions.issue(program_id, ent.id, units, self._unique())
        self.world.send(fn, issuer)
