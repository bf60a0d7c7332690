"""The ATSINTC part of the reference driver: the ats-intc crate's surface over :class:`Mmio`.

The ats-intc crate (``AtsIntc``) drives one process window with ``ps_push(task, priority)``
(a store to ``enqueue[priority]``), ``ps_fetch()`` (a load of ``dequeue``, ``None`` for 0) and
``intr_push(irq, handler)`` (a store to ``intr_handler[irq]``); driver.md, "Drivers", adds IPC
send and handler registration. Here one driver object serves every process window, so each call
names its process. Accesses are 64 bits wide (the block's data width; a dequeue is one atomic
read), addresses come from the generated constants :mod:`atsoc.sim.driver.regs.atsintc`.

Every refused operation (an SLVERR, docs/atsintc.md "Register map") surfaces as an
:class:`AtsIntcError` subclass naming the cause read from the window's ``error`` register
(driver.md, "Rules": never swallowed); the driver then clears the bits it reported, so that each
exception names the causes of its own access.
"""

from __future__ import annotations

from dataclasses import dataclass

from .mmio import BusError, Mmio, Resp
from .regs import atsintc as regs


__all__ = [
    "AtsIntcDriver", "AtsIntcInfo", "AtsIntcError", "QueueFull", "ZeroWord", "BadLevel",
    "IrqQueueFull", "IpcQueueFull", "SendFull", "BadTarget", "PartialWrite", "ReservedAccess",
    "CAUSES",
]

#: Data width of the block: every driver access is one 64-bit access.
WIDTH = 64
#: Enqueue registers in a window (0x008..0x7F8); a higher level would address ``send``.
MAX_LEVELS = 255
#: Interrupt handler registers in a window (0x900..0xBF8) and the configurable maximum.
MAX_IRQ_LINES = 64
MAX_CHANNELS = 31
MAX_PROCESSES = 64

#: Bits of the ``error`` register by cause name (docs/atsintc.md, "Register map").
CAUSES = {
    "queue_full": regs.ERROR_QUEUE_FULL_SHIFT,
    "zero_word": regs.ERROR_ZERO_WORD_SHIFT,
    "bad_level": regs.ERROR_BAD_LEVEL_SHIFT,
    "irq_queue_full": regs.ERROR_IRQ_QUEUE_FULL_SHIFT,
    "ipc_queue_full": regs.ERROR_IPC_QUEUE_FULL_SHIFT,
    "send_full": regs.ERROR_SEND_FULL_SHIFT,
    "bad_target": regs.ERROR_BAD_TARGET_SHIFT,
    "partial_write": regs.ERROR_PARTIAL_WRITE_SHIFT,
}


class AtsIntcError(BusError):
    """An ATSINTC access answered SLVERR.

    Attributes
    ----------
    process : int
        The window accessed (for a send: the sender's).
    causes : frozenset of str
        Causes read from the window's ``error`` register (empty for a reserved address under
        ``reserved_policy="slverr"``).
    cause : str or None
        The class's own cause.
    """

    cause: str | None = None

    def __init__(self, addr: int, process: int, causes: frozenset[str]):
        self.process = process
        self.causes = causes
        super().__init__(addr, Resp.SLVERR)
        self.args = (f"SLVERR at {addr:#010x} (process {process}): "
                     f"{', '.join(sorted(causes)) or 'no cause recorded'}",)


def _cause_class(name: str, doc: str) -> type[AtsIntcError]:
    camel = "".join(part.capitalize() for part in name.split("_"))
    return type(camel, (AtsIntcError,), {"cause": name, "__doc__": doc, "__module__": __name__})


QueueFull = _cause_class("queue_full", "The process's queue (or the receiver's) holds `capacity` entries.")
ZeroWord = _cause_class("zero_word", "0 was enqueued or registered (0 means empty).")
BadLevel = _cause_class("bad_level", "Enqueue at a level >= NPRIO.")
IrqQueueFull = _cause_class("irq_queue_full", "The interrupt line's blocked queue is full.")
IpcQueueFull = _cause_class("ipc_queue_full", "The IPC channel's blocked queue is full.")
SendFull = _cause_class("send_full", "The receiver channel's pending sends are at their limit.")
BadTarget = _cause_class("bad_target", "A send named a process >= NPROC or a channel >= NCHAN.")
PartialWrite = _cause_class("partial_write", "A queue register was written with WSTRB other than 0xFF.")


class ReservedAccess(AtsIntcError):
    """SLVERR with no cause recorded: a reserved address under ``reserved_policy="slverr"``."""


