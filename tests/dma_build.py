"""Generated AXI DMA Verilog per configuration, cached by content, shared by the DMA test modules."""

import hashlib
import os
import random
from pathlib import Path

from atsoc.hdl.dma.axi_dma import AXIDMA
from atsoc.hdl.dma.config import AXIDMAConfig
from atsoc.hdl.toplevel import convert
from atsoc.sim.tb.dma_tb import config_to_env


REPO = Path(__file__).resolve().parent.parent
GEN = REPO / "sim_build" / "verilog"


def dma_verilog(config: AXIDMAConfig) -> Path:
    """Write (once) and return the Verilog of ``config``; safe under pytest-xdist."""
    h = hashlib.sha256(repr(config).encode())
    for src in sorted((REPO / "hdl" / "dma").glob("*.py")) + sorted((REPO / "hdl" / "bus").glob("*.py")):
        h.update(src.read_bytes())                      # the RTL itself, not only the parameters
    key = h.hexdigest()[:12]
    path = GEN / f"axi_dma-{key}" / "axi_dma.v"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(convert(AXIDMA(config), "axi_dma"))
        tmp.replace(path)
    return path


def pick_seed() -> int:
    """The seed of this run: ``ATSOC_SEED`` to replay, else a fresh one (printed)."""
    seed = os.environ.get("ATSOC_SEED")
    return int(seed) if seed else random.randrange(1 << 31)


def run_dma(config: AXIDMAConfig, testcase: str, *, extra_env=None, **kwargs):
    from atsoc.sim.runner import run_cocotb
    seed = pick_seed()
    print(f"{testcase}: seed {seed} (replay with ATSOC_SEED={seed})")
    env = config_to_env(config)
    env.update(extra_env or {})
    return run_cocotb(sources=[dma_verilog(config)], toplevel="axi_dma",
                      test_module="atsoc.sim.tb.dma_tb", testcase=testcase,
                      extra_env=env, seed=seed, **kwargs)
