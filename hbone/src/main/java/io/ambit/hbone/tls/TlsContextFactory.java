package io.ambit.hbone.tls;

import io.ambit.hbone.cert.RevocationChecker;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * The one place HBONE {@link SslContext}s are built (tcnative BoringSSL, reference-counted): TLS 1.3 only
 * (1.2 opt-in), AES-GCM only (in TLS 1.3 through {@link AesGcmOnly}), ALPN {@code h2}, the compliance policy's key-exchange groups, no session
 * resumption, client certificates required, and {@link SpiffeTrustManager} in place of host-name checks
 * (with the CRL when a {@link RevocationChecker} is given, else {@code null}).
 */
final class TlsContextFactory {
    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";
    static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384");
    static final List<String> TLS12_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");

    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2);

    /** A built context with the trust manager it verifies peers with, for the certificate it presents. */
    record Built(SslContext context, SpiffeTrustManager trustManager, WorkloadCertificate certificate) {}

    private TlsContextFactory() {}

    static Built server(WorkloadCertificate cert, TlsSettings settings, RevocationChecker revocations)
            throws SSLException {
        SpiffeTrustManager trust = new SpiffeTrustManager(cert.roots(), trustDomains(cert, settings), revocations);
        SslContextBuilder builder = SslContextBuilder.forServer(cert.key(), chain(cert))
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(trust);
        return new Built(configure(builder, settings), trust, cert);
    }

    static Built client(WorkloadCertificate cert, TlsSettings settings, RevocationChecker revocations)
            throws SSLException {
        SpiffeTrustManager trust = new SpiffeTrustManager(cert.roots(), Set.of(), revocations);
        SslContextBuilder builder = SslContextBuilder.forClient()
                .keyManager(cert.key(), chain(cert))
                .trustManager(trust)
                // Netty 4.2 defaults clients to HTTPS host-name checks, which SPIFFE certificates fail (P3).
                .endpointIdentificationAlgorithm(null);
        return new Built(configure(builder, settings), trust, cert);
    }

    /** The trust domains a server presenting {@code cert} accepts clients from: its own and the aliases. */
    static Set<String> trustDomains(WorkloadCertificate cert, TlsSettings settings) {
        Set<String> trustDomains = new HashSet<>(settings.trustDomainAliases());
        trustDomains.add(cert.identity().trustDomain());
        return Set.copyOf(trustDomains);
    }

    /** Protocols this configuration negotiates. */
    static List<String> protocols(TlsSettings settings) {
        return settings.tls12Enabled() ? List.of(TLS13, TLS12) : List.of(TLS13);
    }

    /** Cipher suites this configuration negotiates. */
    static List<String> cipherSuites(TlsSettings settings) {
        List<String> suites = new ArrayList<>(TLS13_SUITES);
        if (settings.tls12Enabled()) {
            suites.addAll(TLS12_SUITES);
        }
        return suites;
    }

    /**
     * Turns off TLS 1.3 session tickets on one engine: Netty re-enables them per engine for TLS 1.3, and
     * HBONE never resumes (a resumed session would skip verification against today's roots).
     */
    static void disableResumption(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            SSL.setOptions(openSsl.sslPointer(), SSL.SSL_OP_NO_TICKET);
        }
    }

    private static SslContext configure(SslContextBuilder builder, TlsSettings settings) throws SSLException {
        if (!OpenSsl.isAvailable()) {
            throw new SSLException("tcnative BoringSSL is not available", OpenSsl.unavailabilityCause());
        }
        SslContext context = builder.sslProvider(SslProvider.OPENSSL_REFCNT)
                .protocols(protocols(settings))
                // BoringSSL ignores this list for TLS 1.3 (ChaCha20 stays in): AesGcmOnly takes it out.
                .ciphers(cipherSuites(settings))
                .applicationProtocolConfig(ALPN)
                .option(
                        OpenSslContextOption.GROUPS,
                        settings.compliancePolicy().groups().toArray(String[]::new))
                .build();
        try {
            AesGcmOnly.apply(context, settings.compliancePolicy().groups());
            ((OpenSslSessionContext) context.sessionContext()).setSessionCacheEnabled(false);
        } catch (SSLException | RuntimeException e) {
            ReferenceCountUtil.release(context);
            throw e;
        }
        return context;
    }

    private static X509Certificate[] chain(WorkloadCertificate cert) {
        return cert.chain().toArray(X509Certificate[]::new);
    }
}
