"""VoucherChain: innovation vouchers (创新券) on a permissioned EVM chain."""

import os

# py-evm and the trie hash every trie node and storage key through eth-hash, whose automatic
# choice is pycryptodome (6–9 µs a hash, through ctypes); safe-pysha3's C extension takes
# 1–4 µs (docs/benchmarks.md). eth-hash reads this at its first hash, so it is set before
# anything of ours hashes; a backend chosen in the environment is kept.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

from voucher_chain.errors import ArtifactError, ContractRevert, TransactionFailed, VoucherChainError

__all__ = ["ArtifactError", "ContractRevert", "TransactionFailed", "VoucherChainError"]
__version__ = "0.1.0"
