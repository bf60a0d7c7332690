"""The PLIC's Verilog and testcases for the test modules."""

from atsoc.hdl.plic.config import PLICConfig
from atsoc.hdl.plic.plic import PLIC
from atsoc.sim.block_build import cached_verilog, run_block
from atsoc.sim.tb.plic_tb import config_to_env


def plic_verilog(config: PLICConfig):
    return cached_verilog("plic", config, PLIC)


def run_plic(config: PLICConfig, testcase: str, **kwargs):
    return run_block("plic", config, PLIC, "atsoc.sim.tb.plic_tb", config_to_env(config), testcase,
                     **kwargs)
