"""The ATSINTC register map (V2-compatible offsets, ../shared/spec/atsintc.md "Register map"; the
extension registers live in 0xC00..0xDFF of each process window). One source of truth for the RTL
decoder, sim/driver/regs/atsintc.py, include/atsoc/atsintc.h and docs/registers/atsintc.md."""

from ..bus.regmap import Access, Dim, Field, Register, RegisterMap
from .config import ATSINTCConfig


__all__ = ["atsintc_register_map", "ErrorCause", "MAX_LEVELS"]

#: Enqueue registers decoded in a window (0x008 .. 0x7F8): levels >= NPRIO are refused (bad_level).
MAX_LEVELS = 255


class ErrorCause:
    """Bit positions of the ``error`` register."""

    QUEUE_FULL = 0
    ZERO_WORD = 1
    BAD_LEVEL = 2
    IRQ_QUEUE_FULL = 3
    IPC_QUEUE_FULL = 4
    SEND_FULL = 5
    BAD_TARGET = 6
    PARTIAL_WRITE = 7
    ALL = {"queue_full": 0, "zero_word": 1, "bad_level": 2, "irq_queue_full": 3, "ipc_queue_full": 4,
           "send_full": 5, "bad_target": 6, "partial_write": 7}


def atsintc_register_map(config: ATSINTCConfig = ATSINTCConfig()) -> RegisterMap:
    """Build the register map for ``config``."""
    proc = Dim("process", config.processes, ATSINTCConfig.WINDOW)
    err_fields = [Field(name, bit, 1, Access.RW1C, doc=doc) for name, bit, doc in (
        ("queue_full", 0, "An enqueue or a delivery found the process's queue at capacity."),
        ("zero_word", 1, "0 was enqueued or registered as a handler (0 means empty)."),
        ("bad_level", 2, "Enqueue at a level >= NPRIO."),
        ("irq_queue_full", 3, "An interrupt handler registration found the line's blocked queue full."),
        ("ipc_queue_full", 4, "An IPC handler registration found the channel's blocked queue full."),
        ("send_full", 5, "A send found the receiver channel's pending count at its limit."),
        ("bad_target", 6, "A send named a process >= NPROC or a channel >= NCHAN."),
        ("partial_write", 7, "A queue register was written with WSTRB other than 0xFF."),
    )]
    reserved = ("reads 0 and ignores writes, with no side effect; the response is "
                + ("SLVERR." if config.reserved_policy == "slverr" else
                   "OKAY (with `reserved_policy=slverr` it is SLVERR)."))
    return RegisterMap("atsintc", [
        Register("dequeue", 0x000, [
            Field("word", 0, 64, Access.R, doc="The entry popped, 0 when the process has none."),
        ], dims=[proc], doc="Read: pop the highest-priority entry (lowest level number; FIFO in a level) "
           "of this process and clear its notification. Writes are ignored."),
        Register("enqueue", 0x008, [
            Field("word", 0, 64, Access.RW, doc="Write: the non-zero word to push. Read: occupancy of the level "
                  "(0 for levels >= NPRIO)."),
        ], dims=[proc, Dim("level", MAX_LEVELS, 8)],
           doc=f"Push at level `level`. Refused with SLVERR (error register) when the word is 0, the level is "
               f">= NPRIO ({config.priorities}) or the process holds `capacity` ({config.capacity}) entries."),
        Register("send", 0x800, [
            Field("receiver", 0, 16, Access.W, doc="Receiver process."),
            Field("channel", 16, 8, Access.W, doc="Channel of the receiver."),
        ], dims=[proc], doc="IPC send: wake the receiver's oldest handler of the channel, or count the send "
           "as pending until a handler registers."),
        Register("ipc_handler", 0x808, [
            Field("word", 0, 64, Access.W, doc="Handler word (non-zero)."),
        ], dims=[proc, Dim("channel", config.channels, 8)],
           doc="Register a handler for IPC channel `channel` of this process."),
        Register("intr_handler", 0x900, [
            Field("word", 0, 64, Access.W, doc="Handler word (non-zero)."),
        ], dims=[proc, Dim("line", config.irq_lines, 8)],
           doc="Register a handler for interrupt line `line`, owned by this process."),
        Register("error", 0xC00, err_fields, dims=[proc],
                 doc="Sticky causes of refused operations of this process; write 1 to clear."),
        Register("count", 0xC08, [
            Field("entries", 0, 13, Access.R, doc="Entries queued in this process."),
        ], dims=[proc], doc="Occupancy of the process's queue."),
        Register("notify_ctrl", 0xC10, [
            Field("enable", 0, 1, Access.RW, doc="Raise `notify` of the bound hart on hardware wakes."),
            Field("hart", 8, 6, Access.RW, doc="Hart this process is bound to."),
        ], dims=[proc], doc="Notification control of this process."),
        Register("irq_pending", 0xC18, [
            Field("lines", 0, 64, Access.R, doc="Bit n: line n fired and waits for a handler."),
        ], dims=[proc], doc="Interrupts waiting for a handler (the same in every window)."),
        Register("stream_drops", 0xC20, [
            Field("count", 0, 32, Access.R, doc="Beats accepted but not stored (word 0, bad level or process)."),
        ], dims=[proc], doc="Refused beats of the hardware enqueue stream (the same in every window)."),
        Register("info", 0xC28, [
            Field("priorities", 0, 8, Access.R, reset=config.priorities & 0xFF, doc="NPRIO."),
            Field("capacity", 8, 16, Access.R, reset=config.capacity & 0xFFFF, doc="Entries per process."),
            Field("processes", 24, 8, Access.R, reset=config.processes, doc="NPROC."),
            Field("irq_lines", 32, 8, Access.R, reset=config.irq_lines, doc="NIRQ."),
            Field("channels", 40, 8, Access.R, reset=config.channels, doc="NCHAN."),
        ], dims=[proc], doc="Configuration, for discovery by drivers."),
    ], data_width=64, size=1 << config.addr_width,
        doc="Asynchronous task scheduler and interrupt controller: per-process priority queues, "
            f"interrupt and IPC handler queues. Process i's window is at base ({config.base:#x}) + "
            "i*0x1000. All registers are 64 bits; queue registers need full 64-bit writes "
            "(WSTRB 0xFF), otherwise the write is refused (`partial_write`).",
        reserved_doc=reserved)
