"""Python mirrors of the protocol's enums and structs (see ``contracts/src/Types.sol``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

__all__ = [
    "Category",
    "KindMask",
    "OrderState",
    "OrgKind",
    "OrgStatus",
    "ProgramKind",
    "ProgramTerms",
    "SettlementMethod",
]


class OrgKind(IntEnum):
    NONE = 0
    ENTERPRISE = 1
    STARTUP_TEAM = 2
    INSTITUTION = 3
    ISSUER = 4
    FINANCE = 5
    REGULATOR = 6
    BANK = 7
    GOVERNOR = 8


class KindMask(IntFlag):
    """Bit masks over :class:`OrgKind` (``Kinds`` in Solidity)."""

    ENTERPRISE = 1 << OrgKind.ENTERPRISE
    STARTUP_TEAM = 1 << OrgKind.STARTUP_TEAM
    INSTITUTION = 1 << OrgKind.INSTITUTION
    ISSUER = 1 << OrgKind.ISSUER
    FINANCE = 1 << OrgKind.FINANCE
    REGULATOR = 1 << OrgKind.REGULATOR
    BANK = 1 << OrgKind.BANK
    GOVERNOR = 1 << OrgKind.GOVERNOR
    VOUCHER_HOLDERS = ENTERPRISE | STARTUP_TEAM


class OrgStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    FROZEN = 3


class ProgramKind(IntEnum):
    VOUCHER = 0
    REWARD = 1


class OrderState(IntEnum):
    NONE = 0
    PLACED = 1
    ACCEPTED = 2
    DELIVERED = 3
    SETTLED = 4
    CANCELLED = 5
    REJECTED = 6
    DISPUTED = 7
    RESOLVED = 8
    EXPIRED = 9


class SettlementMethod(IntEnum):
    CONFIRMED = 0
    CLAIMED = 1
    RESOLVED = 2


class Category(IntEnum):
    """The service categories a fresh deployment defines, in order (ids 0–6)."""

    TESTING = 0  # 测试检测
    COOPERATIVE_RD = 1  # 合作研发
    COMMISSIONED_DEVELOPMENT = 2  # 委托开发
    RD_DESIGN = 3  # 研发设计
    TECHNICAL_SOLUTION = 4  # 技术解决方案
    TECHNICAL_CONSULTING = 5  # 技术咨询
    NOVELTY_SEARCH = 6  # 检索查新

    @classmethod
    def mask(cls, *categories: Category) -> int:
        """The bit mask of ``categories`` (all of them when none is given)."""
        chosen = categories or tuple(cls)
        return sum(1 << int(c) for c in set(chosen))


@dataclass(frozen=True)
class ProgramTerms:
    """What an issuer fixes when it creates a program (``ProgramTerms`` in Solidity).

    Amounts in fen, times in unix seconds, regions as GB/T 2260 patterns (0 = national).
    """

    fiscal_year: int
    finance_org: int
    issue_start: int
    issue_end: int
    expiry: int
    settlement_deadline: int
    kind: ProgramKind = ProgramKind.VOUCHER
    face_value: int = 1
    per_holder_cap: int = 0
    min_units: int = 1
    max_units: int = 2**32 - 1
    share_bps: int = 5_000
    full_cover_threshold: int = 0
    categories: int = field(default_factory=Category.mask)
    spend_regions: tuple[int, ...] = (0,)
    eligible_regions: tuple[int, ...] = (0,)
    eligible_kinds: int = int(KindMask.VOUCHER_HOLDERS)
    max_employees: int = 0
    confirm_window: int = 7 * 24 * 3600

    def as_abi(self) -> tuple[Any, ...]:
        """The tuple web3 encodes for the Solidity struct, in declaration order."""
        return (
            int(self.kind),
            self.fiscal_year,
            self.finance_org,
            self.face_value,
            self.per_holder_cap,
            self.min_units,
            self.max_units,
            self.share_bps,
            self.full_cover_threshold,
            self.categories,
            list(self.spend_regions),
            list(self.eligible_regions),
            self.eligible_kinds,
            self.max_employees,
            self.issue_start,
            self.issue_end,
            self.expiry,
            self.settlement_deadline,
            self.confirm_window,
        )
