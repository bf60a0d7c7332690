"""The DMA reference model on its own (no simulator): descriptor processing, write-back,
coalescing and the error rules of docs/dma.md, plus the configuration checks."""

import pytest

from atsoc.hdl.dma.config import AXIDMAConfig
from atsoc.sim.driver import axi_dma as D
from atsoc.sim.model.dma import DECERR, SLVERR, TOKEN_EN, DMAModel, Fault


class Mem:
    def __init__(self, size=1 << 16):
        self.b = bytearray(size)

    def read(self, a, n):
        return bytes(self.b[a:a + n])

    def write(self, a, d):
        self.b[a:a + len(d)] = d


def setup(n=4):
    mem = Mem()
    alloc = D.Allocator(0x100, 0xFF00)
    return mem, alloc, D.Ring(mem, alloc, n), DMAModel(mem)


def test_mm2s_multi_descriptor_frame_and_threshold():
    mem, alloc, ring, m = setup()
    parts = [b"a" * 8, b"b" * 5]
    for i, p in enumerate(parts):
        a = alloc.alloc(64)
        mem.write(a, p)
        ring.set(i, D.BUFFER, a)
        ring.set(i, D.CONTROL, len(p) | (D.CTRL_TXSOF if i == 0 else 0) | (D.CTRL_TXEOF if i else 0))
    m.write(0x08, ring.addr(0))
    m.write(0x00, 1 | (2 << 16))
    m.write(0x10, ring.addr(1))
    assert m.tx_frames == [b"a" * 8 + b"b" * 5]
    assert ring.get(0, D.STATUS) == D.STS_CMPLT | 8 and ring.get(1, D.STATUS) == D.STS_CMPLT | 5
    assert m.read(0x04) >> 16 & 0xFF == 1 and m.read(0x04) & 2      # one packet, idle
    assert m.read(0x08) == ring.addr(1)


def test_s2mm_spanning_frame_app4_and_stale_cmplt():
    mem, alloc, ring, m = setup()
    bufs = [alloc.alloc(64) for _ in range(4)]
    for i in range(4):
        ring.set(i, D.BUFFER, bufs[i]); ring.set(i, D.CONTROL, 16)
    ring.set(3, D.STATUS, D.STS_CMPLT)
    m.write(0x38, ring.addr(0)); m.write(0x30, 1); m.write(0x40, ring.addr(3))
    m.offer(bytes(range(40)), 40)
    assert [ring.get(i, D.STATUS) for i in range(3)] == [
        D.STS_CMPLT | D.STS_RXSOF | 16, D.STS_CMPLT | 16, D.STS_CMPLT | D.STS_RXEOF | 8]
    assert ring.get(2, D.APP4) == 40 and mem.read(bufs[2], 8) == bytes(range(32, 40))
    m.offer(b"x")                                   # descriptor 3 has Cmplt set: SGIntErr
    assert m.read(0x34) & 0x4101 == 0x4101 and m.read(0x38) == ring.addr(3)
    assert m.read(0x00) & 1 == 0 and m.read(0x30) & 1 == 0


@pytest.mark.parametrize("resp,bit", [(SLVERR, 0x200), (DECERR, 0x400)])
def test_fetch_error_halts_at_the_descriptor(resp, bit):
    mem, alloc, ring, m = setup()
    m.faults.append(Fault(ring.addr(1), ring.addr(1) + 32, resp, "r"))
    for i in range(2):
        a = alloc.alloc(64)
        ring.set(i, D.BUFFER, a); ring.set(i, D.CONTROL, 4 | D.CTRL_TXEOF)
    m.write(0x08, ring.addr(0)); m.write(0x00, 1); m.write(0x10, ring.addr(1))
    assert m.read(0x04) & 0x4001 | bit == m.read(0x04) & (0x4001 | bit | 0x770)
    assert m.read(0x08) == ring.addr(1) and len(m.tx_frames) == 1
    m.write(0x00, 1)
    assert m.read(0x00) & 1 == 0, "RS refused until Reset"
    m.write(0x00, 4)
    assert m.read(0x04) == 0x00010009


def test_config_checks():
    with pytest.raises(ValueError):
        AXIDMAConfig(data_width=16)
    with pytest.raises(ValueError):
        AXIDMAConfig(max_burst_beats=24)
    with pytest.raises(ValueError):
        AXIDMAConfig(s2mm_fifo_depth=16)
    with pytest.raises(ValueError):
        AXIDMAConfig(addr_width=65)
    from atsoc.scripts.blocks import parameter_docs
    docs = parameter_docs(AXIDMAConfig)
    assert set(docs) == {"data_width", "max_burst_beats", "max_reads_outstanding", "s2mm_fifo_depth",
                         "status_stream", "completion_tokens", "scatter_gather", "addr_width", "base"}


