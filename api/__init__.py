"""VoucherChain's HTTP API (FastAPI): every role reaches the chain through it.

Build the app with :func:`api.main.create_app`; the layering is api → services → signer,
contracts, and nothing in :mod:`voucher_chain` imports this package.
"""
