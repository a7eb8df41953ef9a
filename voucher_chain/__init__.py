"""VoucherChain: innovation vouchers (创新券) on a permissioned EVM chain."""

from voucher_chain.errors import ArtifactError, ContractRevert, TransactionFailed, VoucherChainError

__all__ = ["ArtifactError", "ContractRevert", "TransactionFailed", "VoucherChainError"]
__version__ = "0.1.0"