def test_simple_mode_model():
    """Simple (direct register) mode: LENGTH starts a transfer, S2MM LENGTH reads back the bytes
    received (a longer frame continues in the next transfer), a LENGTH of 0 starts nothing, and
    a data error halts both channels until Reset."""
    mem = Mem()
    m = DMAModel(mem, scatter_gather=False)
    assert m.read(0x04) == 0x00010001                       # Halted, SGIncld 0
    mem.write(0x1000, bytes(range(100)))
    m.write(0x00, 1 | 0x7000)
    m.write(0x18, 0x1000)
    m.write(0x28, 0)
    assert m.tx_frames == [] and m.read(0x04) & 3 == 2
    m.write(0x28, 100)
    assert m.tx_frames == [bytes(range(100))] and m.read(0x04) & 0x1003 == 0x1002
    m.write(0x30, 1)
    m.write(0x48, 0x2000)
    m.write(0x58, 64)
    assert m.read(0x34) & 3 == 0                            # busy, waiting for a frame
    m.offer(bytes(range(70)))
    assert m.read(0x58) == 64 and mem.read(0x2000, 64) == bytes(range(64))
    m.write(0x58, 64)
    assert m.read(0x58) == 6 and mem.read(0x2000, 6) == bytes(range(64, 70))
    m.faults.append(Fault(0x1000, 0x1004, DECERR, "r"))
    m.write(0x28, 8)
    assert m.read(0x04) & 0x4041 == 0x4041 and m.read(0x00) & 1 == 0 and m.read(0x30) & 1 == 0
    assert m.read(0x34) & 1 and m.tx_frames[-1] == bytes(4) + bytes(range(4, 8))
    m.write(0x00, 4)
    assert m.read(0x04) == m.read(0x34) == 0x00010001


def test_model_tokens_and_writeback_order():
    """Completion tokens: one per descriptor completed without error (address | 1), none for
    the failing one; APP4 is written before STATUS, and a failing APP4 write leaves STATUS
    unwritten (SG error)."""
    mem, alloc, ring, _ = setup()
    m = DMAModel(mem, completion_tokens=True)
    for i in range(4):
        ring.set(i, D.BUFFER, alloc.alloc(64)); ring.set(i, D.CONTROL, 16)
    m.write(0x38, ring.addr(0)); m.write(0x30, 1 | TOKEN_EN); m.write(0x40, ring.addr(3))
    m.offer(bytes(20), 20)                          # descriptors 0 and 1
    assert m.tokens == [ring.addr(0) | 1, ring.addr(1) | 1]
    m.faults.append(Fault(ring.addr(2) + D.APP4, ring.addr(2) + D.APP4 + 4, SLVERR, "w"))
    m.offer(bytes(8), 8)                            # descriptor 2: APP4 write fails
    assert m.tokens == [ring.addr(0) | 1, ring.addr(1) | 1]
    assert ring.get(2, D.STATUS) == 0 and m.read(0x34) & 0x4201 == 0x4201
    assert m.read(0x38) == ring.addr(2)


def test_model_token_enable():
    """DMACR.TokenEn (bit 15, atsoc extension): reads 0 without completion_tokens; with them it
    is stored per channel, tokens come only from an enabled channel, a soft reset clears it."""
    mem, alloc, _, m = setup()                      # completion_tokens=False
    m.write(0x00, TOKEN_EN); m.write(0x30, TOKEN_EN)
    assert m.read(0x00) & TOKEN_EN == 0 == m.read(0x30) & TOKEN_EN
    for tok_en in (0, TOKEN_EN):
        tx, rx = D.Ring(mem, alloc, 2), D.Ring(mem, alloc, 2)
        for i in range(2):
            tx.set(i, D.BUFFER, alloc.alloc(64)); tx.set(i, D.CONTROL, 16 | D.CTRL_TXSOF | D.CTRL_TXEOF)
            rx.set(i, D.BUFFER, alloc.alloc(64)); rx.set(i, D.CONTROL, 16)
        m = DMAModel(mem, completion_tokens=True)
        assert m.read(0x00) == m.read(0x30) == 0x00010002
        m.write(0x08, tx.addr(0)); m.write(0x00, 1 | (TOKEN_EN ^ tok_en))
        m.write(0x38, rx.addr(0)); m.write(0x30, 1 | tok_en)
        assert m.read(0x30) & TOKEN_EN == tok_en and m.read(0x00) & TOKEN_EN == TOKEN_EN ^ tok_en
        m.write(0x10, tx.addr(1)); m.write(0x40, rx.addr(1))
        m.offer(bytes(16), 16)
        assert len(m.tx_frames) == 2 and rx.get(0, D.STATUS) & D.STS_CMPLT
        mine = [rx.addr(0) | 1] if tok_en else [tx.addr(0) | 1, tx.addr(1) | 1]
        assert m.tokens == mine
        m.write(0x00, 4)
        assert m.read(0x00) & TOKEN_EN == 0 == m.read(0x30) & TOKEN_EN
