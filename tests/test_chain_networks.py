"""``zkxai node init --network``: the preset's [chain] keys land in zkxai.toml and load as the node's config."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.networks import PRESETS, tx_link
from node.errors import ConfigError
from node.settings import load_config, write_default_config


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_writes_a_config_that_loads(tmp_path: Path, name: str) -> None:
    config_path, secrets_path, _ = write_default_config(tmp_path / name, name)
    config = load_config(config_path, secrets_path, env={})
    chosen = PRESETS[name]
    assert (config.network, config.confirmations, config.explorer_url) == (name, chosen.confirmations,
                                                                           chosen.explorer_url)
    assert config.max_fee_gwei == chosen.max_fee_gwei and config.min_tip_gwei == chosen.min_tip_gwei
    assert config.chain_id == (None if name == "local" else chosen.chain_id)


def test_an_unknown_network_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown network 'goerli'"):
        write_default_config(tmp_path, "goerli")


def test_explorer_links() -> None:
    assert tx_link("https://basescan.org/", "0xab") == "https://basescan.org/tx/0xab"
    assert tx_link("", "0xab") == "0xab"
