"""Verilog generation with the ecosystem's port names.

Amaranth names the port of signature member ``s_axil.awaddr`` ``s_axil__awaddr``; verification IP
(cocotbext-axi, verilog-axi) expects ``s_axil_awaddr``. :func:`verilog_ports` joins the path with a
single underscore, and :func:`convert` writes a top module named as the caller asks, with the
``sync`` domain's ``clk`` and ``rst`` (active high, synchronous) ports that Amaranth adds.
"""

import re

from amaranth.back import verilog
from amaranth.hdl import ValueCastable, _ir
from amaranth.lib import wiring


__all__ = ["verilog_ports", "convert", "NO_INIT", "NO_INIT_NO_RW_CHECK", "strip_memory_init"]


#: Attributes for ``lib.memory.Memory(..., attrs=NO_INIT)``: the memory is never read before it is
#: written, so :func:`convert` leaves out its initial contents. Amaranth always emits them (zeros
#: for ``init=[]``), as one ``initial`` assignment per word; yosys's Verilog frontend then takes
#: minutes on memories of thousands of words (a 16 K-entry memory: > 2 min for ``read_verilog``
#: alone, 6 s for the same design without the initialisers).
NO_INIT = {"atsoc_no_init": 1}

#: :data:`NO_INIT`, and the memory's write and read ports never address the same word in the same
#: cycle, by construction of the block that owns it: yosys's ``no_rw_check`` attribute then leaves
#: out the logic it otherwise adds to emulate a read during a write to the same address (an address
#: compare and bypass flip-flops, which would sit behind the read address on the critical path).
NO_INIT_NO_RW_CHECK = {"atsoc_no_init": 1, "no_rw_check": 1}

_NO_INIT_MEMORY = re.compile(
    r"(\(\* atsoc_no_init = [^*]*\*\)\n\s*reg \[[^\]]*\] (\S+) \[[^\]]*\];\n)"
    r"\s*initial begin\n(?:\s*\2\[\d+\] = [^;\n]*;\n)*\s*end\n")


def strip_memory_init(text: str) -> str:
    """Remove the ``initial`` block that follows every memory marked with :data:`NO_INIT`."""
    return _NO_INIT_MEMORY.sub(r"\1", text)


def verilog_ports(component: wiring.Component) -> dict:
    """Map ``<path joined by "_">`` to ``(value, direction)`` for every port of ``component``."""
    ports = {}
    for path, member, value in component.signature.flatten(component):
        if isinstance(value, ValueCastable):
            value = value.as_value()
        name = "_".join(map(str, path))
        if name in ports:
            raise NameError(f"two ports of {type(component).__name__} flatten to {name!r}")
        direction = _ir.PortDirection.Input if member.flow == wiring.In else _ir.PortDirection.Output
        ports[name] = (value, direction)
    return ports


def convert(component: wiring.Component, name: str) -> str:
    """Verilog text of ``component`` as a top module called ``name``."""
    return strip_memory_init(
        verilog.convert(component, name=name, ports=verilog_ports(component), emit_src=False))
