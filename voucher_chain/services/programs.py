"""Programs and their budgets; applications, issuance, revocation, rewards, close."""

from __future__ import annotations

from typing import Any

from voucher_chain.contracts.types import ProgramKind
from voucher_chain.services.base import Service
from voucher_chain.services.idempotency import once
from voucher_chain.services.models import (
    Application,
    Issuance,
    Program,
    ProgramBudget,
    ProgramCreate,
    TxRef,
    VoucherBalance,
    VoucherMovement,
    request_id_bytes,
)

__all__ = ["ProgramService"]

_APPLICATION_STATUS = ("none", "pending", "approved", "rejected")


class ProgramService(Service):
    # -- programs and budget ----------------------------------------------------------------------

    def create(self, issuer: str, program: ProgramCreate) -> Program:
        fn = self.p.programs.functions.createProgram(program.terms().as_abi())
        receipt = self._send(fn, issuer)
        return self.get(self._event(receipt, self.p.programs, "ProgramCreated")["programId"])

    def fund(self, finance: str, program_id: int, amount: int) -> TxRef:
        """Escrows ``amount`` fen from the program's finance bureau."""
        return self._ref(self._send(self.p.programs.functions.fund(program_id, amount), finance))

    def set_rollover(self, issuer: str, program_id: int, target_id: int) -> TxRef:
        fn = self.p.programs.functions.setRollover(program_id, target_id)
        return self._ref(self._send(fn, issuer))

    def close(self, actor: str, program_id: int) -> TxRef:
        return self._ref(self._send(self.p.programs.functions.close(program_id), actor))

    def get(self, program_id: int) -> Program:
        t = self._call(self.p.programs.functions.terms(program_id))
        terms = ProgramCreate(
            kind=ProgramKind(t[0]),
            fiscal_year=t[1],
            finance_org=t[2],
            face_value=t[3],
            per_holder_cap=t[4],
            min_units=t[5],
            max_units=t[6],
            share_bps=t[7],
            full_cover_threshold=t[8],
            categories=t[9],
            spend_regions=list(t[10]),
            eligible_regions=list(t[11]),
            eligible_kinds=t[12],
            max_employees=t[13],
            issue_start=t[14],
            issue_end=t[15],
            expiry=t[16],
            settlement_deadline=t[17],
            confirm_window=t[18],
        )
        return Program(id=program_id, terms=terms, budget=self.budget(program_id))

    def budget(self, program_id: int) -> ProgramBudget:
        f = self.p.programs.functions
        s = self._call(f.state(program_id))
        return ProgramBudget(
            program_id=program_id,
            issuer_org=s[0],
            closed=s[1],
            rollover_to=s[2],
            funded=s[3],
            rolled_in=s[4],
            paid=s[5],
            returned=s[6],
            issued_units=s[7],
            redeemed_units=s[8],
            revoked_units=s[9],
            expired_units=s[10],
            escrowed=self._call(f.escrowed(program_id)),
            outstanding_units=self._call(f.outstandingUnits(program_id)),
            outstanding_value=self._call(f.outstandingValue(program_id)),
        )

    def count(self) -> int:
        return int(self._call(self.p.programs.functions.programCount()))

    def all(self) -> list[Program]:
        return [self.get(i) for i in range(1, self.count() + 1)]

    # -- applications and issuance ----------------------------------------------------------------

    def apply(self, enterprise: str, program_id: int, units: int, request_id: str) -> Application:
        """An enterprise applies for vouchers; retrying with the same request id applies once."""
        rid = request_id_bytes(request_id)

        def lookup() -> Application | None:
            for args, ref in self._logs(
                self.p.programs, "ApplicationSubmitted", {"programId": program_id}
            ):
                if args["requestId"] == rid:
                    return self.application(args["applicationId"], ref)
            return None

        def send() -> Application:
            fn = self.p.programs.functions.applyForVouchers(program_id, units, rid)
            receipt = self._send(fn, enterprise)
            args = self._event(receipt, self.p.programs, "ApplicationSubmitted")
            return self.application(args["applicationId"], self._ref(receipt))

        return once(lookup, send)

    def application(self, application_id: int, tx: TxRef | None = None) -> Application:
        program_id, org, units, status, _ = self._call(
            self.p.programs.functions.application(application_id)
        )
        return Application(
            id=application_id,
            program_id=program_id,
            enterprise_org=org,
            units=units,
            status=_APPLICATION_STATUS[status],
            tx=tx,
        )

    def applications(self) -> list[Application]:
        """Every application, oldest first."""
        count = int(self._call(self.p.programs.functions.applicationCount()))
        return [self.application(i) for i in range(1, count + 1)]

    def approve(self, issuer: str, application_id: int) -> Issuance:
        """Approves a pending application, issuing its vouchers; a retry issues nothing more."""

        def lookup() -> Issuance | None:
            for args, ref in self._logs(
                self.p.programs, "VouchersIssued", {"applicationId": application_id}
            ):
                return self._issuance(args, ref)
            return None

        def send() -> Issuance:
            fn = self.p.programs.functions.approveApplication(application_id)
            receipt = self._send(fn, issuer)
            args = self._event(receipt, self.p.programs, "VouchersIssued")
            return self._issuance(args, self._ref(receipt))

        return once(lookup, send)

    def reject(self, issuer: str, application_id: int, reason_code: int) -> TxRef:
        fn = self.p.programs.functions.rejectApplication(application_id, reason_code)
        return self._ref(self._send(fn, issuer))

    def issue(
        self, issuer: str, program_id: int, enterprise_org: int, units: int, request_id: str
    ) -> Issuance:
        """Issues vouchers directly; retrying with the same request id issues once."""
        rid = request_id_bytes(request_id)

        def lookup() -> Issuance | None:
            if not self._call(self.p.programs.functions.requestUsed(rid)):
                return None
            filters = {"programId": program_id, "enterpriseOrg": enterprise_org}
            for args, ref in self._logs(self.p.programs, "VouchersIssued", filters):
                if args["requestId"] == rid:
                    return self._issuance(args, ref)
            return None

        def send() -> Issuance:
            fn = self.p.programs.functions.issue(program_id, enterprise_org, units, rid)
            receipt = self._send(fn, issuer)
            args = self._event(receipt, self.p.programs, "VouchersIssued")
            return self._issuance(args, self._ref(receipt))

        return once(lookup, send)

    def revoke(
        self, actor: str, program_id: int, enterprise_org: int, units: int, reason_code: int
    ) -> TxRef:
        fn = self.p.programs.functions.revoke(program_id, enterprise_org, units, reason_code)
        return self._ref(self._send(fn, actor))

    def enroll(self, issuer: str, program_id: int, institution_org: int) -> TxRef:
        fn = self.p.programs.functions.enrollBeneficiary(program_id, institution_org)
        return self._ref(self._send(fn, issuer))

    # -- wallet -----------------------------------------------------------------------------------

    def balances(self, account: str) -> list[VoucherBalance]:
        """Every program the organisation of ``account`` holds vouchers of, with their terms."""
        out = []
        for program_id in range(1, self.count() + 1):
            units = int(self._call(self.p.vouchers.functions.balanceOf(account, program_id)))
            if units == 0:
                continue
            t = self.get(program_id).terms
            out.append(
                VoucherBalance(
                    program_id=program_id,
                    units=units,
                    value=units * t.face_value,
                    face_value=t.face_value,
                    expiry=t.expiry,
                    spend_regions=t.spend_regions,
                    categories=t.categories,
                    max_share_bps=t.share_bps,
                )
            )
        return out

    def history(self, org_id: int) -> list[VoucherMovement]:
        """Every issuance, redemption, revocation and expiry of ``org_id``'s vouchers, oldest
        first (locks and refunds of open orders are order steps, see the order's history)."""
        moves: list[VoucherMovement] = []
        for event, kind in (
            ("VouchersIssued", "issued"),
            ("VouchersRedeemed", "redeemed"),
            ("VouchersRevoked", "revoked"),
            ("VouchersExpired", "expired"),
        ):
            for args, ref in self._logs(self.p.programs, event, {"enterpriseOrg": org_id}):
                units = int(args["units"])
                value = int(args.get("value", units * self.get(args["programId"]).terms.face_value))
                moves.append(
                    VoucherMovement(
                        kind=kind, program_id=args["programId"], units=units, value=value, tx=ref
                    )
                )
        return sorted(moves, key=lambda m: (m.tx.block_number or 0, m.kind))

    # -- internals --------------------------------------------------------------------------------

    @staticmethod
    def _issuance(args: dict[str, Any], ref: TxRef) -> Issuance:
        return Issuance(
            program_id=args["programId"],
            enterprise_org=args["enterpriseOrg"],
            units=args["units"],
            value=args["value"],
            application_id=args["applicationId"],
            tx=ref,
        )
