"""Parameters of the AXI DMA engine, checked when the configuration is made."""

from dataclasses import dataclass


__all__ = ["AXIDMAConfig"]


@dataclass(frozen=True)
class AXIDMAConfig:
    """AXI DMA parameters (the PG021 scatter-gather core with the options of dma_eth.md).

    Parameters
    ----------
    data_width : int
        Width in bits of the AXI4 master's data bus and of both data streams, 32 or 64.
    max_burst_beats : int
        Longest data burst in beats, a power of two in 16..256. Bursts never cross a 4 KiB
        boundary; Keyhole (FIXED) bursts are limited to 16 beats as AXI4 requires.
    max_reads_outstanding : int
        Read bursts in flight on the AXI4 master at once (all requesters together), 2..16.
    s2mm_fifo_depth : int
        Beats of buffering between s_axis_s2mm and the write channel, a power of two of at
        least twice max_burst_beats.
    status_stream : bool
        Whether s_axis_s2mm_sts carries one word per frame with the frame length in [15:0]
        (written to APP4 of the frame's last descriptor). When false the port still exists but
        is never read and APP4[15:0] is the number of bytes the engine counted.
    completion_tokens : bool
        Whether m_axis_token emits one 64-bit word per completed descriptor (its address with
        bit 0 set), for the ATSINTC's hardware enqueue port, from each channel whose DMACR.TokenEn
        (bit 15, an atsoc extension, reset 0) software has set. When false the port is tied off
        and TokenEn reads 0.
    addr_width : int
        Address bits of the AXI4 master, 32..64 (PG021 c_addr_width). 32: the *_MSB registers
        and descriptor words are ignored (what ArceOS needs; Linux's CURDESC_MSB probe reads
        0). Above 32: CURDESC_MSB, TAILDESC_MSB (and SA_MSB/DA_MSB in simple mode) hold the upper
        address bits, the engine reads NXTDESC_MSB and BUFFER_ADDRESS_MSB, and TAILDESC is
        committed by the write of TAILDESC_MSB (PG021).
    scatter_gather : bool
        PG021 C_INCLUDE_SG. True: the scatter-gather engine (CURDESC/TAILDESC, descriptors).
        False: simple (direct register) mode: software sets DMACR.RS, writes SA (MM2S) or DA
        (S2MM), and the write of LENGTH starts one transfer; DMASR.SGIncld reads 0. S2MM LENGTH
        is the buffer size and reads back the bytes received (a frame ends at TLAST).
    base : int
        Bus address of the register window; documentation and generated headers only.
    """

    data_width: int = 32
    max_burst_beats: int = 16
    max_reads_outstanding: int = 4
    s2mm_fifo_depth: int = 64
    status_stream: bool = True
    completion_tokens: bool = False
    scatter_gather: bool = True
    addr_width: int = 32
    base: int = 0x4040_0000

    #: Address bits of the register window (4 KiB).
    REG_ADDR_WIDTH = 12

    def __post_init__(self):
        if self.data_width not in (32, 64):
            raise ValueError(f"data_width must be 32 or 64, not {self.data_width}")
        b = self.max_burst_beats
        if not 16 <= b <= 256 or b & (b - 1):
            raise ValueError(f"max_burst_beats must be a power of two in 16..256, not {b}")
        if not 2 <= self.max_reads_outstanding <= 16:
            raise ValueError(f"max_reads_outstanding must be 2..16, not {self.max_reads_outstanding}")
        if not 32 <= self.addr_width <= 64:
            raise ValueError(f"addr_width must be 32..64, not {self.addr_width}")
        d = self.s2mm_fifo_depth
        if d < 2 * b or d & (d - 1):
            raise ValueError(f"s2mm_fifo_depth must be a power of two >= 2 * max_burst_beats, not {d}")

    @property
    def bytes_per_beat(self) -> int:
        return self.data_width // 8
