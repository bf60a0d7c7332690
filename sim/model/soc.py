"""System-level reference model: the block models joined into the SoC, with memory, interrupt
wiring, completion-token routing, a wire-side peer and one clock.

What it joins (each block model is used as it is; the glue here is thin):

* :class:`~atsoc.sim.model.plic.PLICModel` (cycle-accurate): stepped on the system clock while
  something can change in it (an access, or a line that changed in the last few cycles);
* :class:`~atsoc.sim.model.atsintc.ATSINTCModel` (transaction level): lines set and requests
  settled after every device change; DMA completion tokens enter its hardware enqueue stream;
* :class:`~atsoc.sim.model.dma.DMAModel` (transaction level), extended by :class:`SocDMA` with
  two things the SoC needs and the block model leaves out: the completion-token stream (docs/dma.md,
  "Completion tokens": a 16-word FIFO; the RTL holds the channel when it is full, the model counts that case) and the IRQDelay timer (the
  RTL's coalescer, ``hdl/dma/coalesce.py``: 125-cycle units from a packet's end, Dly_Irq and a
  threshold reload at expiry);
* :class:`~atsoc.sim.model.eth.EthMACModel` (frame classification and counters) behind
  :class:`MacRegisters`, a register front-end from the register map (``hdl/eth/registers.py``)
  with an MDIO PHY that answers like the testbench's KSZ9031 model, and an RX frame buffer of
  ``rx_buffer_bytes`` that drops whole frames (RxFifoOvr, ``rxovfl``) when the DMA has taken too
  few of them (dma_eth.md, "Ethernet MAC").

Addresses and interrupt numbers come from :mod:`atsoc.sim.model.soc_map`.

Timing (the unit is one system clock cycle, 8 ns at 125 MHz):

* the wire runs at 1 Gb/s, one byte per cycle: a frame of ``n`` bytes (padded to 60) takes
  8 + n + 4 cycles (preamble, SFD, frame, FCS) and frames are at least 12 cycles apart;
* the MAC hands a frame to the DMA at its last byte and the DMA model writes it back at once: the
  transaction models put no cycles between a frame's last byte and its descriptor write-back
  (the RTL adds its pipeline and the data transfer, about n/4 cycles on a 32-bit bus);
* interrupt lines follow the devices at once; the PLIC's gateway and EIP register add their
  cycles (its model is cycle-accurate); the ATSINTC moves a handler on the next settle (0 cycles);
* a CPU register access costs the cycles of its bus transaction: on the PLIC those of its model
  (3 for a read, 1 for a write); on the other blocks :data:`READ_CYCLES` and
  :data:`WRITE_CYCLES` (AXI4-Lite with a response 2 cycles after the handshake, the spec's goal);
* CPU instructions and its accesses to memory (descriptors, buffers) cost nothing: the figures
  are the bus part of a path, a lower bound of what a CPU adds.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable

from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.hdl.eth.config import EthMACConfig
from atsoc.hdl.eth.registers import eth_mac_register_map
from atsoc.hdl.plic.config import PLICConfig

from . import soc_map as M
from .atsintc import ATSINTCModel, WAIT
from .dma import DMAModel, Fault, SLVERR
from .eth import EthMACModel, RxConfig, RxFrame, fcs
from .plic import PLICModel


__all__ = ["SocModel", "SocBus", "SocDMA", "MacRegisters", "MdioPhy", "WirePeer", "Memory",
           "SocIdle", "READ_CYCLES", "WRITE_CYCLES", "TOKEN_FIFO_DEPTH", "DELAY_UNIT_CYCLES"]

#: Cycles of a register read / write on a transaction-level block.
READ_CYCLES, WRITE_CYCLES = 3, 2
#: The DMA's completion-token FIFO (docs/dma.md).
TOKEN_FIFO_DEPTH = 16
#: PG021: IRQDelay counts in units of 125 clock cycles.
DELAY_UNIT_CYCLES = 125
#: Cycles after an access or a line change during which the PLIC model is stepped.
_PLIC_SETTLE = 4
PREAMBLE = b"\x55" * 7 + b"\xd5"
IFG_BYTES = 12
STS_RXEOF, CTRL_TXEOF = 1 << 26, 1 << 26


class SocIdle(TimeoutError):
    """The CPU waits for an interrupt and nothing in the system can raise one any more."""


class Memory:
    """System RAM as a bytearray at ``base``; the CPU and the DMA share it (coherent)."""

    def __init__(self, base: int = M.RAM_BASE, size: int = M.RAM_SIZE):
        self.base, self.size = base, size
        self.data = bytearray(size)

    def _range(self, addr: int, n: int) -> int:
        off = addr - self.base
        if not 0 <= off <= self.size - n:
            raise ValueError(f"memory access {addr:#x}+{n} outside RAM "
                             f"{self.base:#x}..{self.base + self.size:#x}")
        return off

    def read(self, addr: int, n: int) -> bytes:
        off = self._range(addr, n)
        return bytes(self.data[off:off + n])

    def write(self, addr: int, data: bytes) -> None:
        off = self._range(addr, len(data))
        self.data[off:off + len(data)] = data


# -- DMA glue ---------------------------------------------------------------------------------------

class SocDMA(DMAModel):
    """:class:`DMAModel` plus the completion-token stream and the IRQDelay timer.

    Attributes
    ----------
    token_fifo : deque of int
        The token FIFO (completed descriptor address | 1), oldest first. (The base model's
        ``tokens`` is its log of every completion, kept apart.)
    token_drops : int
        Completions that found the FIFO full. The RTL holds the channel until there is room
        (docs/dma.md, "Completion tokens"); this model does not model that stall and counts it
        instead, so a run that expects exact timing must see 0.
    deadline : dict of str to int or None
        Cycle at which each channel's delay timer expires.
    """

    def __init__(self, mem, clock: Callable[[], int], *, completion_tokens: bool = True):
        self.clock = clock
        self.token_fifo: deque[int] = deque()
        self.token_drops = 0
        super().__init__(mem, completion_tokens=completion_tokens)

    def _reset(self):
        super()._reset()
        self.deadline = {"mm2s": None, "s2mm": None}
        self.token_fifo = deque()                 # the soft reset empties the token FIFO too

    def _step(self, name) -> bool:
        c = self.ch[name]
        completed, threshold_count = c.completed, c.thr_count
        more = super()._step(name)
        if c.completed != completed:              # a descriptor completed without error
            addr = c.curdesc
            if c.token_en:                        # only in a completion_tokens build
                if len(self.token_fifo) < TOKEN_FIFO_DEPTH:
                    self.token_fifo.append(addr | 1)
                else:
                    self.token_drops += 1
            if name == "s2mm":
                eof = self._u32(addr + 0x1C) & STS_RXEOF
            else:
                eof = self._u32(addr + 0x18) & CTRL_TXEOF
            if eof:                               # hdl/dma/coalesce.py: the packet-end rules
                delay = c.dmacr >> 24 & 0xFF
                expired = threshold_count <= 1
                self.deadline[name] = (None if expired or not delay
                                       else self.clock() + delay * DELAY_UNIT_CYCLES)
        return more

    def next_deadline(self) -> int | None:
        times = [t for t in self.deadline.values() if t is not None]
        return min(times) if times else None

    def expire(self, now: int) -> bool:
        """Fire the delay timers due at ``now``; whether one fired."""
        fired = False
        for name, t in self.deadline.items():
            if t is not None and t <= now:
                c = self.ch[name]
                self.deadline[name] = None
                if c.dmacr >> 24 & 0xFF:
                    c.irq_bits |= 0x2000
                    c.thr_count = c.threshold
                    fired = True
        return fired

    @property
    def buffered_rx_bytes(self) -> int:
        """Bytes of received frames not yet taken by S2MM (they sit in the MAC's RX buffer)."""
        return sum(len(frame) for frame, _ in self.rx_queue)


# -- MAC register front-end -------------------------------------------------------------------------

class MdioPhy:
    """A clause-22 PHY on MDIO at ``address`` (KSZ9031-like, as ``sim/tb/eth_mdio_phy.py``):
    reset and auto-negotiation complete at once; other addresses read 0xFFFF (pull-up)."""

    def __init__(self, address: int = 3):
        self.address = address
        self.regs = {0: 0x1140, 1: 0x796D, 2: 0x0022, 3: 0x1622, 4: 0x01E1, 5: 0xCDE1,
                     9: 0x0200, 10: 0x3C00, 16: 0, 21: 0x0010, 22: 0, 0x1F: 0x0040}

    def read(self, phy: int, reg: int) -> int:
        if phy != self.address:
            return 0xFFFF
        return self.regs.get(reg, 0)

    def write(self, phy: int, reg: int, value: int) -> None:
        if phy != self.address:
            return
        if reg == 0:
            value &= ~0x8200                      # reset and AN restart complete at once
        self.regs[reg] = value & 0xFFFF


class MacRegisters:
    """The MAC's register window over :class:`EthMACModel` (register map ``eth_mac``).

    Parameters
    ----------
    config : EthMACConfig
        The MAC's parameters (RX buffer size, counter width, jumbo limit).

    Attributes
    ----------
    model : EthMACModel
        Classification and statistics; its ``config`` follows the registers.
    intr_status : int
        IS (event bits 2..5; MgtRdy and PhyRstCmplt read 1).
    """

    IRQ_MASK = 0x3C

    def __init__(self, config: EthMACConfig = EthMACConfig(), phy: MdioPhy | None = None):
        self.config = config
        self.regmap = eth_mac_register_map(config)
        self.size = self.regmap.size
        self.phy = phy or MdioPhy()
        self.model = EthMACModel(RxConfig(jumbo_bytes=config.jumbo_bytes))
        self.regs = {reg.name: reg.reset for reg in self.regmap}
        self.counter_mask = (1 << config.counter_width) - 1
        self._sync_config()

    @property
    def irq(self) -> bool:
        return bool(self.regs["intr_status"] & self.regs["intr_enable"] & self.IRQ_MASK)

    def event(self, bits: int) -> None:
        self.regs["intr_status"] |= bits & self.IRQ_MASK

    @property
    def rx_enabled(self) -> bool:
        return bool(self.regs["rcw1"] >> 28 & 1)

    @property
    def tx_enabled(self) -> bool:
        return bool(self.regs["tc"] >> 28 & 1)

    def _sync_config(self) -> None:
        r, c = self.regs, self.model.config
        c.unicast = r["uaw0"].to_bytes(4, "little") + (r["uaw1"] & 0xFFFF).to_bytes(2, "little")
        c.promiscuous = bool(r["fmi"] >> 31 & 1)
        c.bcast_reject = bool(r["raf"] >> 2 & 1)
        c.mcast_reject = bool(r["raf"] >> 1 & 1)
        c.jumbo = bool(r["rcw1"] >> 30 & 1)
        c.rx_enable = self.rx_enabled

    def read(self, offset: int) -> int:
        hit = self.regmap.decode(offset)
        if hit is None:
            return 0
        reg = hit[0]
        if reg.name == "intr_pending":
            return self.regs["intr_status"] & self.regs["intr_enable"] & self.IRQ_MASK
        if reg.name == "mdio_mcr":
            return (self.regs["mdio_mcr"] & ~(1 << 11)) | 1 << 7     # always ready
        if reg.name.startswith(("rx", "tx")):
            return self.model.counters[reg.name] & self.counter_mask
        readable = sum(f.mask for f in reg.fields if f.access.readable)
        return self.regs[reg.name] & readable

    def write(self, offset: int, value: int) -> None:
        hit = self.regmap.decode(offset)
        if hit is None:
            return
        reg = hit[0]
        value &= 0xFFFF_FFFF
        rw = sum(f.mask for f in reg.fields if f.access.name in ("RW", "W"))
        w1c = sum(f.mask for f in reg.fields if f.access.name == "RW1C")
        old = self.regs[reg.name]
        self.regs[reg.name] = (old & ~rw & ~(value & w1c)) | (value & rw)
        if reg.name == "mdio_mcr" and value >> 11 & 1:
            phy, regad, op = value >> 24 & 0x1F, value >> 16 & 0x1F, value >> 14 & 0x3
            if op == 0b10:
                self.regs["mdio_mrd"] = self.phy.read(phy, regad)
            elif op == 0b01:
                self.phy.write(phy, regad, self.regs["mdio_mwd"] & 0xFFFF)
        self._sync_config()


# -- the wire ----------------------------------------------------------------------------------------

class WirePeer:
    """The other end of the cable: frames in (to the MAC) and frames out (from the MAC).

    Attributes
    ----------
    sent : list of (bytes, int)
        Every frame offered, with the cycle of its last byte (FCS included).
    received : list of (bytes, int)
        Every frame the MAC transmitted (FCS checked and stripped, padding kept) and the cycle
        of its last byte.
    """

    def __init__(self, soc: SocModel):
        self.soc = soc
        self.sent: list[tuple[bytes, int]] = []
        self.received: list[tuple[bytes, int]] = []
        self._rx_free = 0          # first cycle the MAC's receive side of the wire is free
        self._tx_free = 0

    def send(self, frame: bytes, *, at: int | None = None, pad: bool = True, bad_fcs: bool = False) -> int:
        """Put ``frame`` (destination address to payload, no FCS) on the wire, starting at cycle
        ``at`` (default: now) or as soon as the wire is free; returns the cycle of its last byte.
        ``pad`` pads it to 60 bytes as a NIC does; ``bad_fcs`` corrupts its FCS."""
        frame = bytes(frame)
        if pad:
            frame += bytes(max(0, 60 - len(frame)))
        check = bytearray(fcs(frame))
        if bad_fcs:
            check[0] ^= 0xFF
        wire = PREAMBLE + frame + bytes(check)
        start = max(self.soc.now if at is None else at, self._rx_free)
        last = start + len(wire) - 1
        self._rx_free = last + 1 + IFG_BYTES
        self.sent.append((frame, last))
        self.soc.schedule(last, lambda: self.soc.mac_receive(wire))
        return last

    def transmitted(self, payload: bytes) -> None:
        """Called by the SoC when the MAC sends ``payload`` (the wire adds its time)."""
        wire_len = len(PREAMBLE) + max(60, len(payload)) + 4
        start = max(self.soc.now, self._tx_free)
        last = start + wire_len - 1
        self._tx_free = last + 1 + IFG_BYTES
        padded = payload + bytes(max(0, 60 - len(payload)))
        self.received.append((padded, last))


# -- the system ---------------------------------------------------------------------------------------

class SocModel:
    """The SoC at system level: PLIC, ATSINTC, DMA, MAC, RAM, the wire, one clock.

    Parameters
    ----------
    completion_tokens : bool
        Whether the DMA's completion tokens are wired into the ATSINTC (as the SoC does).
    plic_config, atsintc_config, mac_config
        Block parameters (defaults: the blocks' defaults at the SoC's bases).

    Attributes
    ----------
    now : int
        System clock cycles since reset.
    plic, atsintc, dma, mac, mem, peer
        The parts.
    irq_vector : int
        The device interrupt outputs, bit ``soc_map.IRQ_*``.
    """

    def __init__(self, *, completion_tokens: bool = True, plic_config: PLICConfig | None = None,
                 atsintc_config: ATSINTCConfig | None = None,
                 mac_config: EthMACConfig | None = None):
        self.now = 0
        self.plic = PLICModel(plic_config or PLICConfig(base=M.PLIC_BASE))
        self.atsintc = ATSINTCModel(atsintc_config or ATSINTCConfig(base=M.ATSINTC_BASE))
        self.mem = Memory()
        self.dma = SocDMA(self.mem, lambda: self.now, completion_tokens=completion_tokens)
        self.mac = MacRegisters(mac_config or EthMACConfig())
        self.peer = WirePeer(self)
        self.irq_vector = 0
        self._events: list = []
        self._seq = itertools.count()
        self._plic_active_until = 0
        self._one_shot: list[Fault] = []
        # The SoC's windows; each block decodes its own register space at the start of its
        # window (the rest reads 0 / aliases, as the block does with the upper address bits).
        self.windows = [
            (M.PLIC_BASE, M.PLIC_SIZE, "plic"),
            (M.ATSINTC_BASE, M.ATSINTC_SIZE, "atsintc"),
            (M.DMA_BASE, M.DMA_SIZE, "dma"),
            (M.MAC_BASE, M.MAC_SIZE, "mac"),
        ]

    # -- events and time ------------------------------------------------------------------------

    def schedule(self, when: int, action: Callable[[], None]) -> None:
        """Run ``action`` at cycle ``when`` (or at once if that is past)."""
        heapq.heappush(self._events, (when, next(self._seq), action))

    def _next_time(self) -> int | None:
        times = [t for t in (self._events[0][0] if self._events else None,
                             self.dma.next_deadline()) if t is not None]
        return min(times) if times else None

    def _run_due(self) -> None:
        changed = False
        while self._events and self._events[0][0] <= self.now:
            _, _, action = heapq.heappop(self._events)
            action()
            changed = True
        if self.dma.expire(self.now):
            changed = True
        if changed:
            self.update()

    def tick(self, cycles: int = 1) -> None:
        """Let ``cycles`` clock cycles pass."""
        for _ in range(cycles):
            self._run_due()
            if self.now < self._plic_active_until:
                self.plic.step()
            self.now += 1
        self._run_due()

    def sleep_until(self, condition: Callable[[], bool], limit: int = 10_000_000) -> None:
        """Let time pass, skipping quiet stretches, until ``condition()`` holds.

        Raises
        ------
        SocIdle
            Nothing is scheduled and ``condition()`` does not hold: it never will.
        """
        end = self.now + limit
        self._run_due()
        while not condition():
            if self.now >= end:
                raise TimeoutError(f"condition not met within {limit} cycles")
            if self.now < self._plic_active_until:
                self.tick()
                continue
            t = self._next_time()
            if t is None:
                raise SocIdle(f"cycle {self.now}: nothing can wake the CPU")
            self.now = max(self.now, t)
            self._run_due()

    # -- device changes ---------------------------------------------------------------------------

    def update(self) -> None:
        """Propagate device state: TX frames to the wire, interrupt lines, tokens, one-shot faults."""
        dma = self.dma
        if any(c.errors for c in dma.ch.values()) and self._one_shot:
            for fault in self._one_shot:
                if fault in dma.faults:
                    dma.faults.remove(fault)
            self._one_shot.clear()
        for frame in dma.tx_frames:
            if self.mac.tx_enabled:
                self.mac.model.transmit(frame)
                self.peer.transmitted(frame)
                self.mac.event(1 << 5)                       # TxCmplt
        dma.tx_frames.clear()
        vector = (dma.ch["mm2s"].irq << M.IRQ_DMA_MM2S | dma.ch["s2mm"].irq << M.IRQ_DMA_S2MM
                  | self.mac.irq << M.IRQ_MAC)
        if vector != self.irq_vector:
            self.irq_vector = vector
            plic_lines = atsintc_lines = 0
            for bit in range(len(M.IRQ_VECTOR)):
                if vector >> bit & 1:
                    plic_lines |= 1 << M.plic_source(bit)
                    atsintc_lines |= 1 << M.atsintc_line(bit)
            self.plic.lines = plic_lines
            self._plic_active_until = self.now + _PLIC_SETTLE
            self.atsintc.set_lines(atsintc_lines)
        self.settle_atsintc()

    def settle_atsintc(self) -> None:
        self.atsintc.settle()
        tokens = self.dma.token_fifo
        while tokens:
            outcome = self.atsintc.stream_push(M.TOKEN_PROCESS, M.TOKEN_PRIORITY, tokens[0])
            if outcome == WAIT:
                break                                       # tready low: the FIFO keeps it
            tokens.popleft()

    def mac_receive(self, wire: bytes) -> str:
        """The MAC receives one frame (at its last byte); returns its verdict."""
        mac = self.mac
        if not mac.rx_enabled:
            return "IGNORED"
        frame = RxFrame(wire)
        verdict, body = mac.model.classify(frame)
        overflow = (verdict == "OK"
                    and self.dma.buffered_rx_bytes + len(body) - 4 > mac.config.rx_buffer_bytes)
        verdict = mac.model.receive(frame, overflow=overflow)
        if verdict == "OK":
            mac.event(1 << 2)                                 # RxCmplt
            self.dma.offer(body[:-4])
        elif verdict == "OVERFLOW":
            mac.event(1 << 4)                                 # RxFifoOvr
        else:
            mac.event(1 << 3)                                 # RxRject
        return verdict

    def inject_bus_error(self, start: int, end: int, *, resp: int = SLVERR, kind: str = "w",
                         one_shot: bool = True) -> Fault:
        """Make memory [start, end) answer ``resp`` to the DMA's ``kind`` accesses; a one-shot
        fault is removed once the DMA has reported an error (a transient fault)."""
        fault = Fault(start, end, resp, kind)
        self.dma.faults.append(fault)
        if one_shot:
            self._one_shot.append(fault)
        return fault

    # -- the CPU's bus ----------------------------------------------------------------------------

    def decode(self, addr: int) -> tuple[str, int]:
        for base, size, name in self.windows:
            if base <= addr < base + size:
                return name, addr - base
        return "", 0

    def cpu_bus(self, irq: str = "plic") -> SocBus:
        """An Mmio for the CPU; ``wait_irq(n)`` waits for PLIC ``eip`` bit n (``irq="plic"``) or
        ATSINTC ``notify`` bit n (``irq="atsintc"``)."""
        return SocBus(self, irq)


class SocBus:
    """:class:`~atsoc.sim.driver.mmio.Mmio` of the CPU on :class:`SocModel`.

    Every access costs its bus cycles (see the module's "Timing"); errors raise
    :class:`~atsoc.sim.driver.mmio.BusError`. Counts accesses per block in :attr:`accesses`.
    """

    def __init__(self, soc: SocModel, irq: str):
        if irq not in ("plic", "atsintc"):
            raise ValueError(f"irq must be 'plic' or 'atsintc', not {irq!r}")
        self.soc = soc
        self.irq = irq
        self.accesses: dict[str, int] = {}

    def _decode(self, addr: int, width: int):
        from atsoc.sim.driver.mmio import BusError, Resp
        name, offset = self.soc.decode(addr)
        if not name:
            raise BusError(addr, Resp.DECERR)
        bus_width = 64 if name == "atsintc" else 32
        if width not in (8, 16, 32, 64) or width > bus_width:
            raise ValueError(f"access width must be 8..{bus_width} bits on {name}, not {width}")
        if addr % (width // 8):
            raise ValueError(f"unaligned {width}-bit access at {addr:#x}")
        self.accesses[name] = self.accesses.get(name, 0) + 1
        return name, offset, bus_width // 8

    async def read(self, addr: int, width: int = 32) -> int:
        from atsoc.sim.driver.mmio import BusError, Resp
        soc = self.soc
        name, offset, nbytes = self._decode(addr, width)
        lane = offset % nbytes
        base = offset - lane
        soc._run_due()
        slverr = False
        if name == "plic":
            soc._plic_active_until = max(soc._plic_active_until, soc.now + _PLIC_SETTLE + 3)
            start = soc.plic.cycle
            word = soc.plic.read(base)
            slverr = soc.plic.last_read_slverr
            soc.now += soc.plic.cycle - start
            soc._plic_active_until = soc.now + _PLIC_SETTLE
        else:
            if name == "atsintc":
                soc.settle_atsintc()
                word, slverr = soc.atsintc.read(base)
            elif name == "dma":
                word = soc.dma.read(base)
            else:
                word = soc.mac.read(base)
            soc.update()
            soc.tick(READ_CYCLES)
        if slverr:
            raise BusError(addr, Resp.SLVERR)
        return (word >> (8 * lane)) & ((1 << width) - 1)

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        from atsoc.sim.driver.mmio import BusError, Resp
        soc = self.soc
        name, offset, nbytes = self._decode(addr, width)
        lane = offset % nbytes
        base = offset - lane
        data = (value & ((1 << width) - 1)) << (8 * lane)
        strb = ((1 << (width // 8)) - 1) << lane
        soc._run_due()
        slverr = False
        if name == "plic":
            soc.plic.write(base, data, strb)
            slverr = soc.plic.last_write_slverr
            soc.now += 1
            soc._plic_active_until = soc.now + _PLIC_SETTLE
        else:
            if name == "atsintc":
                soc.settle_atsintc()
                slverr = soc.atsintc.write(base, data, strb)
            elif strb != 0xF:
                pass                                  # DMA and MAC ignore partial writes
            elif name == "dma":
                soc.dma.write(base, data)
            else:
                soc.mac.write(base, data)
            soc.update()
            soc.tick(WRITE_CYCLES)
        if slverr:
            raise BusError(addr, Resp.SLVERR)

    async def wait_irq(self, line: int) -> None:
        soc = self.soc
        if self.irq == "plic":
            soc.sleep_until(lambda: soc.plic.eip >> line & 1)
        else:
            soc.sleep_until(lambda: soc.atsintc.notify >> line & 1)

    async def idle(self, cycles: int = 1) -> None:
        """The CPU is busy for ``cycles`` cycles (no access)."""
        self.soc.tick(cycles)
