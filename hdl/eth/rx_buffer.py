"""RX frame buffer: whole frames are kept or dropped, and the PHY side never waits.

dma_eth.md: "When the DMA has no descriptor the RX FIFO drops whole frames and counts them
(RxFifoOvr) and never stalls the PHY side". The receive engine writes a frame's bytes as they
arrive; at its end the frame is committed (becomes visible to the read side) or rolled back (its
space is reused). A frame that meets a full buffer is rolled back by the engine's verdict. The
read side, in the same (receive) clock domain, streams committed frames into the clock-domain
crossing FIFO of the top and reports each frame's length (FCS excluded) on ``lengths``.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .tx import TxBeat


__all__ = ["RxFrameBuffer"]


class RxFrameBuffer(wiring.Component):
    """Frame buffer with commit and rollback.

    Parameters
    ----------
    depth : int
        Bytes, a power of two.

    Attributes
    ----------
    w_en, w_last : In(1), w_data : In(8)
        Write a byte (ignored while ``w_full``).
    w_full : Out(1)
    commit : In(1)
        Make everything written so far, including a write in this cycle, readable.
    rollback : In(1)
        Forget the bytes written since the last commit.
    beats : Out(stream.Signature(TxBeat))
        Committed bytes, frame after frame.
    lengths : Out(stream.Signature(16))
        Length of each frame, transferred together with its last beat.
    """

    def __init__(self, depth: int):
        if depth & (depth - 1):
            raise ValueError("depth must be a power of two")
        self._depth = depth
        super().__init__({
            "w_en": In(1), "w_data": In(8), "w_last": In(1), "w_full": Out(1),
            "commit": In(1), "rollback": In(1),
            "beats": Out(stream.Signature(TxBeat)),
            "lengths": Out(stream.Signature(16)),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self._depth
        abits = depth.bit_length() - 1
        m.submodules.mem = mem = Memory(shape=9, depth=depth, init=[])
        wp = mem.write_port()
        rp = mem.read_port(transparent_for=(wp,))

        wr = Signal(abits + 1)          # next write position
        committed = Signal(abits + 1)   # end of the committed frames
        rd = Signal(abits + 1)          # next read position (address of the next memory read)
        freed = Signal(abits + 1)       # space before this position is free for the writer

        # ``freed`` advances when a byte enters the output register, so the writer sees exactly
        # the room it would see with the output register fed straight from the memory (the
        # byte waiting in the memory's read data is not yet free).
        # wr - freed is at most depth, so "full" is an equality test (no subtraction), and the
        # write enable only selects between wr and wr + 1 (no carry chain after it): the
        # receive engine's end-of-frame verdict depends on w_full and drives commit/w_en.
        full = (wr[:abits] == freed[:abits]) & (wr[abits] != freed[abits])
        m.d.comb += self.w_full.eq(full)
        write = self.w_en & ~full
        wr_inc = Signal(abits + 1)
        m.d.comb += wr_inc.eq(wr + 1)
        wr_next = Mux(write, wr_inc, wr)
        m.d.comb += [wp.addr.eq(wr[:abits]), wp.data.eq(Cat(self.w_data, self.w_last)),
                     wp.en.eq(write)]
        with m.If(self.rollback):
            m.d.sync += wr.eq(committed)
        with m.Else():
            m.d.sync += wr.eq(wr_next)
        with m.If(self.commit):
            m.d.sync += committed.eq(wr_next)

        # Read side: the memory's read data (``mem_valid``), then a one-entry output register
        # in front of the stream. The block RAM's clock-to-output (about 4.3 ns on ECP5) thus
        # ends at the output register instead of running through ``last`` and the handshake
        # into the crossing FIFOs' write pointers.
        mem_valid = Signal()
        out_valid = Signal()
        out = Signal(TxBeat)
        length = Signal(16)
        take = Signal()                 # the output register is emptied in this cycle
        load = Signal()                 # the output register takes the memory's read data
        last = out.last
        m.d.comb += [
            self.beats.payload.eq(out),
            self.beats.valid.eq(out_valid & (~last | self.lengths.ready)),
            self.lengths.valid.eq(out_valid & last & self.beats.ready),
            self.lengths.payload.eq(length + 1),
            take.eq(self.beats.valid & self.beats.ready),
            load.eq(mem_valid & (~out_valid | take)),
        ]
        advance = (rd != committed) & (~mem_valid | load)
        m.d.comb += [rp.addr.eq(rd[:abits]), rp.en.eq(advance)]
        with m.If(advance):
            m.d.sync += [rd.eq(rd + 1), mem_valid.eq(1)]
        with m.Elif(load):
            m.d.sync += mem_valid.eq(0)
        with m.If(load):
            m.d.sync += [out.eq(rp.data), out_valid.eq(1), freed.eq(freed + 1)]
        with m.Elif(take):
            m.d.sync += out_valid.eq(0)
        with m.If(take):
            m.d.sync += length.eq(Mux(last, 0, length + 1))
        return m
