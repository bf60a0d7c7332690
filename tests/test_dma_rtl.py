"""AXI DMA block tests: the cocotb testbench sim/tb/dma_tb.py on the generated Verilog under
Verilator, one pytest item per testcase and configuration.

Two builds: the default (32-bit data, 16-beat bursts) runs every testcase; a wide one (64-bit
data, 32-beat bursts, completion tokens) runs the data-path, error and driver testcases again; a simple-mode one
(``scatter_gather=False``) runs the simple_* testcases; a 64-bit-address one (``addr_width=64``,
every ring and buffer above 4 GiB) runs the register, data-path, driver and random testcases.
Random testcases print their seed (``ATSOC_SEED`` replays it).
"""

import pytest

from atsoc.hdl.dma.config import AXIDMAConfig

from dma_build import dma_verilog, run_dma


CONFIGS = {
    "default": AXIDMAConfig(),
    "wide": AXIDMAConfig(data_width=64, max_burst_beats=32, completion_tokens=True),
    "simple": AXIDMAConfig(scatter_gather=False, status_stream=False),
    "addr64": AXIDMAConfig(addr_width=64),
}

ALL = [
    "registers", "mm2s_frames", "s2mm_frames", "tail_positions_and_wrap", "stale_cmplt", "prefetch_rules",
    "zero_length", "bus_errors", "coalescing", "arceos_sequence", "linux_xilinx_dma",
    "linux_axienet", "soft_reset_busy", "axi_bursts", "keyhole", "writeback_order", "random_vs_model",
    "token_enable",
]
WIDE = ["mm2s_frames", "s2mm_frames", "prefetch_rules", "bus_errors", "linux_axienet", "axi_bursts",
        "completion_tokens", "token_backpressure", "token_enable", "writeback_order", "random_vs_model"]

SIMPLE = ["simple_mm2s", "simple_s2mm", "simple_errors", "simple_model_random", "simple_driver_xilinx"]
ADDR64 = ["registers", "mm2s_frames", "s2mm_frames", "prefetch_rules", "bus_errors",
          "arceos_sequence", "linux_xilinx_dma", "linux_axienet", "random_vs_model"]

CASES = ([("default", t) for t in ALL] + [("wide", t) for t in WIDE]
         + [("simple", t) for t in SIMPLE] + [("addr64", t) for t in ADDR64])


@pytest.mark.parametrize("name,testcase", CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_dma(name, testcase):
    run_dma(CONFIGS[name], testcase, timeout_s=240)


def test_lint_clean():
    """Verilator -Wall is clean on the generated DMA apart from the documented waivers."""
    from atsoc.sim.runner import lint
    for cfg in CONFIGS.values():
        ok, output = lint([dma_verilog(cfg)], "axi_dma")
        assert ok, output
