"""AXI4 (full) signature, seen from the master (AMBA AXI and ACE Protocol Specification, IHI 0022).

Flattened with :func:`atsoc.hdl.toplevel.verilog_ports`, a member ``m_axi`` gives ``m_axi_awaddr``
and so on, which cocotbext-axi's ``AxiBus.from_prefix(dut, "m_axi")`` binds (AxiRam as memory).
Optional signals that the blocks do not use (AWLOCK, AWQOS, AWREGION, user signals) are left out;
cocotbext-axi treats them as absent. It does need the ID signals (AxiRam fails without them), so
use ``id_width=1`` (IDs driven to 0) for a port that cocotbext-axi binds to.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["AXI4Signature", "Burst"]


class Burst:
    """AxBURST encodings."""

    FIXED = 0b00
    INCR = 0b01
    WRAP = 0b10


class AXI4Signature(wiring.Signature):
    """AXI4 master port.

    Parameters
    ----------
    addr_width : int
    data_width : int
        32, 64, 128, ...
    id_width : int
        0 leaves the ID signals out (cocotbext-axi's AxiRam needs them: use at least 1 there).
    """

    def __init__(self, *, addr_width: int, data_width: int, id_width: int = 0):
        if data_width < 8 or data_width & (data_width - 1):
            raise ValueError("AXI4 data width must be a power of two of at least 8")
        self.addr_width = addr_width
        self.data_width = data_width
        self.id_width = id_width
        m = {}
        for ch in ("aw", "ar"):
            if id_width:
                m[f"{ch}id"] = Out(id_width)
            m.update({
                f"{ch}addr": Out(addr_width), f"{ch}len": Out(8), f"{ch}size": Out(3),
                f"{ch}burst": Out(2), f"{ch}cache": Out(4), f"{ch}prot": Out(3),
                f"{ch}valid": Out(1), f"{ch}ready": In(1),
            })
        m.update({"wdata": Out(data_width), "wstrb": Out(data_width // 8), "wlast": Out(1),
                  "wvalid": Out(1), "wready": In(1)})
        if id_width:
            m["bid"] = In(id_width)
        m.update({"bresp": In(2), "bvalid": In(1), "bready": Out(1)})
        if id_width:
            m["rid"] = In(id_width)
        m.update({"rdata": In(data_width), "rresp": In(2), "rlast": In(1), "rvalid": In(1),
                  "rready": Out(1)})
        super().__init__(m)

    def __eq__(self, other):
        return (isinstance(other, AXI4Signature) and other.addr_width == self.addr_width
                and other.data_width == self.data_width and other.id_width == self.id_width)

    def __repr__(self):
        return (f"AXI4Signature(addr_width={self.addr_width}, data_width={self.data_width}, "
                f"id_width={self.id_width})")
