"""The network driver and its application on the RTL SoC under Verilator: the builder.

The counterpart of :mod:`atsoc.sim.net_system` (which runs the same code on the Python system
model) for the generated ``soc`` Verilog under cocotb (docs/soc.md, "End to end"):

* the CPU port ``s_axil`` is the driver's :class:`~atsoc.sim.driver.mmio.Mmio`
  (:class:`SocMmio`: cocotbext-axi's AxiLiteMaster; ``wait_irq`` sleeps on ``eip`` in the
  ``plic`` configuration and on ``notify`` in the ATSINTC ones, woken by a value change, never
  polled per cycle);
* the memory port ``m_axi`` is cocotbext-axi's AxiRam (:class:`SystemRam`) at
  :data:`~atsoc.sim.model.soc_map.RAM_BASE`; the driver's ``DmaMemory`` is a view of the same
  memory at bus addresses (:class:`RamView`); addresses outside the RAM answer DECERR; a one-shot
  SLVERR/DECERR can be armed on an address range (:meth:`SystemRam.inject`);
* the wire is a scapy peer (:class:`WirePeer`) on cocotbext-eth's GmiiSource (receive pins,
  ``gmii_rx_clk``) and GmiiSink (transmit pins, ``gmii_tx_clk``); it timestamps every frame in
  both directions and writes them to a pcap;
* MDIO: the KSZ9031-like PHY model of the MAC testbench, so ``AxiEthNet.init`` runs as written.

Clocks are cocotb's GPI clocks (the C++ clock driver, no Python per edge); every testbench
coroutine sleeps on events (frame queued, interrupt line changed), so the simulation costs
Verilator's evaluation plus the Python of the transactions themselves.

The driver, executor and application are :mod:`atsoc.sim.driver` unchanged: only :func:`build`
differs from ``net_system.build``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import Event, First, RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.eth import GmiiFrame, GmiiSink, GmiiSource

from atsoc.hdl.soc.config import SocConfig
from atsoc.sim.driver.atsintc import AtsIntcDriver
from atsoc.sim.driver.axi_dma import Allocator
from atsoc.sim.driver.executor import AtsIntcBackend, Executor, PlicBackend
from atsoc.sim.driver.mmio import Resp
from atsoc.sim.driver.netapp import EchoResponder, IrqWiring, NetService
from atsoc.sim.driver.netdev import AxiEthNet, Coalesce
from atsoc.sim.driver.plic import PlicDriver
from atsoc.sim.driver.regs import eth_mac as RE
from atsoc.sim.model import soc_map as M
from atsoc.sim.model.dma import Fault
from atsoc.sim.net_frames import (IP_TEXT, MAC_TEXT, PEER_IP, PEER_MAC, STATION_IP, STATION_MAC,
                                   answered_requests, arp_request, ping, udp)
from atsoc.sim.tb.axil_mmio import AxiLiteMmio
from atsoc.sim.tb.dma_mem import FaultyAxiRam
from atsoc.sim.tb.eth_mdio_phy import MdioPhy


__all__ = ["SocSystem", "build", "CONFIGS", "SYS_PS", "STATION_MAC", "STATION_IP", "PEER_MAC",
           "PEER_IP", "SocMmio", "SystemRam", "RamView", "WirePeer", "WireFrame",
           "MAC_DROP_COUNTERS", "soc_config_for"]

CONFIGS = ("plic", "atsintc", "atsintc-irq")
#: System clock period (125 MHz) and the PHY clocks (125 MHz GMII; the receive clock is shifted
#: by half a period so the clock-domain crossings see both phases).
SYS_PS, RX_PS, TX_PS = 8000, 8000, 8000
#: RAM behind ``m_axi`` (the driver needs about 150 KiB with 16-descriptor rings).
RAM_SIZE = 1 << 20
#: MAC statistics counters of dropped frames (the model's ``VERDICT_COUNTER``), register offsets.
MAC_DROP_COUNTERS = {"rxfcserl": RE.RXFCSERL, "rxundrl": RE.RXUNDRL, "rxfragl": RE.RXFRAGL,
                     "rxovrl": RE.RXOVRL, "rxerrl": RE.RXERRL, "rxaerl": RE.RXAERL,
                     "rxfiltl": RE.RXFILTL, "rxovfl": RE.RXOVFL}


def now_ps() -> int:
    return round(get_sim_time("ps"))


async def cycles(dut, n: int) -> None:
    """Let ``n`` system clock cycles pass (ending on a rising edge) without waking Python on each
    of them (cocotb's ClockCycles awaits every edge)."""
    if n > 1:
        await Timer((n - 1) * SYS_PS, "ps")
    if n > 0:
        await RisingEdge(dut.clk)


# -- CPU port -----------------------------------------------------------------------------------

class SocMmio(AxiLiteMmio):
    """:class:`AxiLiteMmio` whose ``wait_irq`` sleeps until the watched vector changes (no Python
    per cycle) and that can be told to stop waiting (:meth:`stop`), so an executor sleeping in
    its back-end's ``wait`` returns and sees its ``until`` condition."""

    def __init__(self, dut, *, irq):
        super().__init__(dut, "s_axil", irq=irq)
        self._stop = Event()

    async def wait_irq(self, line: int, timeout_cycles: int | None = None) -> None:
        while not (int(self.irq.value) >> line) & 1:
            if self._stop.is_set():
                return
            await First(self.irq.value_change, self._stop.wait())

    def stop(self) -> None:
        """Wake every ``wait_irq`` for good (the executor is being stopped)."""
        self._stop.set()

    def resume(self) -> None:
        self._stop.clear()

    async def idle(self, n: int = 1) -> None:
        """CPU time without bus accesses (``NetService``'s per-frame work)."""
        await cycles(self.dut, n)


# -- memory -------------------------------------------------------------------------------------

class SystemRam(FaultyAxiRam):
    """System memory on ``m_axi`` at ``base``: addresses outside ``[base, base + size)`` answer
    DECERR; :meth:`inject` arms a one-shot fault (the first access that hits it gets the error
    response, then the range answers normally again). ``hits`` lists the faults that fired."""

    def __init__(self, dut, *, base: int = M.RAM_BASE, size: int = RAM_SIZE):
        if base % size:
            raise ValueError(f"RAM base {base:#x} must be a multiple of its size {size:#x}")
        super().__init__(dut, "m_axi", size=size)
        self.base = base
        self.faults = [Fault(0, base, Resp.DECERR), Fault(base + size, 1 << 32, Resp.DECERR)]
        self._once: list[Fault] = []
        self.hits: list[tuple[int, str, int]] = []

    def inject(self, start: int, end: int, *, resp: int = Resp.SLVERR, kind: str = "w") -> None:
        """The next ``kind`` (``"r"``, ``"w"`` or ``"rw"``) access to ``[start, end)`` answers
        ``resp``, once."""
        fault = Fault(start, end, int(resp), kind)
        self.faults.append(fault)
        self._once.append(fault)

    def _hit(self, addr, n, kind):
        worst = super()._hit(addr, n, kind)
        if worst:
            self.hits.append((addr, kind, worst))
            for f in list(self._once):
                if kind in f.kind and addr < f.end and f.start < addr + n:
                    self._once.remove(f)
                    self.faults.remove(f)
        return worst

    @property
    def armed(self) -> bool:
        return bool(self._once)


class RamView:
    """The driver's ``DmaMemory`` (bus addresses) on the AxiRam (offsets)."""

    def __init__(self, ram: SystemRam):
        self.ram = ram

    def _offset(self, address: int, length: int) -> int:
        off = address - self.ram.base
        if off < 0 or off + length > self.ram.size:
            raise ValueError(f"{address:#x}+{length} is outside the RAM at {self.ram.base:#x}")
        return off

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.ram.read(self._offset(address, length), length))

    def write(self, address: int, data: bytes) -> None:
        self.ram.write(self._offset(address, len(data)), bytes(data))


