"""Gas of a verifier contract on an in-process chain (eth-tester, py-evm): deploy it, send it one verification.

``verify_gas`` is the mined transaction's ``gasUsed`` (21,000 base + calldata + execution), as in
``scripts/gas_report.py``; ``verify_execution_gas`` subtracts base and calldata (EIP-2028).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_BLOCK_GAS = 30_000_000


def _intrinsic(data: bytes) -> int:
    return 21_000 + sum(4 if b == 0 else 16 for b in data)


def deploy_and_call(abi: list[dict[str, Any]], bytecode: str, ctor_args: Sequence[Any], calldata: bytes) -> dict[str, Any]:
    """Deploy ``bytecode`` (constructor ``ctor_args``), check ``calldata`` returns true, and send it."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    params = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": _BLOCK_GAS})
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_parameters=params))))
    sender = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*ctor_args).transact({"from": sender, "gas": _BLOCK_GAS - 1})
    deployed = w3.eth.wait_for_transaction_receipt(tx)
    address = deployed["contractAddress"]
    returned = w3.eth.call({"to": address, "data": calldata, "gas": 10_000_000})
    ok = int.from_bytes(bytes(returned)[-32:] or b"\0", "big") == 1
    mined = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": sender, "to": address, "data": calldata, "gas": 10_000_000})
    )
    gas = int(mined["gasUsed"])
    return {"deploy_gas": int(deployed["gasUsed"]), "verify_gas": gas, "verify_execution_gas": gas - _intrinsic(calldata),
            "verified_on_chain": ok, "calldata_bytes": len(calldata)}
