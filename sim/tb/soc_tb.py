"""cocotb testbench of the SoC top (``soc``): cocotbext-axi's AxiLiteMaster on the 64-bit CPU port
(through :class:`~atsoc.sim.tb.axil_mmio.AxiLiteMmio`), AxiRam on the DMA's memory port,
cocotbext-eth's GmiiSource/GmiiSink on the wire with their own clocks, and the project's
reference drivers (PLIC, ATSINTC, AXI DMA as Linux axienet drives it, AXI Ethernet) at the
addresses of the memory map.

The configuration is the default :class:`SocConfig` (the one docs/soc.md documents).
"""

from __future__ import annotations

import logging
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import AxiBus, AxiRam
from cocotbext.eth import GmiiFrame, GmiiSink, GmiiSource

from atsoc.hdl.soc.config import SocConfig
from atsoc.sim.driver import axi_dma as D
from atsoc.sim.driver import eth_mac as E
from atsoc.sim.driver.atsintc import AtsIntcDriver
from atsoc.sim.driver.mmio import BusError, Resp
from atsoc.sim.driver.plic import PlicDriver
from atsoc.sim.driver.regs import atsintc as RA
from atsoc.sim.driver.regs import axi_dma as RD
from atsoc.sim.driver.regs import eth_mac as RE
from atsoc.sim.driver.regs import plic as RP
from atsoc.sim.tb.axil_mmio import AxiLiteMmio


SYS_PS, RX_PS, TX_PS = 8000, 8000, 7992        # 125 MHz system; PHY clocks -0/+100 ppm
RAM_SIZE = 1 << 20
STATION = bytes.fromhex("020000000001")
OTHER = bytes.fromhex("020000000099")
PEER = bytes.fromhex("02000000abcd")


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def frame(rng: random.Random, size: int, dst: bytes = STATION) -> bytes:
    """An Ethernet frame without FCS: destination, source, EtherType 0x88B5, random payload."""
    return dst + PEER + b"\x88\xb5" + bytes(rng.randrange(256) for _ in range(size - 14))


class Bench:
    """Clocks, reset, memory, wire models and the drivers at the SoC's addresses."""

    def __init__(self, dut):
        self.dut = dut
        self.cfg = SocConfig()
        self.rng = random.Random(cocotb.RANDOM_SEED)
        cocotb.start_soon(Clock(dut.clk, SYS_PS, unit="ps").start())
        cocotb.start_soon(Clock(dut.gmii_rx_clk, RX_PS, unit="ps").start(start_high=False))
        cocotb.start_soon(Clock(dut.gmii_tx_clk, TX_PS, unit="ps").start())
        for name in ("irq_sources", "gmii_rxd", "gmii_rx_dv", "gmii_rx_er"):
            getattr(dut, name).value = 0
        dut.mdio_i.value = 1
        self.wire_src = GmiiSource(dut.gmii_rxd, dut.gmii_rx_er, dut.gmii_rx_dv, dut.gmii_rx_clk)
        self.wire_sink = GmiiSink(dut.gmii_txd, dut.gmii_tx_er, dut.gmii_tx_en, dut.gmii_tx_clk)
        self.ram = AxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk, dut.rst, size=RAM_SIZE)
        self.mmio = AxiLiteMmio(dut, "s_axil", irq=dut.eip)
        for o in (self.wire_src, self.wire_sink, self.ram.write_if, self.ram.read_if):
            o.log.setLevel(logging.WARNING)
        c = self.cfg
        self.plic = PlicDriver(self.mmio, c.plic_base, c.plic.sources, c.plic.contexts)
        self.ats = AtsIntcDriver(self.mmio, c.atsintc_base, c.atsintc)
        self.alloc = D.Allocator(0x1000, RAM_SIZE - 0x1000)
        self.mac = E.AxiEthernetDriver(self.mmio, c.mac_base)

    async def start(self):
        dut = self.dut
        dut.rst.value = 1
        await ClockCycles(dut.clk, 10)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 10)
        return self

    async def expect_decerr(self, addr: int, width: int = 32, write: bool = False):
        try:
            if write:
                await self.mmio.write(addr, 0x5A5A5A5A, width)
            else:
                await self.mmio.read(addr, width)
        except BusError as e:
            check(e.resp == Resp.DECERR, f"{addr:#x}: {e.resp.name}, expected DECERR")
        else:
            raise AssertionError(f"{'write' if write else 'read'} at {addr:#x} answered OKAY, expected DECERR")

    async def wait_eip(self, context: int, cycles: int = 20_000):
        await self.mmio.wait_irq(context, cycles)

    async def wire_frame(self, timeout_us: float = 200) -> bytes:
        """The next transmitted frame, checked (preamble, no tx_er, FCS), without its FCS."""
        f: GmiiFrame = await with_timeout(self.wire_sink.recv(), timeout_us, "us")
        check(not f.error or not any(f.error), "tx_er asserted")
        check(f.check_fcs(), "bad FCS on the wire")
        return bytes(f.get_payload(strip_fcs=True))


