"""Network presets for ``zkxai node init --network``: chain id, confirmations, fee policy and block explorer.

Values are starting points an operator reviews (written into zkxai.toml, commented): confirmations trade latency
for reorg safety (mainnet: 12 blocks ~ 2.4 min, below finality at ~2 epochs / 64 blocks; Base: the sequencer does
not reorg in practice, 10 blocks ~ 20 s); fee caps bound what one attestation may cost (~0.35 M gas each:
mainnet at the 100 gwei cap is 0.035 ETH at most, at a typical 10 gwei 0.0035 ETH; Base at 0.05 gwei ~0.00002 ETH).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkPreset:
    """One network's defaults (see the module docstring)."""

    name: str
    chain_id: int
    confirmations: int
    max_fee_gwei: float
    min_tip_gwei: float
    max_tip_gwei: float
    tip_percentile: float
    base_fee_headroom: float
    explorer_url: str
    rpc_hint: str
    max_in_flight: int = 4
    logs_window_blocks: int = 2_000

    def toml_lines(self) -> list[str]:
        """The [chain] keys of this preset, as zkxai.toml lines."""
        return [
            f'network = "{self.name}"',
            ("# " if self.name == "local" else "")
            + f"chain_id = {self.chain_id}                      # every RPC endpoint is checked to be on this chain",
            f'# rpc_url = "{self.rpc_hint}"',
            '# rpc_fallback_urls = []                # more endpoints of the same chain, tried in order on failure',
            f"confirmations = {self.confirmations}",
            f"max_fee_gwei = {self.max_fee_gwei}",
            f"min_tip_gwei = {self.min_tip_gwei}",
            f"max_tip_gwei = {self.max_tip_gwei}",
            f"tip_percentile = {self.tip_percentile}",
            f"base_fee_headroom = {self.base_fee_headroom}",
            f"max_in_flight = {self.max_in_flight}",
            f"logs_window_blocks = {self.logs_window_blocks}",
            f'explorer_url = "{self.explorer_url}"',
        ]


PRESETS: dict[str, NetworkPreset] = {
    "local": NetworkPreset("local", 31337, 1, 100.0, 1.0, 5.0, 50.0, 2.0, "", "http://127.0.0.1:8545", 1),
    "sepolia": NetworkPreset("sepolia", 11155111, 3, 50.0, 0.1, 3.0, 50.0, 2.0, "https://sepolia.etherscan.io",
                             "https://sepolia.infura.io/v3/<project id>"),
    "mainnet": NetworkPreset("mainnet", 1, 12, 100.0, 0.05, 3.0, 50.0, 2.0, "https://etherscan.io",
                             "https://mainnet.infura.io/v3/<project id>"),
    "base": NetworkPreset("base", 8453, 10, 5.0, 0.001, 0.1, 50.0, 2.0, "https://basescan.org",
                          "https://mainnet.base.org"),
}


def preset(name: str) -> NetworkPreset:
    """The preset called ``name``; KeyError naming the known ones otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown network {name!r} (known: {', '.join(PRESETS)})") from None


def tx_link(explorer_url: str, tx_hash: str) -> str:
    """A block-explorer link of a transaction, or the bare hash without an explorer."""
    return f"{explorer_url.rstrip('/')}/tx/{tx_hash}" if explorer_url else tx_hash


__all__ = ["NetworkPreset", "PRESETS", "preset", "tx_link"]