_BY_CAUSE = {cls.cause: cls for cls in (QueueFull, ZeroWord, BadLevel, IrqQueueFull, IpcQueueFull,
                                        SendFull, BadTarget, PartialWrite)}


def decode_errors(word: int) -> set[str]:
    """Cause names of the bits set in an ``error`` word."""
    return {name for name, bit in CAUSES.items() if word >> bit & 1}


def error_for(addr: int, process: int, word: int) -> AtsIntcError:
    """The exception for an SLVERR at ``addr`` with ``error`` word ``word``: the class of the
    lowest cause bit set (a refused operation sets one), :class:`ReservedAccess` for none."""
    causes = frozenset(decode_errors(word))
    if not causes:
        return ReservedAccess(addr, process, causes)
    first = min(causes, key=CAUSES.__getitem__)
    return _BY_CAUSE[first](addr, process, causes)


@dataclass(frozen=True)
class AtsIntcInfo:
    """The configuration the ``info`` register reports (docs/atsintc.md, "Register map")."""

    priorities: int
    capacity: int
    processes: int
    irq_lines: int
    channels: int

    @classmethod
    def decode(cls, word: int) -> AtsIntcInfo:
        """Fields of an ``info`` word."""
        def field(mask, shift):
            return (word & mask) >> shift
        return cls(priorities=field(regs.INFO_PRIORITIES_MASK, regs.INFO_PRIORITIES_SHIFT),
                   capacity=field(regs.INFO_CAPACITY_MASK, regs.INFO_CAPACITY_SHIFT),
                   processes=field(regs.INFO_PROCESSES_MASK, regs.INFO_PROCESSES_SHIFT),
                   irq_lines=field(regs.INFO_IRQ_LINES_MASK, regs.INFO_IRQ_LINES_SHIFT),
                   channels=field(regs.INFO_CHANNELS_MASK, regs.INFO_CHANNELS_SHIFT))

    @classmethod
    def from_config(cls, config) -> AtsIntcInfo:
        """The info of an :class:`~atsoc.hdl.atsintc.config.ATSINTCConfig` (as a device tree
        would give it)."""
        return cls(config.priorities, config.capacity, config.processes, config.irq_lines,
                   config.channels)


_LIMITS = AtsIntcInfo(MAX_LEVELS, 1 << 16, MAX_PROCESSES, MAX_IRQ_LINES, MAX_CHANNELS)


