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
    """

    name: str
    config_cls: type
    build: Callable
    regmap: Callable
    source: str


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


_FACTORIES = {"plic": _plic, "atsintc": _atsintc, "eth_mac": _eth_mac, "axi_dma": _axi_dma}
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


def format_default(value) -> str:
    if isinstance(value, (frozenset, set)):
        return ",".join(map(str, sorted(value))) or "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value >= 0x10000:
        return f"{value:#x}"
    return str(value)
