"""The AXI DMA part of the reference driver: ArceOS's axi-dma crate and Linux's xilinx_dma and
axienet register sequences, over :class:`~atsoc.sim.driver.mmio.Mmio` and a DMA memory.

The sequences follow the real drivers access by access (driver.md, "Drivers"):

* ArceOS ``axi-dma`` (``src/channel.rs``): ``reset`` (DMACR.Reset by read-modify-write, poll
  until it reads 0), ``cyclic_enable`` (DMACR *written* as 0x10), ``intr_enable``/
  ``set_coalesce`` (read-modify-write), ``submit`` (one descriptor per buffer, SOF and EOF,
  STATUS never cleared), ``to_hw`` (CURDESC and CURDESC_MSB when halted, RS by
  read-modify-write, TAILDESC and TAILDESC_MSB), ``wait`` (poll DMASR until IOC/Dly/Err),
  ``from_hw`` (walk Cmplt bits from the head), ``intr_handler`` (W1C by read-modify-write).
* Linux ``drivers/dma/xilinx/xilinx_dma.c`` (AXIDMA): channel reset (DMACR.Reset, poll, then
  IRQ enables 0x7000), ``start_transfer`` (threshold = number of pending transfers, CURDESC,
  delay, RS and poll not halted, TAILDESC), the IRQ handler (read DMASR, W1C of
  ``status & 0x7000``, error -> reset, IOC/Dly -> complete Cmplt descriptors and start).
* The same driver's simple (direct register) mode, for a core without scatter-gather:
  RS, SA/DA, LENGTH per transfer (:class:`XilinxDmaSimpleChannel`).
* Linux ``drivers/net/ethernet/xilinx/xilinx_axienet_main.c``: the MSB probe on CURDESC_MSB,
  ring init (coalescing count and delay, IRQ enables, CURDESC, RS, RX TAILDESC at the last RX
  descriptor), ``start_xmit`` (TXSOF/TXEOF, TAILDESC), the TX completion walk (clears STATUS),
  the NAPI receive loop (length from APP4, refill with STATUS 0, TAILDESC), and the error task
  (stop both channels, Reset, rebuild both rings, restart).

Every error the hardware reports surfaces as :class:`DmaError` (driver.md "Rules").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .mmio import Mmio
from .regs import axi_dma as R


__all__ = ["DmaMemory", "Allocator", "Ring", "DmaError", "ArceOsAxiDma", "XilinxDmaChannel",
           "XilinxDmaSimpleChannel",
           "AxiEnetDma", "DESC_SIZE", "CTRL_TXSOF", "CTRL_TXEOF", "STS_CMPLT", "STS_RXSOF",
           "STS_RXEOF", "STS_ERR_MASK", "IRQ_ALL"]

DESC_SIZE = 0x40
NXTDESC, BUFFER, CONTROL, STATUS, APP4 = 0x00, 0x08, 0x18, 0x1C, 0x30
CTRL_TXEOF, CTRL_TXSOF = 1 << 26, 1 << 27
STS_RXEOF, STS_RXSOF, STS_CMPLT = 1 << 26, 1 << 27, 1 << 31
STS_ERR_MASK = 0x7 << 28
LEN_MASK = (1 << 26) - 1
IRQ_ALL = 0x7000                    # IOC | Dly | Err, in DMACR (enables) and DMASR (W1C)
ERR_BITS = 0x770                    # DMASR error bits
S2MM = R.S2MM_DMACR                 # 0x30


class DmaMemory(Protocol):
    """What the driver needs of the memory the DMA masters (coherent with the CPU)."""

    def read(self, address: int, length: int) -> bytes: ...

    def write(self, address: int, data: bytes) -> None: ...


class DmaError(Exception):
    """The DMA reported an error (DMASR error bits, or a descriptor STATUS error)."""

    def __init__(self, channel: str, dmasr: int, desc: int | None = None):
        self.channel, self.dmasr, self.desc = channel, dmasr, desc
        super().__init__(f"{channel}: DMASR {dmasr:#010x}" + (f" at descriptor {desc:#x}" if desc else ""))


class Allocator:
    """A bump allocator of DMA memory (rings and buffers)."""

    def __init__(self, base: int, size: int):
        self.base, self.end, self.next = base, base + size, base

    def alloc(self, size: int, align: int = 64) -> int:
        addr = (self.next + align - 1) & ~(align - 1)
        if addr + size > self.end:
            raise MemoryError(f"DMA memory exhausted ({size} bytes)")
        self.next = addr + size
        return addr


def _u32(mem, addr):
    return int.from_bytes(mem.read(addr, 4), "little")


def _w32(mem, addr, value):
    mem.write(addr, (value & 0xFFFFFFFF).to_bytes(4, "little"))


class Ring:
    """A circular ring of ``n`` descriptors (NXTDESC links the last to the first).

    Addresses may exceed 32 bits: :meth:`set` of NXTDESC or BUFFER_ADDRESS writes the upper
    half to the _MSB word that follows it (0 for a 32-bit address, which 32-bit mode ignores).
    """

    def __init__(self, mem: DmaMemory, alloc: Allocator, n: int):
        self.mem, self.n = mem, n
        self.base = alloc.alloc(n * DESC_SIZE, DESC_SIZE)
        mem.write(self.base, bytes(n * DESC_SIZE))
        for i in range(n):
            self.set(i, NXTDESC, self.addr((i + 1) % n))

    def addr(self, i: int) -> int:
        return self.base + (i % self.n) * DESC_SIZE

    def get(self, i: int, off: int) -> int:
        return _u32(self.mem, self.addr(i) + off)

    def set(self, i: int, off: int, value: int) -> None:
        _w32(self.mem, self.addr(i) + off, value)
        if off in (NXTDESC, BUFFER):
            _w32(self.mem, self.addr(i) + off + 4, value >> 32)


# ------------------------------------------------------------------------------------------------
# ArceOS axi-dma
# ------------------------------------------------------------------------------------------------

@dataclass
class _BdRing:
    ring: Ring
    halted: bool = True
    head: int = 0
    tail: int = 0
    restart: int = 0
    free: int = 0
    pending: int = 0
    submitted: int = 0


class ArceOsChannel:
    """One channel of ArceOS's ``AxiDMAChannel`` (axi-dma ``src/channel.rs``)."""

    def __init__(self, mmio: Mmio, base: int, mem: DmaMemory, name: str):
        self.mmio, self.base, self.mem, self.name = mmio, base, mem, name
        self.bd: _BdRing | None = None

    async def _rd(self, off):
        return await self.mmio.read(self.base + off)

    async def _wr(self, off, v):
        await self.mmio.write(self.base + off, v)

    async def _modify(self, off, clear, set_):
        await self._wr(off, (await self._rd(off) & ~clear) | set_)

    def create(self, alloc: Allocator, n: int):
        self.bd = _BdRing(Ring(self.mem, alloc, n), free=n)

    async def reset(self):
        await self._modify(R.MM2S_DMACR, 0, R.MM2S_DMACR_RESET_MASK)
        self.bd.halted = True

    async def reset_is_done(self) -> bool:
        return not await self._rd(R.MM2S_DMACR) & R.MM2S_DMACR_RESET_MASK

    async def cyclic_enable(self):
        await self._wr(R.MM2S_DMACR, R.MM2S_DMACR_CYCLIC_MASK)          # `write`, not `modify`

    async def intr_enable(self):
        await self._modify(R.MM2S_DMACR, 0, IRQ_ALL)

    async def intr_disable(self):
        await self._modify(R.MM2S_DMACR, IRQ_ALL, 0)

    async def set_coalesce(self, threshold: int):
        if not 1 <= threshold <= 0xFF:
            raise ValueError("threshold must be 1..255")
        await self._modify(R.MM2S_DMACR, R.MM2S_DMACR_IRQ_THRESHOLD_MASK, threshold << 16)

    def submit(self, addr: int, length: int):
        """Put one buffer in the next free descriptor (SOF and EOF; STATUS not cleared)."""
        b = self.bd
        if b.free < 1:
            raise MemoryError("no free BD")
        i = b.restart
        b.ring.set(i, BUFFER, addr)
        b.ring.set(i, CONTROL, length & LEN_MASK)          # bd.clear() + set_buf()
        b.restart = (b.restart + 1) % b.ring.n
        b.tail = (b.restart - 1) % b.ring.n
        b.ring.set(i, CONTROL, b.ring.get(i, CONTROL) | CTRL_TXSOF)
        b.ring.set(b.tail, CONTROL, b.ring.get(b.tail, CONTROL) | CTRL_TXEOF)
        b.free -= 1
        b.pending += 1
        return i

    async def to_hw(self):
        b = self.bd
        if b.halted:
            await self._wr(R.MM2S_CURDESC, b.ring.addr(b.head) & 0xFFFFFFFF)
            await self._wr(R.MM2S_CURDESC + 4, b.ring.addr(b.head) >> 32)  # CURDESC_MSB
        await self._modify(R.MM2S_DMACR, 0, R.MM2S_DMACR_RS_MASK)
        b.halted = False
        if b.pending:
            b.submitted += b.pending
            b.pending = 0
            await self._wr(R.MM2S_TAILDESC, b.ring.addr(b.tail) & 0xFFFFFFFF)
            await self._wr(R.MM2S_TAILDESC + 4, b.ring.addr(b.tail) >> 32)  # TAILDESC_MSB

    async def wait(self, max_polls: int = 100_000):
        for _ in range(max_polls):
            sr = await self._rd(R.MM2S_DMASR)
            if sr & IRQ_ALL:
                return sr
        raise TimeoutError(f"{self.name}: no IOC/Dly/Err in {max_polls} polls")

    def from_hw(self) -> int:
        """Reclaim completed descriptors; returns how many (whole packets only)."""
        b = self.bd
        cnt = partial = 0
        cur = b.head
        while True:
            st = b.ring.get(cur, STATUS)
            if not st & STS_CMPLT:
                break
            cnt += 1
            if b.ring.get(cur, CONTROL) & CTRL_TXEOF or st & STS_RXEOF:
                partial = 0
            else:
                partial += 1
            if cur == b.tail:
                break
            cur = (cur + 1) % b.ring.n
        cnt -= partial
        b.head = (b.head + cnt) % b.ring.n
        b.submitted -= cnt
        b.free += cnt
        return cnt

    async def intr_handler(self):
        sr = await self._rd(R.MM2S_DMASR)
        if sr & R.MM2S_DMASR_ERR_IRQ_MASK:
            await self._modify(R.MM2S_DMASR, 0, R.MM2S_DMASR_ERR_IRQ_MASK)
            raise DmaError(self.name, sr)
        if sr & R.MM2S_DMASR_IOC_IRQ_MASK:
            await self._modify(R.MM2S_DMASR, 0, R.MM2S_DMASR_IOC_IRQ_MASK)
        if sr & R.MM2S_DMASR_DLY_IRQ_MASK:
            await self._modify(R.MM2S_DMASR, 0, R.MM2S_DMASR_DLY_IRQ_MASK)


