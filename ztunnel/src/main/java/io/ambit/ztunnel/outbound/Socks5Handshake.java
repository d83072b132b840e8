package io.ambit.ztunnel.outbound;

import io.ambit.policy.match.IpAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of a SOCKS5 handshake (RFC 1928), and nothing more: the "no authentication" method
 * only, the CONNECT command only, IPv4, IPv6 and domain-name addresses. Once a request is read it turns
 * reading off, passes any bytes that came after the request down the pipeline (to an {@code InboundHold}),
 * removes itself and hands the request over; the receiver answers with {@link #reply}.
 *
 * <p>Bounded: a handshake is at most 257 + 262 bytes, and must end within the timeout. Garbage gets the
 * reply RFC 1928 has for it (method {@code 0xFF}, {@code 0x07} command not supported, {@code 0x08}
 * address type not supported, {@code 0x01} general failure) and the connection is closed; a client that
 * does not even speak version 5 is closed without a reply.
 */
final class Socks5Handshake extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Socks5Handshake.class);
    static final String NAME = "socks5-handshake";

    /** A greeting (2 + 255 methods) and the longest request (4 + 1 + 255 + 2), with room to spare. */
    static final int MAX_HANDSHAKE_BYTES = 1024;

    // RFC 1928 §6 reply codes.
    static final byte SUCCEEDED = 0x00;
    static final byte GENERAL_FAILURE = 0x01;
    static final byte NOT_ALLOWED = 0x02;
    static final byte HOST_UNREACHABLE = 0x04;
    static final byte CONNECTION_REFUSED = 0x05;
    static final byte COMMAND_NOT_SUPPORTED = 0x07;
    static final byte ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

    /** What the client asked to connect to: an IP, or a name (never resolved through DNS). */
    record Request(IpAddress ip, String host, int port) {
        @Override
        public String toString() {
            return (ip != null ? (ip.isV4() ? ip.toString() : "[" + ip + "]") : host) + ":" + port;
        }
    }

    /** Receives each completed handshake, on the channel's event loop. */
    @FunctionalInterface
    interface Receiver {
        void onRequest(Channel client, Request request);
    }

    private enum Phase {
        GREETING,
        REQUEST,
        DONE
    }

    private final Receiver receiver;
    private final Duration timeout;
    private ByteBuf buffer;
    private Phase phase = Phase.GREETING;
    private ScheduledFuture<?> deadline;

    Socks5Handshake(Receiver receiver, Duration timeout) {
        this.receiver = receiver;
        this.timeout = timeout;
    }

    /** Writes a reply (bound address 0.0.0.0:0: clients do not use it for CONNECT). */
    static io.netty.channel.ChannelFuture reply(Channel client, byte code) {
        return client.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {5, code, 0, 1, 0, 0, 0, 0, 0, 0}));
    }

    /** Replies with a failure code and closes the connection once the reply is out. */
    static void fail(Channel client, byte code) {
        reply(client, code).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        buffer = ctx.alloc().buffer(64, MAX_HANDSHAKE_BYTES);
        if (ctx.channel().isActive()) {
            armDeadline(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        armDeadline(ctx);
        ctx.fireChannelActive();
    }

    private void armDeadline(ChannelHandlerContext ctx) {
        if (deadline == null) {
            deadline = ctx.executor()
                    .schedule(
                            () -> {
                                log.debug("socks5 {}: handshake not done within {}", ctx.channel(), timeout);
                                ctx.close();
                            },
                            timeout.toMillis(),
                            TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (phase == Phase.DONE || !(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (in.readableBytes() > buffer.maxWritableBytes()) {
                garbage(ctx, GENERAL_FAILURE, "handshake longer than " + MAX_HANDSHAKE_BYTES + " bytes");
                return;
            }
            buffer.writeBytes(in);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (phase == Phase.GREETING) {
            greeting(ctx);
        }
        if (phase == Phase.REQUEST) {
            request(ctx);
        }
    }

    private void greeting(ChannelHandlerContext ctx) {
        if (buffer.readableBytes() < 2) {
            return;
        }
        int version = buffer.getUnsignedByte(buffer.readerIndex());
        if (version != 5) {
            phase = Phase.DONE;
            log.debug("socks5 {}: version {} (expected 5); closing", ctx.channel(), version);
            ctx.close();
            return;
        }
        int methods = buffer.getUnsignedByte(buffer.readerIndex() + 1);
        if (buffer.readableBytes() < 2 + methods) {
            return;
        }
        buffer.skipBytes(2);
        boolean noAuth = false;
        for (int i = 0; i < methods; i++) {
            noAuth |= buffer.readByte() == 0;
        }
        if (!noAuth) {
            phase = Phase.DONE;
            log.debug("socks5 {}: no acceptable method (only \"no authentication\" is offered)", ctx.channel());
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {5, (byte) 0xFF}))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {5, 0}));
        phase = Phase.REQUEST;
    }

    private void request(ChannelHandlerContext ctx) {
        int r = buffer.readerIndex();
        if (buffer.readableBytes() < 5) {
            return;
        }
        int version = buffer.getUnsignedByte(r);
        int command = buffer.getUnsignedByte(r + 1);
        int type = buffer.getUnsignedByte(r + 3);
        if (version != 5) {
            garbage(ctx, GENERAL_FAILURE, "request version " + version + " (expected 5)");
            return;
        }
        if (command != 1) {
            garbage(ctx, COMMAND_NOT_SUPPORTED, "command " + command + " (expected 1, CONNECT)");
            return;
        }
        int addressLength =
                switch (type) {
                    case 1 -> 4;
                    case 4 -> 16;
                    case 3 -> 1 + buffer.getUnsignedByte(r + 4);
                    default -> -1;
                };
        if (addressLength < 0) {
            garbage(ctx, ADDRESS_TYPE_NOT_SUPPORTED, "address type " + type + " (expected 1, 3 or 4)");
            return;
        }
        if (buffer.readableBytes() < 4 + addressLength + 2) {
            return;
        }
        buffer.skipBytes(4);
        Request request;
        if (type == 3) {
            byte[] name = new byte[buffer.readUnsignedByte()];
            buffer.readBytes(name);
            String host = new String(name, StandardCharsets.US_ASCII);
            int port = buffer.readUnsignedShort();
            if (name.length == 0 || !host.matches("[A-Za-z0-9.:\\-\\[\\]]+")) {
                garbage(ctx, HOST_UNREACHABLE, "domain name \"" + host + "\" is not a host name");
                return;
            }
            request = new Request(null, host, port);
        } else {
            byte[] raw = new byte[addressLength];
            buffer.readBytes(raw);
            int port = buffer.readUnsignedShort();
            try {
                request =
                        new Request(IpAddress.of(InetAddress.getByAddress(raw)).unmap(), null, port);
            } catch (UnknownHostException e) {
                garbage(ctx, ADDRESS_TYPE_NOT_SUPPORTED, "address of " + raw.length + " bytes");
                return;
            }
        }
        if (request.port() == 0) {
            garbage(ctx, GENERAL_FAILURE, "port 0 (expected 1-65535)");
            return;
        }
        phase = Phase.DONE;
        Channel channel = ctx.channel();
        channel.config().setAutoRead(false);
        if (buffer.isReadable()) {
            ByteBuf early = buffer.readRetainedSlice(buffer.readableBytes());
            ctx.fireChannelRead(early); // to the hold behind us, relayed once the tunnel is up
        }
        ctx.pipeline().remove(this);
        receiver.onRequest(channel, request);
    }

    private void garbage(ChannelHandlerContext ctx, byte code, String what) {
        phase = Phase.DONE;
        log.debug("socks5 {}: {}; replying {}", ctx.channel(), what, code);
        fail(ctx.channel(), code);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("socks5 {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
