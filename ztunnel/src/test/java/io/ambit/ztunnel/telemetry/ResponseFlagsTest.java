package io.ambit.ztunnel.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.cert.CertificateSourceException;
import io.ambit.hbone.identity.PeerIdentityException;
import io.ambit.hbone.tls.PeerRevokedException;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** ztunnel's response_flags words for the ways a tunnel fails to open (ztunnel-reference §7.1). */
class ResponseFlagsTest {
    @ParameterizedTest
    @MethodSource
    void tunnelFailures(Throwable cause, String flag) {
        assertThat(ResponseFlags.forTunnelFailure(cause)).isEqualTo(flag);
    }

    static Stream<Arguments> tunnelFailures() {
        return Stream.of(
                argumentSet("a refused TCP connect is CONNECT", new ConnectException("Connection refused"), "CONNECT"),
                argumentSet("an unknown failure is CONNECT", new IOException("closed during setup"), "CONNECT"),
                argumentSet(
                        "a TCP connect to 15008 that timed out is NETWORK_POLICY",
                        new ConnectTimeoutException("connection timed out: /10.0.0.1:15008"),
                        "NETWORK_POLICY"),
                argumentSet(
                        "a failed TLS handshake is TLS_FAILURE",
                        new SSLHandshakeException("unable to find valid certification path"),
                        "TLS_FAILURE"),
                argumentSet(
                        "a server with an unexpected identity is TLS_FAILURE",
                        new SSLHandshakeException("handshake failed", new PeerIdentityException("not expected")),
                        "TLS_FAILURE"),
                argumentSet(
                        "a revoked server is CERT_REVOKED, though it is a TLS failure too",
                        new SSLHandshakeException("revoked", new PeerRevokedException("serial 1a is revoked")),
                        "CERT_REVOKED"),
                argumentSet(
                        "no certificate of our own is IDENTITY_ERROR",
                        new CompletionException(new CertificateSourceException("CA unreachable")),
                        "IDENTITY_ERROR"),
                argumentSet(
                        "an HTTP/2 error while setting up is H2_HANDSHAKE_FAILURE",
                        Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "bad preface"),
                        "H2_HANDSHAKE_FAILURE"),
                argumentSet("no cause at all is CONNECT", null, "CONNECT"));
    }
}
