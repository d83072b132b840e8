package io.ambit.ztunnel.dns;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The UDP listener's pipeline on an {@link EmbeddedChannel}, for the fuzz tests (which live in their own
 * package): the standard test mesh ({@link FixedMesh#standard()}) with the client {@code sleep}, and a
 * forwarder with no upstream, so that every forwarded question is answered SERVFAIL at once.
 */
public final class DnsFuzzHarness implements AutoCloseable {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.150.0.1", 40000);
    private static final InetSocketAddress SELF = new InetSocketAddress("127.150.0.1", 15053);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final DnsProxy.Shared shared;
    private final DnsAnswerer answerer;

    public DnsFuzzHarness() {
        var settings = DnsSettings.of(List.of());
        var forwarder = new UpstreamForwarder(settings, group.next(), NioDatagramChannel::new, NioSocketChannel::new);
        shared = DnsProxy.Shared.of(
                forwarder,
                new DnsMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()),
                NioDatagramChannel::new,
                settings);
        var mesh = new FixedMesh(FixedMesh.standard());
        answerer = new DnsAnswerer(mesh, FixedMesh.client(mesh.current(), "sleep"), shared);
    }

    /**
     * What the listener sends back for one datagram: the reply's bytes, or null when it dropped it.
     *
     * @throws AssertionError when a buffer was not released or the pipeline threw
     */
    public byte[] udp(byte[] packet) {
        var channel = new EmbeddedChannel(UdpDnsListener.handlers(answerer));
        var in =
                Unpooled.buffer(packet.length).writeBytes(packet); // (copiedBuffer of nothing: the shared EMPTY_BUFFER)
        channel.writeInbound(new DatagramPacket(in, SELF, CLIENT));
        channel.runPendingTasks();
        byte[] reply = null;
        Object out;
        int replies = 0;
        while ((out = channel.readOutbound()) != null) {
            var p = (DatagramPacket) out;
            try {
                if (!p.recipient().equals(CLIENT)) {
                    throw new AssertionError("reply sent to " + p.recipient() + ", not to the client");
                }
                reply = ByteBufUtil.getBytes(p.content());
                replies++;
            } finally {
                p.release();
            }
        }
        channel.checkException();
        channel.finishAndReleaseAll();
        if (in.refCnt() != 0) {
            throw new AssertionError("the datagram's buffer was not released");
        }
        if (replies > 1) {
            throw new AssertionError(replies + " replies to one datagram");
        }
        return reply;
    }

    /**
     * What the proxy keeps of an upstream record's rdata: the record of {@code type} whose rdata is
     * {@code message[offset, offset + length)}, handed over as Netty's decoder does (a view of the whole
     * message with absolute indexes). Null when the proxy drops the record as unreadable.
     */
    public static byte[] upstreamRdata(byte[] message, int offset, int length, int type) {
        var content = Unpooled.wrappedBuffer(message).setIndex(offset, offset + length);
        var record = new io.netty.handler.codec.dns.DefaultDnsRawRecord(
                "x.", io.netty.handler.codec.dns.DnsRecordType.valueOf(type), 60, content);
        try {
            return UpstreamRecords.rdata(record);
        } finally {
            record.release();
        }
    }

    @Override
    public void close() {
        shared.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
