"""MM2S data mover: reads one descriptor's buffer with AXI4 bursts and sends it on the stream.

PG021 v7.1 "MM2S": the buffer of each descriptor is read in bursts of up to ``max_burst_beats``
that never cross a 4 KiB boundary (IHI 0022 A3.4.1), with up to ``max_outstanding`` bursts in
flight; R beats go straight to ``m_axis_mm2s`` (RREADY is TREADY), TKEEP marks the valid bytes
of the last beat, TLAST is set on the last beat of a TXEOF descriptor.

Buffer addresses must be aligned to the data width (PG021 without the Data Realignment Engine);
the low address bits are ignored. A buffer whose length is not a multiple of the data width
ends with a partial-TKEEP beat even in the middle of a frame.

Errors: a SLVERR/DECERR R beat is recorded (the first one wins) and the descriptor is still
read to its end so that the stream stays beat-consistent; TLAST is forced on its last beat so
that a frame never stays open on the stream. ``done_resp`` reports the error.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_stream import AXIStreamSignature
from .axi_arbiter import ReadRequestSignature


__all__ = ["MM2SDataMover"]


def _min(a, b):
    return Mux(a < b, a, b)


class MM2SDataMover(wiring.Component):
    """Buffer-to-stream mover for one descriptor at a time.

    Parameters
    ----------
    addr_width, data_width : int
    max_burst_beats : int
    max_outstanding : int
        Read bursts of this mover in flight at most.

    Attributes
    ----------
    cmd_addr, cmd_length, cmd_eof, cmd_keyhole, cmd_valid : In
        The descriptor to move (``cmd_length`` > 0); accepted when ``cmd_ready``.
    done : Out(1)
        One-cycle pulse after the last beat of the buffer was sent; ``done_resp`` is the first
        error response seen (0 = OKAY).
    flush : In(1)
        Stop issuing bursts, drain (and drop) the beats of the bursts in flight, then go idle
        without ``done`` (soft reset).
    busy : Out(1)
        A descriptor or a burst is in progress.
    rd : Out(ReadRequestSignature)
    stream : Out(AXIStreamSignature)
    """

    def __init__(self, *, addr_width, data_width, max_burst_beats, max_outstanding):
        self._aw, self._dw = addr_width, data_width
        self._burst, self._max = max_burst_beats, max_outstanding
        super().__init__({
            "cmd_addr": In(addr_width), "cmd_length": In(26), "cmd_eof": In(1),
            "cmd_keyhole": In(1), "cmd_valid": In(1), "cmd_ready": Out(1),
            "done": Out(1), "done_resp": Out(2),
            "flush": In(1), "busy": Out(1),
            "rd": Out(ReadRequestSignature(addr_width=addr_width, data_width=data_width)),
            "stream": Out(AXIStreamSignature(data_width=data_width)),
        })

    def elaborate(self, platform):
        m = Module()
        bw = self._dw // 8
        lb = (bw - 1).bit_length()
        rd, st = self.rd, self.stream

        active = Signal()
        keyhole = Signal()
        eof = Signal()
        next_addr = Signal(self._aw)
        beats_left = Signal(27)                 # beats still to request
        outstanding = Signal(range(self._max + 1))
        bytes_left = Signal(26)                 # bytes still to send on the stream
        err = Signal(2)
        n_ok = Signal(2)                        # cycles since the burst length inputs changed
        with m.If(n_ok != 2):                   # (cleared below when they change)
            m.d.sync += n_ok.eq(n_ok + 1)

        m.d.comb += self.cmd_ready.eq(~active & (outstanding == 0) & ~rd.ar_valid)
        with m.If(self.cmd_valid & self.cmd_ready):
            m.d.sync += [n_ok.eq(0),
                active.eq(1), keyhole.eq(self.cmd_keyhole), eof.eq(self.cmd_eof),
                next_addr.eq(self.cmd_addr & ~Const(bw - 1, self._aw)),
                beats_left.eq((self.cmd_length + bw - 1) >> lb),
                bytes_left.eq(self.cmd_length), err.eq(0),
            ]

        # -- AR: the next burst, registered so that AR is stable until its handshake ----------
        to_4k = Signal(13 - lb + 1)
        m.d.comb += to_4k.eq((0x1000 - next_addr[:12]) >> lb)
        max_beats = Mux(keyhole, min(16, self._burst), self._burst)
        # The burst length is registered in two stages after next_addr/beats_left change (n_ok),
        # which keeps the compare chain out of the AR registers' input logic.
        big, to_4k_r = Signal(), Signal(13 - lb + 1)
        m.d.sync += [big.eq(beats_left >= max_beats), to_4k_r.eq(Mux(keyhole, max_beats, to_4k))]
        n = Signal(9)
        m.d.sync += n.eq(_min(Mux(big, max_beats, beats_left[:9]), to_4k_r))
        in_flight = outstanding + rd.ar_valid
        ar_done = rd.ar_valid & rd.ar_ready
        r_end = rd.r_valid & rd.r_ready & rd.r_last
        with m.If(active & (n_ok == 2) & ~rd.ar_valid & (beats_left != 0) & (in_flight < self._max) & ~self.flush):
            m.d.sync += [n_ok.eq(0),
                rd.ar_valid.eq(1), rd.ar_addr.eq(next_addr), rd.ar_len.eq(n - 1),
                rd.ar_fixed.eq(keyhole), beats_left.eq(beats_left - n),
            ]
            with m.If(~keyhole):
                m.d.sync += next_addr.eq(next_addr + (n << lb))
        with m.If(ar_done):
            m.d.sync += rd.ar_valid.eq(0)
        m.d.sync += outstanding.eq(outstanding + ar_done - r_end)

        # -- R to the stream ---------------------------------------------------------------------
        last = bytes_left <= bw
        keep = Signal(bw)
        with m.If(last):
            m.d.comb += keep.eq((Const(1, bw + 1) << bytes_left[:lb + 1]) - 1)
        with m.Else():
            m.d.comb += keep.eq((1 << bw) - 1)
        beat_err = rd.r_resp != 0
        m.d.comb += [
            st.tdata.eq(rd.r_data), st.tkeep.eq(keep),
            st.tlast.eq(last & (eof | (err != 0) | beat_err)),
            st.tvalid.eq(rd.r_valid & ~self.flush),
            rd.r_ready.eq(st.tready | self.flush),
        ]
        beat = rd.r_valid & rd.r_ready
        m.d.sync += self.done.eq(0)
        with m.If(beat):
            m.d.sync += bytes_left.eq(Mux(last, 0, bytes_left - bw))
            with m.If((err == 0) & beat_err):
                m.d.sync += err.eq(rd.r_resp)
            with m.If(last & active & ~self.flush):
                m.d.sync += [active.eq(0), self.done.eq(1),
                             self.done_resp.eq(Mux(err != 0, err, rd.r_resp))]
        with m.If(self.flush & (outstanding == 0) & ~rd.ar_valid):
            m.d.sync += active.eq(0)
        m.d.comb += self.busy.eq(active | (outstanding != 0) | rd.ar_valid)
        return m
