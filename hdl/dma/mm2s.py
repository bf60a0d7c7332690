"""MM2S data mover: reads descriptors' buffers with AXI4 bursts and sends them on the stream.

PG021 v7.1 "MM2S": the buffer of each descriptor is read in bursts of up to ``max_burst_beats``
that never cross a 4 KiB boundary (IHI 0022 A3.4.1), with up to ``max_outstanding`` bursts in
flight; R beats go straight to ``m_axis_mm2s`` (RREADY is TREADY), TKEEP marks the valid bytes
of the last beat, TLAST is set on the last beat of a TXEOF descriptor.

Two descriptors can be in the mover at once (descriptor prefetch, see channel.py): a command
is accepted as soon as every burst of the previous one has been *requested*, so the bursts of
the next buffer follow the previous one's on the AR channel and its beats follow on the stream
without a gap. The read side keeps the length and TXEOF of each accepted command in order (the
one whose beats are arriving, and one queued). Completion is a ``done_valid`` level held until
``done_ack``; the last beat of the next descriptor waits while an earlier completion has not
been taken.

Buffer addresses must be aligned to the data width (PG021 without the Data Realignment Engine);
the low address bits are ignored. A buffer whose length is not a multiple of the data width
ends with a partial-TKEEP beat even in the middle of a frame.

Errors: a SLVERR/DECERR R beat is recorded (the first one wins) and the descriptor is still
read to its end so that the stream stays beat-consistent; TLAST is forced on its last beat so
that a frame never stays open on the stream. ``done_resp`` reports the error. The beats of a
command accepted after the failing one are dropped (its remaining bursts are not requested,
those in flight are drained) and it never completes: the channel halts on the error.
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
    """Buffer-to-stream mover, up to two descriptors in flight.

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
    done_valid : Out(1)
        Level, held until ``done_ack``: the oldest accepted descriptor's last beat was sent;
        ``done_resp`` is its first error response (0 = OKAY).
    done_ack : In(1)
    flush : In(1)
        Stop issuing bursts, drain (and drop) the beats of the bursts in flight, forget the
        commands, then go idle without completing them (soft reset).
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
            "done_valid": Out(1), "done_resp": Out(2), "done_ack": In(1),
            "flush": In(1), "busy": Out(1),
            "rd": Out(ReadRequestSignature(addr_width=addr_width, data_width=data_width)),
            "stream": Out(AXIStreamSignature(data_width=data_width)),
        })

    def elaborate(self, platform):
        m = Module()
        bw = self._dw // 8
        lb = (bw - 1).bit_length()
        rd, st = self.rd, self.stream

        # -- request side: the bursts of the newest command ----------------------------------
        keyhole = Signal()
        next_addr = Signal(self._aw)
        beats_left = Signal(27)                 # beats still to request
        outstanding = Signal(range(self._max + 1))
        discard = Signal()                      # an earlier descriptor failed: drop the rest
        n_ok = Signal(2)                        # cycles since the burst length inputs changed
        with m.If(n_ok != 2):                   # (cleared below when they change)
            m.d.sync += n_ok.eq(n_ok + 1)

        # -- response side: the descriptor whose beats arrive (r_*), and one queued (q_*) ------
        r_valid, r_eof, r_bytes, r_err = Signal(), Signal(), Signal(26), Signal(2)
        q_valid, q_eof, q_len = Signal(), Signal(), Signal(26)

        accept = self.cmd_valid & self.cmd_ready
        m.d.comb += self.cmd_ready.eq((beats_left == 0) & ~rd.ar_valid & ~q_valid & ~discard
                                      & ~self.flush)
        with m.If(accept):
            m.d.sync += [n_ok.eq(0), keyhole.eq(self.cmd_keyhole),
                         next_addr.eq(self.cmd_addr & ~Const(bw - 1, self._aw)),
                         beats_left.eq((self.cmd_length + bw - 1) >> lb)]

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
        with m.If((n_ok == 2) & ~rd.ar_valid & (beats_left != 0) & (in_flight < self._max)
                  & ~self.flush & ~discard):
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
        last = r_bytes <= bw
        keep = Signal(bw)
        with m.If(last):
            m.d.comb += keep.eq((Const(1, bw + 1) << r_bytes[:lb + 1]) - 1)
        with m.Else():
            m.d.comb += keep.eq((1 << bw) - 1)
        beat_err = rd.r_resp != 0
        drop = self.flush | discard
        # The last beat of a descriptor waits while an earlier completion is not taken.
        hold = last & self.done_valid & ~self.done_ack
        m.d.comb += [
            st.tdata.eq(rd.r_data), st.tkeep.eq(keep),
            st.tlast.eq(last & (r_eof | (r_err != 0) | beat_err)),
            st.tvalid.eq(rd.r_valid & ~drop & ~hold),
            rd.r_ready.eq((st.tready & ~hold) | drop),
        ]
        beat = rd.r_valid & rd.r_ready
        with m.If(self.done_ack):
            m.d.sync += self.done_valid.eq(0)
        with m.If(beat & ~drop):
            m.d.sync += r_bytes.eq(r_bytes - bw)
            with m.If((r_err == 0) & beat_err):
                m.d.sync += r_err.eq(rd.r_resp)
            with m.If(last):
                resp = Mux(r_err != 0, r_err, rd.r_resp)
                m.d.sync += [self.done_valid.eq(1), self.done_resp.eq(resp),
                             r_valid.eq(q_valid), r_bytes.eq(q_len), r_eof.eq(q_eof), r_err.eq(0),
                             q_valid.eq(0)]
                with m.If(resp != 0):
                    m.d.sync += discard.eq(1)
        with m.If(accept):
            with m.If(~r_valid | (beat & ~drop & last)):
                m.d.sync += [r_valid.eq(1), r_bytes.eq(self.cmd_length), r_eof.eq(self.cmd_eof),
                             r_err.eq(0)]
            with m.Else():
                m.d.sync += [q_valid.eq(1), q_len.eq(self.cmd_length), q_eof.eq(self.cmd_eof)]
        # Dropping ends when nothing is in flight any more: forget the commands.
        with m.If(drop & (outstanding == 0) & ~rd.ar_valid):
            m.d.sync += [discard.eq(0), beats_left.eq(0), r_valid.eq(0), q_valid.eq(0)]
        with m.If(self.flush):
            m.d.sync += self.done_valid.eq(0)
        m.d.comb += self.busy.eq(r_valid | q_valid | (beats_left != 0) | (outstanding != 0)
                                 | rd.ar_valid | discard | self.done_valid)
        return m
