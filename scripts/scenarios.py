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

SOC_GROUPS = {
    "interrupts": ["soc.dma.mm2s_irq", "soc.dma.s2mm_irq", "soc.mac.mac_irq", "soc.eip",
                   "soc.notify", "soc.plic.lines"],
    "ATSINTC queue operations": ["soc.atsintc.queues.op", "soc.atsintc.queues.pid",
                                 "soc.atsintc.queues.level", "soc.atsintc.queues.word",
                                 "soc.atsintc.queues.pop_word", "soc.atsintc.queues.busy",
                                 "soc.atsintc.s_axis_enq__tvalid", "soc.atsintc.s_axis_enq__tready",
                                 "soc.atsintc.s_axis_enq__tdata"],
    "DMA MM2S (transmit) channel": ["soc.dma.engine.mm2s.fsm_state", "soc.dma.engine.mm2s.curdesc",
                                    "soc.dma.engine.mm2s.tail", "soc.dma.engine.mm2s.halted",
                                    "soc.dma.engine.mm2s.idle", "soc.dma.engine.mm2s.completed",
                                    "soc.dma.engine.mm2s.error"],
    "DMA S2MM (receive) channel": ["soc.dma.engine.s2mm.fsm_state", "soc.dma.engine.s2mm.curdesc",
                                   "soc.dma.engine.s2mm.tail", "soc.dma.engine.s2mm.halted",
                                   "soc.dma.engine.s2mm.idle", "soc.dma.engine.s2mm.completed",
                                   "soc.dma.engine.s2mm.error"],
    "GMII receive (frames from the peer)": ["soc.gmii_rx_clk", "soc.gmii_rx_dv", "soc.gmii_rxd",
                                            "soc.gmii_rx_er"],
    "GMII transmit (replies)": ["soc.gmii_tx_clk", "soc.gmii_tx_en", "soc.gmii_txd", "soc.gmii_tx_er"],
    "CPU port (AXI4-Lite)": ["soc.s_axil_arvalid", "soc.s_axil_arready", "soc.s_axil_araddr",
                             "soc.s_axil_rvalid", "soc.s_axil_rdata", "soc.s_axil_rresp",
                             "soc.s_axil_awvalid", "soc.s_axil_awaddr", "soc.s_axil_wdata",
                             "soc.s_axil_wstrb", "soc.s_axil_bvalid", "soc.s_axil_bresp"],
    "memory port (AXI4)": ["soc.m_axi_arvalid", "soc.m_axi_araddr", "soc.m_axi_arlen",
                           "soc.m_axi_rvalid", "soc.m_axi_rlast", "soc.m_axi_awvalid",
                           "soc.m_axi_awaddr", "soc.m_axi_awlen", "soc.m_axi_wvalid",
                           "soc.m_axi_wlast", "soc.m_axi_bvalid", "soc.m_axi_bresp"],
    "clock and reset": ["soc.clk", "soc.rst"],
}

#: Configurations of the SoC demo (docs/net.md).
SOC_DEMO_CONFIGS = ("plic", "atsintc")

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
    "demo": Scenario(
        "soc", "atsoc.sim.tb.soc_net_tb", "demo",
        "The network driver, executor and echo application on the RTL SoC: a scapy peer on the "
        "GMII pins sends an ARP request, pings and UDP datagrams; every reply is checked.",
        SOC_GROUPS),
}


def run_soc_demo(out_dir: Path, *, config: str = "both", waves: bool = False,
                 seed: int | None = None) -> int:
    """``atsoc sim demo``: the SoC under Verilator with the driver and the echo application in
    ``config`` (``plic``, ``atsintc`` or ``both``); prints the exchanges and the outputs (pcap of
    the wire, JSON summary, log and, with ``waves``, the dump and its GTKWave save file)."""
    import json

    from atsoc.sim.block_build import cached_verilog
    from atsoc.sim.runner import run_cocotb, waveform_format

    configs = SOC_DEMO_CONFIGS if config == "both" else (config,)
    for c in configs:
        if c not in SOC_DEMO_CONFIGS:
            raise ValueError(f"config must be one of {SOC_DEMO_CONFIGS} or 'both', not {c!r}")
    scenario = SCENARIOS["demo"]
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    if seed is None:
        seed = random.randrange(1 << 31)
    from atsoc.hdl.soc.soc import Soc
    from atsoc.sim.soc_system import soc_config_for
    print(f"Scenario demo: {scenario.doc}")
    print(f"  seed {seed} (replay with --seed {seed}); CPU software costs no time here, every "
          f"register access its bus cycles")
    outputs = []
    for c in configs:
        dump = out_dir / f"demo-{c}.{waveform_format()}" if waves else False
        # The default SoC for every configuration (sim/soc_system.py, soc_config_for).
        verilog = cached_verilog("soc", soc_config_for(c), Soc)
        print(f"\n[{c}] {'PLIC + software ready queue' if c == 'plic' else 'ATSINTC + DMA completion tokens'}")
        test_dir = run_cocotb(sources=[verilog], toplevel="soc", test_module=scenario.test_module,
                              testcase=scenario.testcase, waves=dump,
                              wave_groups=scenario.wave_groups if waves else None,
                              extra_env={"ATSOC_NET_CONFIG": c, "ATSOC_DEMO_OUT": str(out_dir)},
                              seed=seed, timeout_s=900)
        log = out_dir / f"demo-{c}.log"
        shutil.copyfile(test_dir / "sim.log", log)
        summary = json.loads((out_dir / f"demo-{c}.json").read_text())
        for e in summary["exchanges"]:
            print(f"  -> {e['request']} ({e['request_bytes']} B)")
            print(f"  <- {e['reply']} ({e['reply_bytes']} B): application task "
                  f"{e['wake_cycles']} cycles after the request's last byte, reply on the wire "
                  f"after {e['reply_cycles']}")
        s = summary["stats"]
        print(f"  {len(summary['exchanges'])} requests answered; driver: {s['rx_frames']} frames "
              f"received, {s['tx_frames']} sent, {s['tokens']} completion tokens, "
              f"{s['dma_errors']} DMA errors; {summary['cycles']} cycles simulated")
        outputs.append((c, summary["pcap"], log, out_dir / f"demo-{c}.json", dump))
    print("\nOutputs:")
    print(f"  Verilog          {verilog}")
    for c, pcap, log, js, dump in outputs:
        print(f"  [{c}] wire capture   {pcap}   (both directions; wireshark/tcpdump -r)")
        print(f"  [{c}] summary        {js}")
        print(f"  [{c}] simulation log {log}")
        if waves:
            print(f"  [{c}] waveform       {dump}")
            print(f"  [{c}] GTKWave layout {dump}.gtkw   (view: gtkwave {dump}.gtkw)")
    return 0


def run(name: str, out_dir: Path, *, waves: bool = False, seed: int | None = None,
        config: str | None = None) -> int:
    """Run scenario ``name``; outputs go to ``out_dir``. Returns a process exit code."""
    if name == "demo":
        return run_soc_demo(out_dir, config=config or "both", waves=waves, seed=seed)
    if config is not None:
        raise ValueError(f"--config applies to the 'demo' scenario only, not {name!r}")
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
