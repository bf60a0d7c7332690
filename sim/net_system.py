"""The network application on the system reference model, in one of its configurations.

:func:`build` joins :class:`~atsoc.sim.model.soc.SocModel` (the bus back-end of the driver) with
the reference driver (:mod:`atsoc.sim.driver.netdev`, :mod:`atsoc.sim.driver.netapp`) and the
executor; :func:`run` drives it until the system is quiet. Configurations (docs/net.md):

* ``"plic"``: interrupts through the PLIC, software ready queue (:class:`PlicBackend`);
* ``"atsintc"``: interrupts through the ATSINTC, hardware ready queue, DMA completion tokens
  (:class:`AtsIntcBackend`, completions never interrupt);
* ``"atsintc-irq"``: interrupts through the ATSINTC, no tokens (completions interrupt, as on
  the PLIC: isolates what the tokens add).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from atsoc.sim.driver.atsintc import AtsIntcDriver
from atsoc.sim.driver.axi_dma import Allocator
from atsoc.sim.driver.executor import AtsIntcBackend, Executor, PlicBackend
from atsoc.sim.driver.netapp import EchoResponder, IrqWiring, NetService
from atsoc.sim.driver.netdev import AxiEthNet, Coalesce
from atsoc.sim.driver.plic import PlicDriver
from atsoc.sim.model import soc_map as M
from atsoc.sim.model.soc import SocIdle, SocModel


__all__ = ["NetSystem", "build", "run", "CONFIGS", "STATION_MAC", "STATION_IP"]

CONFIGS = ("plic", "atsintc", "atsintc-irq")
STATION_MAC = bytes.fromhex("000a35010203")
STATION_IP = bytes([10, 0, 0, 2])


@dataclass
class NetSystem:
    """One built system: the model, the driver objects and the service."""

    config: str
    soc: SocModel
    bus: object
    executor: Executor
    backend: object
    dev: AxiEthNet
    app: EchoResponder
    service: NetService


def build(config: str = "plic", *, rx_queue_size: int = 16, tx_queue_size: int = 16,
          rx_coalesce: Coalesce = Coalesce(), tx_coalesce: Coalesce = Coalesce(),
          work_cycles: int = 0) -> NetSystem:
    """Build the system in ``config`` (one of :data:`CONFIGS`); call :func:`start` next."""
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {CONFIGS}, not {config!r}")
    atsintc = config.startswith("atsintc")
    tokens = config == "atsintc"
    soc = SocModel(completion_tokens=tokens)
    bus = soc.cpu_bus("atsintc" if atsintc else "plic")
    if atsintc:
        driver = AtsIntcDriver(bus, M.ATSINTC_BASE, soc.atsintc.config)
        backend = AtsIntcBackend(driver, M.EXECUTOR_PROCESS, hart=M.HART)
        number = M.atsintc_line
    else:
        plic = PlicDriver(bus, M.PLIC_BASE, soc.plic.config.sources, soc.plic.config.contexts)
        backend = PlicBackend(plic, M.PLIC_CONTEXT)
        number = M.plic_source
    ex = Executor(backend)
    alloc = Allocator(M.RAM_BASE, M.RAM_SIZE)
    dev = AxiEthNet(bus, soc.mem, alloc, dma_base=M.DMA_BASE, mac_base=M.MAC_BASE,
                    mac_address=STATION_MAC, rx_queue_size=rx_queue_size,
                    tx_queue_size=tx_queue_size, rx_coalesce=rx_coalesce,
                    tx_coalesce=tx_coalesce, completion_irqs=not tokens,
                    completion_tokens=tokens)
    app = EchoResponder(STATION_MAC, STATION_IP)
    irqs = IrqWiring(number(M.IRQ_DMA_MM2S), number(M.IRQ_DMA_S2MM), number(M.IRQ_MAC))
    service = NetService(ex, dev, app, irqs, tokens=tokens, clock=lambda: soc.now,
                         work=bus.idle, work_cycles=work_cycles)
    return NetSystem(config, soc, bus, ex, backend, dev, app, service)


async def start(system: NetSystem) -> None:
    """Bring the device up and start the service (the executor is not run yet)."""
    await system.backend.setup()
    await system.dev.init()
    await system.service.start()


async def run_until_idle(system: NetSystem) -> None:
    """Run the executor until nothing in the system can wake it any more."""
    try:
        await system.executor.run(until=lambda: False)
    except SocIdle:
        pass


def run(system: NetSystem, *, started: bool = False, close: bool = True) -> None:
    """Start (unless ``started``) and run until idle, in a fresh event loop; then close the
    tasks' coroutines (unless ``close`` is false, to run again later)."""
    async def main():
        if not started:
            await start(system)
        await run_until_idle(system)
    try:
        asyncio.run(main())
    finally:
        if close:
            system.executor.close()


def demo(config: str = "plic", frames: int = 8, gap: int = 20_000) -> dict:
    """Ping the station ``frames`` times, ``gap`` cycles apart; the figures of the run.

    Returns
    -------
    dict
        ``answered``, ``wakeup_cycles`` (last byte of each ping to the application task),
        ``cycles`` (model time), ``accesses`` (CPU register accesses per block).
    """
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import Ether

    system = build(config)
    asyncio.run(start(system))
    soc = system.soc
    mac = ":".join(f"{b:02x}" for b in STATION_MAC)
    ip = ".".join(str(b) for b in STATION_IP)
    lasts = [soc.peer.send(bytes(Ether(dst=mac, src="02:00:00:00:00:01")
                                 / IP(src="10.0.0.1", dst=ip) / ICMP(seq=i)),
                           at=soc.now + 1000 + i * gap) for i in range(frames)]
    run(system, started=True)
    wakes = [w.cycle for w in system.service.wakes if w.frames]
    return {"config": config, "answered": len(soc.peer.received),
            "wakeup_cycles": [w - t for w, t in zip(wakes, lasts)], "cycles": soc.now,
            "accesses": dict(system.bus.accesses)}


if __name__ == "__main__":
    for name in CONFIGS:
        print(demo(name))
