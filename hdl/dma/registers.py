"""The AXI DMA register map (PG021 v7.1, "Register Space", scatter-gather mode), the one source of
truth for the RTL decoder, the driver constants, the C header and docs/registers/axi_dma.md.

S2MM registers are the MM2S ones plus 0x30. In 32-bit address mode the *_MSB registers are not
part of the map: they read 0 and ignore writes, which is what Linux's axienet probe (write all
ones to CURDESC_MSB, read back) uses to detect 32-bit addressing.
"""

from ..bus.regmap import Access, Field, Register, RegisterMap
from .config import AXIDMAConfig


__all__ = ["dma_register_map", "CHANNELS", "S2MM_OFFSET"]

#: Channel prefixes in register names, and the offset of the S2MM copy of the map.
CHANNELS = ("mm2s", "s2mm")
S2MM_OFFSET = 0x30


def _dmacr(ch):
    return [
        Field("rs", 0, 1, Access.RW, doc="Run/Stop. 1 runs the channel; 0 halts it after the "
              "descriptor in progress (DMASR.Halted shows when it stopped). Cleared by hardware on "
              "any error of either channel; a write of 1 is ignored while this channel has an "
              "error bit set (only Reset recovers)."),
        Field("one", 1, 1, Access.R, reset=1, doc="Reserved, reads 1 (PG021)."),
        Field("reset", 2, 1, Access.RW, doc="Soft reset of both channels: writing 1 stops new AXI "
              "transactions, waits for the ones in flight and resets every register of both "
              "channels. Reads 1 until the reset is done, then 0."),
        Field("keyhole", 3, 1, Access.RW, doc="Keyhole: data bursts use a fixed address (FIXED "
              "bursts of at most 16 beats). Takes effect from the next descriptor."),
        Field("cyclic", 4, 1, Access.RW, doc="Cyclic BD: a fetched descriptor with Cmplt already "
              "set is processed instead of raising SGIntErr. The channel still stops at TAILDESC."),
        Field("ioc_irqen", 12, 1, Access.RW, doc="Interrupt output on IOC_Irq."),
        Field("dly_irqen", 13, 1, Access.RW, doc="Interrupt output on Dly_Irq."),
        Field("err_irqen", 14, 1, Access.RW, doc="Interrupt output on Err_Irq."),
        Field("token_en", 15, 1, Access.RW, doc="atsoc extension (PG021: reserved, reads 0): "
              "completion-token enable of this channel. 1: every descriptor this channel completes "
              "without error pushes its token (descriptor address | 1) to m_axis_token, and the "
              "channel holds its completion while the token FIFO is full. 0 (reset, and after a "
              "soft reset): no tokens, never held, so a stock driver (which writes 0 here) never "
              "sees them. Only in builds with completion_tokens=True; otherwise reads 0 and "
              "ignores writes (a driver can probe for tokens by writing 1 and reading back)."),
        Field("irq_threshold", 16, 8, Access.RW, reset=1, doc="Packets per IOC interrupt. Writing 0 "
              "stores 1. A write of this byte reloads the threshold counter."),
        Field("irq_delay", 24, 8, Access.RW, doc="Delay timeout in units of 125 clock cycles after "
              "the end of a packet; 0 disables the delay interrupt."),
    ]


def _dmasr(ch, sg=True):
    return [
        Field("halted", 0, 1, Access.R, reset=1, doc="The channel is stopped (RS is 0 and no "
              "transfer of this channel is in progress)."),
        Field("idle", 1, 1, Access.R, doc="Running and waiting: every descriptor up to TAILDESC is "
              "done. 0 while halted."),
        Field("sgincld", 3, 1, Access.R, reset=int(sg), doc="Scatter-gather engine included "
              "(always 1)." if sg else "Scatter-gather engine included (0: simple mode)."),
        Field("dma_int_err", 4, 1, Access.R, doc="Internal error: a descriptor with buffer length 0."),
        Field("dma_slv_err", 5, 1, Access.R, doc="SLVERR on a data transfer."),
        Field("dma_dec_err", 6, 1, Access.R, doc="DECERR on a data transfer."),
        Field("sg_int_err", 8, 1, Access.R, doc="A descriptor fetched with Cmplt already set, "
              "Cyclic off."),
        Field("sg_slv_err", 9, 1, Access.R, doc="SLVERR on a descriptor fetch or status write-back."),
        Field("sg_dec_err", 10, 1, Access.R, doc="DECERR on a descriptor fetch or status write-back."),
        Field("ioc_irq", 12, 1, Access.RW1C, doc="The threshold counter expired (IRQThreshold "
              "packets completed, their status write-backs acknowledged). Write 1 to clear."),
        Field("dly_irq", 13, 1, Access.RW1C, doc="The delay timer reached IRQDelay. Write 1 to clear."),
        Field("err_irq", 14, 1, Access.RW1C, doc="An error of this channel halted it. Write 1 to "
              "clear (the error bits stay until Reset)."),
        Field("irq_threshold_sts", 16, 8, Access.R, reset=1, doc="Threshold counter: packets "
              "left before the next IOC_Irq."),
        Field("irq_delay_sts", 24, 8, Access.R, doc="Delay timer, in units of 125 cycles."),
    ]


