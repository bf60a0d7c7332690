"""The Ethernet network device of the reference driver: ArceOS's ``NetDriverOps`` surface over the
AXI DMA and the AXI Ethernet MAC (driver.md, "Drivers", Ethernet).

ArceOS's ``driver_net`` trait (``axdriver_net``/``driver_net`` ``NetDriverOps``) is the surface:
``mac_address``, ``can_transmit``, ``can_receive``, ``rx_queue_size``, ``tx_queue_size``,
``recycle_rx_buffer``, ``recycle_tx_buffers``, ``transmit``, ``receive`` and ``alloc_tx_buffer``;
``DevError::Again`` is :class:`Again`. Buffers are :class:`NetBuf` handles on DMA memory
(``NetBufPtr``): ``receive`` hands out the buffer the DMA wrote, zero-copy, and the caller gives it
back with ``recycle_rx_buffer``.

Rings are kept full as the E1000 and AXI Ethernet drivers keep them: every RX descriptor holds a
buffer; ``receive`` puts a spare buffer from the pool in the descriptor it empties (so the DMA never
runs out while the application holds buffers) and moves TAILDESC; ``recycle_tx_buffers`` returns
completed TX buffers to the pool. Descriptors are programmed the way Linux's axienet does
(``xilinx_axienet_main.c``): STATUS cleared before a descriptor goes back to the hardware (no
Cyclic mode), TXSOF|TXEOF per frame, the RX length from APP4, and the coalescing count, delay and
the IOC/Dly/Err enables in DMACR (``axienet_dma_start``). The MAC is brought up with the ArceOS
``axi-ethernet`` sequence (:mod:`.eth_mac`), except for the interrupt enables, which are Linux's
(RxRject and RxFifoOvr: the ArceOS calls replace IE and leave only RxCmplt, an interrupt per frame).

Interrupts: :meth:`AxiEthNet.handle_dma_irq` is ``axienet_rx_irq``/``axienet_tx_irq`` (read DMASR,
W1C, error -> recovery); :meth:`AxiEthNet.handle_mac_irq` counts the MAC's drop events;
:meth:`AxiEthNet.handle_token` takes a DMA completion token (a completed descriptor's address).
Recovery after a DMA error is axienet's error task: stop both channels, Reset, rebuild both rings,
restart. Frames the DMA completed before the error are kept (handed out by ``receive``); the frame
of the failing descriptor and the TX frames still in flight are lost and counted
(driver.md, "Rules": every error a counted event or an exception).
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .axi_dma import (Allocator, CTRL_TXEOF, CTRL_TXSOF, DmaMemory, IRQ_ALL, Ring, STS_CMPLT,
                      STS_ERR_MASK, STS_RXEOF, STS_RXSOF)
from .eth_mac import IE, IP, IS, AxiEthernetDriver, INT_RX_FIFOOVR, INT_RX_RJECT
from .mmio import Mmio
from .regs import axi_dma as R


__all__ = ["AxiEthNet", "NetBuf", "NetStats", "DevError", "Again", "Coalesce"]

BUFFER, CONTROL, STATUS, APP4 = 0x08, 0x18, 0x1C, 0x30
LEN_MASK = (1 << 26) - 1
S2MM = R.S2MM_DMACR
ERR_IRQ = R.MM2S_DMASR_ERR_IRQ_MASK
DMACR_RS, DMACR_RESET = R.MM2S_DMACR_RS_MASK, R.MM2S_DMACR_RESET_MASK
DMACR_TOKEN_EN = R.MM2S_DMACR_TOKEN_EN_MASK       # atsoc extension (docs/dma.md, "Completion tokens")
MAX_FRAME = 1514                  # destination address to payload, no FCS, no VLAN tag


class DevError(Exception):
    """ArceOS ``DevError``."""


class Again(DevError):
    """``DevError::Again``: nothing to receive, or no room to transmit, now."""


@dataclass
class NetBuf:
    """A packet buffer in DMA memory (ArceOS ``NetBufPtr``).

    Attributes
    ----------
    addr : int
        Bus address of the buffer.
    capacity : int
        Its size in bytes.
    length : int
        Bytes of packet in it.
    """

    mem: DmaMemory = field(repr=False)
    addr: int
    capacity: int
    length: int = 0

    def packet(self) -> bytes:
        """The packet's bytes (read from memory)."""
        return self.mem.read(self.addr, self.length)

    def write(self, data: bytes) -> None:
        """Fill the buffer with ``data`` (for transmission)."""
        if len(data) > self.capacity:
            raise ValueError(f"{len(data)} bytes do not fit a {self.capacity}-byte buffer")
        self.mem.write(self.addr, data)
        self.length = len(data)


