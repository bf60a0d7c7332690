"""AXI4-Stream signature (AMBA 4 AXI4-Stream Protocol Specification, IHI 0051A).

Seen from the source (transmitter): a sink port is ``In(AXIStreamSignature(...))``. Flattened by
:func:`atsoc.hdl.toplevel.verilog_ports`, a member ``m_axis`` gives ``m_axis_tdata`` and so on, the
names cocotbext-axi's ``AxiStreamBus.from_prefix(dut, "m_axis")`` binds.
"""

from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["AXIStreamSignature"]


class AXIStreamSignature(wiring.Signature):
    """AXI4-Stream with TDATA, TKEEP (optional), TLAST, TUSER (optional), TVALID/TREADY.

    Parameters
    ----------
    data_width : int
        TDATA width in bits, a multiple of 8.
    user_width : int
        TUSER width; 0 leaves TUSER out.
    keep : bool
        Whether TKEEP (one bit per byte) is present.
    """

    def __init__(self, *, data_width: int, user_width: int = 0, keep: bool = True):
        if data_width < 8 or data_width % 8:
            raise ValueError("AXI4-Stream data width must be a positive multiple of 8")
        self.data_width = data_width
        self.user_width = user_width
        self.keep = keep
        members = {"tdata": Out(data_width), "tvalid": Out(1), "tready": In(1), "tlast": Out(1)}
        if keep:
            members["tkeep"] = Out(data_width // 8)
        if user_width:
            members["tuser"] = Out(user_width)
        super().__init__(members)

    def __eq__(self, other):
        return (isinstance(other, AXIStreamSignature) and other.data_width == self.data_width
                and other.user_width == self.user_width and other.keep == self.keep)

    def __repr__(self):
        return (f"AXIStreamSignature(data_width={self.data_width}, user_width={self.user_width}, "
                f"keep={self.keep})")