class ArceOsAxiDma:
    """ArceOS ``AxiDma``: both channels, ``tx_submit``/``rx_submit`` and ``wait``.

    Parameters
    ----------
    mmio : Mmio
    base : int
        Bus address of the DMA registers.
    mem : DmaMemory
    alloc : Allocator
    """

    def __init__(self, mmio: Mmio, base: int, mem: DmaMemory, alloc: Allocator):
        self.mmio, self.mem, self.alloc = mmio, mem, alloc
        self.tx = ArceOsChannel(mmio, base, mem, "mm2s")
        self.rx = ArceOsChannel(mmio, base + S2MM, mem, "s2mm")

    async def init(self, tx_bds: int = 16, rx_bds: int = 16, *, cyclic: bool = True, irq: bool = False):
        """``AxiDma::new`` + ``reset`` + ring creation + Cyclic + interrupts, as ArceOS does."""
        self.tx.create(self.alloc, tx_bds)
        self.rx.create(self.alloc, rx_bds)
        await self.tx.reset()
        for _ in range(1000):
            if await self.tx.reset_is_done() and await self.rx.reset_is_done():
                break
        else:
            raise TimeoutError("reset never completed")
        if cyclic:
            await self.tx.cyclic_enable()
            await self.rx.cyclic_enable()
        if irq:
            await self.tx.intr_enable()
            await self.rx.intr_enable()
        else:
            await self.tx.intr_disable()
            await self.rx.intr_disable()

    async def tx_submit(self, data: bytes) -> int:
        addr = self.alloc.alloc(max(len(data), 1), 64)
        self.mem.write(addr, data)
        i = self.tx.submit(addr, len(data))
        await self.tx.to_hw()
        return i

    async def rx_submit(self, size: int) -> tuple[int, int]:
        addr = self.alloc.alloc(size, 64)
        i = self.rx.submit(addr, size)
        await self.rx.to_hw()
        return i, addr

    async def wait_tx(self):
        await self.tx.wait()
        await self.tx.intr_handler()
        return self.tx.from_hw()

    async def wait_rx(self):
        await self.rx.wait()
        await self.rx.intr_handler()
        return self.rx.from_hw()


