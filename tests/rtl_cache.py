"""Generated Verilog cached per configuration and per version of the gateware sources."""

import functools
import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN = REPO / "sim_build" / "verilog"


@functools.cache
def hdl_fingerprint() -> str:
    """Hash of every gateware source file, so a change to the RTL regenerates the Verilog."""
    h = hashlib.sha256()
    for path in sorted((REPO / "hdl").rglob("*.py")):
        h.update(path.relative_to(REPO).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cached_verilog(name: str, config, build) -> Path:
    """Return ``sim_build/verilog/<name>-<key>/<name>.v`` for ``config``, writing it once with
    ``build(config) -> str``; safe under pytest-xdist (atomic rename)."""
    key = hashlib.sha256((repr(config) + hdl_fingerprint()).encode()).hexdigest()[:12]
    path = GEN / f"{name}-{key}" / f"{name}.v"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(build(config))
        tmp.replace(path)
    return path
