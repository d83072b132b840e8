package io.ambit.hbone.testsupport;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLException;

/**
 * Misbehaving or minimal TLS peers for refusal tests, built directly on Netty (not through our factory):
 * a client that trusts anything and presents whatever certificate (or none), with chosen groups and
 * protocols.
 */
public final class RawTls {
    private RawTls() {}

    /**
     * A tcnative client context.
     *
     * @param cert what to present, or {@code null} for no client certificate
     * @param groups key-exchange groups, or {@code null} for the default
     * @param protocols e.g. {@code TLSv1.3}
     */
    public static SslContext client(WorkloadCertificate cert, String[] groups, String... protocols)
            throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .protocols(protocols)
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2));
        if (cert != null) {
            b.keyManager(cert.key(), cert.chain().toArray(X509Certificate[]::new));
        }
        if (groups != null) {
            b.option(OpenSslContextOption.GROUPS, groups);
        }
        return b.build();
    }

    /** A tcnative server context presenting {@code cert}, trusting any client, with chosen groups. */
    public static SslContext server(WorkloadCertificate cert, String[] groups) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(
                        cert.key(), cert.chain().toArray(X509Certificate[]::new))
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE)
                .protocols("TLSv1.3")
                .applicationProtocolConfig(new ApplicationProtocolConfig(
                        ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2));
        if (groups != null) {
            b.option(OpenSslContextOption.GROUPS, groups);
        }
        return b.build();
    }
}