@dataclass
class Coalesce:
    """Interrupt coalescing of one DMA channel (DMACR IRQThreshold and IRQDelay).

    Parameters
    ----------
    count : int
        Packets per IOC interrupt, 1..255.
    delay : int
        Delay timeout in units of 125 clock cycles after a packet that did not reach the count,
        0..255 (0: off; then a lone packet under a count > 1 waits for the next ones).
    """

    count: int = 1
    delay: int = 0

    def __post_init__(self):
        if not 1 <= self.count <= 255:
            raise ValueError(f"coalescing count must be 1..255, not {self.count}")
        if not 0 <= self.delay <= 255:
            raise ValueError(f"coalescing delay must be 0..255, not {self.delay}")


@dataclass
class NetStats:
    """Counted events of the device (never silent).

    Attributes
    ----------
    rx_frames, tx_frames : int
        Frames handed to the caller / completed by the DMA.
    rx_errors : int
        RX frames lost to a DMA error (the failing descriptor).
    rx_oversize : int
        Frames longer than one buffer (several descriptors), dropped.
    tx_lost : int
        TX frames in flight when the rings were rebuilt.
    tx_errors : int
        TX descriptors completed with an error status.
    dma_errors : int
        DMA error interrupts (each followed by a recovery).
    recoveries : int
        Resets and ring rebuilds done.
    spurious_irqs : int
        DMA interrupts with no IOC/Dly/Err bit.
    mac_rx_fifo_ovr, mac_rx_reject : int
        MAC interrupt events (the frames are in the MAC's counters).
    tokens : int
        Completion tokens handled.
    """

    rx_frames: int = 0
    tx_frames: int = 0
    rx_errors: int = 0
    rx_oversize: int = 0
    tx_lost: int = 0
    tx_errors: int = 0
    dma_errors: int = 0
    recoveries: int = 0
    spurious_irqs: int = 0
    mac_rx_fifo_ovr: int = 0
    mac_rx_reject: int = 0
    tokens: int = 0