class AtsIntcDriver:
    """Drive an ATSINTC through :class:`Mmio` with the ats-intc crate's operations.

    Parameters
    ----------
    mmio : Mmio
        The bus (64-bit accesses).
    base : int
        Bus address of the block (process 0's window).
    config_info : AtsIntcInfo or ATSINTCConfig, optional
        The configuration, when known (as from a device tree); otherwise :meth:`probe` reads it.
        Used only to refuse indices that would address another register or window
        (:class:`ValueError`); everything else is checked by the hardware.
    """

    def __init__(self, mmio: Mmio, base: int, config_info=None):
        self.mmio = mmio
        self.base = base
        if config_info is not None and not isinstance(config_info, AtsIntcInfo):
            config_info = AtsIntcInfo.from_config(config_info)
        self.config_info: AtsIntcInfo | None = config_info

    # -- raw register access -------------------------------------------------------------------

    @property
    def _limits(self) -> AtsIntcInfo:
        return self.config_info or _LIMITS

    async def _read(self, process: int, offset: int) -> int:
        try:
            return await self.mmio.read(self.base + offset, WIDTH)
        except BusError as err:
            raise await self._refusal(err, process) from None

    async def _write(self, process: int, offset: int, value: int) -> None:
        try:
            await self.mmio.write(self.base + offset, value, WIDTH)
        except BusError as err:
            raise await self._refusal(err, process) from None

    async def _refusal(self, err: BusError, process: int) -> BusError:
        """Turn an SLVERR into the exception of its cause; acknowledge (clear) that cause."""
        if err.resp is not Resp.SLVERR:
            return err
        offset = regs.error(process)
        word = await self.mmio.read(self.base + offset, WIDTH)
        if word:
            await self.mmio.write(self.base + offset, word, WIDTH)
        return error_for(err.addr, process, word)

    def _check(self, what: str, value: int, limit: int) -> None:
        if not 0 <= value < limit:
            raise ValueError(f"{what} {value} is not 0..{limit - 1}")

    def _check_process(self, process: int) -> None:
        self._check("process", process, self._limits.processes)

    # -- discovery -----------------------------------------------------------------------------

    async def info(self) -> AtsIntcInfo:
        """Read the ``info`` register (of process 0's window)."""
        return AtsIntcInfo.decode(await self._read(0, regs.info(0)))

    async def probe(self) -> AtsIntcInfo:
        """Read ``info`` and keep it as :attr:`config_info` for the index checks."""
        self.config_info = await self.info()
        return self.config_info

    # -- the ats-intc crate ----------------------------------------------------------------------

    async def ps_push(self, process: int, task: int, prio: int) -> None:
        """``AtsIntc::ps_push``: enqueue ``task`` at priority ``prio`` of ``process``.

        Raises
        ------
        QueueFull, ZeroWord, BadLevel, PartialWrite
            The hardware refused the word (nothing was stored).
        """
        self._check_process(process)
        self._check("priority", prio, MAX_LEVELS)     # a higher one would address `send`
        await self._write(process, regs.enqueue(process, prio), task)

    async def ps_fetch(self, process: int) -> int:
        """``AtsIntc::ps_fetch``: pop the best entry of ``process``; 0 when it has none."""
        self._check_process(process)
        return await self._read(process, regs.dequeue(process))

    async def intr_push(self, process: int, irq: int, handler: int) -> None:
        """``AtsIntc::intr_push``: register ``handler`` for line ``irq``, owned by ``process``.

        A pending interrupt delivers ``handler`` at once to the process's level 0.

        Raises
        ------
        ZeroWord, IrqQueueFull, QueueFull
        """
        self._check_process(process)
        self._check("interrupt line", irq, self._limits.irq_lines)
        await self._write(process, regs.intr_handler(process, irq), handler)

    async def ipc_send(self, process: int, receiver: int, channel: int) -> None:
        """IPC send from ``process`` to channel ``channel`` of ``receiver``.

        Raises
        ------
        BadTarget, SendFull, QueueFull
            Recorded in the sender's window.
        """
        self._check_process(process)
        self._check("receiver field", receiver, 1 << regs.SEND_RECEIVER_WIDTH)
        self._check("channel field", channel, 1 << regs.SEND_CHANNEL_WIDTH)
        value = receiver << regs.SEND_RECEIVER_SHIFT | channel << regs.SEND_CHANNEL_SHIFT
        await self._write(process, regs.send(process), value)

    async def ipc_register(self, process: int, channel: int, handler: int) -> None:
        """Register ``handler`` for IPC channel ``channel`` of ``process``.

        Raises
        ------
        ZeroWord, IpcQueueFull, QueueFull
        """
        self._check_process(process)
        self._check("channel", channel, self._limits.channels)
        await self._write(process, regs.ipc_handler(process, channel), handler)

    # -- status --------------------------------------------------------------------------------

    async def occupancy(self, process: int, prio: int) -> int:
        """Entries of ``process`` at level ``prio`` (0 for levels >= NPRIO)."""
        self._check_process(process)
        self._check("priority", prio, MAX_LEVELS)
        return await self._read(process, regs.enqueue(process, prio))

    async def count(self, process: int) -> int:
        """Entries queued in ``process``."""
        self._check_process(process)
        return await self._read(process, regs.count(process)) & regs.COUNT_ENTRIES_MASK

    async def errors(self, process: int) -> set[str]:
        """Sticky causes recorded in ``process``'s ``error`` register (not cleared)."""
        self._check_process(process)
        return decode_errors(await self._read(process, regs.error(process)))

    async def clear_errors(self, process: int, causes=None) -> None:
        """Clear ``causes`` (names; all when ``None``) in ``process``'s ``error`` register."""
        self._check_process(process)
        names = CAUSES if causes is None else causes
        await self._write(process, regs.error(process), sum(1 << CAUSES[name] for name in names))

    async def notify_enable(self, process: int, hart: int, enable: bool = True) -> None:
        """Bind ``process``'s notification to ``notify[hart]`` and enable (or disable) it."""
        self._check_process(process)
        self._check("hart", hart, 1 << regs.NOTIFY_CTRL_HART_WIDTH)
        value = hart << regs.NOTIFY_CTRL_HART_SHIFT | int(enable) << regs.NOTIFY_CTRL_ENABLE_SHIFT
        await self._write(process, regs.notify_ctrl(process), value)

    async def irq_pending(self) -> int:
        """Lines whose interrupt waits for a handler (bit n is line n)."""
        return await self._read(0, regs.irq_pending(0))

    async def stream_drops(self) -> int:
        """Beats of the hardware enqueue stream refused since reset."""
        return await self._read(0, regs.stream_drops(0)) & regs.STREAM_DROPS_COUNT_MASK
