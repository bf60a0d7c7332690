"""cocotb testbench of the Ethernet MAC (dma_eth.md test plan) on the generated Verilog.

Wire side: cocotbext-eth GMII (or MII) source and sink; DMA side: cocotbext-axi stream source and
sinks with random back-pressure; registers through :class:`~atsoc.sim.tb.axil_mmio.AxiLiteMmio`.
The system, receive and transmit clocks are unrelated (different periods, different phases).
Every test ends with the conservation check: frames offered = delivered + counted as dropped,
delivered frames byte-identical to what the reference model delivers, counters equal to the
model's. The seed is cocotb's (``COCOTB_RANDOM_SEED``, from ``ATSOC_SEED`` in the pytest entry).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import subprocess
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, Timer
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource
from cocotbext.eth import GmiiFrame, GmiiSink, GmiiSource, MiiSink, MiiSource, RgmiiPhy

from atsoc.hdl.eth.config import EthMACConfig
from atsoc.hdl.eth.registers import STAT_COUNTERS, eth_mac_register_map
from atsoc.sim.model.eth import PREAMBLE, EthMACModel, RxConfig, RxFrame, VERDICT_COUNTER, fcs, tx_wire_frame
from atsoc.sim.tb.axil_mmio import AxiLiteMmio
from atsoc.sim.tb.eth_frames import BAD_KINDS, STATION, bad_frame, good_wire, scapy_frame


ENV = "ATSOC_ETH_CONFIG"
SYS_PS, RX_PS, TX_PS = 7000, 8000, 7992          # 142.9 MHz system; 125 MHz -0/+100 ppm PHY
MII_RX_PS, MII_TX_PS = 40000, 39996              # 25 MHz MII (100 Mb/s)
REGS = eth_mac_register_map()
COUNTERS = [name for name, _, _ in STAT_COUNTERS]
DROP_COUNTERS = sorted(set(VERDICT_COUNTER.values()))


def config_to_env(config: EthMACConfig) -> dict[str, str]:
    """Environment that carries ``config`` into the simulator process."""
    d = {k: getattr(config, k) for k in ("phy", "data_width", "tx_fifo_bytes", "rx_buffer_bytes", "jumbo_bytes",
                                         "statistics", "counter_width", "mdio")}
    return {ENV: json.dumps(d)}


def config_from_env() -> EthMACConfig:
    return EthMACConfig(**json.loads(os.environ.get(ENV, "{}")))


def pauses(rng: random.Random, p: float, burst: int = 4):
    """Pause generator for cocotbext-axi: with probability ``p`` a pause of 1..``burst`` cycles.

    The system clock (7 ns) drains RX bytes (8 ns each at 1 Gb/s) with 12.5 % to spare, so
    sustained back-pressure above that overflows the RX buffer by design (``rx_overflow``).
    """
    while True:
        if rng.random() < p:
            for _ in range(rng.randrange(1, burst + 1)):
                yield True
        else:
            yield False


class Bench:
    """Clocks, reset, wire-side and DMA-side models, register access, scoreboard."""

    def __init__(self, dut, *, rx_pause: float = 0.04):
        self.dut = dut
        self.cfg = config_from_env()
        self.rng = random.Random(cocotb.RANDOM_SEED)
        for name in ("cocotb.eth", "cocotbext.eth", "cocotb.s_axis_tx", "cocotb.m_axis_rx"):
            logging.getLogger(name).setLevel(logging.WARNING)
        mii = self.cfg.phy == "mii"
        p = self.cfg.phy
        cocotb.start_soon(Clock(dut.clk, SYS_PS, unit="ps").start())
        self.phy = None
        if p == "rgmii":
            # cocotbext-eth's RgmiiPhy drives rgmii_rx_clk (1 Gb/s: 125 MHz) and samples the
            # MAC's rgmii_tx_clk; the MAC's transmit clock gtx_clk comes from here.
            cocotb.start_soon(Clock(dut.gtx_clk, TX_PS, unit="ps").start())
            self.phy = RgmiiPhy(dut.rgmii_txd, dut.rgmii_tx_ctl, dut.rgmii_tx_clk, dut.rgmii_rxd,
                                dut.rgmii_rx_ctl, dut.rgmii_rx_clk, speed=1000e6)
            self.rx_clk, self.tx_clk = dut.rgmii_rx_clk, dut.rgmii_tx_clk
            self.tx_en = dut.rgmii_tx_ctl          # TX_EN at the rising edge of rgmii_tx_clk
            self.wire_src, self.wire_sink = self.phy.rx, self.phy.tx
            self.nibbles = False
        else:
            self.rx_clk, self.tx_clk = getattr(dut, f"{p}_rx_clk"), getattr(dut, f"{p}_tx_clk")
            self.tx_en = getattr(dut, f"{p}_tx_en")
            self.rx_ps, self.tx_ps = (MII_RX_PS, MII_TX_PS) if mii else (RX_PS, TX_PS)
            cocotb.start_soon(Clock(self.rx_clk, self.rx_ps, unit="ps").start(start_high=False))
            cocotb.start_soon(Clock(self.tx_clk, self.tx_ps, unit="ps").start())
            Src, Sink = (MiiSource, MiiSink) if mii else (GmiiSource, GmiiSink)
            self.wire_src = Src(getattr(dut, f"{p}_rxd"), getattr(dut, f"{p}_rx_er"),
                                getattr(dut, f"{p}_rx_dv"), self.rx_clk)
            self.wire_sink = Sink(getattr(dut, f"{p}_txd"), getattr(dut, f"{p}_tx_er"),
                                  getattr(dut, f"{p}_tx_en"), self.tx_clk)
            self.nibbles = mii           # a byte takes two transmit clocks
        for o in (self.wire_src, self.wire_sink):
            o.log.setLevel(logging.WARNING)
        self.tx_src = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis_tx"), dut.clk, dut.rst)
        self.rx_sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_rx"), dut.clk, dut.rst)
        self.rxs_sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis_rxs"), dut.clk, dut.rst)
        for o in (self.tx_src, self.rx_sink, self.rxs_sink):
            o.log.setLevel(logging.WARNING)
        if rx_pause:
            self.rx_sink.set_pause_generator(pauses(self.rng, rx_pause))
            self.rxs_sink.set_pause_generator(pauses(self.rng, rx_pause))
        self.mmio = AxiLiteMmio(dut, "s_axil", irq=dut.mac_irq)
        self.model = EthMACModel(RxConfig(unicast=STATION, jumbo_bytes=self.cfg.jumbo_bytes))
        self.offered = 0
        if hasattr(dut, "mdio_i"):
            dut.mdio_i.value = 1

    async def start(self):
        dut = self.dut
        dut.rst.value = 1
        await ClockCycles(dut.clk, 10)
        dut.rst.value = 0
        await ClockCycles(dut.clk, 10)
        await self.set_station(STATION)
        return self

    # -- registers ------------------------------------------------------------------------
    async def rd(self, name: str) -> int:
        return await self.mmio.read(REGS[name].offset)

    async def wr(self, name: str, value: int):
        await self.mmio.write(REGS[name].offset, value)

    async def set_station(self, mac: bytes):
        await self.wr("uaw0", int.from_bytes(mac[:4], "little"))
        await self.wr("uaw1", int.from_bytes(mac[4:], "little"))
        self.model.config.unicast = mac

    async def counters(self) -> dict[str, int]:
        return {name: await self.rd(name) for name in COUNTERS}

    # -- receive ----------------------------------------------------------------------------
    async def offer(self, frame: RxFrame):
        """Put ``frame`` on the wire (queued; returns at once)."""
        g = GmiiFrame(bytearray(frame.wire), list(frame.error) if frame.error else None)
        await self.wire_src.send(g)
        self.offered += 1

    def received(self) -> list[bytes]:
        out = []
        while not self.rx_sink.empty():
            f = self.rx_sink.recv_nowait()
            assert not any(f.tuser or []), "a delivered frame has TUSER set"
            out.append(bytes(f.tdata))
        return out

    def lengths(self) -> list[int]:
        out = []
        while not self.rxs_sink.empty():
            f = self.rxs_sink.recv_nowait()
            assert len(f.tdata) == 4, f"status beat of {len(f.tdata)} bytes"
            out.append(int.from_bytes(bytes(f.tdata), "little") & 0xFFFF)
        return out

    async def settle(self, timeout_us: float = 2000):
        """Wait until every offered frame is delivered or counted (or time out)."""
        await self.wire_src.wait()
        waited = 0.0
        while True:
            c = await self.counters()
            accounted = c["rxfl"] + sum(c[n] for n in DROP_COUNTERS)
            if accounted >= self.offered and self.rx_sink.count() >= c["rxfl"] \
                    and self.rxs_sink.count() >= c["rxfl"]:
                return c
            if waited > timeout_us:
                return c
            await Timer(20, unit="us")
            waited += 20

    async def check_conservation(self, expected: list[bytes] | None = None, *,
                                 allow_overflow: bool = False) -> dict[str, int]:
        """Offered = delivered + counted as dropped; delivered frames and counters as the model says."""
        c = await self.settle()
        await ClockCycles(self.dut.clk, 200)
        got = self.received()
        lengths = self.lengths()
        dropped = sum(c[n] for n in DROP_COUNTERS)
        assert self.offered == len(got) + dropped, (
            f"conservation: offered {self.offered} != delivered {len(got)} + dropped {dropped} "
            f"({ {n: c[n] for n in DROP_COUNTERS} })")
        assert c["rxfl"] == len(got), f"RXFL {c['rxfl']} but {len(got)} frames delivered"
        assert lengths == [len(f) for f in got], "status stream lengths differ from the frames"
        expected = self.model.delivered if expected is None else expected
        if allow_overflow:
            it = iter(expected)
            assert all(any(g == e for e in it) for g in got), "delivered frames are not a subsequence"
            assert c["rxovfl"] == len(expected) - len(got)
        else:
            diff = {n: (c[n], self.model.counters[n]) for n in COUNTERS
                    if n.startswith("rx") and c[n] != self.model.counters[n]}
            for i, (g, e) in enumerate(zip(got, expected)):
                assert g == e, f"counters (RTL, model) {diff}; frame {i} differs: got {g[:32].hex()}... expected {e[:32].hex()}..."
            assert len(got) == len(expected), f"delivered {len(got)} frames, expected {len(expected)}"
            for name in COUNTERS:
                if name.startswith("rx"):
                    assert c[name] == self.model.counters[name], \
                        f"{name}: RTL {c[name]} model {self.model.counters[name]}"
        return c

    # -- transmit ---------------------------------------------------------------------------
    async def transmit(self, payload: bytes):
        await self.tx_src.send(AxiStreamFrame(payload))

    async def wire_frames(self, n: int, timeout_us: float = 4000) -> list[GmiiFrame]:
        out = []
        for _ in range(n):
            out.append(await cocotb.triggers.with_timeout(self.wire_sink.recv(), timeout_us, "us"))
        return out


class TxEnMonitor:
    """Runs of tx_en on the wire, in transmit clock cycles: (first cycle, length).

    cocotbext-eth's GmiiSink does not store the byte of the cycle in which tx_en rises (its
    start-of-frame branch only opens the frame), so the full preamble length and the gap between
    frames are checked here instead.
    """

    def __init__(self, clk, en):
        self.runs = []
        self._clk, self._en = clk, en
        cocotb.start_soon(self._run())

    async def _run(self):
        cycle, start = 0, None
        while True:
            await RisingEdge(self._clk)
            en = int(self._en.value)
            if en and start is None:
                start = cycle
            elif not en and start is not None:
                self.runs.append((start, cycle - start))
                start = None
            cycle += 1


def check_wire_frame(f: GmiiFrame, payload: bytes):
    """SFD, padding and FCS of a transmitted frame; returns the frame with its FCS."""
    assert not f.error or not any(f.error), "tx_er asserted"
    # GmiiSink drops the byte of the cycle in which tx_en rises (MiiSink does not); the full
    # preamble length is checked by TxEnMonitor.
    pre = bytes(f.get_preamble())
    assert pre in (PREAMBLE, PREAMBLE[1:]), f"bad preamble {pre.hex()}"
    assert f.check_fcs(), "bad FCS"
    body = bytes(f.get_payload())
    padded = payload + bytes(max(0, 60 - len(payload)))
    assert body == padded, f"frame differs: {body[:24].hex()} vs {padded[:24].hex()}"
    return body + bytes(f.get_fcs())


def check_tx_timing(runs, payloads, nibbles: bool):
    """tx_en lasts 8 + max(len, 60) + 4 byte times per frame; gaps are at least 12 byte times."""
    per = 2 if nibbles else 1
    assert len(runs) >= len(payloads), f"{len(runs)} tx_en runs for {len(payloads)} frames"
    runs = runs[-len(payloads):]
    for (start, length), p in zip(runs, payloads):
        assert length == per * (8 + max(len(p), 60) + 4), f"tx_en for {length} cycles, payload {len(p)}"
    gaps = [b[0] - (a[0] + a[1]) for a, b in zip(runs, runs[1:])]
    assert all(g >= 12 * per for g in gaps), f"IFG below 12 byte times: {min(gaps)} cycles"
    return gaps


def write_pcap_and_check(frames: list[bytes], path: Path):
    """Write ``frames`` (with FCS) as a pcap; tshark must read all of them without malformed packets."""
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap
    wrpcap(str(path), [Ether(f) for f in frames])
    tshark = shutil.which("tshark")
    assert tshark, "tshark not installed (Debian package tshark)"
    proc = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "frame.len",
                           "-e", "_ws.malformed", "-e", "_ws.expert.severity"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(frames), f"tshark read {len(lines)} of {len(frames)} frames"
    for i, line in enumerate(lines):
        fields = line.split("\t")
        assert int(fields[0]) == len(frames[i]), f"frame {i}: tshark length {fields[0]}"
        assert not fields[1].strip(), f"frame {i}: tshark reports a malformed packet"


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------

@cocotb.test()
async def reset_values(dut):
    """ID, MgtRdy/PhyRstCmplt, enables and speed after reset; counters 0; mac_irq low."""
    b = await Bench(dut).start()
    assert await b.rd("id") == EthMACConfig.ID_VALUE
    assert await b.rd("intr_status") == (1 << 7) | (1 << 8)
    assert await b.rd("rcw1") == 1 << 28
    assert await b.rd("tc") == 1 << 28
    assert (await b.rd("emmc")) >> 30 == (0b01 if b.cfg.phy == "mii" else 0b10)
    assert await b.rd("mdio_mcr") == 1 << 7
    assert all(v == 0 for v in (await b.counters()).values())
    assert await b.mmio.read(0x0FFC) == 0                     # reserved: reads 0
    assert int(dut.mac_irq.value) == 0
    assert await b.rd("uaw0") == int.from_bytes(STATION[:4], "little")


@cocotb.test()
async def rx_good_frames(dut):
    """scapy frames (ARP, UDP, ICMP, VLAN, raw) of sizes 60..1514, broadcast and multicast, with
    back-pressure; delivered byte-identical with their lengths on the status stream."""
    b = await Bench(dut).start()
    sizes = [60, 61, 64, 127, 128, 255, 256, 511, 512, 1023, 1024, 1514]
    sizes += [b.rng.randrange(60, 1515) for _ in range(8)]
    for i, size in enumerate(sizes):
        dst = STATION if i % 5 else (b"\xff" * 6 if i % 10 else bytes.fromhex("01005e000001"))
        f = good_wire(scapy_frame(b.rng, size, dst=dst))
        assert b.model.receive(f) == "OK"
        await b.offer(f)
    c = await b.check_conservation()
    assert c["rxbcstfl"] >= 1 and c["rxmcstfl"] >= 1 and c["rxvlanfl"] == b.model.counters["rxvlanfl"]
    st = await b.rd("intr_status")
    assert st >> 2 & 1, "IS.RxCmplt not set"
    assert int(dut.mac_irq.value) == 0, "mac_irq high with IE = 0"
    await b.wr("intr_enable", 1 << 2)
    await ClockCycles(dut.clk, 3)
    assert int(dut.mac_irq.value) == 1, "mac_irq low with IS.RxCmplt and IE.RxCmplt"
    assert await b.rd("intr_pending") == 1 << 2
    await b.wr("intr_status", 1 << 2)                         # W1C
    await ClockCycles(dut.clk, 3)
    assert int(dut.mac_irq.value) == 0 and (await b.rd("intr_status")) >> 2 & 1 == 0


@cocotb.test()
async def rx_bad_frames(dut):
    """Each bad kind (bad FCS, rx_er mid-frame, runt, fragment, oversize, missing SFD, filtered
    address) is dropped, counted in its counter, and the next good frame is delivered."""
    b = await Bench(dut).start()
    for kind in BAD_KINDS * 2:
        bad = bad_frame(b.rng, kind)
        verdict = b.model.receive(bad)
        assert verdict != "OK", (kind, verdict)
        await b.offer(bad)
        good = good_wire(scapy_frame(b.rng, b.rng.randrange(60, 400)))
        b.model.receive(good)
        await b.offer(good)
    c = await b.check_conservation()
    for name in ("rxfcserl", "rxerrl", "rxundrl", "rxfragl", "rxovrl", "rxaerl", "rxfiltl"):
        assert c[name] >= 2, f"{name} = {c[name]}"
    assert (await b.rd("intr_status")) >> 3 & 1, "IS.RxRject not set"


@cocotb.test()
async def rx_filter_modes(dut):
    """Every combination of FMI.pm, RAF.bcst_rej and RAF.mcst_rej on the station address, a
    foreign unicast, broadcast and a multicast group: promiscuous accepts everything, broadcast
    and multicast (all groups: no multicast table) are accepted unless RAF rejects them."""
    b = await Bench(dut).start()
    other = bytes.fromhex("0200000000ff")
    cases = [(pm << 31, (brej << 2) | (mrej << 1), 0)
             for pm in (0, 1) for brej in (0, 1) for mrej in (0, 1)]
    for fmi, raf, _ in cases:
        await b.wire_src.wait()
        await ClockCycles(dut.clk, 400)          # configuration changes while the wire is idle
        await b.wr("fmi", fmi)
        await b.wr("raf", raf)
        await ClockCycles(dut.clk, 10)
        b.model.config.promiscuous = bool(fmi)
        b.model.config.bcast_reject = bool(raf & 4)
        b.model.config.mcast_reject = bool(raf & 2)
        for dst in (STATION, other, b"\xff" * 6, bytes.fromhex("333300000001")):
            f = good_wire(scapy_frame(b.rng, 100, dst=dst))
            b.model.receive(f)
            await b.offer(f)
    await b.check_conservation()
    # not promiscuous (4 cases): the foreign unicast each time, broadcast twice, multicast twice
    assert b.model.counters["rxfiltl"] == 8


@cocotb.test()
async def rx_overflow(dut):
    """The DMA side takes nothing for a while: whole frames are dropped and counted (RxFifoOvr),
    the PHY side never stalls, and frames after the release are delivered intact."""
    b = Bench(dut, rx_pause=0)
    await b.start()
    b.rx_sink.pause = True
    expected = []
    for _ in range(12):
        frame = scapy_frame(b.rng, b.rng.randrange(600, 1515))
        expected.append(frame)
        await b.offer(good_wire(frame))
    await b.wire_src.wait()
    await ClockCycles(dut.clk, 100)
    b.rx_sink.pause = False
    for _ in range(4):
        frame = scapy_frame(b.rng, b.rng.randrange(60, 1515))
        expected.append(frame)
        await b.offer(good_wire(frame))
    c = await b.check_conservation(expected, allow_overflow=True)
    assert c["rxovfl"] > 0, "no overflow happened: the test did not test anything"
    assert (await b.rd("intr_status")) >> 4 & 1, "IS.RxFifoOvr not set"
    got = c["rxfl"]
    assert got >= 4 + 2, f"only {got} frames delivered"


@cocotb.test()
async def tx_frames(dut):
    """scapy frames of 14..1514 bytes through s_axis_tx: preamble, SFD, padding to 60, FCS,
    IFG >= 12 byte times; parsed back by scapy, written to a pcap that tshark reads cleanly."""
    b = await Bench(dut).start()
    payloads = [scapy_frame(b.rng, s) for s in (60, 64, 128, 256, 512, 1024, 1514)]
    payloads += [scapy_frame(b.rng, 60, kind="raw")[:s] for s in (14, 20, 42, 59)]   # padded by the MAC
    payloads += [scapy_frame(b.rng, b.rng.randrange(60, 1515)) for _ in range(10)]
    b.tx_src.set_pause_generator(pauses(b.rng, 0.1))
    mon = TxEnMonitor(b.tx_clk, b.tx_en)
    for p in payloads:
        await b.transmit(p)
    frames = await b.wire_frames(len(payloads))
    wires = []
    from scapy.layers.l2 import Ether
    for f, p in zip(frames, payloads):
        wire = check_wire_frame(f, p)
        b.model.transmit(p)
        wires.append(wire)
        parsed = Ether(wire[:-4])
        assert bytes(parsed)[:len(p)] == p, "scapy parses a different frame"
    await ClockCycles(b.tx_clk, 4)
    gaps = check_tx_timing(mon.runs, payloads, b.nibbles)
    assert min(gaps) == 12 * (2 if b.nibbles else 1), f"back-to-back frames never at 12: {gaps}"
    pcap = Path(os.environ.get("ATSOC_ETH_PCAP", "tx_frames.pcap"))
    write_pcap_and_check(wires, pcap)
    await ClockCycles(dut.clk, 50)
    c = await b.counters()
    for name in COUNTERS:
        if name.startswith("tx"):
            assert c[name] == b.model.counters[name], f"{name}: RTL {c[name]} model {b.model.counters[name]}"
    assert (await b.rd("intr_status")) >> 5 & 1, "IS.TxCmplt not set"
    assert b.wire_sink.empty()


@cocotb.test()
async def both_directions(dut):
    """RX and TX at the same time at full rate, back-to-back frames on both sides."""
    b = await Bench(dut, rx_pause=0.03).start()
    b.tx_src.set_pause_generator(pauses(b.rng, 0.05))
    payloads = [scapy_frame(b.rng, b.rng.randrange(60, 1515)) for _ in range(15)]
    for p in payloads:
        await b.transmit(p)
        f = good_wire(scapy_frame(b.rng, b.rng.randrange(60, 1515)))
        b.model.receive(f)
        await b.offer(f)
    frames = await b.wire_frames(len(payloads))
    for f, p in zip(frames, payloads):
        check_wire_frame(f, p)
    await b.check_conservation()


@cocotb.test()
async def random_differential(dut):
    """Seeded random mix of good and bad frames against the reference model."""
    b = await Bench(dut, rx_pause=0.04).start()
    n = int(os.environ.get("ATSOC_ETH_FRAMES", "150"))
    for _ in range(n):
        if b.rng.random() < 0.6:
            dst = b.rng.choice([STATION, STATION, b"\xff" * 6, bytes.fromhex("01005e7f0001")])
            f = good_wire(scapy_frame(b.rng, b.rng.choice([60, 61, b.rng.randrange(60, 1515)]), dst=dst))
        else:
            f = bad_frame(b.rng, b.rng.choice(BAD_KINDS))
        b.model.receive(f)
        await b.offer(f)
    c = await b.check_conservation()
    dut._log.info("random differential: %d frames, %d delivered, counters %s", n, c["rxfl"],
                  {k: v for k, v in c.items() if v and k.startswith("rx")})


@cocotb.test()
async def arceos_init(dut):
    """The ArceOS axi-ethernet init sequence runs unmodified against a PHY model: PHY found by
    BMSR, auto-negotiation to 1000 Mb/s, MAC address, IE, receiver and transmitter enabled; then
    frames to the station, a multicast group and broadcast are delivered, with mac_irq."""
    from atsoc.sim.driver.eth_mac import AxiEthernetDriver
    from atsoc.sim.tb.eth_mdio_phy import MdioPhy
    b = await Bench(dut).start()
    await b.wr("uaw0", 0)
    phy = MdioPhy(dut.mdc, dut.mdio_o, dut.mdio_oe, dut.mdio_i, address=3, an_delay=300)
    drv = AxiEthernetDriver(b.mmio)
    mac = bytes.fromhex("00:0a:35:01:02:03".replace(":", ""))
    speed = await drv.arceos_init(mac)
    assert speed == 1000 and drv.phy_addr == 3 and drv.link_up
    assert await drv.get_mac_address() == mac
    assert await b.rd("rcw1") == (1 << 28) | (1 << 30), hex(await b.rd("rcw1"))
    assert await b.rd("tc") == (1 << 28) | (1 << 30)
    assert await b.rd("intr_enable") == 1 << 2                 # each enable_* replaces IE
    assert await b.rd("mdio_mc") == 29 | 1 << 6
    # init_hw's clear_options(~options) sets McstRej, then set_options(JUMBO) rewrites RAF as a
    # whole word for the BROADCAST option (svd2rust write), which clears it again: RAF ends 0.
    assert await b.rd("raf") == 0
    assert (await b.rd("emmc")) >> 30 == 0b10
    writes = [(r, d) for op, p, r, d in phy.log if op == "write" and p == 3]
    assert (0, 0x1140 | 0x1000 | 0x0200) in writes or any(r == 0 and d & 0x0200 for r, d in writes)
    assert phy.regs[4] & 0x0DE0 == 0x0DE0 and phy.regs[9] & 0x0300 == 0x0300
    assert any(op == "read" and p == 0 and d == 0xFFFF for op, p, r, d in phy.log), "address 0 probed"
    b.model.config.unicast = mac
    for dst in (mac, bytes.fromhex("01005e000001"), b"\xff" * 6):
        f = good_wire(scapy_frame(b.rng, 200, dst=dst))
        b.model.receive(f)
        await b.offer(f)
    await b.check_conservation()
    assert b.model.counters["rxfl"] == 3
    assert int(dut.mac_irq.value) == 1, "RxCmplt enabled by the driver but mac_irq is low"


@cocotb.test()
async def rgmii_speeds(dut):
    """RGMII at 100, 10 and 1000 Mb/s (EMMC.speed and RgmiiPhy's speed changed together while
    the wire is idle): frames received and transmitted at each speed, back to back, with the
    full preamble, 8 + L + 12 byte times per frame, FCS checked."""
    b = await Bench(dut).start()
    for speed, code, n in ((100e6, 0b01, 3), (10e6, 0b00, 2), (1000e6, 0b10, 3)):
        await b.wire_src.wait()
        await ClockCycles(dut.clk, 100)
        await b.wr("emmc", code << 30)
        assert (await b.rd("emmc")) >> 30 == code
        b.phy.set_speed(speed)
        b.nibbles = speed != 1000e6
        await ClockCycles(dut.clk, 20)
        mon = TxEnMonitor(b.tx_clk, b.tx_en)
        payloads = [scapy_frame(b.rng, b.rng.choice([60, b.rng.randrange(61, 200)])) for _ in range(n)]
        for p in payloads:
            await b.transmit(p)
            f = good_wire(scapy_frame(b.rng, b.rng.randrange(60, 200)))
            b.model.receive(f)
            await b.offer(f)
        frames = await b.wire_frames(n, timeout_us=20000)
        for f, p in zip(frames, payloads):
            check_wire_frame(f, p)
            assert bytes(f.get_preamble()) == PREAMBLE, bytes(f.get_preamble()).hex()
            b.model.transmit(p)
        await ClockCycles(b.tx_clk, 4)
        gaps = check_tx_timing(mon.runs, payloads, b.nibbles)
        assert min(gaps) == 12 * (2 if b.nibbles else 1), f"{speed / 1e6:.0f} Mb/s: gaps {gaps}"
        dut._log.info("%.0f Mb/s: %d frames each way", speed / 1e6, n)
    await b.check_conservation()


BENCH_SIZES = (64, 128, 256, 512, 1024, 1518)


def _finish_bench(b, rows, what):
    """Every frame of a benchmark run arrived intact (against the model); the rows go to
    ``ATSOC_BENCH_OUT`` as JSON."""
    assert b.received() == b.model.delivered, f"{what} frames corrupted"
    out = os.environ.get("ATSOC_BENCH_OUT")
    if out:
        Path(out).write_text(json.dumps(rows, indent=2) + "\n")


@cocotb.test()
async def bench_throughput(dut):
    """Throughput against 1 GbE line rate (8 + L + 12 byte times per frame of L bytes incl. FCS):
    TX measured on tx_en, RX as frames delivered of frames offered back to back, and both at once.
    Writes JSON to ``ATSOC_BENCH_OUT``."""
    b = await Bench(dut, rx_pause=0).start()
    n = int(os.environ.get("ATSOC_BENCH_FRAMES", "16"))
    mon = TxEnMonitor(b.tx_clk, b.tx_en)
    results = []
    for mode in ("tx", "rx", "both"):
        for size in BENCH_SIZES:
            base_runs = len(mon.runs)
            c0 = await b.counters()
            payloads = [scapy_frame(b.rng, size - 4, kind="raw") for _ in range(n)]
            if mode in ("tx", "both"):
                for p in payloads:
                    await b.transmit(p)
            if mode in ("rx", "both"):
                for p in payloads:
                    f = good_wire(p)
                    b.model.receive(f)
                    await b.offer(f)
            await b.wire_src.wait()
            await b.tx_src.wait()
            await ClockCycles(b.tx_clk, 4 * (size + 20) + 400)
            c1 = await b.counters()
            row = {"mode": mode, "size": size, "frames": n}
            if mode in ("tx", "both"):
                runs = mon.runs[base_runs:]
                assert len(runs) == n, f"{len(runs)} frames on the wire of {n}"
                span = runs[-1][0] + runs[-1][1] + 12 - runs[0][0]
                row["tx_cycles"] = span
                row["tx_line_rate_pct"] = round(100.0 * n * (size + 20) / span, 2)
            if mode in ("rx", "both"):
                got = c1["rxfl"] - c0["rxfl"]
                row["rx_delivered"] = got
                row["rx_dropped"] = sum(c1[k] - c0[k] for k in DROP_COUNTERS)
                row["rx_line_rate_pct"] = round(100.0 * got / n, 2)
            results.append(row)
            dut._log.info("bench %s", row)
    _finish_bench(b, results, "bench")


LATENCY_SIZES = (64, 1518)


@cocotb.test()
async def bench_rx_latency(dut):
    """Receive latency: system clock cycles from ``rx_dv`` falling after a frame's last byte (FCS)
    to the handshake of its last ``m_axis_rx`` beat (TLAST), on an idle MAC with TREADY always
    high. Frames of ``LATENCY_SIZES`` bytes (with FCS), several of each, one at a time. Writes
    JSON rows to ``ATSOC_BENCH_OUT``."""
    from cocotb.triggers import FallingEdge
    b = await Bench(dut, rx_pause=0).start()
    if b.cfg.phy != "gmii":
        raise ValueError("bench_rx_latency measures the GMII configuration")
    n = int(os.environ.get("ATSOC_BENCH_FRAMES", "8"))
    axis = dut
    rows = []
    for size in LATENCY_SIZES:
        cycles = []
        for _ in range(n):
            p = scapy_frame(b.rng, size - 4, kind="raw")
            f = good_wire(p)
            b.model.receive(f)
            await b.offer(f)
            await FallingEdge(dut.gmii_rx_dv)
            count = 0
            while True:
                await RisingEdge(dut.clk)
                count += 1
                if int(axis.m_axis_rx_tvalid.value) and int(axis.m_axis_rx_tready.value) \
                        and int(axis.m_axis_rx_tlast.value):
                    break
                assert count < 20000, "no TLAST beat on m_axis_rx"
            cycles.append(count)
            await ClockCycles(dut.clk, 50)
        row = {"size": size, "frames": n, "data_width": b.cfg.data_width,
               "min": min(cycles), "max": max(cycles), "mean": round(sum(cycles) / n, 1)}
        rows.append(row)
        dut._log.info("rx latency %s", row)
    _finish_bench(b, rows, "latency")
