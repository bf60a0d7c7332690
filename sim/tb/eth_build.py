"""Generated Ethernet MAC Verilog per configuration (cached by content) and the pytest entry helper."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

from atsoc.hdl.eth.config import EthMACConfig


__all__ = ["eth_verilog", "pick_seed", "run_eth"]

REPO = Path(__file__).resolve().parent.parent.parent
GEN = REPO / "sim_build" / "verilog"


def eth_verilog(config: EthMACConfig) -> Path:
    """Write (once) and return the Verilog of ``config``; safe under pytest-xdist."""
    from atsoc.hdl.eth.mac import EthMAC
    from atsoc.hdl.toplevel import convert
    src = "".join(Path(__file__).resolve().parent.parent.parent.joinpath("hdl", "eth", f).read_text()
                  for f in sorted(os.listdir(REPO / "hdl" / "eth")) if f.endswith(".py"))
    key = hashlib.sha256((repr(config) + src).encode()).hexdigest()[:12]
    path = GEN / f"eth_mac-{key}" / "eth_mac.v"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(convert(EthMAC(config), "eth_mac"))
        tmp.replace(path)
    return path


def pick_seed() -> int:
    """The seed of this run: ``ATSOC_SEED`` to replay, else a fresh one."""
    seed = os.environ.get("ATSOC_SEED")
    return int(seed) if seed else random.randrange(1 << 31)


def run_eth(config: EthMACConfig, testcase: str, *, extra_env=None, **kwargs):
    from atsoc.sim.runner import run_cocotb
    from atsoc.sim.tb.eth_mac_tb import config_to_env
    seed = pick_seed()
    print(f"{testcase}: seed {seed} (replay with ATSOC_SEED={seed})")
    env = config_to_env(config)
    env.update(extra_env or {})
    return run_cocotb(sources=[eth_verilog(config)], toplevel="eth_mac",
                      test_module="atsoc.sim.tb.eth_mac_tb", testcase=testcase,
                      extra_env=env, seed=seed, **kwargs)
