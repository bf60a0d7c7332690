"""Verilog generation with the ecosystem's port names.

Amaranth names the port of signature member ``s_axil.awaddr`` ``s_axil__awaddr``; verification IP
(cocotbext-axi, verilog-axi) expects ``s_axil_awaddr``. :func:`verilog_ports` joins the path with a
single underscore, and :func:`convert` writes a top module named as the caller asks, with the
``sync`` domain's ``clk`` and ``rst`` (active high, synchronous) ports that Amaranth adds.
"""

from amaranth.back import verilog
from amaranth.hdl import ValueCastable, _ir
from amaranth.lib import wiring


__all__ = ["verilog_ports", "convert"]


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
    return verilog.convert(component, name=name, ports=verilog_ports(component), emit_src=False)
