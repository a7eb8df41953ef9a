"""ServiceCatalogue: the governor's categories (never hardware), accreditation, listed services."""

from __future__ import annotations

from typing import Any

import pytest

from tests.world import BEIJING, CHANGXING, HUZHOU, SHANGHAI, SHANGHAI_PUDONG, YUAN, World, reverts
from voucher_chain.contracts import DEFAULT_CATEGORIES, Category, KindMask, OrgKind, call

GOVERNOR = int(KindMask.GOVERNOR)
REGISTRARS = int(KindMask.GOVERNOR | KindMask.ISSUER)
INSTITUTION = int(KindMask.INSTITUTION)
ALL = Category.mask()


class Address(str):
    """An address that equals any spelling of itself: reverts decode addresses in lower case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.lower())


def categories(world: World) -> list[tuple[str, bool]]:
    fns = world.p.catalogue.functions
    return [tuple(call(fns.categoryInfo(i))) for i in range(call(fns.categoryCount()))]


def accreditation(world: World, org_id: int) -> int:
    return int(call(world.p.catalogue.functions.accreditation(org_id)))


def service(world: World, service_id: int) -> Any:
    return call(world.p.catalogue.functions.service(service_id))


# -- categories -----------------------------------------------------------------------------------


def test_default_categories_and_no_hardware(world: World) -> None:
    fns = world.p.catalogue.functions
    assert len(DEFAULT_CATEGORIES) == 7
    assert categories(world) == [(name, True) for name in DEFAULT_CATEGORIES]
    assert [c.value for c in Category] == list(range(7))
    assert call(fns.definedMask()) == 0x7F == ALL
    names = " ".join(DEFAULT_CATEGORIES).lower()
    assert "hardware" not in names and "硬件" not in names and "设备" not in names
    for cat in Category:
        call(fns.requireActiveCategory(int(cat)))  # does not revert
    for undefined in (7, 200, 255):
        with reverts("CatalogueInactiveCategory", category=undefined):
            call(fns.requireActiveCategory(undefined))
        with reverts("CatalogueUnknownCategories", mask=1 << undefined):
            call(fns.categoryInfo(undefined))


def test_governor_adds_a_category(world: World) -> None:
    cat = world.p.catalogue
    receipt = world.send(
        cat.functions.addCategory("知识产权 Intellectual property"), world.governor
    )
    assert world.event(receipt, cat, "CategoryAdded") == {
        "category": 7,
        "name": "知识产权 Intellectual property",
    }
    assert call(cat.functions.categoryCount()) == 8
    assert call(cat.functions.definedMask()) == 0xFF
    assert categories(world)[7] == ("知识产权 Intellectual property", True)


def test_add_category_rejected(world: World) -> None:
    fns = world.p.catalogue.functions
    for kind in (OrgKind.ISSUER, OrgKind.REGULATOR, OrgKind.INSTITUTION):
        caller = world.register(kind, SHANGHAI)
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=GOVERNOR
        ):
            world.send(fns.addCategory("Hardware purchase"), caller)
    with reverts("CatalogueEmptyName"):
        world.send(fns.addCategory(""), world.governor)
    world.send(world.p.registry.functions.pause(), world.governor)
    with reverts("ProtocolPaused"):
        world.send(fns.addCategory("Consulting II"), world.governor)
    assert call(fns.categoryCount()) == 7


def test_retire_and_restore_a_category(world: World) -> None:
    cat = world.p.catalogue
    inst = world.institution(SHANGHAI)
    novelty = int(Category.NOVELTY_SEARCH)
    receipt = world.send(cat.functions.setCategoryActive(novelty, False), world.governor)
    assert world.event(receipt, cat, "CategoryStatusChanged") == {
        "category": novelty,
        "active": False,
    }
    assert categories(world)[novelty] == (DEFAULT_CATEGORIES[novelty], False)
    with reverts("CatalogueInactiveCategory", category=novelty):
        world.list_service(inst, Category.NOVELTY_SEARCH)
    with reverts("CatalogueInactiveCategory", category=novelty):
        call(cat.functions.requireActiveCategory(novelty))
    assert call(cat.functions.definedMask()) == ALL  # retired, still defined
    receipt = world.send(cat.functions.setCategoryActive(novelty, True), world.governor)
    assert world.event(receipt, cat, "CategoryStatusChanged")["active"] is True
    world.list_service(inst, Category.NOVELTY_SEARCH)


def test_set_category_active_rejected(world: World) -> None:
    fns = world.p.catalogue.functions
    with reverts("CatalogueUnknownCategories", mask=1 << 7):
        world.send(fns.setCategoryActive(7, True), world.governor)
    issuer = world.issuer(SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(issuer.account), allowedKinds=GOVERNOR
    ):
        world.send(fns.setCategoryActive(0, False), issuer)
    assert categories(world)[0] == (DEFAULT_CATEGORIES[0], True)


# -- accreditation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accreditor_region", "inst_region"),
    [(None, BEIJING), (SHANGHAI, SHANGHAI_PUDONG), (HUZHOU, CHANGXING), (CHANGXING, CHANGXING)],
)
def test_accredit(world: World, accreditor_region: int | None, inst_region: int) -> None:
    cat = world.p.catalogue
    by = world.governor if accreditor_region is None else world.issuer(accreditor_region)
    inst = world.institution(inst_region, categories=0)
    mask = Category.mask(Category.TESTING, Category.RD_DESIGN)
    receipt = world.send(cat.functions.accredit(inst.id, mask), by)
    assert world.event(receipt, cat, "InstitutionAccredited") == {
        "institutionOrg": inst.id,
        "categories": mask,
        "byOrg": by.id,
    }
    assert accreditation(world, inst.id) == mask
    assert call(cat.functions.isAccredited(inst.id, int(Category.RD_DESIGN))) is True
    assert call(cat.functions.isAccredited(inst.id, int(Category.TESTING))) is True
    assert call(cat.functions.isAccredited(inst.id, int(Category.COOPERATIVE_RD))) is False
    # A new accreditation replaces the old set; an empty one withdraws it.
    world.send(cat.functions.accredit(inst.id, Category.mask(Category.NOVELTY_SEARCH)), by)
    assert accreditation(world, inst.id) == Category.mask(Category.NOVELTY_SEARCH)
    world.send(cat.functions.accredit(inst.id, 0), by)
    assert accreditation(world, inst.id) == 0


@pytest.mark.parametrize(
    ("issuer_region", "inst_region"),
    [(SHANGHAI, BEIJING), (HUZHOU, 330100), (CHANGXING, 330523)],
)
def test_issuer_accredits_only_in_its_region(
    world: World, issuer_region: int, inst_region: int
) -> None:
    issuer = world.issuer(issuer_region)
    inst = world.institution(inst_region, categories=0)
    with reverts(
        "CatalogueOutsideJurisdiction",
        institutionOrg=inst.id,
        region=inst_region,
        issuerRegion=issuer_region,
    ):
        world.send(world.p.catalogue.functions.accredit(inst.id, ALL), issuer)
    assert accreditation(world, inst.id) == 0


@pytest.mark.parametrize(
    "kind", [OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM, OrgKind.ISSUER, OrgKind.BANK]
)
@pytest.mark.parametrize("by_issuer", [False, True])
def test_only_institutions_are_accredited(world: World, kind: OrgKind, by_issuer: bool) -> None:
    by = world.issuer(SHANGHAI) if by_issuer else world.governor
    org = world.register(kind, SHANGHAI_PUDONG)
    with reverts("CatalogueNotInstitution", orgId=org.id):
        world.send(world.p.catalogue.functions.accredit(org.id, ALL), by)
    assert accreditation(world, org.id) == 0


def test_accredit_rejected(world: World) -> None:
    fns = world.p.catalogue.functions
    inst = world.institution(SHANGHAI, categories=Category.mask(Category.TESTING))
    for mask in (1 << 7, ALL | 1 << 7, 1 << 255):
        with reverts("CatalogueUnknownCategories", mask=mask):
            world.send(fns.accredit(inst.id, mask), world.governor)
    with reverts("RegistryUnknownOrganisation", orgId=99):
        world.send(fns.accredit(99, ALL), world.governor)
    for kind in (OrgKind.INSTITUTION, OrgKind.REGULATOR, OrgKind.FINANCE, OrgKind.ENTERPRISE):
        caller = inst if kind == OrgKind.INSTITUTION else world.register(kind, SHANGHAI)
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=REGISTRARS
        ):
            world.send(fns.accredit(inst.id, ALL), caller)
    world.send(world.p.registry.functions.pause(), world.governor)
    with reverts("ProtocolPaused"):
        world.send(fns.accredit(inst.id, ALL), world.governor)
    assert accreditation(world, inst.id) == Category.mask(Category.TESTING)


# -- services -------------------------------------------------------------------------------------


def test_list_service(world: World) -> None:
    cat = world.p.catalogue
    inst = world.institution(SHANGHAI, categories=Category.mask(Category.TECHNICAL_CONSULTING))
    consulting = int(Category.TECHNICAL_CONSULTING)
    fn = cat.functions.listService(consulting, 8_800 * YUAN, "芯片可靠性咨询")
    receipt = world.send(fn, inst)
    assert world.event(receipt, cat, "ServiceListed") == {
        "serviceId": 1,
        "institutionOrg": inst.id,
        "category": consulting,
        "price": 8_800 * YUAN,
        "name": "芯片可靠性咨询",
    }
    assert service(world, 1) == (inst.id, consulting, True, 8_800 * YUAN, "芯片可靠性咨询")
    assert call(cat.functions.serviceCount()) == 1
    assert world.list_service(inst, Category.TECHNICAL_CONSULTING, 1) == 2


@pytest.mark.parametrize(
    ("category", "price", "name", "error", "args"),
    [
        (7, 100, "3D printer", "CatalogueInactiveCategory", {"category": 7}),  # "hardware"
        (200, 100, "Server rack", "CatalogueInactiveCategory", {"category": 200}),
        (255, 100, "Lab bench", "CatalogueInactiveCategory", {"category": 255}),
        (int(Category.COOPERATIVE_RD), 100, "Joint R&D", "CatalogueNotAccredited", {"category": 1}),
        (int(Category.TESTING), 0, "Free test", "ProtocolZeroAmount", {}),
        (int(Category.TESTING), 100, "", "CatalogueEmptyName", {}),
    ],
)
def test_list_service_rejected(
    world: World, category: int, price: int, name: str, error: str, args: dict[str, int]
) -> None:
    inst = world.institution(SHANGHAI, categories=Category.mask(Category.TESTING))
    if error == "CatalogueNotAccredited":
        args = {**args, "institutionOrg": inst.id}
    with reverts(error, **args):
        world.send(world.p.catalogue.functions.listService(category, price, name), inst)
    assert call(world.p.catalogue.functions.serviceCount()) == 0


def test_only_an_active_institution_lists(world: World) -> None:
    fns = world.p.catalogue.functions
    for kind in (OrgKind.ENTERPRISE, OrgKind.ISSUER, OrgKind.GOVERNOR):
        caller = world.governor if kind == OrgKind.GOVERNOR else world.register(kind, SHANGHAI)
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=INSTITUTION
        ):
            world.send(fns.listService(0, 100, "Testing"), caller)
    inst = world.institution(SHANGHAI)
    world.send(world.p.registry.functions.freeze(inst.id, 1), world.regulator())
    with reverts("ProtocolOrgNotActive", orgId=inst.id, status=3):
        world.send(fns.listService(0, 100, "Testing"), inst)
    world.send(world.p.registry.functions.unfreeze(inst.id), world.governor)
    world.send(world.p.registry.functions.pause(), world.governor)
    with reverts("ProtocolPaused"):
        world.send(fns.listService(0, 100, "Testing"), inst)
    assert call(fns.serviceCount()) == 0


def test_update_service(world: World) -> None:
    cat = world.p.catalogue
    inst = world.institution(SHANGHAI)
    service_id = world.list_service(inst, Category.TESTING, 1_000 * YUAN)
    receipt = world.send(cat.functions.updateService(service_id, 1_200 * YUAN, False), inst)
    assert world.event(receipt, cat, "ServiceUpdated") == {
        "serviceId": service_id,
        "institutionOrg": inst.id,
        "price": 1_200 * YUAN,
        "active": False,
    }
    assert service(world, service_id)[2:4] == (False, 1_200 * YUAN)
    world.send(cat.functions.updateService(service_id, 900 * YUAN, True), inst)
    assert service(world, service_id)[2:4] == (True, 900 * YUAN)


def test_update_service_rejected(world: World) -> None:
    fns = world.p.catalogue.functions
    inst, rival = world.institution(SHANGHAI), world.institution(SHANGHAI)
    service_id = world.list_service(inst, Category.TESTING, 1_000 * YUAN)
    with reverts("CatalogueNotServiceOwner", serviceId=service_id, orgId=rival.id):
        world.send(fns.updateService(service_id, 1, True), rival)
    with reverts("CatalogueUnknownService", serviceId=99):
        world.send(fns.updateService(99, 1, True), inst)
    with reverts("ProtocolZeroAmount"):
        world.send(fns.updateService(service_id, 0, True), inst)
    ent = world.enterprise(SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(ent.account), allowedKinds=INSTITUTION
    ):
        world.send(fns.updateService(service_id, 1, False), ent)
    world.send(world.p.registry.functions.pause(), world.governor)
    with reverts("ProtocolPaused"):
        world.send(fns.updateService(service_id, 1, False), inst)
    assert service(world, service_id)[2:4] == (True, 1_000 * YUAN)


def test_service_views(world: World) -> None:
    fns = world.p.catalogue.functions
    assert call(fns.serviceCount()) == 0
    for unknown in (0, 1):
        with reverts("CatalogueUnknownService", serviceId=unknown):
            call(fns.service(unknown))
    assert accreditation(world, 99) == 0
    assert call(fns.isAccredited(99, 0)) is False
    assert call(fns.registry()) == world.p.registry.address
