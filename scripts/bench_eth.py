"""``atsoc bench eth``: MAC throughput against 1 GbE line rate (simulation) and ECP5 figures.

Throughput: the cocotb testcase ``bench_throughput`` of sim/tb/eth_mac_tb.py sends 16 back-to-back
frames of 64..1518 bytes in TX, RX and both directions at once and counts transmit-clock cycles on
``gmii_tx_en`` (line rate: 8 + L + 12 byte times per frame) and frames delivered of those offered.
The same at 32-bit streams (``throughput_32``). RX latency (``rx_latency``): the testcase
``bench_rx_latency`` counts system clock cycles from ``gmii_rx_dv`` falling after a frame's last
byte to the handshake of its TLAST beat on ``m_axis_rx`` (idle MAC, TREADY high), at 64 and 1518
bytes, with 8- and 32-bit streams. ECP5: the configurations of ``SYNTH_CONFIGS`` with
scripts/ecp5.synthesize, out of context, 125 MHz constraints on ``clk`` and the PHY clocks.
"""

from __future__ import annotations

import json
from pathlib import Path


__all__ = ["bench_eth", "render_eth"]

CLOCKS_MHZ = {"clk": 125.0, "gmii_rx_clk": 125.0, "gmii_tx_clk": 125.0}
RGMII_CLOCKS_MHZ = {"clk": 125.0, "rgmii_rx_clk": 125.0, "gtx_clk": 125.0}

#: RX latency of the previous version (byte-wide RX buffer drained a byte per system clock, then
#: packed into beats), measured with ``bench_rx_latency`` at commit dc676fd: (data_width, size) ->
#: mean system cycles from rx_dv falling to the TLAST beat.
PREVIOUS_RX_LATENCY = {(8, 64): 64.1, (8, 1518): 1518.0, (32, 64): 65.2, (32, 1518): 1519.1}

#: Configurations measured side by side: (label, EthMACConfig keyword arguments).
SYNTH_CONFIGS = (
    ("gmii, 8-bit streams, 4 KiB TX FIFO, 4 KiB RX buffer, statistics (32-bit), MDIO", {}),
    ("same, 32-bit streams (as the SoC uses it)", {"data_width": 32}),
    ("same as the first, 16-bit counters", {"counter_width": 16}),
    ("same as the first, no statistics counters", {"statistics": False}),
    ("rgmii (behavioural DDR registers, see docs/eth.md), 8-bit streams, statistics, MDIO",
     {"phy": "rgmii"}),
)


def bench_eth(out_dir: Path, *, synth: bool) -> dict:
    """Run the throughput benchmark (and synthesis when ``synth``); return the result record."""
    from atsoc.hdl.eth.config import EthMACConfig
    from atsoc.sim.tb.eth_build import eth_verilog, run_eth

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = EthMACConfig()
    result = {"block": "eth", "goals": {"line_rate_pct": "100 at every size",
                                        "fmax_mhz": ">= 125 on every clock"}}
    tp = out_dir / "eth-throughput.json"
    run_eth(cfg, "bench_throughput", extra_env={"ATSOC_BENCH_OUT": str(tp)})
    result["throughput"] = json.loads(tp.read_text())
    tp32 = out_dir / "eth-throughput-32.json"
    run_eth(EthMACConfig(data_width=32), "bench_throughput", extra_env={"ATSOC_BENCH_OUT": str(tp32)})
    result["throughput_32"] = json.loads(tp32.read_text())
    result["rx_latency"] = []
    for dw in (8, 32):
        lat = out_dir / f"eth-rx-latency-{dw}.json"
        run_eth(EthMACConfig(data_width=dw), "bench_rx_latency", extra_env={"ATSOC_BENCH_OUT": str(lat)})
        result["rx_latency"] += json.loads(lat.read_text())
    if synth:
        from atsoc.scripts.ecp5 import synthesize
        result["ecp5"] = []
        for i, (label, kw) in enumerate(SYNTH_CONFIGS):
            c = EthMACConfig(**kw)
            work = out_dir / f"ecp5-eth_mac-{i}"
            work.mkdir(parents=True, exist_ok=True)
            clocks = RGMII_CLOCKS_MHZ if c.phy == "rgmii" else CLOCKS_MHZ
            r = synthesize([eth_verilog(c)], "eth_mac", workdir=work, clocks=clocks)
            d = r.to_dict()
            d["config"] = label
            d["params"] = kw
            result["ecp5"].append(d)
    return result


