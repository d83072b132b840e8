package io.ambit.hbone.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.TlsProbe;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.ServerTls;
import io.ambit.hbone.tls.TlsPeer;
import io.ambit.hbone.tls.TlsSettings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.KeyStore;
import java.security.Provider;
import java.security.cert.Certificate;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLParameters;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jsse.provider.BouncyCastleJsseProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * BouncyCastle JSSE (pure Java, independent of BoringSSL) as a post-quantum TLS peer: it negotiates
 * X25519MLKEM768 with our pqc-only client and server. Per java-stack.md P5/P6 it needs BC's own key
 * manager and the certificate's curve in its group list.
 */
@ExtendWith(NoLeaks.class)
final class BouncyCastleJsseTest {
    private static final TlsSettings PQC = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
    private static final String[] GROUPS = {"X25519MLKEM768", "secp256r1"};
    private static TestLoops loops;
    private static TestPki pki;
    private static Provider bc;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
        pki = TestPki.create(Ids.TRUST_DOMAIN);
        // BC's own crypto (incl. ML-KEM); the no-arg form wants BC's DEFAULT SecureRandom registered in JCA.
        bc = new BouncyCastleJsseProvider(new BouncyCastleProvider());
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    @Test
    void aBouncyCastleClientAndOurPqcServerAgreeOnX25519MlKem768() throws Exception {
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        SslContext bcClient = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .sslContextProvider(bc)
                .keyManager(keyManager(pki.issue(Ids.CLIENT)))
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .protocols("TLSv1.3")
                // pure-Java BC prefers ChaCha20 (P6), which HBONE refuses: offer AES-GCM only
                .ciphers(java.util.List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"))
                .applicationProtocolConfig(alpn())
                .build();
        try (ServerTls ours = new ServerTls(() -> server, PQC);
                TlsProbe probe = TlsProbe.server(loops, ch -> ours.newHandler(ch.alloc()), ours::verifyPeer)) {
            TlsProbe.connect(loops, probe.address(), ch -> withGroups(bcClient.newHandler(ch.alloc())), x -> null);

            TlsPeer client = Await.get(probe.accepted.take());
            assertThat(client.identity()).isEqualTo(Ids.CLIENT);
            assertThat(client.namedGroup()).isEqualTo("X25519MLKEM768");
            assertThat(client.protocol()).isEqualTo("TLSv1.3");
        }
    }

    @Test
    void ourPqcClientAndABouncyCastleServerAgreeOnX25519MlKem768() throws Exception {
        SslContext bcServer = SslContextBuilder.forServer(keyManager(pki.issue(Ids.SERVER)))
                .sslProvider(SslProvider.JDK)
                .sslContextProvider(bc)
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols("TLSv1.3")
                // pure-Java BC prefers ChaCha20 (P6), which HBONE refuses: offer AES-GCM only
                .ciphers(java.util.List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"))
                .applicationProtocolConfig(alpn())
                .build();
        WorkloadCertificate client = pki.issue(Ids.CLIENT);
        try (ClientTls ours = new ClientTls(PQC);
                TlsProbe probe = TlsProbe.server(loops, ch -> withGroups(bcServer.newHandler(ch.alloc())), x -> null)) {
            CompletableFuture<TlsPeer> seen = TlsProbe.connect(
                    loops,
                    probe.address(),
                    ch -> ours.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    x -> ours.verifyPeer(x, Set.of(Ids.SERVER)));

            TlsPeer server = Await.get(seen);
            assertThat(server.identity()).isEqualTo(Ids.SERVER);
            assertThat(server.namedGroup()).isEqualTo("X25519MLKEM768");
        }
    }

    private static SslHandler withGroups(SslHandler handler) {
        SSLParameters params = handler.engine().getSSLParameters();
        params.setNamedGroups(GROUPS);
        handler.engine().setSSLParameters(params);
        return handler;
    }

    private static KeyManagerFactory keyManager(WorkloadCertificate cert) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("workload", cert.key(), new char[0], cert.chain().toArray(Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX", bc);
        kmf.init(store, new char[0]);
        return kmf;
    }

    private static ApplicationProtocolConfig alpn() {
        return new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2);
    }
}
