"""The ATSINTC's Verilog and testcases for the test modules."""

from atsoc.hdl.atsintc.atsintc import ATSINTC
from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.sim.block_build import cached_verilog, run_block
from atsoc.sim.tb.atsintc_tb import config_to_env


def atsintc_verilog(config: ATSINTCConfig):
    return cached_verilog("atsintc", config, ATSINTC)


def run_atsintc(config: ATSINTCConfig, testcase: str, **kwargs):
    return run_block("atsintc", config, ATSINTC, "atsoc.sim.tb.atsintc_tb", config_to_env(config),
                     testcase, **kwargs)
