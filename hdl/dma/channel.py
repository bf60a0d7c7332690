"""Scatter-gather controller of one channel: descriptor fetch, checks, hand-off to the data
mover, status write-back, ring progress (TAILDESC) and error halting.

PG021 v7.1 behaviour, with the choices of dma_eth.md ("DMA behaviour that drivers rely on"):

* **Start and tail.** RS=1 leaves Halted. Every TAILDESC write while not halted marks work
  pending; an idle channel with work pending fetches the next descriptor: CURDESC itself after
  a CURDESC write (fresh start), else the NXTDESC of the last descriptor processed. After each
  descriptor the channel compares its address with TAILDESC (inclusive tail): equal -> idle,
  else it goes on with NXTDESC. A tail write while busy only moves that pause point; while halted it
  is ignored (the register file does not even store it). One refinement: when TAILDESC was
  written since the current descriptor was fetched and names that descriptor, the write
  submitted a whole ring (the same value as the previous tail), so the channel goes round once
  more, as it does when the same write reaches it idle.
* **Prefetch.** While the current descriptor is in progress (command, data, write-back) and
  it is *not* the tail, the channel fetches its NXTDESC into a second slot, so the fetch
  overlaps the data. Never past the tail: the descriptor after the tail is fetched only once a
  TAILDESC write has submitted it, i.e. after software prepared it. A prefetched descriptor
  is used as fetched (software may not modify a submitted descriptor, the same rule PG021
  sets); it is dropped, and fetched again later from memory (so a STATUS/Cmplt that software
  rewrote meanwhile is seen), whenever the channel halts before taking it: RS cleared, an
  error in either channel, soft reset. The checks below apply when the descriptor becomes
  current, after the previous one was written back, so every error is raised in descriptor
  order with CURDESC at the failing one. CURDESC names the current descriptor, not the
  prefetched one. MM2S also hands the prefetched descriptor's command to its data mover while
  the current one's data is still moving (its beats follow without a gap); such an issued
  descriptor is always completed, even if RS is cleared meanwhile. S2MM hands it over during
  the current one's write-back (its first burst is set up meanwhile); if the channel halts
  before taking it and it has received nothing, the mover gives it up (``cancel``).
* **Checks** (PG021 DMASR): a fetched descriptor with Cmplt set and Cyclic off -> SGIntErr;
  length 0 -> DMAIntErr (STATUS written back with DMAIntErr set).
* **Write-back.** STATUS at +0x1C ([25:0] bytes, RXEOF/RXSOF for S2MM, error bits, Cmplt when
  no error) and, on the last descriptor of an S2MM frame, APP4 at +0x30 (APP0-3 are not
  written). STATUS is always the last write: APP4 is one single-beat burst, and only after its
  B response arrived is STATUS written (its own single-beat burst), so a driver that sees Cmplt
  never reads a stale APP4 (AXI orders the *observation* of same-ID writes to different
  Normal-memory addresses only through the response, IHI 0022 A6). The B response of STATUS
  is awaited before anything is counted: IOC (through the coalescer) comes after B
  (dma_eth.md).
* **Completion tokens.** ``completed`` pulses in the cycle the STATUS B response of a
  descriptor completed without error is taken; the B response is taken only while
  ``token_ready`` (room in the token FIFO), so a full FIFO holds the channel's completion (its
  interrupt and its next descriptor) instead of dropping the token (no silent loss); the
  top level ties ``token_ready`` high while the channel's DMACR.TokenEn is 0. B
  responses come one at a time in order, so the two channels never complete in the same cycle.
* **Errors.** SLVERR/DECERR on the fetch -> SGSlvErr/SGDecErr, on the write-back -> the same,
  on data -> DMASlvErr/DMADecErr (after the descriptor's write-back). The channel sets its
  sticky error bit, pulses ``error`` (the register file clears RS of both channels and sets
  Err_Irq) and halts; CURDESC stays at the failing descriptor. MM2S: after a data error the
  mover drops the beats of a descriptor already issued behind it (it never completes); after
  a write-back error of descriptor N, a descriptor N+1 already issued to the mover is moved to
  its end (its TLAST as its TXEOF says) but not written back.
* **Stopping.** With RS low (software, or an error in the other channel) the channel finishes
  the descriptor in progress (an S2MM descriptor that has not received any beat is given up)
  and halts. With ``stop`` (soft reset pending) it starts no new AXI transaction and waits for
  its data mover to drain.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_stream import AXIStreamSignature
from .axi_arbiter import ReadRequestSignature, WriteRequestSignature
from .descriptor import (APP4_OFFSET, CONTROL_OFFSET, FETCH_BYTES, STATUS_OFFSET, DescriptorLayout,
                         StatusLayout)


__all__ = ["ChannelController", "ErrorLayout"]


class ErrorLayout(data.Struct):
    """The sticky error bits of DMASR, in DMASR order (bits 4-6, 8-10)."""
    dma_int: 1
    dma_slv: 1
    dma_dec: 1
    sg_int: 1
    sg_slv: 1
    sg_dec: 1


SLVERR, DECERR = 0b10, 0b11


class ChannelController(wiring.Component):
    """The scatter-gather state machine of one channel.

    Parameters
    ----------
    s2mm : bool
        S2MM (stream to memory) when true, MM2S otherwise.
    addr_width, data_width : int
    status_stream : bool
        S2MM: take APP4 from the status stream.

    Attributes
    ----------
    rs, cyclic, keyhole, stop : In(1)
        DMACR.RS, Cyclic, Keyhole; ``stop``: soft reset pending.
    curdesc_sw, curdesc_we : In
        A CURDESC write (applied only while halted).
    tail, tail_we : In
        TAILDESC and the pulse of a write of it (register already updated).
    curdesc : Out(32)
    halted, idle : Out(1)
    errors : Out(ErrorLayout)
        Sticky error bits.
    error : Out(1)
        Pulse: an error halted the channel.
    packet_done : Out(1)
        Pulse: the last descriptor of a packet was written back and acknowledged.
    completed, completed_addr : Out
        Pulse (combinational, with the STATUS B handshake) and address of every descriptor
        completed without error (completion tokens).
    token_ready : In(1)
        Room for a completion token; while low the STATUS B response is not taken.
    rd, wr : Out(Read/WriteRequestSignature)
        Descriptor fetch; status write-back.
    cmd_* / done_* / cancel / mover_busy / mover_started
        The data mover's command and result (see the movers).
    sts : In(AXIStreamSignature(32))
        S2MM status stream (frame length in [15:0], one beat per frame).
    simple : bool
        Simple (direct register) mode, see :meth:`_elaborate_simple`: no descriptors, the
        ``rd``/``wr`` requesters stay idle and ``sts`` is not read.
    sa, length, length_we : In
        Simple mode: SA/DA, LENGTH and the pulse of a LENGTH write (register already updated).
    bytes_done, bytes_done_we : Out
        Simple mode: bytes moved, and the pulse that writes them back to LENGTH (S2MM only).
    """

    def __init__(self, *, s2mm, addr_width, data_width, status_stream=True, simple=False):
        self._s2mm = s2mm
        self._simple = simple
        self._aw, self._dw = addr_width, data_width
        self._sts = status_stream and s2mm
        super().__init__({
            "rs": In(1), "cyclic": In(1), "keyhole": In(1), "stop": In(1),
            "curdesc_sw": In(addr_width), "curdesc_we": In(1),
            "tail": In(addr_width), "tail_we": In(1),
            "curdesc": Out(addr_width), "halted": Out(1), "idle": Out(1),
            "errors": Out(ErrorLayout), "error": Out(1), "packet_done": Out(1),
            "completed": Out(1), "completed_addr": Out(addr_width), "token_ready": In(1),
            "rd": Out(ReadRequestSignature(addr_width=addr_width, data_width=data_width)),
            "wr": Out(WriteRequestSignature(addr_width=addr_width, data_width=data_width)),
            "cmd_addr": Out(addr_width), "cmd_length": Out(26), "cmd_eof": Out(1),
            "cmd_keyhole": Out(1), "cmd_valid": Out(1), "cmd_ready": In(1),
            "done": In(1), "done_ack": Out(1), "done_bytes": In(26), "done_eof": In(1),
            "done_resp": In(2),
            "cancel": Out(1), "mover_busy": In(1), "mover_started": In(1),
            "sts": In(AXIStreamSignature(data_width=32, keep=False)),
            "sa": In(addr_width), "length": In(26), "length_we": In(1),
            "bytes_done": Out(26), "bytes_done_we": Out(1),
        })

    def _elaborate_simple(self, m):
        """PG021 simple mode. RS=1 leaves Halted for Idle; a non-zero LENGTH write while idle
        moves LENGTH bytes at SA/DA (MM2S: one frame, TLAST on the last beat; S2MM: until TLAST
        or LENGTH bytes). On success (Idle a few cycles later, once these are visible): IOC (through the coalescer, one packet), S2MM LENGTH
        becomes the bytes received, back to Idle (or Halted if RS was cleared meanwhile). On
        SLVERR/DECERR: DMASlvErr/DMADecErr, ``error`` and Halted. A LENGTH write of 0 is
        ignored. Stopping (RS low, soft reset) behaves as in scatter-gather mode."""
        stopping = ~self.rs | self.stop
        addr = Signal(self._aw)
        length = Signal(26)
        settle = Signal(2)
        m.d.sync += [self.error.eq(0), self.packet_done.eq(0), self.bytes_done_we.eq(0)]
        m.d.comb += [self.cmd_keyhole.eq(self.keyhole), self.curdesc.eq(0)]

        with m.FSM():
            with m.State("HALTED"):
                m.d.comb += self.halted.eq(1)
                with m.If(self.rs & ~self.stop & (self.errors.as_value() == 0)):
                    m.next = "IDLE"

            with m.State("IDLE"):
                m.d.comb += self.idle.eq(1)
                with m.If(stopping):
                    m.next = "HALTED"
                with m.Elif(self.length_we & (self.length != 0)):
                    m.d.sync += [addr.eq(self.sa), length.eq(self.length)]
                    m.next = "CMD"

            with m.State("CMD"):
                m.d.comb += [self.cmd_valid.eq(1), self.cmd_addr.eq(addr),
                             self.cmd_length.eq(length), self.cmd_eof.eq(1)]
                with m.If(self.cmd_ready):
                    m.next = "XFER"

            with m.State("XFER"):
                if self._s2mm:
                    m.d.comb += self.cancel.eq(stopping)
                with m.If(self.done):
                    slv, dec = self.done_resp == SLVERR, self.done_resp == DECERR
                    with m.If(slv | dec):
                        m.d.sync += [self.errors.eq(self.errors.as_value() | Cat(Const(0, 1), slv, dec)),
                                     self.error.eq(1)]
                        m.next = "HALTED"
                    with m.Else():
                        m.d.sync += self.packet_done.eq(1)
                        if self._s2mm:
                            m.d.sync += [self.bytes_done.eq(self.done_bytes), self.bytes_done_we.eq(1)]
                        m.d.sync += settle.eq(0)
                        m.next = "COMPLETE"
                with m.Elif(~self.mover_busy & (self.stop | (stopping & ~self.mover_started)) & ~self.cmd_valid):
                    m.next = "HALTED"

            # A few cycles so that IOC_Irq (coalescer, then DMASR) and the S2MM LENGTH are
            # visible by the time DMASR shows Idle.
            with m.State("COMPLETE"):
                m.d.sync += settle.eq(settle + 1)
                with m.If(settle == 3):
                    with m.If(stopping):
                        m.next = "HALTED"
                    with m.Else():
                        m.next = "IDLE"
        return m

    def elaborate(self, platform):
        m = Module()
        if self._simple:
            m.d.comb += self.done_ack.eq(1)
            return self._elaborate_simple(m)
        dw, bw = self._dw, self._dw // 8
        rd, wr = self.rd, self.wr
        amask = ~Const(0x3F, self._aw)

        def addr_of(lsb, msb):
            """A descriptor address word, with its MSB word when addresses exceed 32 bits."""
            return Cat(lsb, msb)[:self._aw] if self._aw > 32 else lsb

        nxt = Signal(self._aw)                  # next descriptor to fetch (nothing prefetched)
        pending = Signal()                      # a tail write since the current one was fetched
        cur_raw = Signal(FETCH_BYTES * 8)       # the current descriptor
        desc = DescriptorLayout(cur_raw)
        cur_next = Signal(self._aw)             # the current descriptor's NXTDESC
        err_kind = Signal(ErrorLayout)          # the error to raise after the write-back
        in_frame = Signal()                     # S2MM: a frame continues in this descriptor
        frame_bytes = Signal(26)
        status = Signal(StatusLayout)
        app4 = Signal(32)
        eof = Signal()
        stopping = ~self.rs | self.stop

        # -- the next descriptor: fetched (prefetched) into nx_*, then taken as the current one.
        nx_raw = Signal(FETCH_BYTES * 8)
        nx = DescriptorLayout(nx_raw)
        nx_addr = Signal(self._aw)
        nx_full = Signal()                      # fetched (nx_resp: the fetch's response)
        nx_resp = Signal(2)
        nx_pending = Signal()                   # a tail write since nx was fetched
        nx_issued = Signal()                    # MM2S: its command is in the data mover
        f_busy = Signal()                       # the fetch is in progress
        f_drop = Signal()                       # ... and its result is not wanted any more
        launch = Signal()                       # start fetching launch_addr into nx
        launch_addr = Signal(self._aw)
        drop_nx = Signal()                      # the channel halts: forget nx

        m.d.comb += cur_next.eq(addr_of(desc.nxtdesc, desc.nxtdesc_msb) & amask)
        m.d.sync += [self.error.eq(0), self.packet_done.eq(0)]
        m.d.comb += self.completed_addr.eq(self.curdesc)
        # A tail write counts for the next descriptor only once its fetch has read it: a write
        # made while it was being fetched (in particular the one that allowed the prefetch)
        # came before the read, so it did not resubmit that descriptor.
        with m.If(self.tail_we):
            m.d.sync += pending.eq(1)
            with m.If(nx_full):
                m.d.sync += nx_pending.eq(1)

        # Fetch unit: two read bursts into nx_raw, the words the engine uses: NXTDESC (and, with
        # 64-bit addresses, its MSB), BUFFER_ADDRESS (and MSB), then CONTROL and STATUS
        # (the reserved words 0x10-0x17 are not read).
        head_bytes = 0x10 if self._aw > 32 else 0x0C
        head_beats = -(-head_bytes // bw)
        tail_beats = (FETCH_BYTES - CONTROL_OFFSET) // bw
        f_beat = Signal(range(head_beats + tail_beats))
        f_second = Signal()                     # the second AR is the one offered
        m.d.comb += rd.r_ready.eq(f_busy)
        with m.If(rd.ar_ready):
            with m.If(f_second):
                m.d.sync += rd.ar_valid.eq(0)
            with m.Else():
                m.d.sync += [rd.ar_addr.eq(nx_addr + CONTROL_OFFSET), rd.ar_len.eq(tail_beats - 1),
                             f_second.eq(1)]
        with m.If(rd.r_valid & f_busy):
            m.d.sync += f_beat.eq(f_beat + 1)
            with m.Switch(f_beat):
                for k in range(head_beats + tail_beats):
                    off = k * bw if k < head_beats else CONTROL_OFFSET + (k - head_beats) * bw
                    with m.Case(k):
                        m.d.sync += nx_raw[off * 8:(off + bw) * 8].eq(rd.r_data)
            with m.If((nx_resp == 0) & (rd.r_resp != 0)):
                m.d.sync += nx_resp.eq(rd.r_resp)
            with m.If(f_beat == head_beats + tail_beats - 1):
                m.d.sync += [f_busy.eq(0), nx_full.eq(~f_drop & ~drop_nx)]
        with m.If(launch):
            m.d.sync += [rd.ar_valid.eq(1), rd.ar_addr.eq(launch_addr), rd.ar_len.eq(head_beats - 1),
                         f_second.eq(0), f_beat.eq(0),
                         nx_addr.eq(launch_addr), nx_resp.eq(0), nx_pending.eq(0),
                         f_busy.eq(1), f_drop.eq(0)]
        with m.If(drop_nx):
            m.d.sync += [nx_full.eq(0), nx_issued.eq(0)]
            with m.If(f_busy):
                m.d.sync += f_drop.eq(1)

        # Checks of the next descriptor (PG021 DMASR): fetch error, stale Cmplt without Cyclic,
        # length 0. A bad one is never issued; the error is raised when it becomes current.
        nx_len_zero = Signal()
        m.d.comb += nx_len_zero.eq(nx.control.length == 0)
        nx_bad = (nx_resp != 0) | (nx.status.cmplt & ~self.cyclic) | nx_len_zero

        # Prefetch (see the module doc): while the current descriptor is in progress and is not
        # the tail, fetch its NXTDESC.
        busy_states = ("CMD", "XFER", "WB_STS", "WB_AW", "WB_W", "WB_B")
        in_progress = Signal()
        may_prefetch = (in_progress & ~nx_full & ~f_busy & ~rd.ar_valid & ~stopping
                        & (self.curdesc != self.tail) & (err_kind.as_value() == 0))

        # MM2S issues the next descriptor's command while the current one moves (the data
        # mover takes a second command once the first one's bursts are requested).
        issue_ok = Signal()
        if not self._s2mm:
            m.d.comb += [self.cmd_addr.eq(addr_of(nx.buffer, nx.buffer_msb)), self.cmd_length.eq(nx.control.length),
                         self.cmd_eof.eq(nx.control.txeof),
                         self.cmd_valid.eq(issue_ok & nx_full & ~nx_issued & ~nx_bad & ~stopping
                                           & (err_kind.as_value() == 0))]
            with m.If(self.cmd_valid & self.cmd_ready):
                m.d.sync += nx_issued.eq(1)
        else:
            # S2MM hands the prefetched descriptor over during the current one's write-back
            # (the mover is done with the current buffer): its first burst is set up while
            # STATUS/APP4 are written, instead of after the STATUS B.
            early = Signal()
            m.d.comb += early.eq(issue_ok & nx_full & ~nx_issued & ~nx_bad & ~stopping
                                 & (err_kind.as_value() == 0))
            with m.If(early):
                m.d.comb += [self.cmd_addr.eq(addr_of(nx.buffer, nx.buffer_msb)),
                             self.cmd_length.eq(nx.control.length), self.cmd_valid.eq(1)]
                with m.If(self.cmd_ready):
                    m.d.sync += nx_issued.eq(1)
            with m.Else():
                m.d.comb += [self.cmd_addr.eq(addr_of(desc.buffer, desc.buffer_msb)),
                             self.cmd_length.eq(desc.control.length)]
            m.d.comb += self.cmd_eof.eq(desc.control.txeof)
        m.d.comb += self.cmd_keyhole.eq(self.keyhole)

        # Write-back: single-beat bursts, APP4 at +0x30 first (last descriptor of an S2MM
        # frame), then STATUS at +0x1C. ``wb_app``: the burst in progress is the APP4 one.
        wb_app = Signal()
        sts_lane, app_lane = (STATUS_OFFSET % bw) // 4, (APP4_OFFSET % bw) // 4
        m.d.comb += [
            wr.w_last.eq(1),
            wr.w_data.eq(Mux(wb_app, app4 << (32 * app_lane), status.as_value() << (32 * sts_lane))),
            wr.w_strb.eq(Mux(wb_app, 0xF << (4 * app_lane), 0xF << (4 * sts_lane))),
        ]

        def raise_error(kind):
            m.d.sync += [self.errors.eq(self.errors.as_value() | kind), self.error.eq(1)]
            m.d.comb += drop_nx.eq(1)
            m.next = "HALTED"

        sts_beat_off, app_beat_off = STATUS_OFFSET & ~(bw - 1), APP4_OFFSET & ~(bw - 1)

        def start_writeback(app, base=None):
            base = self.curdesc if base is None else base
            m.d.sync += [wr.aw_valid.eq(1), wb_app.eq(app), wr.aw_len.eq(0),
                         wr.aw_addr.eq(base + Mux(app, app_beat_off, sts_beat_off))]
            m.next = "WB_AW"

        def next_descriptor(addr):
            """Go to TAKE; fetch ``addr`` unless it is prefetched or being fetched."""
            with m.If(~nx_full & ~f_busy):
                m.d.comb += [launch.eq(1), launch_addr.eq(addr)]
            m.next = "TAKE"

        with m.FSM():
            with m.State("HALTED"):
                m.d.comb += [self.halted.eq(1), self.done_ack.eq(1), drop_nx.eq(1)]
                if self._s2mm:                  # give up a descriptor handed over early
                    m.d.comb += self.cancel.eq(1)
                m.d.sync += pending.eq(0)
                with m.If(self.curdesc_we):
                    m.d.sync += [self.curdesc.eq(self.curdesc_sw), nxt.eq(self.curdesc_sw)]
                with m.If(self.rs & ~self.stop & (self.errors.as_value() == 0) & ~f_busy):
                    m.next = "IDLE"

            with m.State("IDLE"):
                m.d.comb += self.idle.eq(1)
                with m.If(stopping):
                    m.d.comb += drop_nx.eq(1)
                    m.next = "HALTED"
                with m.Elif(pending):
                    next_descriptor(nxt)

            # The next descriptor becomes the current one once it is fetched (and, MM2S, its
            # command is in the data mover unless it is bad).
            with m.State("TAKE"):
                if not self._s2mm:
                    m.d.comb += issue_ok.eq(1)
                ready = nx_full & (nx_bad | nx_issued) if not self._s2mm else nx_full
                m.d.sync += [err_kind.eq(0), app4.eq(0)]
                with m.If(stopping & ~nx_issued):
                    m.d.comb += drop_nx.eq(1)
                    m.next = "HALTED"
                with m.Elif(self.stop):
                    m.next = "XFER"             # MM2S: flushed by the mover, halts from there
                with m.Elif(ready):
                    m.d.sync += [self.curdesc.eq(nx_addr), cur_raw.eq(nx_raw), nx_full.eq(0),
                                 nx_issued.eq(0), pending.eq(nx_pending | self.tail_we)]
                    with m.If(nx_resp == SLVERR):
                        raise_error(ErrorLayout.const({"sg_slv": 1}).as_value())
                    with m.Elif(nx_resp == DECERR):
                        raise_error(ErrorLayout.const({"sg_dec": 1}).as_value())
                    with m.Elif(nx.status.cmplt & ~self.cyclic):
                        raise_error(ErrorLayout.const({"sg_int": 1}).as_value())
                    with m.Elif(nx_len_zero):
                        m.d.sync += [status.eq(0), status.int_err.eq(1),
                                     err_kind.eq(ErrorLayout.const({"dma_int": 1})), eof.eq(0)]
                        start_writeback(0, nx_addr)
                    with m.Elif(nx_issued):
                        m.next = "XFER"
                    with m.Else():
                        m.next = "CMD"

            with m.State("CMD"):
                m.d.comb += [self.cmd_valid.eq(1), in_progress.eq(1)]
                with m.If(self.cmd_ready):
                    m.next = "XFER"

            with m.State("XFER"):
                m.d.comb += [in_progress.eq(1), self.done_ack.eq(1)]
                if not self._s2mm:
                    m.d.comb += issue_ok.eq(1)
                if self._s2mm:
                    m.d.comb += self.cancel.eq(stopping)
                done_eof = self.done_eof if self._s2mm else desc.control.txeof
                with m.If(self.done):
                    slv, dec = self.done_resp == SLVERR, self.done_resp == DECERR
                    m.d.sync += [
                        status.transferred.eq(self.done_bytes if self._s2mm else desc.control.length),
                        status.rxeof.eq(done_eof if self._s2mm else 0),
                        status.rxsof.eq(~in_frame if self._s2mm else 0),
                        status.int_err.eq(0), status.slv_err.eq(slv), status.dec_err.eq(dec),
                        status.cmplt.eq(~slv & ~dec),
                        err_kind.eq(Cat(Const(0, 1), slv, dec)),
                        eof.eq(done_eof),
                        frame_bytes.eq(frame_bytes + self.done_bytes),
                    ]
                    if self._s2mm and not self._sts:
                        m.d.sync += app4.eq(frame_bytes + self.done_bytes)
                    if self._sts:
                        with m.If(done_eof):
                            m.next = "WB_STS"
                        with m.Else():
                            start_writeback(0)
                    else:
                        start_writeback(done_eof & self._s2mm)
                with m.Elif(~self.mover_busy & (self.stop | (stopping & ~self.mover_started)) & ~self.cmd_valid):
                    m.d.comb += drop_nx.eq(1)
                    m.next = "HALTED"

            with m.State("WB_STS"):
                m.d.comb += [self.sts.tready.eq(1), in_progress.eq(1), issue_ok.eq(1)]
                with m.If(self.sts.tvalid):
                    m.d.sync += app4.eq(self.sts.tdata)
                    start_writeback(1)

            with m.State("WB_AW"):
                m.d.comb += in_progress.eq(1)
                m.d.comb += issue_ok.eq(1)
                with m.If(wr.aw_ready):
                    m.d.sync += wr.aw_valid.eq(0)
                    m.next = "WB_W"

            with m.State("WB_W"):
                m.d.comb += [wr.w_valid.eq(1), in_progress.eq(1), issue_ok.eq(1)]
                with m.If(wr.w_ready):
                    m.next = "WB_B"

            with m.State("WB_B"):
                # The STATUS B of a descriptor without error is a completion: taken only when
                # its token has room (see the module doc).
                m.d.comb += [wr.b_ready.eq(wb_app | self.token_ready | (err_kind.as_value() != 0)),
                             in_progress.eq(1), issue_ok.eq(1)]
                with m.If(wr.b_valid & wr.b_ready):
                    with m.If(wr.b_resp == SLVERR):
                        raise_error(ErrorLayout.const({"sg_slv": 1}).as_value())
                    with m.Elif(wr.b_resp == DECERR):
                        raise_error(ErrorLayout.const({"sg_dec": 1}).as_value())
                    with m.Elif(wb_app):
                        start_writeback(0)      # APP4 acknowledged: now STATUS
                    with m.Elif(err_kind.as_value() != 0):
                        raise_error(err_kind.as_value())
                    with m.Else():
                        m.d.comb += self.completed.eq(1)
                        m.d.sync += [nxt.eq(cur_next),
                                     self.packet_done.eq(eof), in_frame.eq(~eof & self._s2mm)]
                        with m.If(eof):
                            m.d.sync += frame_bytes.eq(0)
                        # A tail write since this descriptor was fetched that names it again
                        # submitted a whole ring: go round once more (see the module doc).
                        with m.If((self.curdesc == self.tail) & ~pending & ~self.tail_we & ~nx_issued):
                            m.d.comb += drop_nx.eq(1)
                            m.next = "IDLE"
                        with m.Elif(stopping & ~nx_issued):
                            m.d.comb += drop_nx.eq(1)
                            m.next = "HALTED"
                        with m.Else():
                            next_descriptor(cur_next)

        # Prefetch launch (only in the states of a descriptor in progress; never together with
        # the launch of next_descriptor, which happens outside them).
        with m.If(may_prefetch):
            m.d.comb += [launch.eq(1), launch_addr.eq(cur_next)]
        return m
