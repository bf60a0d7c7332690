"""ATSINTC benchmark: cycle figures on the ports, the wake-up comparison with the PLIC path, and
ECP5 resources/Fmax (block RAM for the queues) for the default and a large configuration."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FMAX_GOAL_MHZ = 125.0
SYNTH_CONFIGS = {"default": {}, "16 processes, capacity 1024": {"processes": 16, "capacity": 1024}}


def bench_atsintc(out_dir: Path, *, synth: bool = True) -> dict:
    from atsoc.hdl.atsintc.atsintc import ATSINTC
    from atsoc.hdl.atsintc.config import ATSINTCConfig
    from atsoc.hdl.plic.config import PLICConfig
    from atsoc.hdl.plic.plic import PLIC
    from atsoc.hdl.toplevel import convert
    from atsoc.sim.runner import run_cocotb
    from atsoc.sim.tb import atsintc_tb, plic_tb

    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"block": "atsintc"}
    cfg = ATSINTCConfig()
    work = out_dir / "atsintc-default"
    work.mkdir(exist_ok=True)
    (work / "atsintc.v").write_text(convert(ATSINTC(cfg), "atsintc"))
    env = atsintc_tb.config_to_env(cfg)
    env["ATSOC_BENCH_OUT"] = str(out_dir / "atsintc-latency.json")
    run_cocotb(sources=[work / "atsintc.v"], toplevel="atsintc", test_module="atsoc.sim.tb.atsintc_tb",
               testcase="bench_latency", extra_env=env, seed=1)
    result["latency"] = json.loads((out_dir / "atsintc-latency.json").read_text())

    pcfg = PLICConfig()
    pwork = out_dir / "plic-wakeup"
    pwork.mkdir(exist_ok=True)
    (pwork / "plic.v").write_text(convert(PLIC(pcfg), "plic"))
    env = plic_tb.config_to_env(pcfg)
    env["ATSOC_BENCH_OUT"] = str(out_dir / "plic-wakeup.json")
    run_cocotb(sources=[pwork / "plic.v"], toplevel="plic", test_module="atsoc.sim.tb.plic_tb",
               testcase="bench_wakeup", extra_env=env, seed=1)
    result["plic_path"] = json.loads((out_dir / "plic-wakeup.json").read_text())

    if synth:
        from atsoc.scripts.ecp5 import synthesize

        def one(item):
            name, kwargs = item
            c = ATSINTCConfig(**kwargs)
            w = out_dir / f"ecp5-atsintc-{c.processes}x{c.capacity}"
            w.mkdir(parents=True, exist_ok=True)
            (w / "atsintc.v").write_text(convert(ATSINTC(c), "atsintc"))
            d = synthesize([w / "atsintc.v"], "atsintc", workdir=w, freq_mhz=FMAX_GOAL_MHZ).to_dict()
            d["name"] = name
            return d

        with ThreadPoolExecutor(max_workers=2) as pool:
            result["ecp5"] = list(pool.map(one, SYNTH_CONFIGS.items()))
    return result


def _mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def render_atsintc(res: dict) -> list[str]:
    lat, plic = res["latency"], res["plic_path"]
    a, p = lat["executor_irq_to_task_cycles"], plic["executor_irq_to_task_cycles"]
    ok = lambda v, lim: "met" if v <= lim else "MISSED"
    out = ["## ATSINTC", "",
           f"Measured {res.get('date', '')}; configuration {lat['config']}.", "",
           "| figure | measured | goal | |", "|---|---|---|---|",
           f"| enqueue: AW/W handshake -> B (cycles) | {lat['enqueue_aw_to_b_cycles']} | <= 2 | "
           f"{ok(lat['enqueue_aw_to_b_cycles'], 2)} |",
           f"| dequeue: AR handshake -> R (cycles) | {lat['dequeue_ar_to_r_cycles']} | <= 2 | "
           f"{ok(lat['dequeue_ar_to_r_cycles'], 2)} |",
           f"| sustained enqueues per cycle | {lat['enqueues_per_cycle']} | 0.5 | "
           f"{'met' if lat['enqueues_per_cycle'] >= 0.5 else 'MISSED'} |",
           f"| sustained dequeues per cycle | {lat['dequeues_per_cycle']} | 0.5 | "
           f"{'met' if lat['dequeues_per_cycle'] >= 0.5 else 'MISSED'} |",
           f"| irq line rising -> AR of the dequeue that returns the handler (cycles) | "
           f"{lat['irq_to_handler_ar_cycles']} | | |",
           f"| irq line rising -> handler word on R (cycles) | {lat['irq_to_handler_data_cycles']} | <= 3 | "
           f"{ok(lat['irq_to_handler_data_cycles'], 3)} |", "",
           "Wake-up path comparison: the same executor task (reference driver, "
           "`sim/driver/executor.py`) waiting for an interrupt, cycles from the line rising to the "
           "task running, over 8 wake-ups; bus accesses from the wake to the task.", "",
           "| path | cycles (mean / worst) | accesses to the task |", "|---|---|---|",
           f"| ATSINTC (notify, dequeue) | {_mean(a):.1f} / {max(a)} | {_mean(lat['executor_accesses_to_task']):.0f} |",
           f"| PLIC + software ready queue (EIP, claim) | {_mean(p):.1f} / {max(p)} | "
           f"{_mean(plic['executor_accesses_to_task']):.0f} |",
           f"| ratio PLIC / ATSINTC | {_mean(p) / _mean(a):.2f} | |", "",
           "Software time is not simulated (the Python driver costs no bus cycles), so the PLIC "
           "path's trap entry, ready-queue insertion and completion write are not in its figure; "
           "the ATSINTC path has none of them.", ""]
    if res.get("ecp5"):
        out += ["| configuration | LUT4 | CCU2C | FF | DP16KD | Fmax clk (MHz) | goal |",
                "|---|---|---|---|---|---|---|"]
        for r in res["ecp5"]:
            f = r["fmax_mhz"].get("clk", 0.0)
            goal = (f">= {FMAX_GOAL_MHZ:g}: " + ("met" if f >= FMAX_GOAL_MHZ else "MISSED")) \
                if r["name"] == "default" else ""
            out.append(f"| {r['name']} | {r['lut4']} | {r['ccu2c']} | {r['ff']} | {r['dp16kd']} | "
                       f"{f:.1f} | {goal} |")
    return out
