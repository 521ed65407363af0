"""The IC mainnet root public key (DER), the default trust anchor of certificate verification.

Published by DFINITY (agent-js ``IC_ROOT_KEY``, ``packages/agent/src/agent/http/index.ts``; the same bytes are in
``tests/data/icp/ic_root_key_der.hex``): a 37-byte DER prefix and a 96-byte BLS12-381 G2 point. A local replica
(dfx, PocketIC) has its own key, which its user pins instead (``zkxai verify --chain icp --root-key``); never take
a replica's ``/api/v2/status`` ``root_key`` on its word.
"""

from __future__ import annotations

MAINNET_ROOT_KEY_DER = bytes.fromhex(
    "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100814c0e6ec71fab583b08bd81373c255c3c"
    "371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e0d5a"
    "4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
)

__all__ = ["MAINNET_ROOT_KEY_DER"]
