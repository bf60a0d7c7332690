"""The blocks the command line knows: configuration class, RTL constructor and register map.

Command-line parameters are derived from each configuration dataclass: its fields give the option
names, types and defaults, and the ``Parameters`` section of its numpy-style docstring gives the
help text, so ``atsoc generate <block> --help`` always documents exactly what the block accepts.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from dataclasses import dataclass
from typing import Callable


__all__ = ["Block", "BLOCKS", "parameter_docs", "parse_value"]


@dataclass(frozen=True)
class Block:
    """A generatable block.

    Parameters
    ----------
    name : str
        Name of the block and of the Verilog top module.
    config_cls : type
        Its configuration dataclass.
    build : callable
        ``config -> wiring.Component``.
    regmap : callable
        ``config -> RegisterMap``.
    source : str
        Dotted path of the register-map description (for the generated files' headers).
    files : callable, optional
        ``config -> {kind: (file name, text)}``: what ``atsoc generate`` writes beside the Verilog
        instead of the register header and reference (a block without a register map of its own,
        such as the SoC).
    committed : callable, optional
        ``() -> {path relative to the repository: text}``: the block's committed generated files
        (``atsoc regs``), when it has no register map.
    """

    name: str
    config_cls: type
    build: Callable
    regmap: Callable | None
    source: str
    files: Callable | None = None
    committed: Callable | None = None


def _plic():
    from atsoc.hdl.plic.config import PLICConfig
    from atsoc.hdl.plic.plic import PLIC
    from atsoc.hdl.plic.registers import plic_register_map
    return Block("plic", PLICConfig, PLIC, plic_register_map, "atsoc.hdl.plic.registers")


def _atsintc():
    from atsoc.hdl.atsintc.config import ATSINTCConfig
    from atsoc.hdl.atsintc.registers import atsintc_register_map

    def build(config):
        from atsoc.hdl.atsintc.atsintc import ATSINTC
        return ATSINTC(config)
    return Block("atsintc", ATSINTCConfig, build, atsintc_register_map, "atsoc.hdl.atsintc.registers")


def _eth_mac():
    from atsoc.hdl.eth.config import EthMACConfig
    from atsoc.hdl.eth.mac import EthMAC
    from atsoc.hdl.eth.registers import eth_mac_register_map
    return Block("eth_mac", EthMACConfig, EthMAC, eth_mac_register_map, "atsoc.hdl.eth.registers")


def _axi_dma():
    from atsoc.hdl.dma.axi_dma import AXIDMA
    from atsoc.hdl.dma.config import AXIDMAConfig
    from atsoc.hdl.dma.registers import dma_register_map
    return Block("axi_dma", AXIDMAConfig, AXIDMA, dma_register_map, "atsoc.hdl.dma.registers")


def _soc():
    from atsoc.hdl.soc import artefacts
    from atsoc.hdl.soc.config import SocConfig

    def build(config):
        from atsoc.hdl.soc.soc import Soc
        return Soc(config)
    return Block("soc", SocConfig, build, None, "atsoc.hdl.soc.config", files=artefacts.generated_files,
                 committed=artefacts.committed_files)


_FACTORIES = {"plic": _plic, "atsintc": _atsintc, "eth_mac": _eth_mac, "axi_dma": _axi_dma, "soc": _soc}
BLOCKS = tuple(_FACTORIES)


def get_block(name: str) -> Block:
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise KeyError(f"unknown block {name!r}; known: {', '.join(BLOCKS)}") from None


def parameter_docs(cls) -> dict[str, str]:
    """Help text of each parameter, from the ``Parameters`` section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls) or ""
    m = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if not m:
        return {}
    docs, name = {}, None
    for line in m.group(1).splitlines():
        head = re.match(r"^(\w+)\s*:", line)
        if head:
            name = head.group(1)
            docs[name] = ""
        elif name and line.strip():
            docs[name] = (docs[name] + " " + line.strip()).strip()
    return docs


def parse_value(field: dataclasses.Field, text: str):
    """Parse a command-line value for ``field`` of a configuration dataclass."""
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    if dataclasses.is_dataclass(default):
        return _parse_nested(field.name, default, text)
    if isinstance(default, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{field.name}: expected true/false, not {text!r}")
    if isinstance(default, int):
        return int(text, 0)
    if isinstance(default, (frozenset, set, tuple, list)):
        items = set()
        for part in filter(None, text.split(",")):
            if "-" in part:
                lo, hi = part.split("-")
                items.update(range(int(lo, 0), int(hi, 0) + 1))
            else:
                items.add(int(part, 0))
        return frozenset(items)
    return text


def _parse_nested(name: str, default, text: str):
    """``key=value,key=value`` on a nested configuration (``--plic sources=63,contexts=4``); a part
    without ``=`` continues the previous value (``edge_sources=1,2``)."""
    fields = {f.name: f for f in dataclasses.fields(default)}
    pairs: list[list[str]] = []
    for part in filter(None, text.split(",")):
        if "=" in part:
            pairs.append(part.split("=", 1))
        elif pairs:
            pairs[-1][1] += "," + part
        else:
            raise ValueError(f"{name}: expected key=value pairs, not {text!r}")
    changes = {}
    for key, value in pairs:
        key = key.strip().replace("-", "_")
        if key not in fields:
            raise ValueError(f"{name}: unknown parameter {key!r}; known: {', '.join(fields)}")
        changes[key] = parse_value(fields[key], value.strip())
    return dataclasses.replace(default, **changes)


def format_default(value) -> str:
    if dataclasses.is_dataclass(value):
        base = type(value)()
        changed = [f"{f.name}={format_default(getattr(value, f.name))}" for f in dataclasses.fields(value)
                   if getattr(value, f.name) != getattr(base, f.name) and f.name != "base"]
        return ",".join(changed) or f"{type(value).__name__} defaults"
    if isinstance(value, (frozenset, set)):
        return ",".join(map(str, sorted(value))) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value >= 0x10000:
        return f"{value:#x}"
    return str(value)
