"""The PLIC register map (RISC-V PLIC specification v1.0.0, chapter "Memory Map"), the one source of
truth for the RTL decoder, the driver constants, the C header and docs/registers/plic.md."""

from ..bus.regmap import Access, Dim, Field, Register, RegisterMap
from .config import PLICConfig, ReservedPolicy


__all__ = ["plic_register_map"]


def plic_register_map(config: PLICConfig = PLICConfig()) -> RegisterMap:
    """Build the register map for ``config``."""
    P = config.priority_bits
    reserved = ("reads 0 and ignores writes, with no side effect; the response is "
                + ("SLVERR." if config.reserved_policy == ReservedPolicy.SLVERR else
                   "OKAY (with `reserved_policy=slverr` it is SLVERR)."))
    return RegisterMap("plic", [
        Register("priority", 0x000000, [
            Field("priority", 0, P, Access.RW, doc=f"Priority of the source, WARL: the low {P} bits of a "
                  "write are kept. 0 means never interrupt."),
        ], dims=[Dim("source", config.ids, 4)],
           doc="Interrupt priority of source N. Source 0 does not exist: it reads 0 and ignores writes."),
        Register("pending", 0x001000, [
            Field("pending", 0, 32, Access.R, doc="Bit k is the pending (IP) bit of source 32*word+k, "
                  "whatever the enables. Bit 0 of word 0 and bits above the last source read 0."),
        ], dims=[Dim("word", config.words, 4)],
           doc="Pending bits, read-only: writes are ignored. A claim clears the claimed bit."),
        Register("enable", 0x002000, [
            Field("enable", 0, 32, Access.RW, doc="Bit k enables source 32*word+k for the context. "
                  "Bit 0 of word 0 and bits above the last source read 0 and ignore writes."),
        ], dims=[Dim("context", config.contexts, 0x80), Dim("word", config.words, 4)],
           doc="Interrupt enables of each context."),
        Register("threshold", 0x200000, [
            Field("threshold", 0, P, Access.RW, doc=f"WARL, low {P} bits kept. EIP is raised only by "
                  "sources whose priority is strictly greater."),
        ], dims=[Dim("context", config.contexts, 0x1000)],
           doc="Priority threshold of each context."),
        Register("claim", 0x200004, [
            Field("id", 0, 32, Access.RW, doc="Read: claim, the ID of the highest-priority pending source "
                  "enabled for the context (ties to the lowest ID, threshold ignored), whose pending bit is "
                  "cleared atomically; 0 if none. Write: complete, re-opens the gateway of the written ID "
                  "if it is a source enabled for the context; anything else is ignored."),
        ], dims=[Dim("context", config.contexts, 0x1000)],
           doc="Claim (read) and complete (write) of each context."),
    ], data_width=32, size=1 << PLICConfig.ADDR_WIDTH,
        doc="RISC-V Platform-Level Interrupt Controller, laid out as in QEMU's `virt` machine "
            f"(base {config.base:#010x}). All registers are 32 bits; only aligned full-word accesses "
            "are defined: a write with a partial WSTRB is ignored (and answered SLVERR under "
            "`reserved_policy=slverr`). Address bits [1:0] are ignored.",
        reserved_doc=reserved)