# -- the wire -----------------------------------------------------------------------------------

@dataclass
class WireFrame:
    """A frame on the wire (without preamble and FCS) and its times in ps.

    ``first_ps``: the first preamble byte (``rx_dv``/``tx_en`` rising); ``last_ps``: the end of
    the last FCS byte (``rx_dv``/``tx_en`` falling). ``None`` until the frame has been sent."""

    data: bytes
    direction: str                     #: "to_soc" or "from_soc"
    first_ps: int | None = None
    last_ps: int | None = None
    gmii: GmiiFrame | None = field(default=None, repr=False)

    def settle(self, period_ps: int) -> None:
        g = self.gmii
        if g is not None and self.last_ps is None and g.sim_time_end is not None:
            self.first_ps = round(get_time(g.sim_time_start))
            self.last_ps = round(get_time(g.sim_time_end)) + period_ps


def get_time(steps) -> float:
    from cocotb.utils import get_time_from_sim_steps
    return get_time_from_sim_steps(steps, "ps")


class WirePeer:
    """The station's link partner: sends scapy-built frames on the GMII receive pins and collects
    what the SoC transmits, with times; :meth:`write_pcap` saves both directions."""

    def __init__(self, dut):
        self.src = GmiiSource(dut.gmii_rxd, dut.gmii_rx_er, dut.gmii_rx_dv, dut.gmii_rx_clk)
        self.sink = GmiiSink(dut.gmii_txd, dut.gmii_tx_er, dut.gmii_tx_en, dut.gmii_tx_clk)
        for o in (self.src, self.sink):
            o.log.setLevel(logging.WARNING)
        self.sent: list[WireFrame] = []
        self.received: list[WireFrame] = []
        self.bad_frames = 0
        self.arrived = Event()
        cocotb.start_soon(self._collect())

    async def _collect(self):
        while True:
            g = await self.sink.recv()
            ok = g.check_fcs() and not any(g.error or [])
            if not ok:
                self.bad_frames += 1
            f = WireFrame(bytes(g.get_payload(strip_fcs=True)), "from_soc",
                          round(get_time(g.sim_time_start)),
                          round(get_time(g.sim_time_end)) + TX_PS, g)
            self.received.append(f)
            self.arrived.set()

    async def send(self, data: bytes, *, bad_fcs: bool = False) -> WireFrame:
        """Queue ``data`` (padded to 60 bytes, FCS added; a wrong FCS with ``bad_fcs``); frames
        queued together leave back to back with the 12-byte gap."""
        f = WireFrame(bytes(data), "to_soc")

        def done(sent: GmiiFrame):            # the source's own copy, with its times
            f.gmii = sent
            f.settle(RX_PS)

        g = GmiiFrame.from_payload(data, tx_complete=done)
        if bad_fcs:
            g.data[-1] ^= 0xFF
        self.sent.append(f)
        await self.src.send(g)
        return f

    async def idle(self) -> None:
        """Wait until every queued frame has left."""
        await self.src.wait()
        for f in self.sent:
            f.settle(RX_PS)

    def settle(self) -> None:
        for f in self.sent:
            f.settle(RX_PS)

    async def wait_received(self, n: int, timeout_cycles: int) -> bool:
        """Wait until ``n`` frames have been received in total (False on timeout)."""
        deadline = now_ps() + timeout_cycles * SYS_PS
        while len(self.received) < n:
            left = deadline - now_ps()
            if left <= 0:
                return False
            self.arrived.clear()
            await First(self.arrived.wait(), Timer(left, "ps"))
        return True

    def write_pcap(self, path) -> int:
        """Both directions, in time order (timestamps are simulation time); returns the count."""
        from scapy.layers.l2 import Ether
        from scapy.utils import PcapWriter
        self.settle()
        frames = sorted((f for f in self.sent + self.received if f.first_ps is not None),
                        key=lambda f: f.first_ps)
        with PcapWriter(str(path), linktype=1, nano=True, sync=True) as w:
            for f in frames:
                pkt = Ether(f.data)
                pkt.time = f.first_ps / 1e12
                w.write(pkt)
        return len(frames)


