"""Generated ATSINTC Verilog per configuration, cached by content, shared by the test modules."""

import os
import random
from pathlib import Path

from atsoc.hdl.atsintc.atsintc import ATSINTC
from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.hdl.toplevel import convert

from rtl_cache import cached_verilog
from atsoc.sim.tb.atsintc_tb import config_to_env


def atsintc_verilog(config) -> Path:
    """The Verilog of ``config`` (regenerated when the gateware changes)."""
    return cached_verilog("atsintc", config, lambda c: convert(ATSINTC(c), "atsintc"))


def run_atsintc(config: ATSINTCConfig, testcase: str, **kwargs):
    from atsoc.sim.runner import run_cocotb
    seed = os.environ.get("ATSOC_SEED")
    seed = int(seed) if seed else random.randrange(1 << 31)
    print(f"{testcase}: seed {seed} (replay with ATSOC_SEED={seed})")
    env = config_to_env(config)
    env.update(kwargs.pop("extra_env", {}) or {})
    return run_cocotb(sources=[atsintc_verilog(config)], toplevel="atsintc",
                      test_module="atsoc.sim.tb.atsintc_tb", testcase=testcase,
                      extra_env=env, seed=seed, **kwargs)
