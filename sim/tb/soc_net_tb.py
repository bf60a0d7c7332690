"""cocotb testbench: the network driver, executor and echo application (sim/driver) on the RTL
SoC (``soc``) under Verilator, against a scapy peer on the GMII pins (docs/soc.md, "End to end").

The configuration (``plic``, ``atsintc`` or ``atsintc-irq``; docs/net.md) arrives in
``ATSOC_NET_CONFIG``; random choices use cocotb's seed (``ATSOC_SEED`` replays a pytest run).
"""

from __future__ import annotations

import os

import cocotb

from atsoc.sim import soc_system as S
from atsoc.sim.driver.mmio import Resp
from atsoc.sim.driver.netdev import ERR_IRQ, Coalesce
from atsoc.sim.net_frames import reply_key

GAP = 3000          # cycles between isolated frames (the system is idle when each arrives)


def config() -> str:
    return os.environ.get("ATSOC_NET_CONFIG", "plic")


def log_dma_errors(system: S.SocSystem) -> list:
    """Record the DMASR of every DMA interrupt that reports an error (for the log)."""
    dev, errors = system.dev, []
    handle = dev.handle_dma_irq

    async def logged(rx: bool) -> int:
        if os.environ.get("ATSOC_NET_DEBUG"):
            from atsoc.sim.driver.regs import axi_dma as RD
            off = RD.S2MM_DMACR if rx else 0
            st = await system.bus.read(system.soc_config.dma_base + off + RD.MM2S_DMASR)
            if st & ERR_IRQ:
                cur = await system.bus.read(system.soc_config.dma_base + off + RD.MM2S_CURDESC)
                tail = await system.bus.read(system.soc_config.dma_base + off + RD.MM2S_TAILDESC)
                ring = dev.rx_ring if rx else dev.tx_ring
                descs = [(i, hex(ring.addr(i)), hex(ring.get(i, 0x18)), hex(ring.get(i, 0x1C)))
                         for i in range(ring.n)]
                system.dut._log.info("DEBUG err: curdesc %#x tail %#x head %d tail %d hw %d ring %s",
                                     cur, tail, dev.tx_head, dev.tx_tail, dev.tx_hw, descs)
        status = await handle(rx)
        if status & ERR_IRQ:
            errors.append((S.now_ps() // S.SYS_PS, "s2mm" if rx else "mm2s", status))
            system.dut._log.info("DMA %s error at cycle %d: DMASR %#x", errors[-1][1],
                                 errors[-1][0], status)
        return status

    dev.handle_dma_irq = logged
    return errors


async def started(dut, **kwargs) -> S.SocSystem:
    system = S.build(dut, config(), **kwargs)
    system.dma_errors = log_dma_errors(system)
    await S.reset(dut)
    await system.start()
    dut._log.info("%s: device up at %d cycles", system.config, S.now_ps() // S.SYS_PS)
    return system


async def send_spaced(system: S.SocSystem, frames, gap) -> list[S.WireFrame]:
    """Send each frame once the previous one has left, ``gap()`` cycles later."""
    sent = []
    for frame in frames:
        await S.cycles(system.dut, gap())
        sent.append(await system.peer.send(frame))
        await system.peer.idle()
    return sent


async def finish(system: S.SocSystem, requests) -> dict:
    await system.quiet()
    await system.stop()
    if os.environ.get("ATSOC_NET_DEBUG"):
        from atsoc.sim.driver.regs import axi_dma as RD
        dev, base = system.dev, system.soc_config.dma_base
        regs = {n: hex(await system.bus.read(base + o)) for n, o in (
            ("mm2s_dmasr", RD.MM2S_DMASR), ("mm2s_cur", RD.MM2S_CURDESC), ("mm2s_tail", RD.MM2S_TAILDESC),
            ("s2mm_dmasr", RD.S2MM_DMASR), ("s2mm_cur", RD.S2MM_CURDESC), ("s2mm_tail", RD.S2MM_TAILDESC))}
        ring = dev.tx_ring
        system.dut._log.info("DEBUG end: %s tx head %d tail %d hw %d; tx ring %s; replies %s", regs,
                             dev.tx_head, dev.tx_tail, dev.tx_hw,
                             [(i, hex(ring.get(i, 0x18)), hex(ring.get(i, 0x1C))) for i in range(ring.n)],
                             [reply_key(f.data) for f in system.peer.received])
    if system.ram.hits:
        system.dut._log.info("bus errors answered by the RAM: %s",
                             [(f"{a:#x}", k, Resp(r).name) for a, k, r in system.ram.hits])
    result = await S.conservation(system, requests)
    s = system.dev.stats
    system.dut._log.info("%s: %d requests, %d answered, MAC dropped %d, driver %s, app ignored %s",
                         system.config, len(requests), result["answered"], result["mac_dropped"],
                         s, dict(system.app.ignored))
    return result


@cocotb.test()
async def ping(dut):
    """ARP, then pings: each answered exactly right."""
    system = await started(dut)
    requests = [S.arp_request()] + [S.ping(i, bytes(range(i * 8))) for i in range(4)]
    await send_spaced(system, requests, lambda: GAP)
    result = await finish(system, requests)
    assert result["answered"] == len(requests)
    assert system.app.answered == {"arp": 1, "icmp": 4}


@cocotb.test()
async def echo(dut):
    """ARP, pings and UDP datagrams with random payloads of 1..1472 bytes (both ends included),
    random spacing: every one answered exactly right; the RX
    ring is full again afterwards; in ``atsintc`` every completion came as a token."""
    rng = S.seeded_rng()
    system = await started(dut)
    requests = [S.arp_request(), S.ping(1, b"")]
    requests += [S.ping(2 + i, rng.randbytes(rng.randint(1, 1472))) for i in range(3)]
    requests += [S.udp(20000 + i, rng.randbytes(rng.randint(1, 1472))) for i in range(18)]
    requests += [S.udp(30000, b"\x01"), S.udp(30001, rng.randbytes(1472))]
    # Spaced so that a reply has left before the next request arrives (see back_to_back).
    await send_spaced(system, requests, lambda: rng.choice([2500, GAP, 2 * GAP]))
    result = await finish(system, requests)
    dev, s = system.dev, system.dev.stats
    # No fault is injected: no DMA error, no recovery, every request answered.
    assert s.dma_errors == s.recoveries == 0 and s.spurious_irqs == 0, s
    assert result["answered"] == len(requests)
    assert result["mac_dropped"] == 0
    assert system.app.answered == {"arp": 1, "icmp": 4, "udp": 20}
    assert dev.rx_hw == dev.rx_queue_size(), "RX ring refilled"
    if system.config == "atsintc":
        if not s.dma_errors:
            assert s.tokens == 2 * len(requests), s
    else:
        assert s.tokens == 0


@cocotb.test()
async def overflow(dut):
    """A slow firmware (1500 cycles per frame) against a back-to-back burst of minimum-size
    datagrams: the RX ring and the MAC's receive buffer fill, whole frames are dropped and
    counted (RXOVFL, seen through the MAC's RxFifoOvr interrupt), every other frame is answered,
    and the pings sent after the burst are all answered."""
    rng = S.seeded_rng()
    system = await started(dut, work_cycles=1500)
    burst = [S.udp(40000 + i, rng.randbytes(rng.randint(1, 18))) for i in range(100)]
    for frame in burst:
        await system.peer.send(frame)
    await system.peer.idle()
    await system.quiet(window=5000)
    system.service.work_cycles = 0
    after = [S.ping(100 + i) for i in range(4)]
    await send_spaced(system, after, lambda: GAP)
    result = await finish(system, burst + after)
    c = result["counters"]
    assert c["rxovfl"] > 0 and result["mac_dropped"] == c["rxovfl"], c
    assert system.dev.stats.mac_rx_fifo_ovr > 0, "the MAC interrupt reported the overflow"
    keys = {reply_key(f.data) for f in system.peer.received}
    assert all(("icmp", 100 + i) in keys for i in range(4)), "pings after the burst answered"
    assert len(system.peer.received) >= 16 + len(after)


@cocotb.test()
async def bus_error(dut):
    """A DMA bus error mid-run: one S2MM buffer write answers SLVERR or DECERR (once). One error
    interrupt, one recovery (Reset, rings rebuilt), the failing frame counted; the rest of the
    run is served (the last request is answered) and the conservation check holds."""
    rng = S.seeded_rng()
    system = await started(dut)
    dev, ram = system.dev, system.ram
    requests = [S.udp(50000 + i, rng.randbytes(rng.randint(1, 1472))) for i in range(20)]
    at = rng.randint(4, 14)
    resp = rng.choice([Resp.SLVERR, Resp.DECERR])
    bufs = sorted(b.addr for b in dev.rx_pool + [b for b in dev.rx_bufs if b])
    gap = rng.choice([2500, 4000])
    for k, frame in enumerate(requests):
        if k == at:
            ram.inject(bufs[0], bufs[-1] + dev.buf_size, resp=resp, kind="w")
            dut._log.info("armed a one-shot %s on RX buffer writes before request %d", resp.name, k)
        await S.cycles(dut, gap)
        await system.peer.send(frame)
        await system.peer.idle()
    result = await finish(system, requests)
    assert not ram.armed and len(ram.hits) == 1, ram.hits
    s = dev.stats
    # exactly the injected error, and one recovery from it
    assert s.dma_errors == s.recoveries == 1, s
    assert any(ch == "s2mm" and st & 0x60 for _, ch, st in system.dma_errors), system.dma_errors
    assert s.rx_errors == 1, s
    assert result["answered"] >= len(requests) - 1 - s.tx_lost
    keys = {reply_key(f.data) for f in system.peer.received}
    assert ("udp", 50000 + len(requests) - 1) in keys, "the last request was answered"


@cocotb.test()
async def back_to_back(dut):
    """Datagrams of 200..1472 bytes back to back or 200 cycles apart (a fixed sequence): replies
    are queued while the previous one is still moving (TAILDESC written while the MM2S channel
    is busy). Every one answered, no DMA error."""
    import random
    rng = random.Random(1)
    system = await started(dut)
    requests = [S.udp(21000 + i, rng.randbytes(rng.randint(200, 1472))) for i in range(16)]
    await send_spaced(system, requests, lambda: rng.choice([0, 0, 200]))
    result = await finish(system, requests)
    assert not system.dma_errors, f"DMA errors: {system.dma_errors}"
    assert result["answered"] == len(requests)


# ================================================================================================
# atsoc sim demo / atsoc demo, and atsoc bench soc
# ================================================================================================

def _describe(frame: bytes) -> str:
    from scapy.layers.l2 import Ether
    return Ether(frame).summary()


@cocotb.test()
async def demo(dut):
    """The scapy peer sends an ARP request, pings and UDP datagrams, one at a time; what was
    exchanged (with the cycles from the request's last byte to the application task and to the
    reply's first byte) goes to the log and to ``$ATSOC_DEMO_OUT/demo-<config>.json``, the wire to
    ``demo-<config>.pcap``."""
    import json
    from pathlib import Path
    rng = S.seeded_rng()
    out = Path(os.environ.get("ATSOC_DEMO_OUT", "."))
    system = await started(dut)
    requests = [S.arp_request()]
    requests += [S.ping(i + 1, rng.randbytes(rng.randint(8, 56))) for i in range(3)]
    requests += [S.udp(5000 + i, rng.randbytes(rng.randint(1, 1472))) for i in range(3)]
    exchanges = []
    for k, frame in enumerate(requests):
        await S.cycles(dut, rng.randint(1500, 4000))
        wakes = len(system.service.wakes)
        sent = await system.peer.send(frame)
        await system.peer.idle()
        ok = await system.peer.wait_received(k + 1, 40_000)
        assert ok, f"no reply to {_describe(frame)}"
        reply = system.peer.received[k]
        woke = [w.cycle for w in system.service.wakes[wakes:] if w.frames]
        e = {"request": _describe(frame), "request_bytes": len(frame), "reply": _describe(reply.data),
             "reply_bytes": len(reply.data),
             "wake_cycles": round((woke[0] - sent.last_ps) / S.SYS_PS) if woke else None,
             "reply_cycles": round((reply.first_ps - sent.last_ps) / S.SYS_PS),
             "at_cycle": sent.first_ps // S.SYS_PS}
        exchanges.append(e)
        dut._log.info("-> %s (%d B) | <- %s (%d B) | app task after %s cycles, reply on the wire "
                      "after %d cycles", e["request"], e["request_bytes"], e["reply"],
                      e["reply_bytes"], e["wake_cycles"], e["reply_cycles"])
    result = await finish(system, requests)
    assert result["answered"] == len(requests)
    out.mkdir(parents=True, exist_ok=True)
    pcap = out / f"demo-{system.config}.pcap"
    frames = system.peer.write_pcap(pcap)
    summary = {"config": system.config, "exchanges": exchanges, "pcap": str(pcap),
               "pcap_frames": frames, "cycles": S.now_ps() // S.SYS_PS,
               "stats": vars(system.dev.stats), "answered": dict(system.app.answered),
               "counters": result["counters"]}
    (out / f"demo-{system.config}.json").write_text(json.dumps(summary, indent=2))


@cocotb.test()
async def bench(dut):
    """atsoc bench soc figures, as JSON to ``$ATSOC_BENCH_OUT``:

    * wake-up: cycles from an isolated ping's last byte on the wire (``gmii_rx_dv`` falling) to
      the application task running; round trip: to the reply's first byte on ``gmii_tx_en``;
      ``ATSOC_BENCH_PINGS`` pings (random gaps), mean and worst;
    * UDP echo throughput at 64, 512 and 1472-byte payloads: ``ATSOC_BENCH_FRAMES`` datagrams
      offered back to back at line rate; answered bytes per second of simulated time against
      1 Gb/s, drops counted.
    """
    import json
    import statistics
    rng = S.seeded_rng()
    pings = int(os.environ.get("ATSOC_BENCH_PINGS", "16"))
    burst = int(os.environ.get("ATSOC_BENCH_FRAMES", "40"))
    system = await started(dut)
    peer = system.peer
    # -- latency --------------------------------------------------------------------------------
    wake, rtt_icmp, rtt_udp = [], [], []
    requests = []                       # everything offered, for the conservation check
    for k in range(2 * pings):
        icmp = k < pings
        frame = S.ping(k, rng.randbytes(rng.randint(8, 56))) if icmp else \
            S.udp(6000 + k, rng.randbytes(rng.randint(1, 64)))
        await S.cycles(dut, rng.randint(2000, 6000))
        wakes = len(system.service.wakes)
        n = len(peer.received)
        requests.append(frame)
        sent = await peer.send(frame)
        await peer.idle()
        assert await peer.wait_received(n + 1, 40_000), f"no reply to request {k}"
        woke = [w.cycle for w in system.service.wakes[wakes:] if w.frames]
        reply = peer.received[n]
        (rtt_icmp if icmp else rtt_udp).append((reply.first_ps - sent.last_ps) / S.SYS_PS)
        if icmp:
            wake.append((woke[0] - sent.last_ps) / S.SYS_PS)

    def stats(values):
        return {"mean": round(statistics.mean(values), 1), "worst": round(max(values), 1),
                "best": round(min(values), 1), "n": len(values)}

    figures = {"config": system.config, "wake_cycles": stats(wake),
               "icmp_round_trip_cycles": stats(rtt_icmp), "udp_round_trip_cycles": stats(rtt_udp)}
    # -- throughput -----------------------------------------------------------------------------
    thr = {}
    for n_size, size in enumerate((64, 512, 1472)):
        await system.quiet(window=3000)
        n0, s0 = len(peer.received), len(peer.sent)
        # A source port per datagram of the whole run, so that every reply names its request.
        frames = [S.udp(10000 + 1000 * n_size + i, rng.randbytes(size)) for i in range(burst)]
        requests += frames
        for f in frames:
            await peer.send(f)
        await peer.idle()
        await system.quiet(window=3000)
        sent = peer.sent[s0:]
        got = peer.received[n0:]
        wire = max(len(sent[0].data), 60) + 4 + 8 + 12    # frame + FCS + preamble + gap
        answered = len(got)
        t_in = sent[-1].last_ps - sent[0].first_ps
        span = (got[-1].last_ps - got[0].first_ps) if answered > 1 else None
        whole = (got[-1].last_ps - sent[0].first_ps) if answered else None
        # Sustained: the replies' own window (first reply's first byte to the last one's last
        # byte, one gap added per frame: the frames are counted with their gap); whole run: from
        # the first request's first byte.
        thr[str(size)] = {
            "offered": burst, "answered": answered, "dropped": burst - answered,
            "offered_line_rate_pct": round(100 * burst * wire * 8 / (t_in * 1e-12 + 12 * 8e-9) / 1e9, 1),
            "sustained_line_rate_pct": round(100 * answered * wire * 8 / (span * 1e-12 + 12 * 8e-9) / 1e9, 1)
            if span else 0.0,
            "whole_run_line_rate_pct": round(100 * answered * wire * 8 / (whole * 1e-12) / 1e9, 1)
            if whole else 0.0,
            "sustained_payload_mbps": round(answered * size * 8 / (span * 1e-12 + 12 * 8e-9) / 1e6, 1)
            if span else 0.0,
            "frame_bytes": max(len(sent[0].data), 60) + 4,
        }
        dut._log.info("UDP echo %d B: %s", size, thr[str(size)])
    figures["udp_echo_throughput"] = thr
    await system.stop()
    # Every request answered exactly right or counted as dropped (MAC statistics, driver, the
    # application), and RXFL equals the frames the driver took: a frame the MAC accepted but
    # the DMA never delivered fails here (S.conservation asserts).
    result = await S.conservation(system, requests)
    figures["conservation"] = {"offered": len(requests), "answered": result["answered"],
                               "mac_dropped": result["mac_dropped"]}
    c = result["counters"]
    figures["mac_counters"] = c
    figures["driver"] = vars(system.dev.stats)
    figures["dma_errors"] = system.dma_errors
    out = os.environ.get("ATSOC_BENCH_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(figures, f, indent=2)
    dut._log.info("bench: %s", figures)