# ------------------------------------------------------------------------------------------------
# Linux xilinx_dma (AXIDMA, scatter-gather)
# ------------------------------------------------------------------------------------------------


async def _xilinx_dma_start(ch, max_polls: int = 1000) -> None:
    """``xilinx_dma_start``: set RS, poll DMASR until Halted clears; a channel that stays halted
    is marked in error (``ch.err``) and raises :class:`DmaError`."""
    await ch._wr(R.MM2S_DMACR, await ch._rd(R.MM2S_DMACR) | R.MM2S_DMACR_RS_MASK)
    for _ in range(max_polls):
        if not await ch._rd(R.MM2S_DMASR) & R.MM2S_DMASR_HALTED_MASK:
            return
    ch.err = True
    raise DmaError(ch.name, await ch._rd(R.MM2S_DMASR))


async def _xilinx_dma_chan_reset(ch, max_polls: int) -> None:
    """``xilinx_dma_chan_reset`` on the registers: Reset, poll until it clears, then enable all
    interrupts (0x7000). ``ch`` has ``_rd``/``_wr`` (channel-relative offsets) and ``name``."""
    await ch._wr(R.MM2S_DMACR, await ch._rd(R.MM2S_DMACR) | R.MM2S_DMACR_RESET_MASK)
    for _ in range(max_polls):
        if not await ch._rd(R.MM2S_DMACR) & R.MM2S_DMACR_RESET_MASK:
            break
    else:
        raise TimeoutError(f"{ch.name}: reset timeout")
    await ch._wr(R.MM2S_DMACR, await ch._rd(R.MM2S_DMACR) | IRQ_ALL)