# ================================================================================================
# Every block at its address; holes; lanes
# ================================================================================================

@cocotb.test()
async def registers(dut):
    """Each block answers at its base with its reset/ID values; holes answer DECERR; 32-bit
    registers on both halves of the 64-bit port; a 64-bit write to a 32-bit block is split."""
    b = await Bench(dut).start()
    c, m = b.cfg, b.mmio
    # ATSINTC: 64-bit info register of process 0 and of the last process.
    check(await m.read(c.atsintc_base + RA.info(0), 64) == RA.INFO_RESET, "ATSINTC info (process 0)")
    last = c.atsintc.processes - 1
    check(await m.read(c.atsintc_base + RA.info(last), 64) == RA.INFO_RESET, "ATSINTC info (last process)")
    # DMA: DMASR of both channels (MM2S at +0x04: upper half; S2MM at +0x34: upper half), DMACR.
    check(await m.read(c.dma_base + RD.MM2S_DMASR) == RD.MM2S_DMASR_RESET, "DMA MM2S_DMASR reset")
    check(await m.read(c.dma_base + RD.S2MM_DMASR) == RD.S2MM_DMASR_RESET, "DMA S2MM_DMASR reset")
    check(await m.read(c.dma_base + RD.MM2S_DMACR) == RD.MM2S_DMACR_RESET, "DMA MM2S_DMACR reset")
    # MAC: ID (0x4F8, upper half) and IS (MgtRdy, PhyRstCmplt read 1 after reset).
    check(await m.read(c.mac_base + RE.ID) == RE.ID_RESET, "MAC ID")
    check(await m.read(c.mac_base + RE.INTR_STATUS) == RE.INTR_STATUS_RESET, "MAC IS reset")
    # PLIC: priorities reset to 0; writes to both halves land in the right register.
    for n in (1, 2, 3):
        check(await m.read(c.plic_base + RP.priority(n)) == 0, f"PLIC priority {n} reset")
    await m.write(c.plic_base + RP.priority(1), 5)            # upper half (offset 4)
    await m.write(c.plic_base + RP.priority(2), 6)            # lower half (offset 8)
    check(await m.read(c.plic_base + RP.priority(1)) == 5, "PLIC priority 1 (upper lanes)")
    check(await m.read(c.plic_base + RP.priority(2)) == 6, "PLIC priority 2 (lower lanes)")
    # A 64-bit store to a 32-bit block: two writes, low register first.
    await m.write(c.plic_base + RP.priority(2), (3 << 32) | 7, 64)
    check(await m.read(c.plic_base + RP.priority(2)) == 7, "64-bit store: low register")
    check(await m.read(c.plic_base + RP.priority(3)) == 3, "64-bit store: high register")
    # A 64-bit load of a 32-bit block returns the addressed register on both halves.
    check(await m.read(c.plic_base + RP.priority(2), 64) == (7 << 32) | 7, "64-bit load replicated")
    # Narrow writes keep their lanes (the MAC's UAW0 takes byte strobes).
    await m.write(c.mac_base + RE.UAW0, 0x44332211)
    await m.write(c.mac_base + RE.UAW0 + 1, 0xAB, 8)
    check(await m.read(c.mac_base + RE.UAW0) == 0x4433AB11, "byte write to a 32-bit block")
    # DMA register writes through the converter (CURDESC at +0x08, lower half; halted: writable).
    await m.write(c.dma_base + RD.MM2S_CURDESC, 0x1240)
    check(await m.read(c.dma_base + RD.MM2S_CURDESC) == 0x1240, "DMA CURDESC write")
    # ATSINTC queue through the port: 64-bit words in and out.
    await b.ats.ps_push(2, 0x1234_5678_9ABC_DEF0, 3)
    check(await b.ats.ps_fetch(2) == 0x1234_5678_9ABC_DEF0, "ATSINTC 64-bit enqueue/dequeue")
    check(await b.ats.ps_fetch(2) == 0, "ATSINTC empty after the dequeue")
    # Holes: below, between and above the windows, and the undecoded rest of each window.
    holes = [0x0, 0x0BFF_FFF8, c.atsintc_base + (1 << c.atsintc.addr_width),
             c.atsintc_base + c.atsintc_size - 8, c.dma_base + 0x1000, c.dma_base + c.dma_size - 4,
             c.mac_base + 0x1000, c.mac_base + c.mac_size - 4, 0x6012_0000, 0x8000_0000, 0xFFFF_FFF8]
    for addr in holes:
        await b.expect_decerr(addr)
        await b.expect_decerr(addr, write=True)
        await b.expect_decerr(addr & ~7, 64)
    # A hole costs nothing: the blocks still answer afterwards.
    check(await m.read(c.mac_base + RE.ID) == RE.ID_RESET, "MAC ID after the holes")


