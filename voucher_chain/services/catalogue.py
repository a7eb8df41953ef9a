"""Service categories, accreditation of institutions, and listed services."""

from __future__ import annotations

from voucher_chain.services.base import Service
from voucher_chain.services.models import CategoryInfo, ServiceCreate, ServiceListing, TxRef

__all__ = ["CatalogueService"]


class CatalogueService(Service):
    def add_category(self, governor: str, name: str) -> int:
        receipt = self._send(self.p.catalogue.functions.addCategory(name), governor)
        return int(self._event(receipt, self.p.catalogue, "CategoryAdded")["category"])

    def set_category_active(self, governor: str, category: int, active: bool) -> TxRef:
        fn = self.p.catalogue.functions.setCategoryActive(category, active)
        return self._ref(self._send(fn, governor))

    def categories(self) -> list[CategoryInfo]:
        """Every service category the governor has defined."""
        count = int(self._call(self.p.catalogue.functions.categoryCount()))
        out = []
        for i in range(count):
            name, active = self._call(self.p.catalogue.functions.categoryInfo(i))
            out.append(CategoryInfo(id=i, name=str(name), active=bool(active)))
        return out

    def accredit(self, actor: str, institution_org: int, categories: int) -> TxRef:
        fn = self.p.catalogue.functions.accredit(institution_org, categories)
        return self._ref(self._send(fn, actor))

    def accreditation(self, institution_org: int) -> int:
        """The category mask an institution is accredited for (0: none)."""
        return int(self._call(self.p.catalogue.functions.accreditation(institution_org)))

    def list_service(self, institution: str, service: ServiceCreate) -> ServiceListing:
        fn = self.p.catalogue.functions.listService(service.category, service.price, service.name)
        receipt = self._send(fn, institution)
        return self.get(self._event(receipt, self.p.catalogue, "ServiceListed")["serviceId"])

    def update_service(self, institution: str, service_id: int, price: int, active: bool) -> TxRef:
        fn = self.p.catalogue.functions.updateService(service_id, price, active)
        return self._ref(self._send(fn, institution))

    def get(self, service_id: int) -> ServiceListing:
        inst, category, active, price, name = self._call(
            self.p.catalogue.functions.service(service_id)
        )
        return ServiceListing(
            id=service_id,
            institution_org=inst,
            category=category,
            price=price,
            name=name,
            active=active,
        )

    def services(self) -> list[ServiceListing]:
        count = int(self._call(self.p.catalogue.functions.serviceCount()))
        return [self.get(i) for i in range(1, count + 1)]
