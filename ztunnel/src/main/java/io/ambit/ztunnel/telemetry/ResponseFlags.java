package io.ambit.ztunnel.telemetry;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.tls.PeerRevokedException;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http2.Http2Exception;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/**
 * ztunnel's {@code response_flags} word for a tunnel that could not be opened (ztunnel-reference §7.1), so
 * dashboards that split failures by flag see ours the same way: a revoked peer {@code CERT_REVOKED}, no
 * certificate of our own {@code IDENTITY_ERROR}, a failed TLS handshake or peer check {@code TLS_FAILURE},
 * an HTTP/2 failure while setting up {@code H2_HANDSHAKE_FAILURE}, a TCP connect to 15008 that timed out
 * {@code NETWORK_POLICY} (ztunnel's hint that a NetworkPolicy blocks HBONE), anything else {@code CONNECT}.
 * All of them count in {@code istio_tcp_connections_failed_total}.
 */
public final class ResponseFlags {
    private ResponseFlags() {}

    /** The flag for {@code cause} (looked for along its cause chain, at most 16 deep). */
    public static String forTunnelFailure(Throwable cause) {
        String flag = "CONNECT";
        int depth = 0;
        for (Throwable t = cause; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof PeerRevokedException) {
                return "CERT_REVOKED"; // the most specific: decides at once
            }
            if (t instanceof CertificateSourceException) {
                flag = "IDENTITY_ERROR";
            } else if ((t instanceof SSLException || t instanceof CertificateException) && flag.equals("CONNECT")) {
                flag = "TLS_FAILURE";
            } else if (t instanceof Http2Exception && flag.equals("CONNECT")) {
                flag = "H2_HANDSHAKE_FAILURE";
            } else if (t instanceof ConnectTimeoutException && flag.equals("CONNECT")) {
                flag = "NETWORK_POLICY";
            }
        }
        return flag;
    }
}
