"""``atsoc bench dma``: AXI DMA throughput, descriptor overhead, latencies and ECP5 figures.

Cycle figures come from the ``benchmark`` testcase of sim/tb/dma_tb.py (generated Verilog under
Verilator, no memory pauses, streams always ready): stream bytes per cycle and AXI beats per
frame spent on descriptors (fetch + write-back) versus data, for frame sizes 60..1514, MM2S,
S2MM and both at once, at 32-bit and 64-bit data width; cycles from the TAILDESC write to the
first MM2S beat and from the last S2MM beat to ``s2mm_irq``. The goal: 1 GbE line rate in both
directions with a 32-bit bus at 125 MHz, i.e. a frame of N bytes every N + 24 cycles (FCS,
preamble and inter-frame gap on the wire) per direction: ``line_rate_fraction_per_direction``
is wire bytes per cycle and must be >= 1.
"""

from __future__ import annotations

import json
from pathlib import Path


__all__ = ["bench_dma", "render_dma"]

FMAX_GOAL_MHZ = 125.0


def bench_dma(out_dir: Path, *, synth: bool) -> dict:
    """Run the DMA benchmark; returns the result record (also written as JSON in ``out_dir``)."""
    from atsoc.hdl.dma.axi_dma import AXIDMA
    from atsoc.hdl.dma.config import AXIDMAConfig
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb
    from atsoc.sim.tb.dma_tb import config_to_env

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"block": "axi_dma", "goals": {"line_rate_fraction_per_direction": ">= 1 at every size (32-bit, 125 MHz)",
                                            "fmax_default_mhz": f">= {FMAX_GOAL_MHZ:g}"},
              "runs": {}}
    for dw in (32, 64):
        cfg = AXIDMAConfig(data_width=dw)
        vdir = out_dir / f"axi_dma-{dw}"
        vdir.mkdir(exist_ok=True)
        (vdir / "axi_dma.v").write_text(convert(AXIDMA(cfg), "axi_dma"))
        env = config_to_env(cfg)
        env["ATSOC_BENCH_OUT"] = str(out_dir / f"axi_dma-{dw}-bench.json")
        run_cocotb(sources=[vdir / "axi_dma.v"], toplevel="axi_dma", test_module="atsoc.sim.tb.dma_tb",
                   testcase="benchmark", extra_env=env, seed=1)
        result["runs"][str(dw)] = json.loads(Path(env["ATSOC_BENCH_OUT"]).read_text())
    if synth:
        from dataclasses import asdict
        from atsoc.scripts.ecp5 import synthesize
        work = out_dir / "ecp5-axi_dma"
        work.mkdir(exist_ok=True)
        v = work / "axi_dma.v"
        v.write_text(convert(AXIDMA(AXIDMAConfig()), "axi_dma"))
        r = synthesize([v], "axi_dma", workdir=work, freq_mhz=FMAX_GOAL_MHZ)
        d = asdict(r)
        result["ecp5"] = {k: (str(x) if isinstance(x, Path) else x) for k, x in d.items()}
    (out_dir / "axi_dma.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def render_dma(result: dict) -> list[str]:
    """Markdown lines for docs/benchmarks.md."""
    out = ["## AXI DMA", "",
           "Generated Verilog under Verilator, AxiRam without pauses, streams always ready; "
           "`wire/cycle` is wire bytes (frame + FCS + preamble + gap) per cycle per direction: "
           ">= 1 keeps 1 GbE at 125 MHz (goal: every size, 32-bit).", ""]
    for dw, run in sorted(result.get("runs", {}).items(), key=lambda kv: int(kv[0])):
        out += [f"### {dw}-bit data", "",
                "| mode | frame | bytes/cycle | wire/cycle per direction | descriptor beats/frame | data beats/frame |",
                "|---|---|---|---|---|---|"]
        for t in run["throughput"]:
            ok = "" if t["line_rate_fraction_per_direction"] >= 1 else " (below line rate)"
            out.append(f"| {t['mode']} | {t['frame']} | {t['bytes_per_cycle']} | "
                       f"{t['line_rate_fraction_per_direction']}{ok} | {t['desc_beats_per_frame']} | "
                       f"{t['data_beats_per_frame']} |")
        lat = run["latency"]
        out += ["", f"Latency: TAILDESC write to first MM2S beat {lat['tail_write_to_first_mm2s_beat']} cycles; "
                    f"last S2MM beat to `s2mm_irq` {lat['last_s2mm_beat_to_irq']} cycles.", ""]
    e = result.get("ecp5")
    if e:
        fmax = ", ".join(f"{k} {v:.1f}" for k, v in sorted(e.get("fmax_mhz", {}).items()))
        out += [f"ECP5 (default configuration): LUT4 {e['lut4']}, CCU2C {e['ccu2c']}, FF {e['ff']}, "
                f"DP16KD {e['dp16kd']}, Fmax {fmax} MHz (goal {FMAX_GOAL_MHZ:g}).", ""]
    return out