class AxiEthNet:
    """AXI DMA + AXI Ethernet as an ArceOS ``NetDriverOps`` device.

    Parameters
    ----------
    mmio : Mmio
        Register bus.
    mem : DmaMemory
        Memory the DMA masters (rings and buffers).
    alloc : Allocator
        Allocator over ``mem``.
    dma_base, mac_base : int
        Bus addresses of the DMA and MAC registers.
    mac_address : bytes
        The station address (6 bytes).
    rx_queue_size, tx_queue_size : int
        Descriptors per ring (2..4096); as many spare RX buffers and TX buffers are allocated.
    buf_size : int
        Bytes per buffer (>= 1514, a multiple of 64).
    rx_coalesce, tx_coalesce : Coalesce
        Interrupt coalescing per channel.
    completion_irqs : bool
        Enable IOC and Dly interrupts (the completion path through interrupts). With ``False``
        only Err interrupts are enabled: completions come as DMA completion tokens.
    completion_tokens : bool
        Set DMACR.TokenEn (an atsoc extension, docs/dma.md) on both channels in every DMACR
        value the driver programs (``axienet_dma_start``, also after the recovery's Reset,
        which clears it), so the DMA pushes a completion token per descriptor. Off: the
        stock axienet sequence, the DMA never pushes tokens. The DMA must be built with
        ``completion_tokens=True`` and the tokens consumed (:meth:`handle_token`), else the
        channels stop once the token FIFO is full.
    """

    def __init__(self, mmio: Mmio, mem: DmaMemory, alloc: Allocator, *, dma_base: int,
                 mac_base: int, mac_address: bytes, rx_queue_size: int = 32,
                 tx_queue_size: int = 32, buf_size: int = 1536,
                 rx_coalesce: Coalesce = Coalesce(), tx_coalesce: Coalesce = Coalesce(),
                 completion_irqs: bool = True, completion_tokens: bool = False):
        if len(mac_address) != 6:
            raise ValueError("mac_address must be 6 bytes")
        for name, n in (("rx_queue_size", rx_queue_size), ("tx_queue_size", tx_queue_size)):
            if not 2 <= n <= 4096:
                raise ValueError(f"{name} must be 2..4096, not {n}")
        if buf_size < MAX_FRAME or buf_size % 64:
            raise ValueError(f"buf_size must be a multiple of 64 of at least {MAX_FRAME}, not {buf_size}")
        self.mmio, self.mem = mmio, mem
        self.dma_base, self.mac_base = dma_base, mac_base
        self.mac = AxiEthernetDriver(mmio, mac_base)
        self._mac_address = bytes(mac_address)
        self.rx_coalesce, self.tx_coalesce = rx_coalesce, tx_coalesce
        self.completion_irqs = completion_irqs
        self.completion_tokens = completion_tokens
        self.buf_size = buf_size
        self.stats = NetStats()
        self.rx_ring = Ring(mem, alloc, rx_queue_size)
        self.tx_ring = Ring(mem, alloc, tx_queue_size)
        new = lambda: NetBuf(mem, alloc.alloc(buf_size, 64), buf_size)   # noqa: E731
        self.rx_pool = [new() for _ in range(2 * rx_queue_size)]
        self.tx_pool = [new() for _ in range(tx_queue_size)]
        self.rx_bufs: list[NetBuf | None] = [None] * rx_queue_size
        self.tx_bufs: list[NetBuf | None] = [None] * tx_queue_size
        self.rx_backlog: deque[NetBuf] = deque()       # completed before a recovery
        self.on_rx: Callable[[], object] | None = None  # called when RX work may be waiting
        self.on_tx: Callable[[], object] | None = None  # called when TX room was freed
        self.speed = 0
        self._reset_rings()

    # -- NetDriverOps ----------------------------------------------------------------------------

    def mac_address(self) -> bytes:
        return self._mac_address

    def rx_queue_size(self) -> int:
        return self.rx_ring.n

    def tx_queue_size(self) -> int:
        return self.tx_ring.n

    def can_receive(self) -> bool:
        return bool(self.rx_backlog) or (self.rx_hw > 0 and bool(
            self.rx_ring.get(self.rx_head, STATUS) & STS_CMPLT))

    def can_transmit(self) -> bool:
        return self.tx_hw < self.tx_ring.n and bool(self.tx_pool)

    async def receive(self) -> NetBuf:
        """The next received frame (raises :class:`Again` when there is none). The descriptor it
        came from gets a spare buffer at once and goes back to the DMA."""
        if self.rx_backlog:
            self.stats.rx_frames += 1
            return self.rx_backlog.popleft()
        while True:
            buf = self._take_rx()
            if buf is None:
                await self._refill_rx()
                raise Again("no received frame")
            if buf is not False:
                await self._refill_rx()
                self.stats.rx_frames += 1
                return buf

    async def recycle_rx_buffer(self, buf: NetBuf) -> None:
        """Give back a buffer returned by :meth:`receive`."""
        buf.length = 0
        self.rx_pool.append(buf)
        await self._refill_rx()

    def recycle_tx_buffers(self) -> int:
        """Take back the buffers of completed transmissions; returns how many."""
        n = 0
        ring = self.tx_ring
        while self.tx_hw:
            i = self.tx_head
            st = ring.get(i, STATUS)
            if not st & STS_CMPLT:
                break
            if st & STS_ERR_MASK:
                self.stats.tx_errors += 1
            else:
                self.stats.tx_frames += 1
            ring.set(i, STATUS, 0)
            ring.set(i, CONTROL, 0)
            self.tx_pool.append(self.tx_bufs[i])
            self.tx_bufs[i] = None
            self.tx_head = (i + 1) % ring.n
            self.tx_hw -= 1
            n += 1
        return n

    def alloc_tx_buffer(self, size: int) -> NetBuf:
        """A TX buffer for a ``size``-byte frame (raises :class:`Again` when none is free)."""
        if not 0 < size <= self.buf_size:
            raise ValueError(f"frame size must be 1..{self.buf_size}, not {size}")
        if not self.tx_pool:
            raise Again("no free TX buffer")
        buf = self.tx_pool.pop()
        buf.length = size
        return buf

    async def transmit(self, buf: NetBuf) -> None:
        """Queue ``buf`` (from :meth:`alloc_tx_buffer`) for transmission, without blocking."""
        ring = self.tx_ring
        if self.tx_hw == ring.n:
            raise Again("TX ring full")
        i = (self.tx_tail + 1) % ring.n
        ring.set(i, BUFFER, buf.addr)
        ring.set(i, STATUS, 0)
        ring.set(i, CONTROL, (buf.length & LEN_MASK) | CTRL_TXSOF | CTRL_TXEOF)
        self.tx_bufs[i] = buf
        self.tx_tail = i
        self.tx_hw += 1
        await self._dma_wr(R.MM2S_TAILDESC, ring.addr(i))

    # -- bring-up -------------------------------------------------------------------------------

    async def init(self) -> int:
        """MAC (ArceOS ``AxiEth::init``'s sequence, Linux's interrupt enables) then DMA (axienet
        ``axienet_open``: reset, rings, start). Returns the negotiated speed in Mb/s."""
        mac = self.mac
        await mac.reset()
        await mac.detect_phy()
        self.speed = await mac.get_phy_speed_ksz9031()
        await mac.set_operating_speed(self.speed)
        mac.link_up = self.speed != 0
        await mac.set_mac_address(self._mac_address)
        await mac.wr(IE, INT_RX_RJECT | INT_RX_FIFOOVR)              # axienet's choice
        await mac.start()
        await self._device_reset()
        self._reset_rings()
        await self._dma_start()
        return self.speed

    # -- interrupts and tokens --------------------------------------------------------------------

    async def handle_dma_irq(self, rx: bool) -> int:
        """``axienet_rx_irq`` / ``axienet_tx_irq``: read DMASR, acknowledge, then the work (an
        error starts the recovery). Returns DMASR."""
        off = S2MM if rx else 0
        status = await self._dma_rd(off + R.MM2S_DMASR)
        if not status & IRQ_ALL:
            self.stats.spurious_irqs += 1
            return status
        await self._dma_wr(off + R.MM2S_DMASR, status & IRQ_ALL)
        if status & ERR_IRQ:
            self.stats.dma_errors += 1
            await self.recover()
            await self._call(self.on_rx)
            await self._call(self.on_tx)
        elif rx:
            await self._call(self.on_rx)
        else:
            if self.recycle_tx_buffers():
                await self._call(self.on_tx)
        return status

    async def handle_mac_irq(self) -> int:
        """Read and acknowledge IS; count the drop events. Returns the pending bits."""
        pending = await self.mac.rd(IP)
        if pending:
            await self.mac.wr(IS, pending)                              # W1C
        self.stats.mac_rx_fifo_ovr += bool(pending & INT_RX_FIFOOVR)
        self.stats.mac_rx_reject += bool(pending & INT_RX_RJECT)
        return pending

    async def handle_token(self, desc: int) -> None:
        """A DMA completion token: ``desc`` is the completed descriptor's address."""
        self.stats.tokens += 1
        if self._in(self.rx_ring, desc):
            await self._call(self.on_rx)
        elif self._in(self.tx_ring, desc):
            if self.recycle_tx_buffers():
                await self._call(self.on_tx)
        else:
            raise DevError(f"completion token {desc:#x} names no descriptor of this device")

    async def recover(self) -> None:
        """axienet's DMA error task: stop, Reset, rebuild both rings, restart."""
        self.stats.recoveries += 1
        for off in (S2MM, 0):
            cr = await self._dma_rd(off + R.MM2S_DMACR)
            await self._dma_wr(off + R.MM2S_DMACR, cr & ~(DMACR_RS | IRQ_ALL))
        for off in (S2MM, 0):
            for _ in range(100):
                if await self._dma_rd(off + R.MM2S_DMASR) & R.MM2S_DMASR_HALTED_MASK:
                    break
        # What the DMA finished before the error is kept; the rest is counted.
        self.recycle_tx_buffers()
        self.stats.tx_lost += self.tx_hw
        while self.rx_hw:
            buf = self._take_rx(harvest=True)
            if buf is None:
                break
            if buf is not False:
                self.rx_backlog.append(buf)
        await self._device_reset()
        self._reset_rings()
        await self._dma_start()

    # -- internals -------------------------------------------------------------------------------

    @staticmethod
    async def _call(callback):
        if callback is not None:
            outcome = callback()
            if inspect.isawaitable(outcome):
                await outcome

    @staticmethod
    def _in(ring: Ring, addr: int) -> bool:
        return ring.base <= addr < ring.base + ring.n * 0x40

    async def _dma_rd(self, off: int) -> int:
        return await self.mmio.read(self.dma_base + off)

    async def _dma_wr(self, off: int, value: int) -> None:
        await self.mmio.write(self.dma_base + off, value)

    def _take_rx(self, harvest: bool = False):
        """Take the frame at the RX head: a NetBuf, ``False`` for a frame dropped (counted), or
        ``None`` when the head is not complete. During a recovery (``harvest``) a descriptor with
        an error status ends the walk after counting its frame."""
        ring = self.rx_ring
        if not self.rx_hw:
            return None
        i = self.rx_head
        st = ring.get(i, STATUS)
        if not st & STS_CMPLT:
            if harvest and st & STS_ERR_MASK:
                self.stats.rx_errors += 1
            return None
        if st & STS_RXSOF and st & STS_RXEOF:
            buf = self.rx_bufs[i]
            buf.length = min(ring.get(i, APP4) & 0xFFFF, buf.capacity)
            self._pop_rx(i)
            return buf
        # A frame over several descriptors (longer than a buffer): drop all of them.
        while True:
            st = ring.get(self.rx_head, STATUS)
            if not st & STS_CMPLT:
                break
            j = self.rx_head
            self.rx_pool.append(self.rx_bufs[j])
            self._pop_rx(j)
            if st & STS_RXEOF or not self.rx_hw:
                break
        self.stats.rx_oversize += 1
        return False

    def _pop_rx(self, i: int) -> None:
        self.rx_bufs[i] = None
        self.rx_head = (i + 1) % self.rx_ring.n
        self.rx_hw -= 1

    async def _refill_rx(self) -> None:
        """Give every empty RX descriptor a buffer, in ring order, and move TAILDESC once."""
        ring = self.rx_ring
        moved = False
        while self.rx_pool and self.rx_hw < ring.n:
            i = (self.rx_tail + 1) % ring.n
            buf = self.rx_pool.pop()
            ring.set(i, BUFFER, buf.addr)
            ring.set(i, CONTROL, buf.capacity)
            ring.set(i, STATUS, 0)
            ring.set(i, APP4, 0)
            self.rx_bufs[i] = buf
            self.rx_tail = i
            self.rx_hw += 1
            moved = True
        if moved:
            await self._dma_wr(S2MM + R.MM2S_TAILDESC, ring.addr(self.rx_tail))

    def _reset_rings(self) -> None:
        """``axienet_dma_bd_init``: every RX descriptor gets a buffer, the TX ring is empty."""
        for i, buf in enumerate(self.tx_bufs):
            if buf is not None:
                self.tx_pool.append(buf)
                self.tx_bufs[i] = None
            for off in (CONTROL, STATUS, APP4):
                self.tx_ring.set(i, off, 0)
        self.tx_head, self.tx_tail, self.tx_hw = 0, self.tx_ring.n - 1, 0
        ring = self.rx_ring
        for i in range(ring.n):
            if self.rx_bufs[i] is None:
                self.rx_bufs[i] = self.rx_pool.pop()
            buf = self.rx_bufs[i]
            ring.set(i, BUFFER, buf.addr)
            ring.set(i, CONTROL, buf.capacity)
            ring.set(i, STATUS, 0)
            ring.set(i, APP4, 0)
        self.rx_head, self.rx_tail, self.rx_hw = 0, ring.n - 1, ring.n

    def _dmacr(self, coalesce: Coalesce) -> int:
        enables = IRQ_ALL if self.completion_irqs else ERR_IRQ
        tokens = DMACR_TOKEN_EN if self.completion_tokens else 0
        return coalesce.count << 16 | coalesce.delay << 24 | enables | tokens

    async def _device_reset(self, max_polls: int = 1000) -> None:
        """``__axienet_device_reset``: DMACR.Reset (both channels), poll until it clears."""
        await self._dma_wr(R.MM2S_DMACR, DMACR_RESET)
        for _ in range(max_polls):
            if not await self._dma_rd(R.MM2S_DMACR) & DMACR_RESET:
                return
        raise TimeoutError("DMA reset did not complete")

    async def _dma_start(self) -> None:
        """``axienet_dma_start``: coalescing and enables, CURDESC, RS, RX TAILDESC (TX starts at
        its first transmit)."""
        await self._dma_wr(S2MM + R.MM2S_DMACR, self._dmacr(self.rx_coalesce))
        await self._dma_wr(R.MM2S_DMACR, self._dmacr(self.tx_coalesce))
        await self._dma_wr(S2MM + R.MM2S_CURDESC, self.rx_ring.addr(0))
        cr = await self._dma_rd(S2MM + R.MM2S_DMACR)
        await self._dma_wr(S2MM + R.MM2S_DMACR, cr | DMACR_RS)
        await self._dma_wr(S2MM + R.MM2S_TAILDESC, self.rx_ring.addr(self.rx_tail))
        await self._dma_wr(R.MM2S_CURDESC, self.tx_ring.addr(0))
        cr = await self._dma_rd(R.MM2S_DMACR)
        await self._dma_wr(R.MM2S_DMACR, cr | DMACR_RS)
