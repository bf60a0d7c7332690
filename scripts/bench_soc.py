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


#: The configurations compared end to end (docs/net.md): PLIC + software ready queue, and
#: ATSINTC hardware queue + DMA completion tokens.
E2E_CONFIGS = ("plic", "atsintc")
E2E_NOTE = ("RTL SoC under Verilator (sim/tb/soc_net_tb.py, bench): the reference driver, executor "
            "and echo application in Python drive the CPU port; every register access costs its "
            "bus cycles, the driver's CPU time (instructions, traps, a software queue) is not "
            "simulated and costs nothing. System clock 125 MHz; cycles are system clock cycles. "
            "Both configurations run the default SoC; only atsintc sets the DMA's run-time token "
            "enable (DMACR.TokenEn). Every run passes the conservation check (each "
            "request answered or counted as dropped, MAC RXFL = frames the driver took).")


def bench_end_to_end(verilog: Path, work: Path, *, pings: int = 16, frames: int = 40,
                     seed: int = 1) -> dict:
    """The network application end to end on the RTL in each of :data:`E2E_CONFIGS`: wake-up
    path and round trips (``pings`` of each, random gaps), UDP echo throughput at 64, 512 and
    1472-byte payloads (``frames`` offered back to back at line rate)."""
    from atsoc.hdl.soc.config import SocConfig
    from atsoc.hdl.soc.soc import Soc
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb
    from atsoc.sim.soc_system import soc_config_for
    out = {"note": E2E_NOTE, "seed": seed, "pings": pings, "frames_per_size": frames}
    for config in E2E_CONFIGS:
        # The SoC each configuration runs on: ``verilog`` (the default SocConfig) where it is the
        # same (every configuration today: only atsintc enables the tokens, at run time), else
        # its own build.
        soc_config = soc_config_for(config)
        source = verilog
        if soc_config != SocConfig():
            source = work / f"soc-{config}.v"
            source.write_text(convert(Soc(soc_config), "soc"))
        path = work / f"e2e-{config}.json"
        run_cocotb(sources=[source], toplevel="soc", test_module="atsoc.sim.tb.soc_net_tb",
                   testcase="bench", extra_env={"ATSOC_BENCH_OUT": str(path), "ATSOC_NET_CONFIG": config,
                                               "ATSOC_BENCH_PINGS": str(pings),
                                               "ATSOC_BENCH_FRAMES": str(frames)},
                   seed=seed, timeout_s=1800)
        out[config] = json.loads(path.read_text())
    p, a = out["plic"], out["atsintc"]
    out["ratio_plic_over_atsintc"] = {
        "wake_mean": round(p["wake_cycles"]["mean"] / a["wake_cycles"]["mean"], 2),
        "wake_worst": round(p["wake_cycles"]["worst"] / a["wake_cycles"]["worst"], 2),
        "udp_round_trip_mean": round(p["udp_round_trip_cycles"]["mean"] / a["udp_round_trip_cycles"]["mean"], 2),
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
    result["end_to_end"] = bench_end_to_end(v, work)
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
    out += render_end_to_end(result.get("end_to_end"))
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


def render_end_to_end(e2e: dict | None) -> list[str]:
    """Markdown lines for the end-to-end figures."""
    if not e2e:
        return []
    out = ["### End to end: the echo application on the RTL SoC", "", e2e["note"], "",
           "| path (system cycles) | PLIC + software queue: mean / worst | ATSINTC + tokens: mean / worst | PLIC / ATSINTC (mean) |",
           "|---|---|---|---|"]
    rows = (("last byte in (rx_dv falls) -> application task running", "wake_cycles", "wake_mean"),
            ("ping: last byte in -> first byte of the reply out (tx_en rises)", "icmp_round_trip_cycles", None),
            ("UDP echo: last byte in -> first byte of the reply out", "udp_round_trip_cycles", "udp_round_trip_mean"))
    for label, key, ratio in rows:
        p, a = e2e["plic"][key], e2e["atsintc"][key]
        r = e2e["ratio_plic_over_atsintc"].get(ratio) if ratio else round(p["mean"] / a["mean"], 2)
        out.append(f"| {label} | {p['mean']} / {p['worst']} | {a['mean']} / {a['worst']} | {r} |")
    out += ["", f"({e2e['pings']} requests of each kind, random gaps of 2000..6000 cycles, seed {e2e['seed']}.)", "",
            "| UDP echo payload | config | offered (% of line rate) | answered / offered | replies, sustained (% of line rate) | whole run (% of line rate) | echoed payload (Mb/s) |",
            "|---|---|---|---|---|---|---|"]
    for size in ("64", "512", "1472"):
        for config in ("plic", "atsintc"):
            t = e2e[config]["udp_echo_throughput"][size]
            out.append(f"| {size} B | {config} | {t['offered_line_rate_pct']} | {t['answered']} / {t['offered']} "
                       f"| {t['sustained_line_rate_pct']} | {t['whole_run_line_rate_pct']} | {t['sustained_payload_mbps']} |")
    out += ["", "Line rate: 1 Gb/s counting preamble, FCS and the 12-byte gap of every frame. Sustained: "
            "reply bytes per second of simulated time between the first reply's first byte and the last "
            "one's last byte; whole run: from the first request's first byte (includes one round trip).", ""]
    return out
