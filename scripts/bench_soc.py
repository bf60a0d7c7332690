"""``atsoc bench soc``: the whole SoC on ECP5 (LUT4, FF, DP16KD, Fmax per clock and the block the
critical path of each clock runs through), register access cycles through the interconnect and the
simulation speed of the SoC under Verilator (benchmarks.md: "resources and Fmax ... for the SoC",
"simulation speed").

Synthesis is out of context (ports stay ports), LFE5U-45F-8, ``--freq 125`` on every clock
(``clk``, ``gmii_rx_clk``, ``gmii_tx_clk``), seed 1, the project's flow (scripts/ecp5.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path


__all__ = ["bench_soc", "render_soc", "critical_path_blocks"]

FMAX_GOAL_MHZ = 125.0
#: Names of the SoC's submodules (first component of a cell name in the netlist).
BLOCK_NAMES = {"plic": "PLIC", "atsintc": "ATSINTC", "dma": "AXI DMA", "mac": "Ethernet MAC",
               "xbar": "AXI4-Lite interconnect", "tx_width": "TX width converter",
               "rx_width": "RX width converter"}


def _block_of(cell: str) -> str:
    head = cell.split(".", 1)[0] if "." in cell else "(top)"
    return head


def critical_path_blocks(report: dict) -> dict:
    """For each clock's critical path in nextpnr's ``report.json``: delay, the block of the
    source and of the sink, and the blocks the path runs through (by cell count)."""
    out = {}
    for cp in report.get("critical_paths", []):
        path = cp.get("path", [])
        if not path:
            continue
        cells = [step["from"]["cell"] for step in path] + [path[-1]["to"]["cell"]]
        blocks = Counter(_block_of(c) for c in cells)
        clk = lambda e: cp.get(e, "?").replace("posedge ", "").replace("negedge ", "")
        clock = clk("from") if clk("from") == clk("to") else f"{clk('from')} -> {clk('to')}"
        out[clock] = {
            "delay_ns": round(sum(step.get("delay", 0.0) for step in path), 2),
            "from_block": _block_of(path[0]["from"]["cell"]),
            "to_block": _block_of(path[-1]["to"]["cell"]),
            "from_cell": path[0]["from"]["cell"], "to_cell": path[-1]["to"]["cell"],
            "blocks": dict(blocks.most_common()),
            "to_clock": cp.get("to", "?"),
        }
    return out


def bench_soc(out_dir: Path, *, synth: bool = True, timeout_s: float = 5400) -> dict:
    """Run the SoC benchmark; returns the result record (also written as JSON in ``out_dir``)."""
    from atsoc.hdl.soc.config import SocConfig
    from atsoc.hdl.soc.soc import Soc
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"block": "soc", "goals": {"fmax_clk_mhz": f">= {FMAX_GOAL_MHZ:g}",
                                        "fmax_gmii_mhz": f">= {FMAX_GOAL_MHZ:g}"}}
    work = out_dir / "soc-sim"
    work.mkdir(exist_ok=True)
    v = work / "soc.v"
    v.write_text(convert(Soc(SocConfig()), "soc"))
    figures = work / "bench_figures.json"
    run_cocotb(sources=[v], toplevel="soc", test_module="atsoc.sim.tb.soc_tb", testcase="bench_figures",
               extra_env={"ATSOC_BENCH_OUT": str(figures)}, seed=1, timeout_s=1200)
    result["sim"] = json.loads(figures.read_text())
    if synth:
        from atsoc.scripts.ecp5 import synthesize
        ework = out_dir / "ecp5-soc"
        ework.mkdir(exist_ok=True)
        ev = ework / "soc.v"
        ev.write_text(v.read_text())
        try:
            r = synthesize([ev], "soc", workdir=ework, freq_mhz=FMAX_GOAL_MHZ, timeout_s=timeout_s)
            d = r.to_dict()
            report = json.loads((ework / "report.json").read_text())
            d["critical_paths"] = critical_path_blocks(report)
        except RuntimeError as e:
            d = {"error": str(e).splitlines()[0][:300]}
        result["ecp5"] = d
    (out_dir / "soc.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def render_soc(result: dict) -> list[str]:
    """Markdown lines for docs/benchmarks.md."""
    out = ["## SoC (PLIC + ATSINTC + AXI DMA + MAC)", ""]
    sim = result.get("sim", {})
    if sim:
        rd = ", ".join(f"{k} {v}" for k, v in sim.get("read_cycles", {}).items())
        wr = ", ".join(f"{k} {v}" for k, v in sim.get("write_cycles", {}).items())
        sp = sim.get("sim_speed", {})
        out += [f"CPU-port access, cycles ({sim.get('note_cycles', '')}): reads {rd}; writes {wr}.", "",
                f"Simulation speed under Verilator (cocotb, Python clocks, frames both ways): "
                f"{sp.get('cycles_per_second')} cycles/s ({sp.get('cycles')} cycles in {sp.get('seconds')} s).", ""]
    e = result.get("ecp5")
    if e and e.get("error"):
        out += [f"ECP5: not measured ({e['error']}).", ""]
    elif e:
        fmax = ", ".join(f"{k} {v:.1f}" for k, v in sorted(e.get("fmax_mhz", {}).items()))
        out += [f"ECP5 (default SocConfig, LFE5U-45F-8, out of context): LUT4 {e['lut4']}, CCU2C "
                f"{e['ccu2c']}, FF {e['ff']}, DP16KD {e['dp16kd']}; Fmax {fmax} MHz (goal "
                f"{FMAX_GOAL_MHZ:g} on every clock).", "",
                "| clock | critical path (ns) | from | to | blocks on the path (cells) |", "|---|---|---|---|---|"]
        for clk, cp in sorted(e.get("critical_paths", {}).items()):
            blocks = ", ".join(f"{BLOCK_NAMES.get(b, b)} {n}" for b, n in cp["blocks"].items())
            out.append(f"| {clk} | {cp['delay_ns']} | {BLOCK_NAMES.get(cp['from_block'], cp['from_block'])} | "
                       f"{BLOCK_NAMES.get(cp['to_block'], cp['to_block'])} | {blocks} |")
        out.append("")
    return out
