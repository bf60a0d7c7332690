"""AXI-Stream width conversion between the DMA side (``data_width`` bits) and the MAC's byte path.

Both converters run in the system clock domain (``sync``), in front of the clock-domain crossing
FIFOs, so the PHY-clock side of the MAC stays 8 bits wide whatever ``data_width`` is. Each moves
one byte per system clock, which is line rate as long as ``clk`` is at least the PHY byte clock
(125 MHz at 1 Gb/s), the same condition as the 8-bit MAC.

* :class:`TxStreamToBytes`: W-byte beats with TKEEP and TLAST into bytes with a ``last`` flag.
  Bytes whose TKEEP bit is 0 are null bytes (AXI4-Stream, IHI 0051A, 2.4.3) and are skipped,
  wherever they are; a TLAST beat whose TKEEP is all 0 ends the frame after the byte before it
  (a one-byte hold register makes that possible); a frame with no byte at all is ignored.
* :class:`RxBytesToStream`: bytes with ``last`` into W-byte beats, bytes packed from lane 0,
  TKEEP set for the bytes present (only the last beat of a frame can be partial).
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_stream import AXIStreamSignature
from .tx import TxBeat


__all__ = ["TxStreamToBytes", "RxBytesToStream"]


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


class RxBytesToStream(wiring.Component):
    """Bytes to W-byte AXI-Stream beats (receive direction, system clock).

    Parameters
    ----------
    data_width : int
        TDATA width of ``axis`` (16, 32 or 64).

    Attributes
    ----------
    bytes : In(stream.Signature(TxBeat))
        Received bytes, ``last`` on the last byte of each frame.
    axis : Out(AXIStreamSignature(data_width, user_width=1, keep=True))
        Beats packed from lane 0; TKEEP marks the bytes present (lanes above the last byte of a
        frame are 0 in TKEEP and their TDATA is undefined); TUSER is 0.
    """

    def __init__(self, data_width: int):
        self._w = _check_width(data_width)
        super().__init__({
            "bytes": In(stream.Signature(TxBeat)),
            "axis": Out(AXIStreamSignature(data_width=data_width, user_width=1, keep=True)),
        })

    def elaborate(self, platform):
        m = Module()
        w = self._w
        inp, axis = self.bytes, self.axis
        acc = Signal(8 * w)             # bytes of the beat being assembled (lanes below idx)
        idx = Signal(range(w))          # lane of the next byte
        out_free = ~axis.tvalid | axis.tready
        m.d.comb += [inp.ready.eq(out_free), axis.tuser.eq(0)]
        take = inp.valid & inp.ready
        complete = inp.payload.last | (idx == w - 1)
        merged = Cat(*[Mux(idx == i, inp.payload.data, acc.word_select(i, 8)) for i in range(w)])
        with m.If(take):
            m.d.sync += acc.word_select(idx, 8).eq(inp.payload.data)
            with m.If(complete):
                m.d.sync += [idx.eq(0), axis.tvalid.eq(1), axis.tdata.eq(merged),
                             axis.tkeep.eq(Cat(1, *[idx >= i for i in range(1, w)])),
                             axis.tlast.eq(inp.payload.last)]
            with m.Else():
                m.d.sync += idx.eq(idx + 1)
        with m.If(axis.tready & ~(take & complete)):
            m.d.sync += axis.tvalid.eq(0)
        return m
