package io.ambit.hbone.tls;

import io.ambit.hbone.identity.SpiffeId;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AttributeKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * What a completed HBONE handshake established about the other side: its verified workload identity and
 * the negotiated parameters.
 *
 * @param identity the peer's SPIFFE id that passed verification (for a server: the expected identity it
 *     presented; for a client: its id in an accepted trust domain)
 * @param certificate the peer's leaf certificate
 * @param chain the chain the peer presented, leaf first: what a CRL update is checked against
 * @param protocol {@code TLSv1.3} (or {@code TLSv1.2} when enabled)
 * @param cipherSuite e.g. {@code TLS_AES_128_GCM_SHA256}
 * @param namedGroup the key-exchange group, e.g. {@code X25519MLKEM768}
 * @param applicationProtocol {@code h2}, or {@code null} when the peer sent no ALPN
 */
public record TlsPeer(
        SpiffeId identity,
        X509Certificate certificate,
        List<X509Certificate> chain,
        String protocol,
        String cipherSuite,
        String namedGroup,
        String applicationProtocol) {

    /** The channel attribute under which HBONE connections keep their peer once the handshake is done. */
    public static final AttributeKey<TlsPeer> ATTRIBUTE = AttributeKey.valueOf(TlsPeer.class, "peer");

    public TlsPeer {
        chain = List.copyOf(chain);
    }

    /** The peer of a connection, or of the connection an HTTP/2 stream belongs to. */
    public static Optional<TlsPeer> of(Channel channel) {
        Channel connection = channel instanceof Http2StreamChannel stream ? stream.parent() : channel;
        return Optional.ofNullable(connection.attr(ATTRIBUTE).get());
    }

    @Override
    public String toString() {
        return identity + " " + protocol + " " + cipherSuite + " " + namedGroup + " alpn=" + applicationProtocol;
    }
}