# -- the system ---------------------------------------------------------------------------------

@dataclass
class SocSystem:
    """One built system on the RTL: the testbench parts, the driver objects and the service."""

    config: str
    dut: object
    soc_config: SocConfig
    bus: SocMmio
    ram: SystemRam
    mem: RamView
    peer: WirePeer
    phy: MdioPhy
    executor: Executor
    backend: object
    dev: AxiEthNet
    app: EchoResponder
    service: NetService
    runner: object = None

    # -- running ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Bring the device up, start the service and run the executor in the background."""
        await self.backend.setup()
        await self.dev.init()
        await self.service.start()
        self.bus.resume()
        self._stopping = False
        self.runner = cocotb.start_soon(self.executor.run(until=lambda: self._stopping))

    async def stop(self) -> None:
        """Stop the executor at its next sleep (the application's state stays for checks)."""
        self._stopping = True
        self.bus.stop()
        await self.runner
        self.runner = None

    async def quiet(self, window: int = 4000, limit_cycles: int = 2_000_000) -> None:
        """Wait until the system has been quiet for ``window`` cycles: nothing left to send,
        nothing received, no CPU register access (the window is longer than a maximum-size frame
        takes to leave, so a reply still in the MAC's store-and-forward FIFO is not missed)."""
        await self.peer.idle()
        start = now_ps()
        while True:
            n = len(self.peer.received)
            accesses = self.bus.reads + self.bus.writes
            await cycles(self.dut, window)
            if (len(self.peer.received) == n and self.bus.reads + self.bus.writes == accesses
                    and self.peer.src.idle() and not self.peer.sink.active):
                return
            if now_ps() - start > limit_cycles * SYS_PS:
                raise TimeoutError(f"the system did not go quiet within {limit_cycles} cycles")

    async def mac_counters(self) -> dict[str, int]:
        """The MAC's drop counters and RXFL, read through the registers (after :meth:`stop`)."""
        base = self.soc_config.mac_base
        out = {name: await self.bus.read(base + off) for name, off in MAC_DROP_COUNTERS.items()}
        out["rxfl"] = await self.bus.read(base + RE.RXFL)
        out["txfl"] = await self.bus.read(base + RE.TXFL)
        return out

    def to_cycles(self, ps: int) -> float:
        return ps / SYS_PS


