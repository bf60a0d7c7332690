"""Generated Verilog of a block cached per configuration and per version of the gateware, and the
one helper that runs a block's cocotb testcase from pytest with a printed, replayable seed."""

from __future__ import annotations

import functools
import hashlib
import os
import random
from pathlib import Path
from typing import Callable


__all__ = ["hdl_fingerprint", "cached_verilog", "pick_seed", "run_block"]

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


def cached_verilog(name: str, config, build: Callable) -> Path:
    """``sim_build/verilog/<name>-<key>/<name>.v`` for ``config``, written once with
    ``build(config)`` (a component) as top module ``name``; safe under pytest-xdist."""
    from atsoc.hdl.toplevel import convert
    key = hashlib.sha256((repr(config) + hdl_fingerprint()).encode()).hexdigest()[:12]
    path = GEN / f"{name}-{key}" / f"{name}.v"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(convert(build(config), name))
        tmp.replace(path)
    return path


def pick_seed() -> int:
    """The seed of this run: ``ATSOC_SEED`` to replay, else a fresh one."""
    seed = os.environ.get("ATSOC_SEED")
    return int(seed) if seed else random.randrange(1 << 31)


def run_block(name: str, config, build: Callable, test_module: str, config_env: dict,
              testcase: str, *, extra_env=None, **kwargs) -> Path:
    """Run one cocotb testcase of ``test_module`` on the block's Verilog, printing the seed."""
    from atsoc.sim.runner import run_cocotb
    seed = pick_seed()
    print(f"{testcase}: seed {seed} (replay with ATSOC_SEED={seed})")
    return run_cocotb(sources=[cached_verilog(name, config, build)], toplevel=name,
                      test_module=test_module, testcase=testcase,
                      extra_env={**config_env, **(extra_env or {})}, seed=seed, **kwargs)