class XilinxDmaChannel:
    """One AXIDMA channel as ``xilinx_dma.c`` drives it (dmaengine ``prep_slave_sg`` +
    ``issue_pending`` + the IRQ handler), each transfer one descriptor with SOF|EOF.

    Descriptors come from a circular pool (the driver's ``seg_v`` ring), so each new tail is
    the NXTDESC chain of the previous one.
    """

    def __init__(self, mmio: Mmio, base: int, mem: DmaMemory, alloc: Allocator, name: str,
                 nsegs: int = 32, irq_delay: int = 0, ext_addr: bool = False):
        self.mmio, self.base, self.mem, self.name = mmio, base, mem, name
        self.ext_addr = ext_addr            # DT xlnx,addrwidth > 32: 64-bit pointer writes
        self.ring = Ring(mem, alloc, nsegs)
        self.next_seg = 0
        self.pending: list[int] = []
        self.active: list[int] = []
        self.done: list[int] = []
        self.idle = True
        self.err = False
        self.irq_delay = irq_delay

    async def _rd(self, off):
        return await self.mmio.read(self.base + off)

    async def _wr(self, off, v):
        await self.mmio.write(self.base + off, v)

    async def _wr_addr(self, off, addr):
        """``xilinx_write``: the low word, then (``ext_addr``) the MSB word (lo_hi_writeq)."""
        await self._wr(off, addr & 0xFFFFFFFF)
        if self.ext_addr:
            await self._wr(off + 4, addr >> 32)

    async def reset(self, max_polls: int = 1000):
        """``xilinx_dma_chan_reset``: Reset, poll, then enable all interrupts (0x7000)."""
        await _xilinx_dma_chan_reset(self, max_polls)
        self.err, self.idle = False, True
        self.pending.clear(); self.active.clear()

    def prep(self, addr: int, length: int) -> int:
        """``prep_slave_sg`` with one segment: SOF|EOF, STATUS cleared."""
        i = self.next_seg
        self.next_seg = (i + 1) % self.ring.n
        self.ring.set(i, BUFFER, addr)
        self.ring.set(i, CONTROL, (length & LEN_MASK) | CTRL_TXSOF | CTRL_TXEOF)
        self.ring.set(i, STATUS, 0)
        self.pending.append(i)
        return i

    async def issue_pending(self):
        await self.start_transfer()

    async def start_transfer(self):
        if self.err or not self.idle or not self.pending:
            return
        head, tail = self.pending[0], self.pending[-1]
        reg = await self._rd(R.MM2S_DMACR)
        if len(self.pending) <= 0xFF:
            reg = (reg & ~R.MM2S_DMACR_IRQ_THRESHOLD_MASK) | (len(self.pending) << 16)
            await self._wr(R.MM2S_DMACR, reg)
        await self._wr_addr(R.MM2S_CURDESC, self.ring.addr(head))
        reg = (reg & ~R.MM2S_DMACR_IRQ_DELAY_MASK) | (self.irq_delay << 24)
        await self._wr(R.MM2S_DMACR, reg)
        await _xilinx_dma_start(self)
        await self._wr_addr(R.MM2S_TAILDESC, self.ring.addr(tail))
        self.active += self.pending
        self.pending = []
        self.idle = False

    async def irq_handler(self) -> bool:
        """``xilinx_dma_irq_handler``; returns False for IRQ_NONE."""
        status = await self._rd(R.MM2S_DMASR)
        if not status & IRQ_ALL:
            return False
        await self._wr(R.MM2S_DMASR, status & IRQ_ALL)
        if status & R.MM2S_DMASR_ERR_IRQ_MASK:
            self.err = True
            raise DmaError(self.name, status)
        if status & (R.MM2S_DMASR_IOC_IRQ_MASK | R.MM2S_DMASR_DLY_IRQ_MASK):
            self.complete_descriptors()
            if not self.active:
                self.idle = True
            await self.start_transfer()
        return True

    def complete_descriptors(self):
        while self.active:
            i = self.active[0]
            if not self.ring.get(i, STATUS) & STS_CMPLT:
                break
            self.done.append(self.active.pop(0))