def build(dut, config: str = "plic", *, rx_queue_size: int = 16, tx_queue_size: int = 16,
          rx_coalesce: Coalesce = Coalesce(), tx_coalesce: Coalesce = Coalesce(),
          work_cycles: int = 0, soc_config: SocConfig | None = None) -> SocSystem:
    """Start the clocks and the testbench models around ``dut`` and build the driver and the
    service in ``config`` (one of :data:`CONFIGS`; as ``net_system.build``). Reset the DUT with
    :func:`reset` and then call :meth:`SocSystem.start`. ``soc_config`` is the configuration the
    Verilog was generated from, :func:`soc_config_for` ``(config)`` by default; ``atsintc`` on a
    SoC built without completion tokens is refused (ValueError)."""
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {CONFIGS}, not {config!r}")
    c = soc_config if soc_config is not None else soc_config_for(config)
    atsintc = config.startswith("atsintc")
    tokens = config == "atsintc"
    if tokens and not c.dma.completion_tokens:
        raise ValueError("the 'atsintc' configuration needs dma.completion_tokens=True")
    Clock(dut.clk, SYS_PS, unit="ps", impl="gpi").start()
    Clock(dut.gmii_rx_clk, RX_PS, unit="ps", impl="gpi").start(start_high=False)
    Clock(dut.gmii_tx_clk, TX_PS, unit="ps", impl="gpi").start()
    for name in ("irq_sources", "gmii_rxd", "gmii_rx_dv", "gmii_rx_er"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    bus = SocMmio(dut, irq=dut.notify if atsintc else dut.eip)
    ram = SystemRam(dut)
    mem = RamView(ram)
    peer = WirePeer(dut)
    phy = MdioPhy(dut.mdc, dut.mdio_o, dut.mdio_oe, dut.mdio_i, address=1, an_delay=100)
    if atsintc:
        driver = AtsIntcDriver(bus, c.atsintc_base, c.atsintc)
        backend = AtsIntcBackend(driver, M.EXECUTOR_PROCESS, hart=M.HART)
        number = c.atsintc_irq
    else:
        plic = PlicDriver(bus, c.plic_base, c.plic.sources, c.plic.contexts)
        backend = PlicBackend(plic, M.PLIC_CONTEXT)
        number = c.plic_irq
    ex = Executor(backend)
    alloc = Allocator(ram.base, ram.size)
    dev = AxiEthNet(bus, mem, alloc, dma_base=c.dma_base, mac_base=c.mac_base,
                    mac_address=STATION_MAC, rx_queue_size=rx_queue_size,
                    tx_queue_size=tx_queue_size, rx_coalesce=rx_coalesce,
                    tx_coalesce=tx_coalesce, completion_irqs=not tokens,
                    completion_tokens=tokens)
    app = EchoResponder(STATION_MAC, STATION_IP)
    irqs = IrqWiring(number("mm2s"), number("s2mm"), number("mac"))
    service = NetService(ex, dev, app, irqs, tokens=tokens, clock=now_ps, work=bus.idle,
                         work_cycles=work_cycles)
    return SocSystem(config, dut, c, bus, ram, mem, peer, phy, ex, backend, dev, app, service)


def soc_config_for(config: str, base: SocConfig = SocConfig()) -> SocConfig:
    """The SoC configuration a network configuration runs on: ``base`` itself, except that
    ``atsintc`` needs the DMA's completion tokens built in (they are its completion path). The
    other configurations run on any build: their driver leaves DMACR.TokenEn clear, so a build
    with tokens sends none (docs/dma.md, "Completion tokens")."""
    import dataclasses
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {CONFIGS}, not {config!r}")
    if config != "atsintc" or base.dma.completion_tokens:
        return base
    return dataclasses.replace(base, dma=dataclasses.replace(base.dma, completion_tokens=True))


async def reset(dut, n: int = 10) -> None:
    dut.rst.value = 1
    await cycles(dut, n)
    dut.rst.value = 0
    await cycles(dut, n)


# -- frames (scapy) and the checks of a run --------------------------------------------------------

async def conservation(system: SocSystem, requests: list[bytes]) -> dict:
    """Every request answered exactly right, or counted as dropped by the MAC (statistics
    registers), the driver or the application, and the counts add up; the MAC's RXFL equals the
    frames that reached memory. Call after :meth:`SocSystem.stop`."""
    dev, app, peer = system.dev, system.app, system.peer
    assert peer.bad_frames == 0, f"{peer.bad_frames} frames with a bad FCS or tx_er from the SoC"
    answered = answered_requests(requests, [f.data for f in peer.received])
    counters = await system.mac_counters()
    mac_dropped = sum(counters[c] for c in MAC_DROP_COUNTERS)
    s = dev.stats
    counted = (mac_dropped + s.rx_errors + s.rx_oversize + s.tx_lost + s.tx_errors
               + sum(app.ignored.values()))
    assert len(peer.sent) == len(requests)
    assert answered + counted == len(requests), (
        f"{len(requests)} sent, {answered} answered, {counted} counted as dropped "
        f"(MAC {counters}, driver {s}, app {dict(app.ignored)})")
    assert counters["rxfl"] == s.rx_frames + s.rx_errors + len(dev.rx_backlog), (
        f"MAC RXFL {counters['rxfl']} != frames taken {s.rx_frames} + lost {s.rx_errors} "
        f"+ kept {len(dev.rx_backlog)}")
    return {"answered": answered, "mac_dropped": mac_dropped, "counters": counters}


def seeded_rng() -> random.Random:
    return random.Random(cocotb.RANDOM_SEED)
