"""The AXI DMA's Verilog and testcases for the test modules."""

from atsoc.hdl.dma.axi_dma import AXIDMA
from atsoc.hdl.dma.config import AXIDMAConfig
from atsoc.sim.block_build import cached_verilog, run_block
from atsoc.sim.tb.dma_tb import config_to_env


def dma_verilog(config: AXIDMAConfig):
    return cached_verilog("axi_dma", config, AXIDMA)


def run_dma(config: AXIDMAConfig, testcase: str, **kwargs):
    return run_block("axi_dma", config, AXIDMA, "atsoc.sim.tb.dma_tb", config_to_env(config), testcase,
                     **kwargs)