class XilinxDmaSimpleChannel:
    """One AXIDMA channel without scatter-gather (PG021 direct register mode), as
    ``xilinx_dma.c`` drives it when the core has no SG engine (``has_sg`` false): one transfer
    at a time; ``start_transfer`` sets the coalesce count, RS (and polls Halted), then writes
    SA/DA (``xilinx_write``: low word, MSB word with ``ext_addr``) and LENGTH (BTT), which
    starts it; the IRQ handler W1Cs ``status & 0x7000``, an error raises :class:`DmaError`,
    IOC completes the active transfer and starts the next one.

    ``done`` lists ``(addr, length)`` per completed transfer; for S2MM the length is the one
    LENGTH reads back (bytes received), as a driver computing the residue would read it.
    """

    SA, LENGTH = 0x18, 0x28             # SA (MM2S) / DA (S2MM), LENGTH (BTT)

    def __init__(self, mmio: Mmio, base: int, name: str, *, ext_addr: bool = False):
        self.mmio, self.base, self.name, self.ext_addr = mmio, base, name, ext_addr
        self.pending: list[tuple[int, int]] = []
        self.active: tuple[int, int] | None = None
        self.done: list[tuple[int, int]] = []
        self.err = False

    async def _rd(self, off):
        return await self.mmio.read(self.base + off)

    async def _wr(self, off, v):
        await self.mmio.write(self.base + off, v)

    async def reset(self, max_polls: int = 1000):
        """``xilinx_dma_chan_reset``: Reset, poll, then enable all interrupts (0x7000)."""
        await _xilinx_dma_chan_reset(self, max_polls)
        self.err, self.active = False, None
        self.pending.clear()

    async def alloc_chan_resources(self):
        """``xilinx_dma_alloc_chan_resources``: resetting one AXIDMA channel resets the other,
        so the interrupts are enabled again here (DMACR |= 0x7000)."""
        await self._wr(R.MM2S_DMACR, await self._rd(R.MM2S_DMACR) | IRQ_ALL)

    def prep(self, addr: int, length: int):
        """``prep_slave_sg`` with one segment; a zero length is refused as Linux does."""
        if not 0 < length <= LEN_MASK:
            raise ValueError(f"{self.name}: transfer length {length} out of range")
        self.pending.append((addr, length))

    async def issue_pending(self):
        await self.start_transfer()

    async def start_transfer(self):
        if self.err or self.active is not None or not self.pending:
            return
        reg = await self._rd(R.MM2S_DMACR)
        reg = (reg & ~R.MM2S_DMACR_IRQ_THRESHOLD_MASK) | (1 << 16)
        await self._wr(R.MM2S_DMACR, reg)
        await _xilinx_dma_start(self)
        addr, length = self.active = self.pending.pop(0)
        await self._wr(self.SA, addr & 0xFFFFFFFF)
        if self.ext_addr:
            await self._wr(self.SA + 4, addr >> 32)
        await self._wr(self.LENGTH, length)

    async def irq_handler(self) -> bool:
        """``xilinx_dma_irq_handler``; returns False for IRQ_NONE."""
        status = await self._rd(R.MM2S_DMASR)
        if not status & IRQ_ALL:
            return False
        await self._wr(R.MM2S_DMASR, status & IRQ_ALL)
        if status & R.MM2S_DMASR_ERR_IRQ_MASK:
            self.err = True
            raise DmaError(self.name, status)
        if status & (R.MM2S_DMASR_IOC_IRQ_MASK | R.MM2S_DMASR_DLY_IRQ_MASK) and self.active:
            self.done.append((self.active[0], await self._rd(self.LENGTH)))
            self.active = None
            await self.start_transfer()
        return True


