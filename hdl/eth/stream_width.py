"""AXI-Stream width conversion from the DMA side (``data_width`` bits) to the MAC's byte path.

The converter runs in the system clock domain (``sync``), in front of the TX FIFO, so the
transmit engine stays 8 bits wide whatever ``data_width`` is. It moves one byte per system
clock, which is line rate as long as ``clk`` is at least the PHY byte clock (125 MHz at 1 Gb/s),
the same condition as the 8-bit MAC. (The receive direction needs no converter: the RX buffer is
written a byte at a time and read a beat at a time, see ``AsyncFrameFIFO`` and ``EthMAC``.)

* :class:`TxStreamToBytes`: W-byte beats with TKEEP and TLAST into bytes with a ``last`` flag.
  Bytes whose TKEEP bit is 0 are null bytes (AXI4-Stream, IHI 0051A, 2.4.3) and are skipped,
  wherever they are; a TLAST beat whose TKEEP is all 0 ends the frame after the byte before it
  (a one-byte hold register makes that possible); a frame with no byte at all is ignored.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_stream import AXIStreamSignature
from .tx import TxBeat


__all__ = ["TxStreamToBytes"]


def _check_width(data_width: int) -> int:
    if data_width not in (16, 32, 64):
        raise ValueError(f"stream width conversion needs data_width 16, 32 or 64, not {data_width}")
    return data_width // 8


class TxStreamToBytes(wiring.Component):
    """W-byte AXI-Stream beats to bytes (transmit direction, system clock).

    Parameters
    ----------
    data_width : int
        TDATA width of ``axis`` (16, 32 or 64).

    Attributes
    ----------
    axis : In(AXIStreamSignature(data_width, keep=True))
        Frames from the DMA; TKEEP selects the bytes, TLAST ends a frame.
    bytes : Out(stream.Signature(TxBeat))
        One byte per transfer, ``last`` on the last byte of a frame. At most one byte per cycle.
    """

    def __init__(self, data_width: int):
        self._w = _check_width(data_width)
        super().__init__({
            "axis": In(AXIStreamSignature(data_width=data_width, keep=True)),
            "bytes": Out(stream.Signature(TxBeat)),
        })

    def elaborate(self, platform):
        m = Module()
        w = self._w
        axis, out = self.axis, self.bytes

        # The beat being split: data, the TKEEP bits still to send, TLAST.
        cur_valid = Signal()
        cur_data = Signal(8 * w)
        cur_keep = Signal(w)
        cur_last = Signal()
        # The hold register: the byte before the one being split, so that ``last`` can still
        # be set on it when the frame ends with a null beat.
        h_valid = Signal()
        h_data = Signal(8)
        h_last = Signal()

        lowest = Signal(w)              # one-hot: the lowest remaining TKEEP bit
        rest = Signal(w)                # the remaining bits after it
        m.d.comb += [lowest.eq(cur_keep & -cur_keep), rest.eq(cur_keep & (cur_keep - 1))]
        byte = Signal(8)
        m.d.comb += byte.eq(0)
        for i in range(w):
            with m.If(lowest[i]):
                m.d.comb += byte.eq(cur_data.word_select(i, 8))

        byte_valid = cur_valid & cur_keep.any()
        null_end = cur_valid & ~cur_keep.any() & cur_last     # TLAST beat without bytes
        h_out = Signal()                # the hold register's byte is written out this cycle
        byte_take = Signal()            # the next byte enters the hold register
        m.d.comb += [
            out.payload.data.eq(h_data),
            out.payload.last.eq(h_last | (null_end & ~h_last)),
            out.valid.eq(h_valid & (h_last | byte_valid | null_end)),
            h_out.eq(out.valid & out.ready),
            byte_take.eq(byte_valid & (~h_valid | h_out)),
        ]
        with m.If(byte_take):
            m.d.sync += [h_valid.eq(1), h_data.eq(byte), h_last.eq(cur_last & ~rest.any())]
        with m.Elif(h_out):
            m.d.sync += h_valid.eq(0)

        # The beat is done when its last byte enters the hold register; a null beat at once,
        # except a TLAST null beat, which waits until the held byte leaves marked ``last``.
        cur_done = Signal()
        with m.If(cur_keep.any()):
            m.d.comb += cur_done.eq(byte_take & ~rest.any())
        with m.Else():
            m.d.comb += cur_done.eq(~cur_last | ~h_valid | h_last | h_out)
        m.d.comb += axis.tready.eq(~cur_valid | cur_done)
        with m.If(axis.tvalid & axis.tready):
            m.d.sync += [cur_valid.eq(1), cur_data.eq(axis.tdata), cur_keep.eq(axis.tkeep),
                         cur_last.eq(axis.tlast)]
        with m.Else():
            with m.If(cur_done):
                m.d.sync += cur_valid.eq(0)
            with m.If(byte_take):
                m.d.sync += cur_keep.eq(rest)
        return m
