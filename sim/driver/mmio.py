"""The memory-mapped I/O interface the reference drivers talk through (driver.md, "Shape").

A driver sees hardware only as :class:`Mmio`: register reads and writes at absolute bus
addresses, and a wait on an interrupt output (driver.md, "Rules": no peeking at internal signals).
Back-ends bind it to the RTL (cocotbext-axi's AxiLiteMaster) or to a Python reference model;
:class:`ModelMmio` is the back-end of a clocked model and :class:`TransactionMmio` that of a
transaction-level one. Every error response surfaces as :class:`BusError`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol, runtime_checkable


__all__ = ["Resp", "BusError", "Mmio", "SteppedModel", "ModelMmio", "TransactionModel", "TransactionMmio"]


class Resp(enum.IntEnum):
    """AXI response codes (BRESP/RRESP)."""

    OKAY = 0b00
    EXOKAY = 0b01
    SLVERR = 0b10
    DECERR = 0b11


class BusError(Exception):
    """An access answered with an error response (SLVERR or DECERR).

    Parameters
    ----------
    addr : int
        Bus address of the access.
    resp : Resp
        The response.
    """

    def __init__(self, addr: int, resp: Resp):
        self.addr = addr
        self.resp = Resp(resp)
        super().__init__(f"{self.resp.name} at {addr:#010x}")


@runtime_checkable
class Mmio(Protocol):
    """Register access as a driver sees it.

    Addresses are absolute bus addresses. ``width`` is the access size in bits (8, 16 or 32;
    also 64 on a 64-bit block such as the ATSINTC), naturally aligned; a narrow write strobes
    only its byte lanes.
    """

    async def read(self, addr: int, width: int = 32) -> int:
        """Read ``width`` bits at ``addr``; raises :class:`BusError` on an error response."""
        ...

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        """Write ``width`` bits at ``addr``; raises :class:`BusError` on an error response."""
        ...

    async def wait_irq(self, line: int) -> None:
        """Wait until interrupt output ``line`` (e.g. bit ``line`` of the PLIC's ``eip``) is high."""
        ...


class SteppedModel(Protocol):
    """What :class:`ModelMmio` needs from a reference model (see :class:`~atsoc.sim.model.plic.PLICModel`).

    ``read``/``write`` perform one bus access at an offset from the block's base, stepping the
    model's clock (``cycle`` counts the edges), and record the response in
    ``last_read_slverr``/``last_write_slverr``; ``idle`` steps with no access.
    """

    size: int
    cycle: int
    eip: int
    last_read_slverr: bool
    last_write_slverr: bool

    def read(self, offset: int) -> int: ...

    def write(self, offset: int, value: int, wstrb: int = 0xF) -> None: ...

    def idle(self, cycles: int = 1) -> None: ...


_WIDTHS = (8, 16, 32)


class ModelMmio:
    """:class:`Mmio` on a Python reference model: every access steps the model's clock.

    Parameters
    ----------
    model : SteppedModel
        The model; its register window starts at ``base``.
    base : int
        Bus address of the model's offset 0.
    irq_timeout : int
        Cycles :meth:`wait_irq` waits before raising :class:`TimeoutError`.

    Attributes
    ----------
    cycles : int
        Model clock cycles spent in this back-end's accesses and waits.
    """

    def __init__(self, model: SteppedModel, base: int = 0, *, irq_timeout: int = 10_000):
        self.model = model
        self.base = base
        self.irq_timeout = irq_timeout
        self.cycles = 0

    def _offset(self, addr: int, width: int) -> int:
        if width not in _WIDTHS:
            raise ValueError(f"access width must be one of {_WIDTHS}, not {width}")
        if addr % (width // 8):
            raise ValueError(f"unaligned {width}-bit access at {addr:#x}")
        offset = addr - self.base
        if not 0 <= offset < self.model.size:
            raise BusError(addr, Resp.DECERR)     # no slave at that address
        return offset

    def _counted(self, action):
        start = self.model.cycle
        result = action()
        self.cycles += self.model.cycle - start
        return result

    async def read(self, addr: int, width: int = 32) -> int:
        offset = self._offset(addr, width)
        word = self._counted(lambda: self.model.read(offset & ~3))
        if self.model.last_read_slverr:
            raise BusError(addr, Resp.SLVERR)
        lane = offset & 3
        return (word >> (8 * lane)) & ((1 << width) - 1)

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        offset = self._offset(addr, width)
        lane = offset & 3
        data = (value & ((1 << width) - 1)) << (8 * lane)
        wstrb = ((1 << (width // 8)) - 1) << lane
        self._counted(lambda: self.model.write(offset & ~3, data, wstrb))
        if self.model.last_write_slverr:
            raise BusError(addr, Resp.SLVERR)

    async def wait_irq(self, line: int) -> None:
        for _ in range(self.irq_timeout):
            if self.model.eip >> line & 1:
                return
            self._counted(self.model.idle)
        if not self.model.eip >> line & 1:
            raise TimeoutError(f"interrupt line {line} not raised within {self.irq_timeout} cycles")

    async def idle(self, cycles: int = 1) -> None:
        """Let ``cycles`` clock cycles pass with no access (not part of :class:`Mmio`)."""
        self._counted(lambda: self.model.idle(cycles))


class TransactionModel(Protocol):
    """What :class:`TransactionMmio` needs from a transaction-level model (no clock; see
    :class:`~atsoc.sim.model.atsintc.ATSINTCModel`).

    ``read``/``write`` perform one bus access at an offset from the block's base with a full
    data word and byte strobes, and return the response; ``settle`` carries out the hardware
    work that waits (interrupt wakes and the like).
    """

    size: int
    data_width: int

    def read(self, offset: int) -> tuple[int, bool]: ...

    def write(self, offset: int, data: int, strb: int) -> bool: ...

    def settle(self) -> None: ...


class TransactionMmio:
    """:class:`Mmio` on a transaction-level model: bus and hardware operations alternate.

    Every access is preceded and followed by ``model.settle()``, so hardware work that waits
    is carried out between two bus transactions. Accesses may be 8 to ``model.data_width``
    bits wide, naturally aligned; a narrow write strobes only its byte lanes.

    Parameters
    ----------
    model : TransactionModel
        The model; its register window starts at ``base``.
    base : int
        Bus address of the model's offset 0.
    irq : callable, optional
        Returns the model's interrupt output vector (for example ``lambda: model.notify``);
        needed by :meth:`wait_irq`.
    tick : callable, optional
        The rest of the system between two polls of :meth:`wait_irq` or in :meth:`idle`
        (devices raising lines, for example); with none, nothing changes while waiting.
    irq_timeout : int
        Polls :meth:`wait_irq` makes before raising :class:`TimeoutError`.

    Attributes
    ----------
    reads, writes : int
        Accesses made (as :class:`~atsoc.sim.tb.axil_mmio.AxiLiteMmio` counts them).
    """

    def __init__(self, model: TransactionModel, base: int = 0, *, irq: Callable[[], int] | None = None,
                 tick: Callable[[], None] | None = None, irq_timeout: int = 1000):
        self.model = model
        self.base = base
        self.irq = irq
        self.tick = tick
        self.irq_timeout = irq_timeout
        self.reads = 0
        self.writes = 0
        self._bytes = model.data_width // 8

    def _offset(self, addr: int, width: int) -> int:
        if width not in (8, 16, 32, 64) or width > self.model.data_width:
            raise ValueError(f"access width must be 8..{self.model.data_width} bits, not {width}")
        if addr % (width // 8):
            raise ValueError(f"unaligned {width}-bit access at {addr:#x}")
        offset = addr - self.base
        if not 0 <= offset < self.model.size:
            raise BusError(addr, Resp.DECERR)     # no slave at that address
        return offset

    async def read(self, addr: int, width: int = 32) -> int:
        offset = self._offset(addr, width)
        lane = offset % self._bytes
        self.model.settle()
        word, slverr = self.model.read(offset - lane)
        self.model.settle()
        self.reads += 1
        if slverr:
            raise BusError(addr, Resp.SLVERR)
        return (word >> (8 * lane)) & ((1 << width) - 1)

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        offset = self._offset(addr, width)
        lane = offset % self._bytes
        data = (value & ((1 << width) - 1)) << (8 * lane)
        strb = ((1 << (width // 8)) - 1) << lane
        self.model.settle()
        slverr = self.model.write(offset - lane, data, strb)
        self.model.settle()
        self.writes += 1
        if slverr:
            raise BusError(addr, Resp.SLVERR)

    async def wait_irq(self, line: int) -> None:
        if self.irq is None:
            raise ValueError("this TransactionMmio has no interrupt output (irq=None)")
        for _ in range(self.irq_timeout):
            self.model.settle()
            if self.irq() >> line & 1:
                return
            await self.idle()
        raise TimeoutError(f"interrupt line {line} not raised within {self.irq_timeout} polls")

    async def idle(self, cycles: int = 1) -> None:
        """Let the rest of the system run ``cycles`` times (``tick``), then settle the model."""
        for _ in range(cycles):
            if self.tick is not None:
                self.tick()
            self.model.settle()