# ------------------------------------------------------------------------------------------------
# Linux axienet
# ------------------------------------------------------------------------------------------------

@dataclass
class RxFrame:
    data: bytes
    length_app4: int


class AxiEnetDma:
    """The DMA side of Linux's ``xilinx_axienet_main.c``: rings, xmit, TX completion, NAPI
    receive with refill, and the error task.

    Parameters
    ----------
    mmio, base, mem, alloc
    tx_bds, rx_bds : int
        Ring sizes (TX_BD_NUM / RX_BD_NUM).
    max_frm_size : int
        RX buffer size (written to each RX CONTROL).
    coalesce_rx, coalesce_tx : int
        Threshold counts; ``delay_rx``/``delay_tx``: IRQDelay values.
    """

    def __init__(self, mmio: Mmio, base: int, mem: DmaMemory, alloc: Allocator, *,
                 tx_bds: int = 16, rx_bds: int = 16, max_frm_size: int = 1520,
                 coalesce_rx: int = 1, coalesce_tx: int = 1, delay_rx: int = 0, delay_tx: int = 0):
        self.mmio, self.base, self.mem, self.alloc = mmio, base, mem, alloc
        self.tx_ring, self.rx_ring = Ring(mem, alloc, tx_bds), Ring(mem, alloc, rx_bds)
        self.max_frm_size = max_frm_size
        self.coalesce = (coalesce_tx, coalesce_rx)
        self.delay = (delay_tx, delay_rx)
        self.rx_bufs = [alloc.alloc(max_frm_size, 64) for _ in range(rx_bds)]
        self.tx_bufs = [alloc.alloc(max_frm_size, 64) for _ in range(tx_bds)]
        self.tx_tail = self.tx_ci = 0
        self.rx_ci = 0
        self.ext_addr = False
        self.errors = 0

    async def _rd(self, off):
        return await self.mmio.read(self.base + off)

    async def _wr(self, off, v):
        await self.mmio.write(self.base + off, v)

    async def probe(self):
        """64-bit DMA pointer autodetection: write all ones to TX CURDESC_MSB, read back."""
        await self._wr(R.MM2S_CURDESC + 4, 0xFFFFFFFF)
        self.ext_addr = bool(await self._rd(R.MM2S_CURDESC + 4))
        await self._wr(R.MM2S_CURDESC + 4, 0)
        return self.ext_addr

    async def _wr_addr(self, off, addr):
        """``axienet_dma_out_addr``: the low word, then the MSB word with 64-bit DMA."""
        await self._wr(off, addr & 0xFFFFFFFF)
        if self.ext_addr:
            await self._wr(off + 4, addr >> 32)

    async def device_reset(self):
        """``__axienet_device_reset``: DMACR.Reset on TX, poll until it clears."""
        await self._wr(R.MM2S_DMACR, R.MM2S_DMACR_RESET_MASK)
        for _ in range(1000):
            if not await self._rd(R.MM2S_DMACR) & R.MM2S_DMACR_RESET_MASK:
                return
        raise TimeoutError("axienet: DMA reset timeout")

    def _init_bds(self):
        for i in range(self.tx_ring.n):
            for off in (CONTROL, STATUS, APP4):
                self.tx_ring.set(i, off, 0)
        for i in range(self.rx_ring.n):
            self.rx_ring.set(i, BUFFER, self.rx_bufs[i])
            self.rx_ring.set(i, CONTROL, self.max_frm_size)
            self.rx_ring.set(i, STATUS, 0)
            self.rx_ring.set(i, APP4, 0)
        self.tx_tail = self.tx_ci = self.rx_ci = 0

    @staticmethod
    def _calc_cr(count, delay):
        cr = (count << 16) | IRQ_ALL
        if delay:
            cr |= delay << 24
        return cr

    async def dma_start(self):
        """``axienet_dma_bd_init`` / ``axienet_dma_start``."""
        await self._wr(S2MM + R.MM2S_DMACR, self._calc_cr(self.coalesce[1], self.delay[1]))
        await self._wr(R.MM2S_DMACR, self._calc_cr(self.coalesce[0], self.delay[0]))
        await self._wr_addr(S2MM + R.MM2S_CURDESC, self.rx_ring.addr(0))
        await self._wr(S2MM + R.MM2S_DMACR, await self._rd(S2MM + R.MM2S_DMACR) | R.MM2S_DMACR_RS_MASK)
        await self._wr_addr(S2MM + R.MM2S_TAILDESC, self.rx_ring.addr(self.rx_ring.n - 1))
        await self._wr_addr(R.MM2S_CURDESC, self.tx_ring.addr(0))
        await self._wr(R.MM2S_DMACR, await self._rd(R.MM2S_DMACR) | R.MM2S_DMACR_RS_MASK)

    async def open(self):
        await self.device_reset()
        self._init_bds()
        await self.dma_start()

    def tx_free(self) -> int:
        used = (self.tx_tail - self.tx_ci) % self.tx_ring.n
        return self.tx_ring.n - 1 - used

    async def start_xmit(self, fragments: list[bytes]) -> bool:
        """Put a frame (one descriptor per fragment) on the TX ring; False when full (busy)."""
        if self.tx_free() < len(fragments):
            return False
        for k, frag in enumerate(fragments):
            i = self.tx_tail
            buf = self.tx_bufs[i]
            self.mem.write(buf, frag)
            ctrl = len(frag) | (CTRL_TXSOF if k == 0 else 0) | (CTRL_TXEOF if k == len(fragments) - 1 else 0)
            self.tx_ring.set(i, BUFFER, buf)
            self.tx_ring.set(i, CONTROL, ctrl)
            last = i
            self.tx_tail = (i + 1) % self.tx_ring.n
        await self._wr_addr(R.MM2S_TAILDESC, self.tx_ring.addr(last))
        return True

    def free_tx_chain(self) -> int:
        """TX completion: reclaim descriptors with Cmplt, clearing CONTROL and STATUS."""
        n = 0
        while self.tx_ci != self.tx_tail:
            st = self.tx_ring.get(self.tx_ci, STATUS)
            if not st & STS_CMPLT:
                break
            if st & STS_ERR_MASK:
                raise DmaError("mm2s", st, self.tx_ring.addr(self.tx_ci))
            self.tx_ring.set(self.tx_ci, CONTROL, 0)
            self.tx_ring.set(self.tx_ci, STATUS, 0)
            self.tx_ci = (self.tx_ci + 1) % self.tx_ring.n
            n += 1
        return n

    async def rx_poll(self, budget: int = 64) -> list[RxFrame]:
        """NAPI: take completed RX descriptors (length from APP4), refill, move the tail."""
        frames, tail = [], None
        while len(frames) < budget:
            i = self.rx_ci
            st = self.rx_ring.get(i, STATUS)
            if not st & STS_CMPLT:
                break
            length = self.rx_ring.get(i, APP4) & 0xFFFF
            frames.append(RxFrame(self.mem.read(self.rx_bufs[i], min(length, self.max_frm_size)), length))
            self.rx_ring.set(i, BUFFER, self.rx_bufs[i])
            self.rx_ring.set(i, CONTROL, self.max_frm_size)
            self.rx_ring.set(i, STATUS, 0)
            tail = i
            self.rx_ci = (i + 1) % self.rx_ring.n
        if tail is not None:
            await self._wr_addr(S2MM + R.MM2S_TAILDESC, self.rx_ring.addr(tail))
        return frames

    async def irq(self, rx: bool) -> int:
        """``axienet_tx_irq``/``axienet_rx_irq``: read DMASR, W1C, error -> error task."""
        off = S2MM if rx else 0
        status = await self._rd(off + R.MM2S_DMASR)
        if not status & IRQ_ALL:
            return 0
        await self._wr(off + R.MM2S_DMASR, status)
        if status & R.MM2S_DMASR_ERR_IRQ_MASK:
            self.errors += 1
            await self.dma_err_handler()
            raise DmaError("s2mm" if rx else "mm2s", status)
        return status

    async def dma_stop(self):
        for off in (S2MM, 0):
            cr = await self._rd(off + R.MM2S_DMACR)
            await self._wr(off + R.MM2S_DMACR, cr & ~(R.MM2S_DMACR_RS_MASK | IRQ_ALL))
        for off in (S2MM, 0):
            for _ in range(100):
                if await self._rd(off + R.MM2S_DMASR) & R.MM2S_DMASR_HALTED_MASK:
                    break

    async def dma_err_handler(self):
        """``axienet_dma_err_handler``: stop, reset, rebuild both rings, restart."""
        await self.dma_stop()
        await self.device_reset()
        self._init_bds()
        await self.dma_start()
