package io.ambit.hbone.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.TlsProbe;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Handshakes between our client and server contexts, and with peers that should be refused. */
@ExtendWith(NoLeaks.class)
final class HboneTlsTest {
    private static TestLoops loops;
    private static TestPki pki;
    private static TestPki otherCa;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
        pki = TestPki.create(Ids.TRUST_DOMAIN);
        otherCa = TestPki.create(Ids.TRUST_DOMAIN);
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    @Test
    void clientAndServerAgreeOnTls13AesGcmH2AndPostQuantumKeyExchange() throws Exception {
        Handshake h = handshake(
                TlsSettings.defaults(),
                TlsSettings.defaults(),
                pki.issue(Ids.SERVER),
                pki.issue(Ids.CLIENT),
                Set.of(Ids.SERVER));

        TlsPeer seenByClient = Await.get(h.client);
        TlsPeer seenByServer = Await.get(h.server);
        assertThat(seenByClient.identity()).isEqualTo(Ids.SERVER);
        assertThat(seenByServer.identity()).isEqualTo(Ids.CLIENT);
        for (TlsPeer p : List.of(seenByClient, seenByServer)) {
            assertThat(p.protocol()).isEqualTo("TLSv1.3");
            assertThat(p.cipherSuite()).isIn("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384");
            assertThat(p.namedGroup()).isEqualTo("X25519MLKEM768");
            assertThat(p.applicationProtocol()).isEqualTo("h2");
        }
    }

    @Test
    void pqcPolicyOnBothSidesNegotiatesX25519MlKem768() throws Exception {
        TlsSettings pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        Handshake h = handshake(pqc, pqc, pki.issue(Ids.SERVER), pki.issue(Ids.CLIENT), Set.of(Ids.SERVER));

        assertThat(Await.get(h.client).namedGroup()).isEqualTo("X25519MLKEM768");
        assertThat(Await.get(h.server).namedGroup()).isEqualTo("X25519MLKEM768");
    }

    @Test
    void pqcServerRefusesAClientOfferingOnlyX25519() throws Exception {
        TlsSettings pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        Throwable refused = serverOutcomeForRawClient(pqc, pki.issue(Ids.CLIENT), new String[] {"X25519"});
        assertThat(refused).hasStackTraceContaining("NO_SHARED_GROUP");
    }

    @Test
    void pqcClientRefusesAServerOfferingOnlyX25519() throws Exception {
        TlsSettings pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        SslContext raw = RawTls.server(pki.issue(Ids.SERVER), new String[] {"X25519"});
        WorkloadCertificate client = pki.issue(Ids.CLIENT);
        try (ClientTls clientTls = new ClientTls(pqc);
                TlsProbe server = TlsProbe.server(loops, ch -> raw.newHandler(ch.alloc()), x -> null)) {
            CompletableFuture<TlsPeer> outcome = TlsProbe.connect(
                    loops,
                    server.address(),
                    ch -> clientTls.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    x -> clientTls.verifyPeer(x, Set.of(Ids.SERVER)));
            assertThat(Await.failure(outcome)).isNotNull();
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }

    @Test
    void defaultPolicyFallsBackToX25519ForAClassicClient() throws Exception {
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        SslContext raw = RawTls.client(pki.issue(Ids.CLIENT), new String[] {"X25519"}, "TLSv1.3");
        try (ServerTls serverTls = new ServerTls(() -> server, TlsSettings.defaults());
                TlsProbe probe =
                        TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), serverTls::verifyPeer)) {
            TlsProbe.connect(loops, probe.address(), ch -> raw.newHandler(ch.alloc()), x -> null);
            assertThat(Await.get(probe.accepted.take()).namedGroup()).isEqualTo("X25519");
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }

