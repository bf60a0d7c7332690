"""Scatter-gather descriptor layouts (PG021 v7.1, "Scatter Gather Descriptor"), 64-byte aligned.

The engine reads NXTDESC, BUFFER_ADDRESS (and their MSB words with 64-bit addresses), CONTROL
and STATUS (two bursts: from 0x00, and 0x18-0x1F); it writes STATUS and, on the last descriptor
of an S2MM frame, APP4 (frame length in [15:0]).
"""

from amaranth.lib import data


__all__ = ["ControlLayout", "StatusLayout", "DescriptorLayout", "FETCH_BYTES", "CONTROL_OFFSET",
           "STATUS_OFFSET", "APP4_OFFSET"]

FETCH_BYTES = 32
CONTROL_OFFSET = 0x18
STATUS_OFFSET = 0x1C
APP4_OFFSET = 0x30


class ControlLayout(data.Struct):
    """CONTROL word (offset 0x18)."""
    length: 26
    txeof: 1
    txsof: 1
    rsvd: 4


class StatusLayout(data.Struct):
    """STATUS word (offset 0x1C), written back by the engine."""
    transferred: 26
    rxeof: 1
    rxsof: 1
    int_err: 1
    slv_err: 1
    dec_err: 1
    cmplt: 1


class DescriptorLayout(data.Struct):
    """The fetched part of a descriptor."""
    nxtdesc: 32
    nxtdesc_msb: 32
    buffer: 32
    buffer_msb: 32
    rsvd0: 32
    rsvd1: 32
    control: ControlLayout
    status: StatusLayout
