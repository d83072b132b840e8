package io.ambit.hbone.testsupport;

import io.ambit.hbone.transport.Transport;
import io.ambit.hbone.transport.Transports;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;

/** Event loops for one test class, on the transport {@link Transports} picks (or the given one). */
public final class TestLoops implements AutoCloseable {
    public final Transport transport;
    public final EventLoopGroup group;

    private TestLoops(Transport transport) {
        this.transport = transport;
        this.group = transport.newEventLoopGroup(2, "test-" + transport);
    }

    public static TestLoops start() {
        return new TestLoops(Transports.select());
    }

    public static TestLoops start(Transport transport) {
        return new TestLoops(transport);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
