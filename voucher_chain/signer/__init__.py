"""Keys and signatures: a :class:`Signer` seam, the encrypted local :class:`Keystore` behind
:class:`LocalSigner`, and self-custody requests relayed through the ERC-2771 forwarder."""

from voucher_chain.signer.base import SignedTx, Signer
from voucher_chain.signer.errors import (
    DuplicateKey,
    ForwardRequestRefused,
    KeyRevoked,
    KeystoreCorrupt,
    KeystoreError,
    KeystoreLocked,
    RefusalReason,
    SignerError,
    SigningFailed,
    UnknownAccount,
)
from voucher_chain.signer.forwarder import (
    FORWARD_REQUEST_TYPES,
    Relayer,
    Submit,
    build_forward_request,
    forwarder_domain,
    request_data,
    sign_forward_request,
    submit_with_transact,
)
from voucher_chain.signer.keyfile import (
    MASTER_KEY_ENV,
    ScryptParams,
    generate_master_key,
    master_key_from_env,
)
from voucher_chain.signer.keystore import KeyInfo, KeyStatus, Keystore, SecretKey
from voucher_chain.signer.local import LocalSigner
from voucher_chain.signer.submit import NonceManager, SubmissionTimeout, Submitter

__all__ = [
    "FORWARD_REQUEST_TYPES",
    "MASTER_KEY_ENV",
    "DuplicateKey",
    "ForwardRequestRefused",
    "KeyInfo",
    "KeyRevoked",
    "KeyStatus",
    "Keystore",
    "KeystoreCorrupt",
    "KeystoreError",
    "KeystoreLocked",
    "LocalSigner",
    "NonceManager",
    "RefusalReason",
    "Relayer",
    "ScryptParams",
    "SecretKey",
    "SignedTx",
    "Signer",
    "SignerError",
    "SubmissionTimeout",
    "Submitter",
    "SigningFailed",
    "Submit",
    "UnknownAccount",
    "build_forward_request",
    "forwarder_domain",
    "generate_master_key",
    "master_key_from_env",
    "request_data",
    "sign_forward_request",
    "submit_with_transact",
]
