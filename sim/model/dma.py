"""Reference model of the AXI DMA (transaction level): registers, descriptor processing, status
write-back, coalescing (threshold; the delay timer is not modelled) and errors.

It follows the behaviour documented in docs/dma.md (the same choices as the RTL) and reads the
register map (the single source of truth for offsets and fields), never the RTL. Descriptors are
processed atomically: after each register write the model runs both channels as far as they
can go (MM2S until idle, S2MM until it runs out of offered frames), so comparisons with the RTL
are made when both are quiescent. Bus faults are modelled per data beat like the memory model of
the testbench: a beat whose word overlaps a fault range reads as zeros / is not written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atsoc.hdl.dma.registers import S2MM_OFFSET, dma_register_map

__all__ = ["DMAModel", "Fault"]

RM = dma_register_map()
OKAY, SLVERR, DECERR = 0, 2, 3
TOKEN_EN = RM["mm2s_dmacr"].field("token_en").mask      # atsoc extension (docs/dma.md)
ERR_BIT = {"dma_int": 4, "dma_slv": 5, "dma_dec": 6, "sg_int": 8, "sg_slv": 9, "sg_dec": 10}


@dataclass
class Fault:
    """Addresses [start, end) answer ``resp`` to reads (``"r"``), writes (``"w"``) or both."""
    start: int
    end: int
    resp: int = SLVERR
    kind: str = "rw"


@dataclass
class Channel:
    name: str
    dmacr: int = RM["mm2s_dmacr"].reset & ~0x2
    halted: bool = True
    idle: bool = False
    errors: int = 0
    irq_bits: int = 0
    thr_count: int = 1
    curdesc: int = 0
    tail: int = 0
    next: int = 0
    pending: bool = False
    in_frame: bool = False
    frame_bytes: int = 0
    frame: bytearray = field(default_factory=bytearray)
    fetched: tuple | None = None
    completed: int = 0
    sa: int = 0                     # simple mode: SA/DA, LENGTH, a transfer waiting (S2MM)
    length: int = 0
    busy: bool = False
    xfer: tuple = (0, 0)            # simple mode: (address, length) latched at the start

    @property
    def rs(self):
        return bool(self.dmacr & 1)

    @property
    def token_en(self):
        return bool(self.dmacr & TOKEN_EN)

    @property
    def threshold(self):
        return (self.dmacr >> 16) & 0xFF

    def dmasr(self):
        return (self.halted | (self.idle and not self.halted) << 1 | 1 << 3 | self.errors
                | self.irq_bits | self.thr_count << 16)

    @property
    def irq(self):
        return bool(self.irq_bits & self.dmacr & 0x7000)


class DMAModel:
    """The DMA on a memory (``read(addr, n)``/``write(addr, data)``).

    Attributes
    ----------
    tx_frames : list of bytes
        Frames sent on m_axis_mm2s.
    rx_queue : list of (bytes, int)
        Frames (and their status-stream length) offered on s_axis_s2mm, not yet consumed.
    faults : list of Fault
    tokens : list of int
        Completion tokens (descriptor address | 1) of the descriptors completed without error,
        in the model's completion order (the RTL interleaves the two channels by timing:
        compare per channel), from the channels whose DMACR.TokenEn is set. Scatter-gather
        only; a soft reset does not clear it.

    Parameters
    ----------
    completion_tokens : bool
        The build has completion tokens: DMACR.TokenEn (bit 15) is stored; otherwise it reads 0.
    """

    def __init__(self, mem, data_width: int = 32, addr_width: int = 32, scatter_gather: bool = True,
                 completion_tokens: bool = False):
        self.mem = mem
        self.completion_tokens = completion_tokens
        self.sg = scatter_gather
        self.bw = data_width // 8
        self.aw = addr_width
        self.amask = (1 << addr_width) - 1
        self.faults: list[Fault] = []
        self.tx_frames: list[bytes] = []
        self.rx_queue: list[tuple[bytes, int]] = []
        self.tokens: list[int] = []
        self._reset()

    def _reset(self):
        # A frame the MM2S channel left open on the stream (an error after a descriptor
        # without TXEOF) stays open across a soft reset: its next bytes continue it.
        open_frame = self.ch["mm2s"].frame if hasattr(self, "ch") else bytearray()
        self.ch = {"mm2s": Channel("mm2s"), "s2mm": Channel("s2mm")}
        self.ch["mm2s"].frame = open_frame

    # -- memory with faults -----------------------------------------------------------------
    def _fault(self, addr, n, kind):
        worst = OKAY
        for f in self.faults:
            if kind in f.kind and addr < f.end and f.start < addr + n:
                worst = worst or f.resp
        return worst

    def _read_beats(self, addr, n):
        data, resp = bytearray(), OKAY
        a = addr & ~(self.bw - 1)
        while a < addr + n:
            r = self._fault(a, self.bw, "r")
            data += bytes(self.bw) if r else self.mem.read(a, self.bw)
            resp = resp or r
            a += self.bw
        return bytes(data[addr % self.bw:addr % self.bw + n]), resp

    def _write_bytes(self, addr, data):
        resp = OKAY
        for a in range(addr & ~(self.bw - 1), addr + len(data), self.bw):
            lo, hi = max(a, addr), min(a + self.bw, addr + len(data))
            r = self._fault(a, self.bw, "w")
            if not r:
                self.mem.write(lo, data[lo - addr:hi - addr])
            resp = resp or r
        return resp

    def _u32(self, a):
        return int.from_bytes(self.mem.read(a, 4), "little")

    # -- registers ----------------------------------------------------------------------------
    def read(self, offset: int) -> int:
        name, c = self._which(offset)
        reg = offset % S2MM_OFFSET if offset < 2 * S2MM_OFFSET else None
        if c is None:
            return 0
        if reg == 0x00:
            return c.dmacr | 0x2
        if reg == 0x04:
            if not self.sg:         # SGIncld 0; no coalescer: DMASR[31:16] reads 0x0001
                return c.dmasr() & 0xFFFF & ~(1 << 3) | 1 << 16
            return c.dmasr()
        if not self.sg and reg in (0x18, 0x1C, 0x28):
            return {0x18: c.sa & 0xFFFFFFFF, 0x1C: c.sa >> 32 if self.aw > 32 else 0,
                    0x28: c.length}[reg]
        if not self.sg and reg == 0x08:
            return 0
        if reg == 0x08:
            return c.curdesc & 0xFFFFFFFF
        if reg == 0x10:
            return c.tail & 0xFFFFFFFF
        if self.aw > 32 and reg in (0x0C, 0x14):
            return (c.curdesc if reg == 0x0C else c.tail) >> 32
        return 0

    def _which(self, offset):
        if offset < S2MM_OFFSET:
            return "mm2s", self.ch["mm2s"]
        if offset < 2 * S2MM_OFFSET:
            return "s2mm", self.ch["s2mm"]
        return None, None

    def write(self, offset: int, value: int) -> None:
        name, c = self._which(offset)
        if c is None:
            return
        reg = offset % S2MM_OFFSET
        if reg == 0x00:
            if value & 0x4:
                self._reset()
                return
            thr = (value >> 16) & 0xFF or 1
            keep = value & (0x1 | 0x8 | 0x10 | 0x7000 | 0xFF000000
                            | (TOKEN_EN if self.completion_tokens else 0))
            if c.errors:
                keep &= ~1
            c.dmacr = keep | thr << 16
            c.thr_count = thr
            if c.rs and c.halted and not c.errors:
                c.halted, c.idle = False, True
            if not c.rs and not c.halted and not c.busy:
                c.halted, c.idle, c.pending, c.fetched = True, False, False, None
        elif reg == 0x04:
            c.irq_bits &= ~(value & 0x7000)
        elif not self.sg and reg in (0x18, 0x1C, 0x28):
            self._simple_write(c, reg, value)
            return
        elif reg == 0x08:
            if c.halted:
                c.curdesc = c.next = (c.curdesc & ~0xFFFFFFFF | value & 0xFFFFFFC0) & self.amask
        elif reg == 0x10:
            if not c.halted:
                c.tail = (c.tail & ~0xFFFFFFFF | value & 0xFFFFFFC0) & self.amask
                c.pending = c.pending or self.aw == 32     # 64-bit: the MSB write commits
        elif reg == 0x0C and self.aw > 32:
            if c.halted:
                c.curdesc = c.next = (c.curdesc & 0xFFFFFFFF | value << 32) & self.amask
        elif reg == 0x14 and self.aw > 32:
            if not c.halted:
                c.tail = (c.tail & 0xFFFFFFFF | value << 32) & self.amask
                c.pending = True
        self.run()

    # -- processing -----------------------------------------------------------------------------
    def offer(self, frame: bytes, length: int | None = None):
        self.rx_queue.append((bytes(frame), len(frame) if length is None else length))
        self.run()

    def run(self):
        for name in ("mm2s", "s2mm"):
            if not self.sg:
                self._simple_step(name)
                continue
            while self._step(name):
                pass

    # -- simple (direct register) mode, docs/dma.md "Simple mode" ------------------------------
    def _simple_write(self, c, reg, value):
        if reg == 0x18:
            c.sa = (c.sa & ~0xFFFFFFFF | value) & self.amask
        elif reg == 0x1C:
            if self.aw > 32:
                c.sa = (c.sa & 0xFFFFFFFF | value << 32) & self.amask
        else:
            c.length = value & ((1 << 26) - 1)
            # a non-zero write while running and idle starts a transfer (0, or halted: nothing)
            if c.length and not c.halted and not c.busy:
                c.busy, c.idle, c.xfer = True, False, (c.sa, c.length)
        self.run()

    def _simple_step(self, name):
        c = self.ch[name]
        if not c.busy:
            return
        addr, length = c.xfer
        addr &= ~(self.bw - 1)
        if name == "mm2s":
            data, resp = self._read_beats(addr, length)
            self.tx_frames.append(bytes(data))
        else:
            if not self.rx_queue:
                if not c.rs:                    # nothing received yet: given up
                    c.busy, c.halted, c.idle = False, True, False
                return
            frame, flen = self.rx_queue[0]
            take, rest = frame[:length], frame[length:]
            if rest:
                self.rx_queue[0] = (rest, flen)
            else:
                self.rx_queue.pop(0)
            resp = self._write_bytes(addr, take)
        c.busy = False
        if resp:
            self._error(c, "dma_slv" if resp == SLVERR else "dma_dec")
            return
        if name == "s2mm":
            c.length = len(take)
        c.irq_bits |= 0x1000
        c.completed += 1
        if c.rs:
            c.idle = True
        else:
            c.halted, c.idle = True, False

    def _error(self, c, kind):
        c.errors |= 1 << ERR_BIT[kind]
        c.irq_bits |= 0x4000
        for o in self.ch.values():
            o.dmacr &= ~1
            if o is c or o.idle or o.fetched is not None or o.busy:
                o.halted, o.idle, o.fetched, o.busy = True, False, None, False
        c.halted, c.idle = True, False

    def _step(self, name) -> bool:
        c = self.ch[name]
        if c.halted:
            return False
        if c.fetched is None:
            if not c.pending:
                return False
            addr = c.next
            c.curdesc = addr
            # the words the engine reads: NXTDESC, BUFFER_ADDRESS (and MSBs), CONTROL, STATUS
            head, r1 = self._read_beats(addr, 0x10 if self.aw > 32 else 0x0C)
            tail, r2 = self._read_beats(addr + 0x18, 8)
            raw, resp = head.ljust(0x18, b"\0") + tail, r1 or r2
            if resp:
                self._error(c, "sg_slv" if resp == SLVERR else "sg_dec")
                return False
            w = [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(8)]
            if w[7] >> 31 and not c.dmacr & 0x10:
                self._error(c, "sg_int")
                return False
            c.fetched = (addr, w)
        addr, w = c.fetched
        if self.aw > 32:
            nxt, buf = (w[0] | w[1] << 32) & self.amask, (w[2] | w[3] << 32) & self.amask
        else:
            nxt, buf = w[0], w[2]
        ctrl = w[6]
        length = ctrl & ((1 << 26) - 1)
        if name == "s2mm" and length and not self.rx_queue:
            if not c.rs:                      # a descriptor that received nothing is given up
                c.fetched, c.halted, c.idle = None, True, False
            return False                      # fetched, waiting for data
        c.fetched = None
        status, err, eof, app4 = 0, None, False, None
        if length == 0:
            status = 1 << 28
            err = "dma_int"
        elif name == "mm2s":
            data, resp = self._read_beats(buf, length)
            eof = bool(ctrl >> 26 & 1)
            c.frame += data
            if eof or resp:
                self.tx_frames.append(bytes(c.frame))
                c.frame = bytearray()
            status = length
            if resp:
                err = "dma_slv" if resp == SLVERR else "dma_dec"
                status |= 1 << (29 if resp == SLVERR else 30)
            else:
                status |= 1 << 31
        else:
            frame, flen = self.rx_queue[0]
            take = frame[:length]
            rest = frame[length:]
            eof = not rest
            resp = self._write_bytes(buf, take)
            if eof:
                self.rx_queue.pop(0)
            else:
                self.rx_queue[0] = (rest, flen)
            status = len(take) | eof << 26 | (not c.in_frame) << 27
            if resp:
                err = "dma_slv" if resp == SLVERR else "dma_dec"
                status |= 1 << (29 if resp == SLVERR else 30)
            else:
                status |= 1 << 31
            if eof:
                app4 = flen
        # write-back: APP4 on the last descriptor of an S2MM frame, then (once that is
        # acknowledged without error) STATUS: STATUS is always the last write
        wb = OKAY
        if app4 is not None:
            wb = self._write_bytes(addr + 0x30, app4.to_bytes(4, "little"))
        if not wb:
            wb = self._write_bytes(addr + 0x1C, status.to_bytes(4, "little"))
        if wb:
            self._error(c, "sg_slv" if wb == SLVERR else "sg_dec")
            return False
        if err:
            self._error(c, err)
            return False
        c.completed += 1
        if c.token_en:
            self.tokens.append(addr | 1)
        if name == "s2mm":
            c.in_frame = not eof
        if eof:
            c.thr_count -= 1
            if c.thr_count <= 0:
                c.irq_bits |= 0x1000
                c.thr_count = c.threshold
        c.next = nxt & ~0x3F
        if addr == c.tail:
            c.pending = False
            if not c.rs:
                c.halted = True
            return False
        if not c.rs:
            c.halted, c.idle = True, False
            return False
        return True