    static Stream<Arguments> refusedClients() {
        Instant now = Instant.now();
        return Stream.of(
                Arguments.of("a client without a certificate", (Function<TestPki, WorkloadCertificate>) p -> null),
                Arguments.of("a client from another trust domain", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(Ids.FOREIGN)),
                Arguments.of("a client whose certificate expired", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.CLIENT)
                                .validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))))),
                Arguments.of("a client whose certificate is not valid yet", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.CLIENT)
                                .validity(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(2))))),
                Arguments.of("a client signed by another CA", (Function<TestPki, WorkloadCertificate>)
                        p -> otherCa.issue(Ids.CLIENT)),
                Arguments.of("a client whose SPIFFE id is only a DNS SAN", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.CLIENT).sans(List.of(), List.of(Ids.CLIENT.toString())))),
                Arguments.of("a client with a malformed SPIFFE URI", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.CLIENT)
                                .sans(List.of("spiffe://cluster.local/ns/default/sa/sleep/extra"), List.of()))),
                Arguments.of(
                        "a client certificate without the client-auth EKU", (Function<TestPki, WorkloadCertificate>)
                                p -> p.issue(TestPki.Leaf.of(Ids.CLIENT).usage(false, true))));
    }

    @ParameterizedTest(name = "{0} is refused")
    @MethodSource("refusedClients")
    void serverRefuses(String name, Function<TestPki, WorkloadCertificate> clientCert) throws Exception {
        Throwable refused = serverOutcomeForRawClient(TlsSettings.defaults(), clientCert.apply(pki), null);
        assertThat(refused).isNotNull();
    }

    @Test
    void aTrustDomainAliasIsAccepted() throws Exception {
        TlsSettings withAlias = TlsSettings.defaults().withTrustDomainAliases(Set.of("evil.example"));
        Handshake h = handshake(
                withAlias, TlsSettings.defaults(), pki.issue(Ids.SERVER), pki.issue(Ids.FOREIGN), Set.of(Ids.SERVER));
        assertThat(Await.get(h.server).identity()).isEqualTo(Ids.FOREIGN);
    }

    static Stream<Arguments> refusedServers() {
        Instant now = Instant.now();
        return Stream.of(
                Arguments.of("a server with an identity we do not expect", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(Ids.OTHER_SERVER)),
                Arguments.of("a server whose expected id is only a DNS SAN", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.SERVER).sans(List.of(), List.of(Ids.SERVER.toString())))),
                Arguments.of("a server signed by another CA", (Function<TestPki, WorkloadCertificate>)
                        p -> otherCa.issue(Ids.SERVER)),
                Arguments.of("a server whose certificate expired", (Function<TestPki, WorkloadCertificate>)
                        p -> p.issue(TestPki.Leaf.of(Ids.SERVER)
                                .validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1))))),
                Arguments.of(
                        "a server certificate without the server-auth EKU", (Function<TestPki, WorkloadCertificate>)
                                p -> p.issue(TestPki.Leaf.of(Ids.SERVER).usage(true, false))));
    }

    @ParameterizedTest(name = "{0} is refused by the client")
    @MethodSource("refusedServers")
    void clientRefuses(String name, Function<TestPki, WorkloadCertificate> serverCert) throws Exception {
        SslContext raw = RawTls.server(serverCert.apply(pki), null);
        WorkloadCertificate client = pki.issue(Ids.CLIENT);
        try (ClientTls clientTls = new ClientTls(TlsSettings.defaults());
                TlsProbe server = TlsProbe.server(loops, ch -> raw.newHandler(ch.alloc()), x -> null)) {
            CompletableFuture<TlsPeer> outcome = TlsProbe.connect(
                    loops,
                    server.address(),
                    ch -> clientTls.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    x -> clientTls.verifyPeer(x, Set.of(Ids.SERVER)));
            assertThat(Await.failure(outcome)).isNotNull();
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }

    @Test
    void aServerAcceptsAnyOfSeveralExpectedIdentities() throws Exception {
        Handshake h = handshake(
                TlsSettings.defaults(),
                TlsSettings.defaults(),
                pki.issue(Ids.SERVER),
                pki.issue(Ids.CLIENT),
                Set.of(Ids.OTHER_SERVER, Ids.SERVER));
        assertThat(Await.get(h.client).identity()).isEqualTo(Ids.SERVER);
    }

    @Test
    void aRotatedServerCertificateIsPresentedByTheNextHandshake() throws Exception {
        WorkloadCertificate first = pki.issue(Ids.SERVER);
        WorkloadCertificate second = pki.issue(Ids.SERVER);
        AtomicReference<WorkloadCertificate> current = new AtomicReference<>(first);
        WorkloadCertificate client = pki.issue(Ids.CLIENT);
        try (ServerTls serverTls = new ServerTls(current::get, TlsSettings.defaults());
                ClientTls clientTls = new ClientTls(TlsSettings.defaults());
                TlsProbe probe =
                        TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), serverTls::verifyPeer)) {
            TlsPeer before = Await.get(TlsProbe.connect(
                    loops,
                    probe.address(),
                    ch -> clientTls.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    x -> clientTls.verifyPeer(x, Set.of(Ids.SERVER))));
            current.set(second);
            TlsPeer after = Await.get(TlsProbe.connect(
                    loops,
                    probe.address(),
                    ch -> clientTls.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    x -> clientTls.verifyPeer(x, Set.of(Ids.SERVER))));

            assertThat(before.certificate().getSerialNumber())
                    .isEqualTo(first.leaf().getSerialNumber());
            assertThat(after.certificate().getSerialNumber())
                    .isEqualTo(second.leaf().getSerialNumber());
        }
    }

    @Test
    void aRotatedClientCertificateIsPresentedByTheNextHandshake() throws Exception {
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        WorkloadCertificate first = pki.issue(Ids.CLIENT);
        WorkloadCertificate second = pki.issue(Ids.CLIENT);
        try (ServerTls serverTls = new ServerTls(() -> server, TlsSettings.defaults());
                ClientTls clientTls = new ClientTls(TlsSettings.defaults());
                TlsProbe probe =
                        TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), serverTls::verifyPeer)) {
            for (WorkloadCertificate cert : List.of(first, second)) {
                TlsProbe.connect(
                        loops,
                        probe.address(),
                        ch -> clientTls.newHandler(ch.alloc(), cert, Set.of(Ids.SERVER)),
                        x -> clientTls.verifyPeer(x, Set.of(Ids.SERVER)));
                assertThat(Await.get(probe.accepted.take()).certificate().getSerialNumber())
                        .isEqualTo(cert.leaf().getSerialNumber());
            }
        }
    }

    @Test
    void tls12IsRefusedUnlessEnabled() throws Exception {
        SslContext tls12 = RawTls.client(pki.issue(Ids.CLIENT), null, "TLSv1.2");
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        try (ServerTls strict = new ServerTls(() -> server, TlsSettings.defaults());
                ServerTls lenient =
                        new ServerTls(() -> server, TlsSettings.defaults().withTls12Enabled(true));
                TlsProbe strictProbe = TlsProbe.server(loops, ch -> strict.newHandler(ch.alloc()), strict::verifyPeer);
                TlsProbe lenientProbe =
                        TlsProbe.server(loops, ch -> lenient.newHandler(ch.alloc()), lenient::verifyPeer)) {
            TlsProbe.connect(loops, strictProbe.address(), ch -> tls12.newHandler(ch.alloc()), x -> null);
            assertThat(Await.failure(strictProbe.accepted.take())).hasStackTraceContaining("PROTOCOL");

            TlsProbe.connect(loops, lenientProbe.address(), ch -> tls12.newHandler(ch.alloc()), x -> null);
            TlsPeer peer = Await.get(lenientProbe.accepted.take());
            assertThat(peer.protocol()).isEqualTo("TLSv1.2");
            assertThat(peer.cipherSuite()).isIn(TlsContextFactory.TLS12_SUITES);
        } finally {
            ReferenceCountUtil.release(tls12);
        }
    }

    @Test
    void tls12WithThePqcPolicyIsAConfigurationError() {
        assertThatIllegalArgumentException()
                .isThrownBy(
                        () -> TlsSettings.defaults().withTls12Enabled(true).withCompliancePolicy(CompliancePolicy.PQC))
                .withMessageContaining("tls12Enabled: true with compliancePolicy: pqc");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> CompliancePolicy.parse("fips"))
                .withMessage("compliancePolicy: \"fips\" (expected: default or pqc)");
    }

    // --- helpers

    private record Handshake(CompletableFuture<TlsPeer> client, CompletableFuture<TlsPeer> server) {}

    /** One handshake with our contexts on both sides; the TLS objects are closed once both sides are done. */
    private static Handshake handshake(
            TlsSettings serverSettings,
            TlsSettings clientSettings,
            WorkloadCertificate serverCert,
            WorkloadCertificate clientCert,
            Set<io.ambit.hbone.identity.SpiffeId> expected)
            throws Exception {
        ServerTls serverTls = new ServerTls(() -> serverCert, serverSettings);
        ClientTls clientTls = new ClientTls(clientSettings);
        TlsProbe probe = TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), serverTls::verifyPeer);
        CompletableFuture<TlsPeer> client = TlsProbe.connect(
                loops,
                probe.address(),
                ch -> clientTls.newHandler(ch.alloc(), clientCert, expected),
                x -> clientTls.verifyPeer(x, expected));
        CompletableFuture<TlsPeer> server = probe.accepted.take();
        Await.get(CompletableFuture.allOf(client, server).handle((v, e) -> null));
        probe.close();
        serverTls.close();
        clientTls.close();
        return new Handshake(client, server);
    }

    /** The server's outcome when a raw client presents {@code cert} (or none) with {@code groups}. */
    private static Throwable serverOutcomeForRawClient(TlsSettings settings, WorkloadCertificate cert, String[] groups)
            throws Exception {
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        SslContext raw = RawTls.client(cert, groups, "TLSv1.3");
        try (ServerTls serverTls = new ServerTls(() -> server, settings);
                TlsProbe probe =
                        TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), serverTls::verifyPeer)) {
            TlsProbe.connect(loops, probe.address(), ch -> raw.newHandler(ch.alloc()), x -> null);
            return Await.failure(probe.accepted.take());
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }
}
