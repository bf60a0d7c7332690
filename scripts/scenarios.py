"""Named simulation scenarios for ``atsoc sim`` and ``atsoc demo``.

A scenario generates the Verilog of its block, runs one cocotb testcase on it under Verilator and,
on request, writes a waveform (FST when liblz4 is installed, else VCD) with a GTKWave save file
that groups the signals worth looking at.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path


__all__ = ["SCENARIOS", "run"]


@dataclass(frozen=True)
class Scenario:
    """A named run: block, cocotb module and testcase, and the waveform's signal groups."""

    block: str
    test_module: str
    testcase: str
    doc: str
    wave_groups: dict


PLIC_GROUPS = {
    "interrupts": ["plic.irq_sources", "plic.pending", "plic.eip"],
    "AXI4-Lite read": ["plic.s_axil_arvalid", "plic.s_axil_arready", "plic.s_axil_araddr",
                       "plic.s_axil_rvalid", "plic.s_axil_rready", "plic.s_axil_rdata",
                       "plic.s_axil_rresp"],
    "AXI4-Lite write": ["plic.s_axil_awvalid", "plic.s_axil_awready", "plic.s_axil_awaddr",
                        "plic.s_axil_wdata", "plic.s_axil_wstrb", "plic.s_axil_bvalid",
                        "plic.s_axil_bresp"],
    "gateways": ["plic.gateways.armed", "plic.gateways.fwd", "plic.gateways.complete"],
    "clock and reset": ["plic.clk", "plic.rst"],
}

ATSINTC_GROUPS = {
    "interrupts and notification": ["atsintc.irq_sources", "atsintc.irq_req", "atsintc.notify"],
    "AXI4-Lite read": ["atsintc.s_axil_arvalid", "atsintc.s_axil_arready", "atsintc.s_axil_araddr",
                       "atsintc.s_axil_rvalid", "atsintc.s_axil_rdata"],
    "AXI4-Lite write": ["atsintc.s_axil_awvalid", "atsintc.s_axil_awready", "atsintc.s_axil_awaddr",
                        "atsintc.s_axil_wdata", "atsintc.s_axil_bvalid", "atsintc.s_axil_bresp"],
    "enqueue stream": ["atsintc.s_axis_enq_tvalid", "atsintc.s_axis_enq_tready",
                       "atsintc.s_axis_enq_tdata"],
    "clock and reset": ["atsintc.clk", "atsintc.rst"],
}

SCENARIOS = {
    "plic-demo": Scenario(
        "plic", "atsoc.sim.tb.plic_tb", "demo",
        "Linux-style PLIC set-up, three devices raise their lines, the chained claim/complete "
        "loop handles them in priority order.", PLIC_GROUPS),
    "atsintc-demo": Scenario(
        "atsintc", "atsoc.sim.tb.atsintc_tb", "executor_on_atsintc",
        "The reference driver's executor runs a device task on the ATSINTC: it waits for its "
        "interrupt five times, polling and then sleeping on `notify`, re-registering itself as "
        "the ArceOS drivers do.", ATSINTC_GROUPS),
}


def run(name: str, out_dir: Path, *, waves: bool = False, seed: int | None = None) -> int:
    """Run scenario ``name``; outputs go to ``out_dir``. Returns a process exit code."""
    from atsoc.scripts.cli import generate
    from atsoc.sim.runner import run_cocotb, waveform_format
    from atsoc.scripts.blocks import get_block

    scenario = SCENARIOS[name]
    block = get_block(scenario.block)
    config = block.config_cls()
    out_dir = Path(out_dir).resolve()
    outputs = generate(scenario.block, config, out_dir)
    if seed is None:
        seed = random.randrange(1 << 31)
    env = {}
    if scenario.block == "plic":
        from atsoc.sim.tb.plic_tb import config_to_env
        env = config_to_env(config)
    elif scenario.block == "atsintc":
        from atsoc.sim.tb.atsintc_tb import config_to_env
        env = config_to_env(config)
    dump = out_dir / f"{name}.{waveform_format()}" if waves else False
    print(f"Scenario {name}: {scenario.doc}")
    print(f"  seed {seed} (replay with --seed {seed})")
    test_dir = run_cocotb(sources=[outputs["verilog"]], toplevel=scenario.block,
                          test_module=scenario.test_module, testcase=scenario.testcase,
                          waves=dump, wave_groups=scenario.wave_groups if waves else None,
                          extra_env=env, seed=seed)
    log = out_dir / f"{name}.log"
    shutil.copyfile(test_dir / "sim.log", log)
    for line in log.read_text().splitlines():
        if f"cocotb.{scenario.block} " in line or "TESTS=" in line:
            print("  " + line.strip())
    print("Outputs:")
    print(f"  Verilog          {outputs['verilog']}")
    print(f"  C header         {outputs['c_header']}")
    print(f"  registers        {outputs['registers']}")
    print(f"  simulation log   {log}")
    if waves:
        print(f"  waveform         {dump}")
        print(f"  GTKWave layout   {dump}.gtkw   (view: gtkwave {dump}.gtkw)")
    return 0
