"""Configuration: TOML + secrets + environment, validated with clear messages; `zkxai node init`; the keystore."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import ConfigError
from node.keystore import (
    create_keystore,
    load_private_key,
)
from node.settings import (
    load_config,
    write_default_config,
)
from tests.node_harness import zkxai


def test_init_writes_a_loadable_config_with_an_encrypted_key(tmp_path: Path) -> None:
    out = zkxai("node", "init", "--dir", str(tmp_path / "n"))
    assert out.returncode == 0, out.stderr
    config_file = tmp_path / "n" / "zkxai.toml"
    text = config_file.read_text()
    assert "# zkxai node configuration" in text and "[chain]" in text
    assert (tmp_path / "n" / "secrets.toml").stat().st_mode & 0o077 == 0
    env = {"ZKXAI_CHAIN_RPC_URL": "http://127.0.0.1:8545", "ZKXAI_NODE_PORT": "9001"}
    config = load_config(config_file, env=env)
    assert config.port == 9001 and config.rpc_url == "http://127.0.0.1:8545"
    assert config.private_key and config.private_key.startswith("0x") and len(config.api_keys) == 1
    assert config.private_key not in repr(config) and config.api_keys[0] not in repr(config)
    again = zkxai("node", "init", "--dir", str(tmp_path / "n"))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[node]\nprot = 1\n", "unknown key node.prot"),
        ("[node]\nport = \"80\"\n", "node.port must be a int"),
        ("[prover]\nworkers = 0\n", "prover.workers must be >= 1"),
        ("[chain]\nrpc_url = \"ftp://x\"\n", "must be an http(s) URL"),
        ("[chain]\nrpc_url = \"http://x\"\n", "a signing key is required"),
        ("[node\n", "not valid TOML"),
        ("[chain]\nconfirmations = 0\n", "chain.confirmations must be >= 1"),
        ("[chain]\nmax_fee_gwei = -1\n", "must be > 0"),
    ],
)
def test_bad_config_is_refused_with_a_message(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path, env={})


def test_env_overrides_file_and_flags_override_env(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[node]\nport = 7000\n[pipeline]\nqueue_size = 3\n[chain]\nfee_bump_after_s = 2\n")
    assert load_config(path, env={}).port == 7000
    assert load_config(path, env={}).fee_bump_after_s == 2.0
    assert load_config(path, env={"ZKXAI_NODE_PORT": "7001"}).port == 7001
    assert load_config(path, env={"ZKXAI_NODE_PORT": "7001"}, overrides={"port": 7002}).port == 7002
    with pytest.raises(ConfigError, match="ZKXAI_NODE_PORT must be a int"):
        load_config(path, env={"ZKXAI_NODE_PORT": "seven"})


def test_keystore_round_trip_and_wrong_password(tmp_path: Path) -> None:
    address = create_keystore(tmp_path / "k.json", "correct horse")
    key = load_private_key(tmp_path / "k.json", "correct horse")
    from eth_account import Account

    assert Account.from_key(key).address == address
    assert key[2:] not in (tmp_path / "k.json").read_text()
    with pytest.raises(ConfigError, match="wrong password"):
        load_private_key(tmp_path / "k.json", "wrong")
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        create_keystore(tmp_path / "k.json", "x")


def test_write_default_config_refuses_to_overwrite(tmp_path: Path) -> None:
    write_default_config(tmp_path)
    with pytest.raises(ConfigError):
        write_default_config(tmp_path)


CLUSTER_ENV = {"ZKXAI_PRIVATE_KEY": "0x" + "11" * 32, "ZKXAI_CHAIN_RPC_URL": "http://127.0.0.1:8545"}


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[cluster]\nenabled = true\n", {}, "cluster.enabled needs chain.rpc_url"),
        ("[cluster]\nenabled = true\n[pipeline]\nattestation_mode = \"batch\"\n", CLUSTER_ENV,
         "supports pipeline.attestation_mode = \"single\""),
        ("[cluster]\nenabled = true\nlease_s = 0.1\n", CLUSTER_ENV, "cluster.lease_s must be in 1..300"),
        ("[prover]\nbackend = \"spark\"\n", {}, "prover.backend must be one of processes, threads, ray"),
        ("[prover]\nray_address = \"127.0.0.1:6379\"\n", {}, "prover.backend is not \"ray\""),
        ("[cluster]\nenabled = \"yes\"\n", {}, "cluster.enabled must be a bool"),
    ],
)
def test_bad_cluster_config_is_refused(tmp_path: Path, toml: str, env: dict[str, str], message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path, env=env)


def test_cluster_and_ray_keys_from_file_and_env(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[prover]\nbackend = \"ray\"\nray_address = \"10.0.0.5:6379\"\n"
                    "[cluster]\nenabled = true\nreplica_id = \"node-a\"\nlease_s = 4\n")
    config = load_config(path, env=CLUSTER_ENV)
    assert (config.prover_backend, config.ray_address) == ("ray", "10.0.0.5:6379")
    assert (config.cluster_enabled, config.replica_id, config.cluster_lease_s) == (True, "node-a", 4.0)
    assert not load_config(path, env=CLUSTER_ENV | {"ZKXAI_CLUSTER_ENABLED": "0"}).cluster_enabled
    with pytest.raises(ConfigError, match="ZKXAI_CLUSTER_ENABLED must be 1/true/yes or 0/false/no"):
        load_config(path, env=CLUSTER_ENV | {"ZKXAI_CLUSTER_ENABLED": "maybe"})
    assert not load_config(None, env={}).cluster_enabled  # a single node by default

