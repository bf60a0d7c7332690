"""Generated PLIC Verilog per configuration, cached by content, shared by the test modules."""

import os
import random
from pathlib import Path

from atsoc.hdl.plic.config import PLICConfig
from atsoc.hdl.plic.plic import PLIC
from atsoc.hdl.toplevel import convert

from rtl_cache import cached_verilog
from atsoc.sim.tb.plic_tb import config_to_env


def plic_verilog(config) -> Path:
    """The Verilog of ``config`` (regenerated when the gateware changes)."""
    return cached_verilog("plic", config, lambda c: convert(PLIC(c), "plic"))


def pick_seed() -> int:
    """The seed of this run: ``ATSOC_SEED`` to replay, else a fresh one (printed by cocotb)."""
    seed = os.environ.get("ATSOC_SEED")
    return int(seed) if seed else random.randrange(1 << 31)


def run_plic(config: PLICConfig, testcase: str, **kwargs):
    from atsoc.sim.runner import run_cocotb
    seed = pick_seed()
    print(f"{testcase}: seed {seed} (replay with ATSOC_SEED={seed})")
    return run_cocotb(sources=[plic_verilog(config)], toplevel="plic",
                      test_module="atsoc.sim.tb.plic_tb", testcase=testcase,
                      extra_env=config_to_env(config), seed=seed, **kwargs)
