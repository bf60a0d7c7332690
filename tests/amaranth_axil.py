"""AXI4-Lite master for amaranth.sim async testbenches (small unit tests only; block tests use
cocotbext-axi under Verilator)."""


async def axil_write(ctx, axi, addr, data, strb=0xF):
    """One write; returns (bresp, handshake cycle offset is not tracked)."""
    ctx.set(axi.awaddr, addr)
    ctx.set(axi.wdata, data)
    ctx.set(axi.wstrb, strb)
    ctx.set(axi.awvalid, 1)
    ctx.set(axi.wvalid, 1)
    ctx.set(axi.bready, 1)
    await ctx.tick().until(axi.awready & axi.wready)
    ctx.set(axi.awvalid, 0)
    ctx.set(axi.wvalid, 0)
    (bresp,) = await ctx.tick().sample(axi.bresp).until(axi.bvalid)
    ctx.set(axi.bready, 0)
    return bresp


async def axil_read(ctx, axi, addr):
    """One read; returns (rdata, rresp, cycles from the AR handshake to the R beat)."""
    ctx.set(axi.araddr, addr)
    ctx.set(axi.arvalid, 1)
    ctx.set(axi.rready, 1)
    await ctx.tick().until(axi.arready)
    ctx.set(axi.arvalid, 0)
    cycles = 0
    while True:
        _clk, _rst, rvalid, rdata, rresp = await ctx.tick().sample(axi.rvalid, axi.rdata, axi.rresp)
        cycles += 1
        if rvalid:
            break
    ctx.set(axi.rready, 0)
    return rdata, rresp, cycles
