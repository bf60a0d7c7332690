"""GTKWave save files (``.gtkw``) for simulation dumps.

:func:`write_gtkw` writes a save file that opens a VCD or FST dump, zooms to fit and shows the
requested signals in named, expanded groups. It is independent of any block and of the simulator
that wrote the dump; :func:`atsoc.sim.runner.run_cocotb` calls it after a traced run.

Signal names are given as ``"<toplevel>.<signal>"`` (``"plic.eip"``) and resolved against the
hierarchy read from the dump itself (VCD header, or the FST hierarchy block, decoded here without
extra packages), so the save file names exactly what GTKWave will find.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from vcd.gtkw import GTKWSave

__all__ = ["write_gtkw", "read_dump_signals", "read_vcd_signals", "read_fst_signals",
           "resolve_signal", "dump_end_time"]


def _lz4_block_decompress(src: bytes, size: int) -> bytes:
    """Decompress one raw LZ4 block (the format FST uses for its hierarchy)."""
    out = bytearray()
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        lit = token >> 4
        if lit == 15:
            while True:
                b = src[i]
                i += 1
                lit += b
                if b != 255:
                    break
        out += src[i:i + lit]
        i += lit
        if i >= n:
            break
        off = src[i] | (src[i + 1] << 8)
        i += 2
        mlen = token & 15
        if mlen == 15:
            while True:
                b = src[i]
                i += 1
                mlen += b
                if b != 255:
                    break
        mlen += 4
        start = len(out) - off
        for k in range(mlen):   # byte by byte: matches may overlap their own output
            out.append(out[start + k])
    if len(out) != size:
        raise ValueError("bad LZ4 block")
    return bytes(out)


def read_fst_signals(fst_path: Path) -> dict[str, int]:
    """Read the signal declarations of an FST file (its hierarchy block).

    Handles the gzip (block type 4), LZ4 (6) and double-LZ4 (7) hierarchy blocks that
    ``fstapi`` writes; returns ``{}`` for anything it does not understand.

    Returns
    -------
    dict[str, int]
        Full hierarchical signal name to width in bits.
    """
    import zlib

    data = Path(fst_path).read_bytes()
    hier = None
    i = 0
    try:
        while i + 9 <= len(data):
            typ, length = data[i], int.from_bytes(data[i + 1:i + 9], "big")
            body = data[i + 9:i + 1 + length]
            if typ == 4:
                hier = zlib.decompress(body[8:], 15 + 32)
            elif typ == 6:
                hier = _lz4_block_decompress(body[8:], int.from_bytes(body[:8], "big"))
            elif typ == 7:
                once = int.from_bytes(body[8:16], "big")
                hier = _lz4_block_decompress(_lz4_block_decompress(body[16:], once),
                                             int.from_bytes(body[:8], "big"))
            i += 1 + length
    except (ValueError, IndexError, zlib.error):
        return {}
    if hier is None:
        return {}

    def string(j: int) -> tuple[str, int]:
        end = hier.index(0, j)
        return hier[j:end].decode(errors="replace"), end + 1

    def varint(j: int) -> tuple[int, int]:
        v = shift = 0
        while True:
            b = hier[j]
            j += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v, j

    signals: dict[str, int] = {}
    scopes: list[str] = []
    j = 0
    try:
        while j < len(hier):
            tag = hier[j]
            j += 1
            if tag == 254:                      # FST_ST_VCD_SCOPE: type, name, component
                name, j = string(j + 1)
                _, j = string(j)
                scopes.append(name)
            elif tag == 255:                    # FST_ST_VCD_UPSCOPE
                if scopes:
                    scopes.pop()
            elif tag == 252:                    # FST_ST_GEN_ATTRBEGIN: type, subtype, name, arg
                _, j = string(j + 2)
                _, j = varint(j)
            elif tag == 253:                    # FST_ST_GEN_ATTREND
                pass
            elif tag <= 29:                     # a variable: type, direction, name, length, alias
                name, j = string(j + 1)
                width, j = varint(j)
                _, j = varint(j)
                name = name.split(" [", 1)[0]
                signals[".".join([*scopes, name])] = width
            else:
                break
    except (ValueError, IndexError):
        pass
    return signals


def read_dump_signals(dump_path: Path) -> dict[str, int]:
    """Signals of a VCD or FST dump (full name to width); ``{}`` when unreadable."""
    try:
        if Path(dump_path).suffix == ".fst":
            return read_fst_signals(dump_path)
        return read_vcd_signals(dump_path)
    except OSError:
        return {}


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


def resolve_signal(name: str, known: dict[str, int]) -> str | None:
    """Map a signal name as written by a test (``"plic.eip"``) to its name in a dump.

    Parameters
    ----------
    name : str
        Hierarchical name; a leading ``TOP.`` (the scope older Verilators and some tools add)
        is optional.
    known : dict[str, int]
        Signals of the dump (see :func:`read_dump_signals`).

    Returns
    -------
    str or None
        The exact name if the dump has it, else the shortest dump name ending in ``"." + name``
        (also tried without a leading ``TOP.``), else None.
    """
    tries = [name]
    if name.startswith("TOP."):
        tries.append(name[4:])
    for t in tries:
        if t in known:
            return t
    for t in tries:
        candidates = [k for k in known if k.endswith("." + t)]
        if candidates:
            # Prefer the design's own scope over Verilator's `$rootio` copy of the top ports.
            return min(candidates, key=lambda k: (k.startswith("$"), len(k), k))
    return None


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


def _fit_zoom(dump_path: Path) -> float:
    # GTKWave 3.3 divides the time span by pow(2, -zoom) for its pixel scale; checked on
    # screenshots (Xvfb, GTKWave 3.3.118): -log2(end) + 1.5 shows a whole dump in a wave pane of
    # about 600 pixels.
    end = dump_end_time(dump_path)
    if not end:
        return 0.0
    return -math.log2(end) + 1.5


def write_gtkw(dump_path: Path, groups: dict[str, list[str]], out_path: Path | None = None) -> Path:
    """Write a GTKWave save file for a dump.

    Parameters
    ----------
    dump_path : Path
        The VCD or FST file the save file opens (stored as an absolute path).
    groups : dict[str, list[str]]
        Group name to hierarchical signal names (``{"irq": ["plic.eip", "plic.irq_sources"]}``).
        Names are resolved against the dump's own hierarchy (:func:`resolve_signal`; Verilator
        5.048 puts a top module ``plic`` at ``plic.*`` and its ports also under ``$rootio``).
        Each group is shown expanded; multi-bit signals in hexadecimal. Names the dump does not
        have are written as given and listed in a comment at the top of the file.
    out_path : Path, optional
        Where to write; ``<dump_path>.gtkw`` (e.g. ``dump.fst.gtkw``) by default.

    Returns
    -------
    Path
        The save file written.
    """
    dump_path = Path(dump_path).resolve()
    out_path = Path(out_path) if out_path is not None else dump_path.with_name(dump_path.name + ".gtkw")
    known = read_dump_signals(dump_path) if dump_path.exists() else {}
    resolved = {g: [(n, resolve_signal(n, known)) for n in names] for g, names in groups.items()}
    missing = [n for pairs in resolved.values() for n, full in pairs if full is None]

    with open(out_path, "w") as f:
        save = GTKWSave(f)
        save.comment(f"Generated by atsoc.sim.waves for {dump_path.name}")
        if missing:
            save.comment("Not found in the dump: " + ", ".join(missing))
        save.dumpfile(str(dump_path))
        save.savefile(str(out_path.resolve()))
        save.zoom_markers(_fit_zoom(dump_path))
        scopes = sorted({full.rsplit(".", 1)[0] for pairs in resolved.values()
                         for _, full in pairs if full and "." in full})
        for scope in scopes:
            save.treeopen(scope + ".")
        save.signals_width(260)
        save.sst_expanded(True)
        for group, pairs in resolved.items():
            with save.group(group, closed=False):
                for name, full in pairs:
                    width = known.get(full, 0) if full else 0
                    # GTKWave names a vector with its bit range; single bits are drawn as
                    # waveforms, vectors in hexadecimal.
                    trace = full or name
                    if width > 1:
                        trace = f"{trace}[{width - 1}:0]"
                    save.trace(trace, datafmt="bin" if width <= 1 else "hex")
    return out_path
