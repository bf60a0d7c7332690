"""S2MM data mover: writes the stream into one descriptor's buffer with AXI4 bursts.

PG021 v7.1 "S2MM". The stream enters a FIFO (``s2mm_fifo_depth`` beats). A burst of
``n = min(max_burst_beats, beats left in the buffer, beats to the 4 KiB boundary)`` is issued
only when its data is already there: ``n`` beats in the FIFO, or a TLAST in the FIFO. So the
W channel never waits for the stream and a burst never holds the write channel. When the frame
ends inside a burst, the remaining beats of the burst are sent with WSTRB 0 (they write
nothing; IHI 0022 A3.4.3 allows any strobe pattern).

The descriptor ends when the frame ends (TLAST: RXEOF) or when the buffer is full (the frame
continues in the next descriptor). ``done_bytes`` counts the bytes written (TKEEP of the last
beat). TKEEP is honoured on a frame's last beat only, as a MAC sends it (every other beat is
counted as full): per beat, ``bytes_left``/``count`` move by whole beats and only the small
shortfall of the last beat is kept, so no byte count of the strobes feeds a 26-bit adder
(the ECP5 critical path, docs/dma.md "Timing"). Buffer addresses must be aligned to the data width; a buffer whose length is not a
multiple of the data width loses the bytes of the beat beyond its end if the frame continues.

Errors: a SLVERR/DECERR B response is recorded (first one wins); the frame or buffer is still
written to its end so that the stream stays frame-aligned, and ``done_resp`` reports it.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_stream import AXIStreamSignature
from .axi_arbiter import WriteRequestSignature


__all__ = ["S2MMDataMover"]


def _min(a, b):
    return Mux(a < b, a, b)


class S2MMDataMover(wiring.Component):
    """Stream-to-buffer mover for one descriptor at a time.

    Parameters
    ----------
    addr_width, data_width, max_burst_beats : int
    fifo_depth : int
        Beats of stream buffering.

    Attributes
    ----------
    cmd_addr, cmd_length, cmd_valid : In
        The buffer to fill (``cmd_length`` > 0); accepted when ``cmd_ready``.
    done : Out(1)
        Level, held until ``done_ack``, once every B of the descriptor came back: ``done_bytes``
        written, ``done_eof`` (the frame ended in this buffer), ``done_resp`` (first error,
        0 = OKAY). The next command is accepted only after the ack (the channel hands the next
        descriptor over during the previous one's write-back, so its ``done`` may come before
        the channel looks at it).
    done_ack : In(1)
    accept : In(1)
        The stream may enter the FIFO (the channel is running).
    cancel : In(1)
        Give the command up if no beat of it was taken yet (``started`` low); no ``done``.
    flush : In(1)
        Stop issuing bursts, finish the one in progress, wait for B, go idle; no ``done``.
    started, busy : Out(1)
    wr : Out(WriteRequestSignature)
    stream : In(AXIStreamSignature)
    """

    def __init__(self, *, addr_width, data_width, max_burst_beats, fifo_depth):
        self._aw, self._dw = addr_width, data_width
        self._burst, self._depth = max_burst_beats, fifo_depth
        super().__init__({
            "cmd_addr": In(addr_width), "cmd_length": In(26), "cmd_valid": In(1), "cmd_ready": Out(1),
            "done": Out(1), "done_bytes": Out(26), "done_eof": Out(1), "done_resp": Out(2),
            "done_ack": In(1),
            "accept": In(1), "cancel": In(1), "flush": In(1),
            "started": Out(1), "busy": Out(1),
            "wr": Out(WriteRequestSignature(addr_width=addr_width, data_width=data_width)),
            "stream": In(AXIStreamSignature(data_width=data_width)),
        })

    def elaborate(self, platform):
        m = Module()
        bw = self._dw // 8
        lb = (bw - 1).bit_length()
        wr, st = self.wr, self.stream

        # -- stream FIFO, with a count of the frame ends it holds -------------------------------
        m.submodules.fifo = q = fifo.SyncFIFOBuffered(width=self._dw + bw + 1, depth=self._depth)
        m.d.comb += [
            st.tready.eq(q.w_rdy & self.accept),
            q.w_en.eq(st.tvalid & self.accept),
            q.w_data.eq(Cat(st.tdata, st.tkeep, st.tlast)),
        ]
        q_data, q_keep, q_last = q.r_data[:self._dw], q.r_data[self._dw:self._dw + bw], q.r_data[-1]
        lasts = Signal(range(self._depth + 2))
        push_last = q.w_en & q.w_rdy & st.tlast
        pop_last = q.r_en & q.r_rdy & q_last
        m.d.sync += lasts.eq(lasts + push_last - pop_last)

        addr = Signal(self._aw)
        bytes_left = Signal(26)
        count = Signal(26)                      # bytes of the data beats, counted as full
        shortfall = Signal(range(bw + 1))       # bytes missing in the last data beat
        eof = Signal()
        err = Signal(2)
        beats = Signal(9)                       # beats left in the current burst
        b_out = Signal(range(64))               # B responses awaited

        b_ok = wr.b_valid & wr.b_ready
        m.d.comb += wr.b_ready.eq(1)
        with m.If(b_ok & (err == 0)):
            m.d.sync += err.eq(wr.b_resp)

        to_4k = Signal(13 - lb + 1)
        m.d.comb += to_4k.eq((0x1000 - addr[:12]) >> lb)
        # The burst length is registered (one cycle after addr/bytes_left settle): the
        # 26-bit compare chain would otherwise sit in front of the FIFO-level compare.
        # Two registered stages: (buffer holds a full burst?, beats of a short buffer, beats to
        # 4 KiB), then their minimum; n_ok counts the two cycles after addr/bytes_left change.
        kb = (self._burst * bw).bit_length()
        big, short_beats, to_4k_r = Signal(), Signal(kb), Signal(13 - lb + 1)
        m.d.sync += [big.eq(bytes_left >= self._burst * bw),
                     short_beats.eq((bytes_left[:kb] + bw - 1) >> lb), to_4k_r.eq(to_4k)]
        n = Signal(9)
        n_ok = Signal(2)
        m.d.sync += n.eq(_min(Mux(big, self._burst, short_beats), to_4k_r))

        pad = eof
        # bytes_left < bw and <= bw, registered with bytes_left (off the W-beat timing path)
        short, at_end = Signal(), Signal()
        bufmask = Signal(bw)
        with m.If(short):
            m.d.comb += bufmask.eq((Const(1, bw + 1) << bytes_left[:lb]) - 1)
        with m.Else():
            m.d.comb += bufmask.eq((1 << bw) - 1)
        strb = Signal(bw)
        m.d.comb += strb.eq(Mux(pad, 0, q_keep & bufmask))
        nbytes = Signal(range(bw + 1))
        m.d.comb += nbytes.eq(sum(strb[i] for i in range(bw)))
        w_ok = wr.w_valid & wr.w_ready
        last_beat = beats == 1
        m.d.comb += [wr.w_data.eq(q_data), wr.w_strb.eq(strb), wr.w_last.eq(last_beat)]
        m.d.sync += b_out.eq(b_out + (w_ok & last_beat) - b_ok)
        with m.If(self.done_ack):
            m.d.sync += self.done.eq(0)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.cmd_ready.eq((b_out == 0) & ~self.done)
                with m.If(self.cmd_valid & self.cmd_ready):
                    m.d.sync += [addr.eq(self.cmd_addr & ~Const(bw - 1, self._aw)),
                                 bytes_left.eq(self.cmd_length), count.eq(0), shortfall.eq(0), eof.eq(0),
                                 short.eq(self.cmd_length < bw), at_end.eq(self.cmd_length <= bw),
                                 err.eq(0), self.started.eq(0), n_ok.eq(0)]
                    m.next = "AW"
            with m.State("AW"):
                m.d.comb += self.busy.eq(1)
                with m.If(wr.aw_valid):
                    with m.If(wr.aw_ready):
                        m.d.sync += wr.aw_valid.eq(0)
                        m.next = "W"
                with m.Elif(self.flush | (self.cancel & ~self.started)):
                    m.next = "DRAIN"
                with m.Elif(n_ok != 2):
                    m.d.sync += n_ok.eq(n_ok + 1)
                with m.Elif((q.r_level >= n) | (lasts != 0)):
                    m.d.sync += [wr.aw_valid.eq(1), wr.aw_addr.eq(addr), wr.aw_len.eq(n - 1),
                                 beats.eq(n), addr.eq(addr + (n << lb))]
            with m.State("W"):
                m.d.comb += [self.busy.eq(1), wr.w_valid.eq(pad | q.r_rdy),
                             q.r_en.eq(wr.w_ready & ~pad)]
                with m.If(w_ok):
                    m.d.sync += beats.eq(beats - 1)
                    # A data beat that is not the buffer's or the frame's last one is full:
                    # move by a whole beat; the compares come from registers only.
                    with m.If(~pad):
                        m.d.sync += [bytes_left.eq(bytes_left - bw), count.eq(count + bw),
                                     shortfall.eq(bw - nbytes),
                                     short.eq(bytes_left < 2 * bw), at_end.eq(bytes_left <= 2 * bw),
                                     self.started.eq(1)]
                        with m.If(q_last):
                            m.d.sync += eof.eq(1)
                    # at_end: this data beat takes the buffer's last bytes (bufmask), or the
                    # frame ends in it (TLAST): either way the descriptor ends.
                    buffer_full = at_end & ~pad
                    with m.If(last_beat):
                        with m.If(eof | (~pad & q_last) | buffer_full | self.flush):
                            m.next = "WAIT_B"
                        with m.Else():
                            m.d.sync += n_ok.eq(0)
                            m.next = "AW"
            with m.State("WAIT_B"):
                m.d.comb += self.busy.eq(1)
                with m.If((b_out == 0) | ((b_out == 1) & b_ok)):
                    with m.If(~self.flush):
                        m.d.sync += [self.done.eq(1), self.done_bytes.eq(count - shortfall),
                                     self.done_eof.eq(eof),
                                     self.done_resp.eq(Mux(err != 0, err, Mux(b_ok, wr.b_resp, 0)))]
                    m.next = "IDLE"
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(b_out != 0)
                with m.If(b_out == 0):
                    m.next = "IDLE"
        return m