def _msb(ch, base, what, aw):
    return Register(f"{ch}_{what}_msb", base, [
        Field(f"{what}_msb", 0, aw - 32, Access.RW, doc=f"Address bits [{aw - 1}:32] of "
              f"{what.upper()} (addresses above 32 bits)."
              + (" The write of this register commits TAILDESC (PG021, 64-bit address mode)."
                 if what == "taildesc" else "")),
    ], doc=f"{ch.upper()} {what.upper()} upper address bits.")


def _simple(ch, base, aw=32):
    up, addr = ch.upper(), ("sa" if ch == "mm2s" else "da")
    return [
        Register(f"{ch}_{addr}", base + 0x18, [
            Field(addr, 0, 32, Access.RW, doc="Buffer address of the next transfer (simple mode)."),
        ], doc=f"{up} {'source' if ch == 'mm2s' else 'destination'} address (simple mode)."),
    ] + ([_msb(ch, base + 0x1C, addr, aw)] if aw > 32 else []) + [
        Register(f"{ch}_length", base + 0x28, [
            Field("length", 0, 26, Access.RW, doc="Bytes to transfer; a non-zero write while "
                  "running and idle starts the transfer. " + (
                      "S2MM: the buffer size; reads back the bytes received once the transfer is "
                      "done (a frame shorter than the buffer ends at TLAST)." if ch == "s2mm"
                      else "MM2S: one frame, TLAST on its last beat.")),
        ], doc=f"{up} transfer length (simple mode)."),
    ]


def _channel(ch, base, sg=True, aw=32):
    up = ch.upper()
    return [
        Register(f"{ch}_dmacr", base + 0x00, _dmacr(ch), doc=f"{up} DMA control."),
        Register(f"{ch}_dmasr", base + 0x04, _dmasr(ch, sg), doc=f"{up} DMA status. Error bits are "
                 "sticky until Reset; IOC_Irq, Dly_Irq and Err_Irq are write-1-to-clear (mask 0x7000)."),
        Register(f"{ch}_curdesc", base + 0x08, [
            Field("curdesc", 6, 26, Access.RW, doc="Address bits [31:6] of the current descriptor "
                  "(64-byte aligned). Writable only while halted; the hardware updates it to the "
                  "descriptor being processed, and leaves it at the failing one on an error."),
        ], doc=f"{up} current descriptor pointer."),
        Register(f"{ch}_taildesc", base + 0x10, [
            Field("taildesc", 6, 26, Access.RW, doc="Address bits [31:6] of the last descriptor to "
                  "process (inclusive). A write while running and idle restarts from the NXTDESC of "
                  "the last descriptor processed; while busy it moves the pause point; while "
                  "halted it has no effect (not stored)."),
        ], doc=f"{up} tail descriptor pointer."),
    ] + ([_msb(ch, base + 0x0C, "curdesc", aw), _msb(ch, base + 0x14, "taildesc", aw)] if aw > 32 else []
         ) + ([] if sg else _simple(ch, base, aw))


def dma_register_map(config: AXIDMAConfig = AXIDMAConfig()) -> RegisterMap:
    """Build the register map for ``config``."""
    sg, aw = config.scatter_gather, config.addr_width
    amode = f"{aw}-bit address mode"
    msb_doc = ("the *_MSB registers are not implemented" if aw == 32 else
               "the *_MSB registers hold the upper address bits")
    if not sg:
        return RegisterMap(
            "axi_dma", _channel("mm2s", 0x00, sg, aw) + _channel("s2mm", S2MM_OFFSET, sg, aw),
            data_width=32, size=1 << AXIDMAConfig.REG_ADDR_WIDTH,
            doc=f"AXI DMA (PG021 v7.1 register layout), simple (direct register) mode, {amode} "
                f"(base {config.base:#010x}). Byte strobes are honoured. CURDESC and "
                "TAILDESC are unused in this mode.",
            reserved_doc=f"reads 0 and ignores writes (OKAY): {msb_doc}.")
    return RegisterMap("axi_dma", _channel("mm2s", 0x00, sg, aw) + _channel("s2mm", S2MM_OFFSET, sg, aw),
                       data_width=32, size=1 << AXIDMAConfig.REG_ADDR_WIDTH,
                       doc=f"AXI DMA (PG021 v7.1 register layout), scatter-gather mode, {amode} "
                           f"(base {config.base:#010x}). Byte strobes are honoured.",
                       reserved_doc="reads 0 and ignores writes (OKAY): SA/DA/LENGTH of simple mode"
                                    + (" and the *_MSB registers are not implemented." if aw == 32 else
                                       " are not implemented."))