def render_eth(result: dict) -> list[str]:
    """Markdown lines for docs/benchmarks.md."""
    out = ["## Ethernet MAC", "",
           "Throughput in % of 1 GbE line rate (8 bits per 125 MHz cycle including preamble and "
           "12-byte gap); 16 back-to-back frames per size; RX: frames delivered of those offered "
           "(none dropped means line rate, the receive side never stalls the PHY).", "",
           "| frame bytes | TX | RX | both: TX | both: RX |", "|---|---|---|---|---|"]
    rows = {}
    for r in result.get("throughput", []):
        rows.setdefault(r["size"], {})[r["mode"]] = r
    for size in sorted(rows):
        m = rows[size]
        cell = lambda mode, key: (f"{m[mode][key]:.1f}" if mode in m and key in m[mode] else "")
        out.append(f"| {size} | {cell('tx', 'tx_line_rate_pct')} | {cell('rx', 'rx_line_rate_pct')} | "
                   f"{cell('both', 'tx_line_rate_pct')} | {cell('both', 'rx_line_rate_pct')} |")
    out.append("")
    if result.get("throughput_32"):
        worst = {}
        for r in result["throughput_32"]:
            for key in ("tx_line_rate_pct", "rx_line_rate_pct"):
                if key in r:
                    worst[key] = min(worst.get(key, 100.0), r[key])
        out += [f"With 32-bit streams (`data_width=32`), the lowest TX and RX figures over all sizes "
                f"and modes: TX {worst.get('tx_line_rate_pct', 0):.1f} %, RX "
                f"{worst.get('rx_line_rate_pct', 0):.1f} %.", ""]
    if result.get("rx_latency"):
        out += ["RX latency: system clock cycles (7 ns) from `gmii_rx_dv` falling after a frame's last "
                "byte to its last `m_axis_rx` beat (TLAST), idle MAC, TREADY high; mean (min..max) of "
                "8 frames. Previous version: the RX buffer drained a byte per cycle at every width.", "",
                "| data_width | frame bytes | cycles | previous version |", "|---|---|---|---|"]
        for r in result["rx_latency"]:
            prev = PREVIOUS_RX_LATENCY.get((r["data_width"], r["size"]))
            out.append(f"| {r['data_width']} | {r['size']} | {r['mean']:.1f} ({r['min']}..{r['max']}) | "
                       f"{'' if prev is None else f'{prev:.1f}'} |")
        out.append("")
    if result.get("ecp5"):
        out += ["| configuration | LUT4 | CCU2C | FF | DP16KD | Fmax (MHz) |", "|---|---|---|---|---|---|"]
        for r in result["ecp5"]:
            fmax = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["fmax_mhz"].items()))
            out.append(f"| {r.get('config', '')} | {r['lut4']} | {r['ccu2c']} | {r['ff']} | "
                       f"{r['dp16kd']} | {fmax} |" if not r.get("error") else
                f"| {r.get('config', '')} | failed: {r['error']} | | | | |")
        out += ["", "Peers (benchmarks.md, same flow): verilog-ethernet eth_mac_1g_fifo 895 LUT4 / "
                "494 FF / 6 EBR; LiteEth MAC 1059 LUT4 / 736 FF / 6 EBR (1466 LUT4 / 806 FF "
                "measured by scripts/bench_peer.py in this project).", ""]
    return out
