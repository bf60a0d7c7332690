"""Generated Ethernet MAC Verilog per configuration (cached by content) and the pytest entry helper."""

from __future__ import annotations

from pathlib import Path

from atsoc.hdl.eth.config import EthMACConfig
from atsoc.sim.block_build import cached_verilog, pick_seed, run_block


__all__ = ["eth_verilog", "pick_seed", "run_eth"]


def _build(config):
    from atsoc.hdl.eth.mac import EthMAC
    return EthMAC(config)


def eth_verilog(config: EthMACConfig) -> Path:
    """The Verilog of ``config`` (regenerated when the gateware changes)."""
    return cached_verilog("eth_mac", config, _build)


def run_eth(config: EthMACConfig, testcase: str, **kwargs):
    from atsoc.sim.tb.eth_mac_tb import config_to_env
    return run_block("eth_mac", config, _build, "atsoc.sim.tb.eth_mac_tb", config_to_env(config),
                     testcase, **kwargs)
