"""Transaction-level Python reference model of the ATSINTC.

The model follows the behaviour contract ``docs/atsintc.md`` (cited below as "atsintc.md,
<section>") of the block specified in ``shared/spec/atsintc.md``. It has no clock: every bus access
(:meth:`ATSINTCModel.read`, :meth:`ATSINTCModel.write`) and every beat of the hardware enqueue
stream (:meth:`ATSINTCModel.stream_push`) is one operation of the sequencer, carried out at once;
:meth:`ATSINTCModel.settle` carries out the hardware work that is waiting (interrupt wakes), in the
documented order. The caller chooses how bus and hardware operations interleave (a bus adapter
such as :class:`~atsoc.sim.driver.mmio.TransactionMmio` settles between accesses: "bus and
hardware alternate under load", atsintc.md, "Behaviour").

The model never imports the RTL; it decodes addresses with the register-map description
(:func:`atsoc.hdl.atsintc.registers.atsintc_register_map`), the one source of truth for addresses.

Choices where atsintc.md leaves room (the RTL is expected to make the same ones):

* one refused operation sets exactly one cause bit: malformed requests first (``partial_write``,
  then ``zero_word`` / ``bad_level`` / ``bad_target``), then the state-dependent causes
  (``queue_full``, ``irq_queue_full``, ``ipc_queue_full``, ``send_full``);
* an interrupt request whose owner's queue is full is not latched: it is retried while the line
  is high and the gateway open (a level line that drops meanwhile has no request);
* a handler delivered at registration (a pending interrupt or a pending send) is a hardware
  delivery: it sets the receiving process's notification, as an interrupt or IPC wake does;
* ``stream_drops`` wraps at 2**32.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from atsoc.hdl.atsintc.config import ATSINTCConfig
from atsoc.hdl.atsintc.registers import ErrorCause, atsintc_register_map


__all__ = ["ATSINTCModel", "IrqHandler", "FULL_STROBE", "STORED", "DROPPED", "WAIT"]

#: Queue registers are written whole (atsintc.md, "Register map": ``partial_write``).
FULL_STROBE = 0xFF
WORD_MASK = (1 << 64) - 1
#: Byte lanes of a 64-bit word.
_LANES = 8
#: Writable bits of ``notify_ctrl``: enable (bit 0) and hart (bits 13:8).
NOTIFY_CTRL_MASK = 0x3F01
DROPS_MASK = (1 << 32) - 1

#: Outcomes of :meth:`ATSINTCModel.stream_push`.
STORED, DROPPED, WAIT = "stored", "dropped", "wait"

#: Registers whose writes are queue operations (need WSTRB 0xFF).
_QUEUE_REGISTERS = ("enqueue", "send", "ipc_handler", "intr_handler")
#: Registers that read 0 (write-only actions).
_WRITE_ONLY = ("send", "ipc_handler", "intr_handler")


@dataclass(frozen=True)
class IrqHandler:
    """A handler word waiting in an interrupt line's blocked queue, tagged with its owner."""

    owner: int
    word: int


class _Refused(Exception):
    """Internal: an operation is refused with ``cause`` (a bit of ``error``)."""

    def __init__(self, cause: int):
        super().__init__(cause)
        self.cause = cause


