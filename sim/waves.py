"""GTKWave save files (``.gtkw``) for simulation dumps.

:func:`write_gtkw` writes a save file that opens a VCD or FST dump, zooms to fit and shows the
requested signals in named, expanded groups. It is independent of any block and of the simulator
that wrote the dump; :func:`atsoc.sim.runner.run_cocotb` calls it after a traced run.

Signal names are given without the simulator's top scope (``"plic.eip"``); they are resolved
against the scopes of the dump when the dump is a VCD file (whose header is plain text), and
otherwise prefixed with ``scope_prefix`` (Verilator puts everything under a ``TOP`` scope, so
a toplevel ``plic`` appears as ``TOP.plic``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from vcd.gtkw import GTKWSave

__all__ = ["write_gtkw", "read_vcd_signals", "resolve_signal", "dump_end_time"]


_VAR_RE = re.compile(r"\$var\s+\S+\s+(\d+)\s+\S+\s+(.*?)\s*\$end", re.S)


def read_vcd_signals(vcd_path: Path, max_header_bytes: int = 64 << 20) -> dict[str, int]:
    """Read the signal declarations of a VCD file.

    Parameters
    ----------
    vcd_path : Path
        A VCD file.
    max_header_bytes : int
        Stop reading after this many bytes if ``$enddefinitions`` was not seen.

    Returns
    -------
    dict[str, int]
        Full hierarchical signal name (scopes joined with ``.``, without a bit range) to width.
    """
    signals: dict[str, int] = {}
    scopes: list[str] = []
    buf: list[str] = []
    read = 0
    with open(vcd_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            read += len(line)
            buf.append(line)
            if "$end" not in line and read < max_header_bytes:
                continue
            text = " ".join(buf)
            buf.clear()
            # A line may hold several declarations.
            for tok in re.finditer(r"\$(scope|upscope|var|enddefinitions)\b(.*?)\$end", text, re.S):
                kind, body = tok.group(1), tok.group(2).split()
                if kind == "scope":
                    scopes.append(body[1] if len(body) > 1 else body[0])
                elif kind == "upscope":
                    if scopes:
                        scopes.pop()
                elif kind == "var":
                    # $var <type> <size> <id> <reference> [<bit range>] $end
                    if len(body) >= 4:
                        width, name = int(body[1]), body[3]
                        signals[".".join([*scopes, name])] = width
                else:
                    return signals
            if read >= max_header_bytes:
                break
    return signals


def resolve_signal(name: str, known: dict[str, int] | None, scope_prefix: str = "TOP") -> str:
    """Map a signal name as written by a test (``"plic.eip"``) to its name in a dump.

    Parameters
    ----------
    name : str
        Hierarchical name, with or without the dump's top scope.
    known : dict[str, int] or None
        Signals of the dump (see :func:`read_vcd_signals`), or None when unknown (FST).
    scope_prefix : str
        Top scope added when the dump's signals are unknown or the name matched none of them.

    Returns
    -------
    str
        The full name; an exact match first, else the shortest name ending in ``"." + name``.
    """
    if known:
        if name in known:
            return name
        candidates = [k for k in known if k.endswith("." + name)]
        if candidates:
            return min(candidates, key=len)
    if scope_prefix and not name.startswith(scope_prefix + "."):
        return f"{scope_prefix}.{name}"
    return name


def dump_end_time(dump_path: Path) -> int | None:
    """Last timestamp of a VCD or FST dump in dump ticks, or None when it cannot be read.

    For FST it is the ``end_time`` field of the header block (byte 0: block type 0, 1-8: length,
    9-16: start time, 17-24: end time, big-endian); for VCD the last ``#<time>`` line.
    """
    try:
        with open(dump_path, "rb") as f:
            if Path(dump_path).suffix == ".fst":
                head = f.read(25)
                if len(head) == 25 and head[0] == 0:
                    return int.from_bytes(head[17:25], "big")
                return None
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - (1 << 16)))
            times = re.findall(rb"^#(\d+)", f.read(), re.M)
            return int(times[-1]) if times else None
    except OSError:
        return None


def _fit_zoom(dump_path: Path, pixels: int = 1000) -> float:
    # GTKWave shows pow(2, -zoom) dump ticks per pixel: fit the whole dump in about `pixels`.
    end = dump_end_time(dump_path)
    if not end:
        return 0.0
    return -math.log2(end / pixels)


def write_gtkw(dump_path: Path, groups: dict[str, list[str]], out_path: Path | None = None, *,
               scope_prefix: str = "TOP") -> Path:
    """Write a GTKWave save file for a dump.

    Parameters
    ----------
    dump_path : Path
        The VCD or FST file the save file opens (stored as an absolute path).
    groups : dict[str, list[str]]
        Group name to hierarchical signal names (``{"irq": ["plic.eip", "plic.irq_sources"]}``).
        Each group is shown expanded; multi-bit signals are displayed in hexadecimal.
    out_path : Path, optional
        Where to write; ``<dump_path>.gtkw`` (e.g. ``dump.fst.gtkw``) by default.
    scope_prefix : str
        Top scope of the simulator's dump, used for names that cannot be looked up in the dump
        (always for FST). Verilator's is ``TOP``.

    Returns
    -------
    Path
        The save file written.
    """
    dump_path = Path(dump_path).resolve()
    out_path = Path(out_path) if out_path is not None else dump_path.with_name(dump_path.name + ".gtkw")
    known = read_vcd_signals(dump_path) if dump_path.suffix == ".vcd" and dump_path.exists() else None

    with open(out_path, "w") as f:
        save = GTKWSave(f)
        save.comment(f"Generated by atsoc.sim.waves for {dump_path.name}")
        save.dumpfile(str(dump_path))
        save.savefile(str(out_path.resolve()))
        save.zoom_markers(_fit_zoom(dump_path))
        save.treeopen(scope_prefix + "." if scope_prefix else "")
        save.signals_width(260)
        save.sst_expanded(True)
        for group, names in groups.items():
            with save.group(group, closed=False):
                for name in names:
                    full = resolve_signal(name, known, scope_prefix)
                    width = known.get(full, 0) if known else 0
                    # Single bits are drawn as waveforms whatever the format; vectors in hex.
                    save.trace(full, datafmt="bin" if width == 1 else "hex")
    return out_path