# ================================================================================================
# Frames through DMA and MAC; interrupts to both controllers; completion tokens
# ================================================================================================

async def _setup_system(b: Bench):
    """PLIC (xv6: priority 1, hart 0 S-mode enables, threshold 0), MAC (reset, station address,
    TX/RX on) and DMA (Linux axienet rings, interrupts on, coalescing 1, plus the one atsoc
    extension: DMACR.TokenEn set on both channels, so completions also come as tokens)."""
    c = b.cfg
    irqs = [c.plic_irq(d) for d in ("mm2s", "s2mm", "mac")]
    await b.plic.xv6_plicinit(irqs)
    await b.plic.xv6_plicinithart(0, irqs)
    await b.mac.reset()
    await b.mac.set_mac_address(STATION)
    await b.mac.wr(E.IE, 0)
    await b.mac.start()
    net = D.AxiEnetDma(b.mmio, c.dma_base, b.ram, b.alloc, tx_bds=4, rx_bds=4, max_frm_size=1536)
    check(await net.probe() is False, "32-bit DMA pointers")
    await net.open()
    for off in (0, RD.S2MM_DMACR):
        cr = await b.mmio.read(c.dma_base + off)
        await b.mmio.write(c.dma_base + off, cr | RD.MM2S_DMACR_TOKEN_EN_MASK)
    return net


async def _claim_one(b: Bench, expected: int, what: str):
    ctx = PlicDriver.s_mode_context(0)
    await b.wait_eip(ctx)
    irq = await b.plic.xv6_claim(0)
    check(irq == expected, f"{what}: PLIC claim returned {irq}, expected source {expected}")
    return irq


async def _dequeue(b: Bench, process: int, what: str, polls: int = 200) -> int:
    for _ in range(polls):
        word = await b.ats.ps_fetch(process)
        if word:
            return word
    raise AssertionError(f"{what}: nothing in ATSINTC process {process}")


@cocotb.test()
async def frames_irqs_tokens(dut):
    """TX: a frame written by the driver leaves on GMII; RX: a frame from GMII lands in memory
    with its length in APP4. Each of mm2s_irq, s2mm_irq and mac_irq is claimed from the PLIC with
    its source ID and wakes the handler registered for its ATSINTC line; each completed descriptor
    arrives as a token in the configured ATSINTC process and priority."""
    b = await Bench(dut).start()
    c = b.cfg
    net = await _setup_system(b)
    hp = 1                                          # the process that owns the interrupt handlers
    handlers = {d: 0x8000_0000_0000_1000 + 0x100 * k for k, d in enumerate(("mm2s", "s2mm", "mac"))}
    for d, h in handlers.items():
        await b.ats.intr_push(hp, c.atsintc_irq(d), h)

    # -- transmit -----------------------------------------------------------------------------
    payload = frame(b.rng, 100, dst=PEER)
    desc = net.tx_ring.addr(net.tx_tail)
    check(await net.start_xmit([payload]), "TX ring has room")
    check(await b.wire_frame() == payload, "the DMA's frame on GMII")
    irq = await _claim_one(b, c.plic_irq_mm2s, "MM2S completion")
    check(await _dequeue(b, hp, "mm2s handler") == handlers["mm2s"], "ATSINTC woke the MM2S handler")
    check(await b.ats.ps_fetch(c.token_process) == desc | 1, "MM2S completion token")
    check(await net.irq(rx=False) & RD.MM2S_DMASR_IOC_IRQ_MASK, "MM2S IOC")
    check(net.free_tx_chain() == 1, "one TX descriptor completed")
    await b.plic.xv6_complete(0, irq)

    # -- receive ------------------------------------------------------------------------------
    rx = frame(b.rng, 333)
    desc = net.rx_ring.addr(net.rx_ci)
    await b.wire_src.send(GmiiFrame.from_payload(rx))
    irq = await _claim_one(b, c.plic_irq_s2mm, "S2MM completion")
    check(await _dequeue(b, hp, "s2mm handler") == handlers["s2mm"], "ATSINTC woke the S2MM handler")
    check(await b.ats.ps_fetch(c.token_process) == desc | 1, "S2MM completion token")
    check(await net.irq(rx=True) & RD.S2MM_DMASR_IOC_IRQ_MASK, "S2MM IOC")
    got = await net.rx_poll()
    check(len(got) == 1, f"one frame received, not {len(got)}")
    check(got[0].length_app4 == len(rx), f"APP4 length {got[0].length_app4}, expected {len(rx)}")
    check(got[0].data == rx, "received bytes in memory")
    dut._log.info("RX frame of %d bytes: APP4 %d, token %#x", len(rx), got[0].length_app4, desc | 1)
    await b.plic.xv6_complete(0, irq)

    # -- MAC interrupt: a frame for another station is rejected (RxRject) -----------------------
    await b.mac.enable_rx_rject()
    await b.wire_src.send(GmiiFrame.from_payload(frame(b.rng, 64, dst=OTHER)))
    irq = await _claim_one(b, c.plic_irq_mac, "MAC RxRject")
    check(await _dequeue(b, hp, "mac handler") == handlers["mac"], "ATSINTC woke the MAC handler")
    check(await b.mac.rd(E.IS) & E.INT_RX_RJECT, "IS.RxRject")
    await b.mac.clear_intr(E.INT_RX_RJECT)
    await b.plic.xv6_complete(0, irq)
    for _ in range(10):
        await RisingEdge(dut.clk)
    check(int(dut.eip.value) == 0, "no interrupt left pending")
    check(await b.ats.ps_fetch(c.token_process) == 0, "no token left")
    check(await b.ats.ps_fetch(hp) == 0, "no handler left")