class ATSINTCModel:
    """The ATSINTC at transaction level.

    Parameters
    ----------
    config : ATSINTCConfig
        The same parameters the RTL is built with.

    Attributes
    ----------
    regmap : RegisterMap
        The register map the model decodes addresses with.
    size : int
        Size of the register window in bytes (all process windows).
    data_width : int
        Bus data width in bits (64).
    lines : int
        ``irq_sources``: bit n is interrupt line n (level, active high).
    queues : list of list of deque of int
        ``queues[i][p]``: the words of process i at level p, oldest first.
    error : list of int
        Sticky cause bits of each process (:class:`ErrorCause`).
    notify_ctrl : list of int
        ``notify_ctrl`` of each process (enable bit 0, hart bits 13:8).
    notification : list of bool
        Notification of each process (set by hardware stores, cleared by a dequeue).
    irq_blocked : list of deque of IrqHandler
        Blocked queue of each interrupt line, oldest first.
    gateway_open : int
        Bit n: line n's gateway is open (all open after reset).
    irq_pending : int
        Bit n: line n fired and waits for a handler.
    ipc_blocked : list of list of deque of int
        ``ipc_blocked[q][k]``: handlers of channel k of process q, oldest first.
    send_pending : list of list of int
        ``send_pending[q][k]``: sends kept for channel k of process q.
    stream_drops : int
        Beats of the enqueue stream accepted but not stored.
    """

    def __init__(self, config: ATSINTCConfig = ATSINTCConfig()):
        self.config = config
        self.regmap = atsintc_register_map(config)
        self.size = self.regmap.size
        self.data_width = self.regmap.data_width
        self._line_mask = (1 << config.irq_lines) - 1
        self._info = self.regmap["info"].reset
        self._slverr_policy = config.reserved_policy == "slverr"
        self.reset()

    # -- state ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Return every register and queue to its reset state (``lines`` is kept)."""
        cfg = self.config
        self.lines = getattr(self, "lines", 0)
        self.queues = [[deque() for _ in range(cfg.priorities)] for _ in range(cfg.processes)]
        self.error = [0] * cfg.processes
        self.notify_ctrl = [0] * cfg.processes
        self.notification = [False] * cfg.processes
        self.irq_blocked = [deque() for _ in range(cfg.irq_lines)]
        self.gateway_open = self._line_mask
        self.irq_request = 0        # latched by an open gateway, not yet served
        self.irq_pending = 0
        self.ipc_blocked = [[deque() for _ in range(cfg.channels)] for _ in range(cfg.processes)]
        self.send_pending = [[0] * cfg.channels for _ in range(cfg.processes)]
        self.stream_drops = 0

    def count(self, process: int) -> int:
        """Entries queued in ``process`` (the ``count`` register)."""
        return sum(len(level) for level in self.queues[process])

    def full(self, process: int) -> bool:
        """Whether ``process`` holds ``capacity`` entries."""
        return self.count(process) >= self.config.capacity

    @property
    def notify(self) -> int:
        """The ``notify`` output: bit h is the OR of the notifications of the processes with
        ``notify_ctrl.enable`` set and bound to hart h (atsintc.md, "Behaviour", Notification)."""
        out = 0
        for i, ctrl in enumerate(self.notify_ctrl):
            hart = (ctrl >> 8) & 0x3F
            if ctrl & 1 and self.notification[i] and hart < self.config.harts:
                out |= 1 << hart
        return out

    @property
    def irq_waiting(self) -> int:
        """Bit n: line n's latched request waits for room in its owner's queue."""
        waiting = 0
        for n in _bits(self.irq_request):
            blocked = self.irq_blocked[n]
            if blocked and self.full(blocked[0].owner):
                waiting |= 1 << n
        return waiting

    # -- queue primitives ----------------------------------------------------------------------

    def _store(self, process: int, level: int, word: int, *, hardware: bool) -> None:
        """Append ``word`` at ``level`` of ``process``; a hardware store sets the notification."""
        if self.full(process):
            raise _Refused(ErrorCause.QUEUE_FULL)
        self.queues[process][level].append(word)
        if hardware:
            self.notification[process] = True

    def _dequeue(self, process: int) -> int:
        """Pop the head of the lowest non-empty level (0 when empty); clear the notification."""
        self.notification[process] = False
        for level in self.queues[process]:
            if level:
                return level.popleft()
        return 0

    # -- bus operations (atsintc.md, "Behaviour") ------------------------------------------------

    def _enqueue(self, process: int, level: int, word: int) -> None:
        if word == 0:
            raise _Refused(ErrorCause.ZERO_WORD)
        if level >= self.config.priorities:
            raise _Refused(ErrorCause.BAD_LEVEL)
        self._store(process, level, word, hardware=False)

    def _register_irq(self, process: int, line: int, word: int) -> None:
        """Registration of handler ``word`` for ``line`` from ``process``."""
        bit = 1 << line
        if word == 0:
            raise _Refused(ErrorCause.ZERO_WORD)
        if self.irq_pending & bit:                 # delivered now; the gateway stays closed
            self._store(process, 0, word, hardware=True)
            self.irq_pending &= ~bit
            return
        blocked = self.irq_blocked[line]
        if len(blocked) >= self.config.irq_queue_depth:
            raise _Refused(ErrorCause.IRQ_QUEUE_FULL)
        blocked.append(IrqHandler(process, word))
        self.gateway_open |= bit
        self._latch()              # a line already high latches at the next clock edge

    def _send(self, value: int) -> None:
        """IPC send to (receiver, channel) encoded in ``value``; refusals go to the sender."""
        receiver = value & 0xFFFF
        channel = (value >> 16) & 0xFF
        if receiver >= self.config.processes or channel >= self.config.channels:
            raise _Refused(ErrorCause.BAD_TARGET)
        blocked = self.ipc_blocked[receiver][channel]
        if blocked:
            self._store(receiver, 0, blocked[0], hardware=True)   # the handler stays if refused
            blocked.popleft()
            return
        if self.send_pending[receiver][channel] >= self.config.send_pending_limit:
            raise _Refused(ErrorCause.SEND_FULL)
        self.send_pending[receiver][channel] += 1

    def _register_ipc(self, process: int, channel: int, word: int) -> None:
        """Registration of handler ``word`` for channel ``channel`` of ``process``."""
        if word == 0:
            raise _Refused(ErrorCause.ZERO_WORD)
        if self.send_pending[process][channel]:
            self._store(process, 0, word, hardware=True)
            self.send_pending[process][channel] -= 1
            return
        blocked = self.ipc_blocked[process][channel]
        if len(blocked) >= self.config.ipc_queue_depth:
            raise _Refused(ErrorCause.IPC_QUEUE_FULL)
        blocked.append(word)

    # -- the bus -------------------------------------------------------------------------------

    def _decode(self, offset: int):
        """``(name, indices)`` of the register at ``offset``, or ``None`` when reserved."""
        if not 0 <= offset < self.size:
            return None
        hit = self.regmap.decode(offset)
        if hit is None:
            return None
        reg, idx = hit
        return reg.name, idx

    def read(self, offset: int) -> tuple[int, bool]:
        """One read access at byte ``offset`` of the block.

        Returns
        -------
        (data, slverr)
            The 64-bit word of the register (the bus picks the byte lanes) and the response.
        """
        hit = self._decode(offset)
        if hit is None:
            return 0, self._slverr_policy
        name, idx = hit
        process = idx[0]
        if name == "dequeue":
            return self._dequeue(process), False
        if name == "enqueue":
            level = idx[1]
            occupancy = len(self.queues[process][level]) if level < self.config.priorities else 0
            return occupancy, False
        if name in _WRITE_ONLY:
            return 0, False
        return {
            "error": lambda: self.error[process],
            "count": lambda: self.count(process),
            "notify_ctrl": lambda: self.notify_ctrl[process],
            "irq_pending": lambda: self.irq_pending,
            "stream_drops": lambda: self.stream_drops,
            "info": lambda: self._info,
        }[name](), False

    def write(self, offset: int, data: int, strb: int = FULL_STROBE) -> bool:
        """One write access at byte ``offset`` with byte strobes ``strb``.

        Returns
        -------
        bool
            ``True`` when the write is answered SLVERR (refused, or reserved under the
            ``slverr`` policy). A refused write sets its cause bit in the error register of
            the window's process and changes nothing else.
        """
        hit = self._decode(offset)
        if hit is None:
            return self._slverr_policy
        name, idx = hit
        process = idx[0]
        data &= WORD_MASK
        strb &= FULL_STROBE
        if name == "error":
            self.error[process] &= ~(data & _strobe_mask(strb))
            return False
        if name == "notify_ctrl":
            keep = self.notify_ctrl[process] & ~_strobe_mask(strb)
            self.notify_ctrl[process] = (keep | data & _strobe_mask(strb)) & NOTIFY_CTRL_MASK
            return False
        if name not in _QUEUE_REGISTERS:           # read-only: ignored, OKAY
            return False
        try:
            if strb != FULL_STROBE:
                raise _Refused(ErrorCause.PARTIAL_WRITE)
            if name == "enqueue":
                self._enqueue(process, idx[1], data)
            elif name == "send":
                self._send(data)
            elif name == "ipc_handler":
                self._register_ipc(process, idx[1], data)
            else:
                self._register_irq(process, idx[1], data)
        except _Refused as refused:
            self.error[process] |= 1 << refused.cause
            return True
        return False

    # -- hardware ------------------------------------------------------------------------------

    def set_lines(self, lines: int) -> None:
        """Set ``irq_sources`` (bit n is line n). A line high while its gateway is open latches a
        request and closes the gateway (the RTL does so at the next clock edge, whatever else it
        is doing, so even a one-cycle pulse is kept); :meth:`settle` serves the requests."""
        self.lines = lines & self._line_mask
        self._latch()

    def _latch(self) -> None:
        # A gateway whose previous request still waits does not latch again (no merging).
        new = self.lines & self.gateway_open & ~self.irq_request
        self.irq_request |= new
        self.gateway_open &= ~new

    def settle(self) -> None:
        """Serve the latched interrupt requests, lowest line first (atsintc.md, "Behaviour").

        The oldest handler of the line moves to its owner's level 0; with no handler the request
        becomes pending (delivered at the next registration); when the owner's queue is full the
        request stays latched and is served at a later settle.
        """
        # One request at a time, lowest line first, latching again after each (the RTL serves
        # one per sequencer operation and its gateways latch at every clock edge).
        while True:
            self._latch()
            for n in _bits(self.irq_request):
                bit = 1 << n
                blocked = self.irq_blocked[n]
                if not blocked:
                    self.irq_pending |= bit
                elif self.full(blocked[0].owner):
                    continue
                else:
                    head = blocked.popleft()
                    self._store(head.owner, 0, head.word, hardware=True)
                self.irq_request &= ~bit
                break
            else:
                return

    def stream_push(self, process: int, priority: int, word: int) -> str:
        """Offer one beat of the hardware enqueue stream (after the waiting interrupt wakes,
        which go first among hardware requests).

        Returns
        -------
        str
            ``"stored"``; ``"dropped"`` (accepted, not stored, counted in ``stream_drops``: word
            0, priority >= NPRIO or process >= NPROC); or ``"wait"`` (the process's queue is
            full: not accepted, ``tready`` stays low, offer it again later).
        """
        self.settle()
        cfg = self.config
        if word == 0 or priority >= cfg.priorities or process >= cfg.processes:
            self.stream_drops = (self.stream_drops + 1) & DROPS_MASK
            return DROPPED
        if self.full(process):
            return WAIT
        self._store(process, priority, word & WORD_MASK, hardware=True)
        return STORED


def _strobe_mask(strb: int) -> int:
    """The data bits selected by byte strobes ``strb``."""
    return sum(0xFF << 8 * lane for lane in range(_LANES) if strb >> lane & 1)


def _bits(vector: int):
    """Indices of the set bits of ``vector``, lowest first."""
    while vector:
        low = vector & -vector
        yield low.bit_length() - 1
        vector ^= low
