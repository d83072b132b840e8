package io.ambit.ztunnel.inbound;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The PROXY protocol v2 header an application tunnel starts with (ztunnel-reference.md §1.5 step 3, §6.3):
 * {@code PROXY} command, TCP over the client's address family, the client's address and the address it
 * asked for, a TLV {@code 0xD0} with the client's SPIFFE id (from its certificate) and, for a hostname
 * authority, a TLV {@code 0xD1} with the service hostname. Netty's encoder writes the bytes.
 */
final class ProxyProtocolHeader {
    /** Both values are bounded (a SPIFFE id, a DNS name); this keeps the 16-bit length far from overflow. */
    private static final int MAX_TLV_VALUE = 4096;

    private ProxyProtocolHeader() {}

    /**
     * Writes the header as the first bytes to {@code app}, before the relay starts. Call on the channel's
     * event loop, so nothing written later can come first.
     *
     * @param identity        the client's SPIFFE id, or null when it has none
     * @param serviceHostname the service the client named, or null
     */
    static ChannelFuture write(
            Channel app, InetSocketAddress client, InetSocketAddress asked, String identity, String serviceHostname) {
        var tlvs = new ArrayList<HAProxyTLV>(2);
        add(tlvs, InboundTarget.TLV_IDENTITY, identity);
        add(tlvs, InboundTarget.TLV_SERVICE_HOSTNAME, serviceHostname);
        InetAddress src = client.getAddress();
        InetAddress dst = asked.getAddress();
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        var message = new HAProxyMessage(
                HAProxyProtocolVersion.V2,
                HAProxyCommand.PROXY,
                v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(src, v4),
                text(dst, v4),
                client.getPort(),
                asked.getPort(),
                tlvs);
        // The encoder only for this one message: the relay's bytes need no check against its type.
        app.pipeline().addFirst("proxy-protocol", HAProxyMessageEncoder.INSTANCE);
        try {
            return app.writeAndFlush(message);
        } finally {
            app.pipeline().remove("proxy-protocol");
        }
    }

    private static void add(List<HAProxyTLV> tlvs, byte type, String value) {
        if (value == null) {
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_TLV_VALUE) {
            throw new IllegalArgumentException("PROXY TLV 0x" + Integer.toHexString(type & 0xff) + " of " + bytes.length
                    + " bytes (expected at most " + MAX_TLV_VALUE + ")");
        }
        tlvs.add(new HAProxyTLV(type, Unpooled.wrappedBuffer(bytes)));
    }

    /** An IPv4 address written into a TCP6 header (mixed families) as IPv4-mapped IPv6. */
    private static String text(InetAddress address, boolean v4) {
        String text = address.getHostAddress();
        return v4 || !(address instanceof Inet4Address) ? stripScope(text) : "::ffff:" + text;
    }

    private static String stripScope(String text) {
        int percent = text.indexOf('%');
        return percent < 0 ? text : text.substring(0, percent);
    }
}