# ================================================================================================
# Benchmark figures (atsoc bench soc)
# ================================================================================================

@cocotb.test()
async def bench_figures(dut):
    """Register access latency through the interconnect, and simulation speed of the whole SoC
    with frames in both directions; figures as JSON to ``ATSOC_BENCH_OUT``."""
    import json
    import os
    import time

    from cocotb.utils import get_sim_time

    b = await Bench(dut).start()
    c = b.cfg
    figures = {}

    async def cycles_of(coro):
        t0 = get_sim_time("ps")
        await coro
        return round((get_sim_time("ps") - t0) / SYS_PS)

    figures["read_cycles"] = {
        "plic (32-bit)": await cycles_of(b.mmio.read(c.plic_base + RP.priority(1))),
        "atsintc (64-bit)": await cycles_of(b.mmio.read(c.atsintc_base + RA.info(0), 64)),
        "dma (32-bit)": await cycles_of(b.mmio.read(c.dma_base + RD.MM2S_DMASR)),
        "mac (32-bit)": await cycles_of(b.mmio.read(c.mac_base + RE.ID)),
        "hole (DECERR)": await cycles_of(b.expect_decerr(0x7000_0000)),
    }
    figures["write_cycles"] = {
        "plic (32-bit)": await cycles_of(b.mmio.write(c.plic_base + RP.priority(1), 1)),
        "atsintc enqueue (64-bit)": await cycles_of(b.ats.ps_push(1, 0x40, 2)),
        "plic 64-bit store (split)": await cycles_of(b.mmio.write(c.plic_base + RP.priority(2), 1 << 32 | 1, 64)),
    }
    figures["note_cycles"] = ("from the master issuing the access to the response in cocotbext-axi "
                              "(includes its own cycle of issue); the interconnect adds 2 cycles to a block port's own latency")

    # Simulation speed: frames in both directions through DMA and MAC, the CPU polling.
    net = await _setup_system(b)
    wall0, sim0 = time.perf_counter(), get_sim_time("ps")
    frames = 24
    for k in range(frames):
        rx = frame(b.rng, 500)
        cocotb.start_soon(b.wire_src.send(GmiiFrame.from_payload(rx)))
        check(await net.start_xmit([frame(b.rng, 500, dst=PEER)]), "TX ring has room")
        await b.wire_frame()
        # As Linux does: the interrupt status first (the descriptor write-back, APP4 included, is
        # acknowledged before IOC rises), then the ring.
        for _ in range(2000):
            if await net.irq(rx=True):
                break
            await ClockCycles(dut.clk, 8)
        got = await net.rx_poll()
        check(len(got) == 1, f"one frame received in the speed run, not {len(got)}")
        check(got[0].length_app4 == 500, f"APP4 length {got[0].length_app4} in the speed run")
        await net.irq(rx=False)
        net.free_tx_chain()
        while await b.ats.ps_fetch(c.token_process):
            pass
    wall = time.perf_counter() - wall0
    cycles = (get_sim_time("ps") - sim0) / SYS_PS
    figures["sim_speed"] = {"cycles": round(cycles), "seconds": round(wall, 2),
                            "cycles_per_second": round(cycles / wall), "frames_each_way": frames}
    out = os.environ.get("ATSOC_BENCH_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(figures, f, indent=2)
    dut._log.info("bench figures: %s", figures)
