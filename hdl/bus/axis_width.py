"""AXI4-Stream data-width converters (AMBA 4 AXI4-Stream, IHI 0051A, "Byte qualifiers").

* :class:`AXIStreamDownsizer`: a wide beat becomes ``ratio`` narrow beats (lane 0 first), one per
  cycle; lanes whose TKEEP bits are all 0 (null lanes) are skipped, TLAST goes with the last lane
  that carries data.
* :class:`AXIStreamUpsizer`: narrow beats are packed into wide ones, lane 0 first; a packet's last
  wide beat may be partial (TKEEP marks its lanes).

Both move one narrow beat per cycle sustained, so a 32-bit DMA stream feeds an 8-bit MAC at the
MAC's line rate (1 byte per 125 MHz cycle). TUSER is not carried (the SoC's MAC never sets it).

Packets must not contain a wide beat that is all null (TKEEP = 0): the downsizer drops such a beat,
and its TLAST with it. The AXI DMA never emits one.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .axi_stream import AXIStreamSignature


__all__ = ["AXIStreamDownsizer", "AXIStreamUpsizer"]


def _check(in_width, out_width, wide, narrow):
    if wide % narrow or wide == narrow or narrow % 8:
        raise ValueError(f"stream widths {in_width} -> {out_width}: the wide one must be a "
                         "multiple (> 1) of the narrow one, both multiples of 8")


class AXIStreamDownsizer(wiring.Component):
    """Wide to narrow AXI4-Stream.

    Parameters
    ----------
    in_width, out_width : int
        TDATA widths in bits; ``in_width`` a multiple of ``out_width``.

    Attributes
    ----------
    s_axis : In(AXIStreamSignature(in_width))
    m_axis : Out(AXIStreamSignature(out_width))
    """

    def __init__(self, *, in_width: int = 32, out_width: int = 8):
        _check(in_width, out_width, in_width, out_width)
        self.ratio = in_width // out_width
        self._nb = out_width // 8
        super().__init__({
            "s_axis": In(AXIStreamSignature(data_width=in_width)),
            "m_axis": Out(AXIStreamSignature(data_width=out_width)),
        })

    def elaborate(self, platform):
        m = Module()
        s, o = self.s_axis, self.m_axis
        R, nb = self.ratio, self._nb

        data = Signal.like(s.tdata)
        keep = Signal.like(s.tkeep)
        last = Signal()
        left = Signal(R)                       # lanes of the held beat still to send

        first = Signal(R)                      # lowest remaining lane, one-hot
        m.d.comb += first.eq(left & (~left + 1)[:R])
        after = left & ~first
        lane = Signal(range(R))
        for b in range(len(lane)):
            m.d.comb += lane[b].eq(Cat(*[first[i] for i in range(R) if (i >> b) & 1]).any())

        m.d.comb += [
            o.tvalid.eq(left.any()),
            o.tdata.eq(data.word_select(lane, len(o.tdata))),
            o.tkeep.eq(keep.word_select(lane, nb)),
            o.tlast.eq(last & ~after.any()),
            s.tready.eq(~left.any() | (o.tready & ~after.any())),
        ]
        lanes_in = Cat(*[s.tkeep[i * nb:(i + 1) * nb].any() for i in range(R)])
        with m.If(s.tvalid & s.tready):
            m.d.sync += [data.eq(s.tdata), keep.eq(s.tkeep), last.eq(s.tlast), left.eq(lanes_in)]
        with m.Elif(o.tvalid & o.tready):
            m.d.sync += left.eq(after)
        return m


class AXIStreamUpsizer(wiring.Component):
    """Narrow to wide AXI4-Stream.

    Parameters
    ----------
    in_width, out_width : int
        TDATA widths in bits; ``out_width`` a multiple of ``in_width``.

    Attributes
    ----------
    s_axis : In(AXIStreamSignature(in_width)) (TKEEP of the narrow beats: copied to their lanes)
    m_axis : Out(AXIStreamSignature(out_width))
    """

    def __init__(self, *, in_width: int = 8, out_width: int = 32):
        _check(in_width, out_width, out_width, in_width)
        self.ratio = out_width // in_width
        self._nb = in_width // 8
        super().__init__({
            "s_axis": In(AXIStreamSignature(data_width=in_width)),
            "m_axis": Out(AXIStreamSignature(data_width=out_width)),
        })

    def elaborate(self, platform):
        m = Module()
        s, o = self.s_axis, self.m_axis
        R, nb = self.ratio, self._nb
        w = len(s.tdata)

        acc = Signal.like(o.tdata)
        acc_keep = Signal.like(o.tkeep)
        lane = Signal(range(R))
        out_valid = Signal()
        out_data = Signal.like(o.tdata)
        out_keep = Signal.like(o.tkeep)
        out_last = Signal()

        m.d.comb += [o.tvalid.eq(out_valid), o.tdata.eq(out_data), o.tkeep.eq(out_keep),
                     o.tlast.eq(out_last),
                     s.tready.eq(~out_valid | o.tready)]
        with m.If(o.tvalid & o.tready):
            m.d.sync += out_valid.eq(0)

        # The incoming beat placed in its lane of the accumulated word.
        new_data = Signal.like(acc)
        new_keep = Signal.like(acc_keep)
        for i in range(R):
            m.d.comb += [
                new_data[i * w:(i + 1) * w].eq(Mux(lane == i, s.tdata, acc[i * w:(i + 1) * w])),
                new_keep[i * nb:(i + 1) * nb].eq(Mux(lane == i, s.tkeep, acc_keep[i * nb:(i + 1) * nb])),
            ]
        with m.If(s.tvalid & s.tready):
            with m.If(s.tlast | (lane == R - 1)):
                m.d.sync += [out_valid.eq(1), out_data.eq(new_data), out_keep.eq(new_keep),
                             out_last.eq(s.tlast), acc.eq(0), acc_keep.eq(0), lane.eq(0)]
            with m.Else():
                m.d.sync += [acc.eq(new_data), acc_keep.eq(new_keep), lane.eq(lane + 1)]
        return m
