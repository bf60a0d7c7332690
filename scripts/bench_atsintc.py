"""ATSINTC benchmark: cycle figures on the ports, the wake-up comparison with the PLIC path, and
ECP5 resources/Fmax (block RAM for the queues) for the default and a large configuration."""

from __future__ import annotations

from pathlib import Path

FMAX_GOAL_MHZ = 125.0
SYNTH_CONFIGS = {"default": {}, "16 processes, capacity 1024": {"processes": 16, "capacity": 1024}}


def bench_atsintc(out_dir: Path, *, synth: bool = True) -> dict:
    from atsoc.hdl.atsintc.atsintc import ATSINTC
    from atsoc.hdl.atsintc.config import ATSINTCConfig
    from atsoc.hdl.plic.config import PLICConfig
    from atsoc.hdl.plic.plic import PLIC
    from atsoc.scripts.bench import run_bench_testcase, synthesize_configs
    from atsoc.sim.tb import atsintc_tb, plic_tb

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg, pcfg = ATSINTCConfig(), PLICConfig()
    result = {"block": "atsintc"}
    result["latency"] = run_bench_testcase(out_dir, "atsintc-default", "atsintc", ATSINTC(cfg),
                                           atsintc_tb.config_to_env(cfg), "atsoc.sim.tb.atsintc_tb",
                                           "bench_latency")
    result["plic_path"] = run_bench_testcase(out_dir, "plic-wakeup", "plic", PLIC(pcfg),
                                             plic_tb.config_to_env(pcfg), "atsoc.sim.tb.plic_tb",
                                             "bench_wakeup")
    if synth:
        result["ecp5"] = synthesize_configs(out_dir, "atsintc", {
            name: ATSINTC(ATSINTCConfig(**kwargs)) for name, kwargs in SYNTH_CONFIGS.items()},
            timeout_s=2700)
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
           f"| ratio PLIC / ATSINTC | {_mean(p) / _mean(a):.2f} | |", ""]
    out += [
           "Software time is not simulated (the Python driver costs no bus cycles), so the PLIC "
           "path's trap entry, ready-queue insertion and completion write are not in its figure; "
           "the ATSINTC path has none of them.", ""]
    if res.get("ecp5"):
        out += ["| configuration | LUT4 | CCU2C | FF | DP16KD | Fmax clk (MHz) | goal |",
                "|---|---|---|---|---|---|---|"]
        for r in res["ecp5"]:
            if r.get("error"):
                out.append(f"| {r['name']} | not measured: {r['error']} ({r['seconds']} s) | | | | | |")
                continue
            f = r["fmax_mhz"].get("clk", 0.0)
            goal = (f">= {FMAX_GOAL_MHZ:g}: " + ("met" if f >= FMAX_GOAL_MHZ else "MISSED")) \
                if r["name"] == "default" else ""
            out.append(f"| {r['name']} | {r['lut4']} | {r['ccu2c']} | {r['ff']} | {r['dp16kd']} | "
                       f"{f:.1f} | {goal} |")
    return out
