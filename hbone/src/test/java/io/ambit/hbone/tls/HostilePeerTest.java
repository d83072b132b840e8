package io.ambit.hbone.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.PeerIdentities;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.RawTls;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.TlsProbe;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Security-cases rows 26–27 at the handshake: certificates signed by the trusted CA (so PKIX passes) but
 * with a hostile identity are refused by the trust manager itself, before any connection exists. The
 * verifiers here do not call {@code verifyPeer}: a handshake that completed would count as accepted.
 */
@ExtendWith(NoLeaks.class)
final class HostilePeerTest {
    private static final String ADMIN = "spiffe://cluster.local/ns/default/sa/admin";

    private static TestLoops loops;
    private static TestPki pki;

    @BeforeAll
    static void start() {
        loops = TestLoops.start();
        pki = TestPki.create(Ids.TRUST_DOMAIN);
    }

    @AfterAll
    static void stop() {
        loops.close();
    }

    /** Each case: how to make a leaf for the peer's own identity hostile, and what the refusal says. */
    static Stream<Arguments> hostileLeaves() {
        return Stream.of(
                argumentSet(
                        "two SPIFFE URI SANs",
                        leaf(id -> TestPki.Leaf.of(id).sans(List.of(id.toString(), ADMIN), List.of())),
                        "has 2 SPIFFE URI SANs"),
                argumentSet(
                        "the SPIFFE id only as a DNS SAN",
                        leaf(id -> TestPki.Leaf.of(id).sans(List.of(), List.of(id.toString()))),
                        "does not count: identities are read from URI SANs only"),
                argumentSet(
                        "the SPIFFE id as a DNS SAN beside an https URI SAN",
                        leaf(id -> TestPki.Leaf.of(id).sans(List.of("https://example.com/"), List.of(id.toString()))),
                        "has no spiffe:// URI SAN"),
                argumentSet(
                        "a NUL byte inside the SPIFFE URI SAN",
                        leaf(id -> TestPki.Leaf.of(id)
                                .sans(List.of(id + "\0.evil.example"), List.of())
                                .sanNotCritical()),
                        "contains a NUL byte"),
                argumentSet(
                        "a NUL byte after an otherwise valid SPIFFE URI SAN",
                        leaf(id -> TestPki.Leaf.of(id)
                                .sans(List.of(id + "\0"), List.of())
                                .sanNotCritical()),
                        "contains a NUL byte"),
                argumentSet(
                        "a control character in the SPIFFE URI SAN",
                        leaf(id -> TestPki.Leaf.of(id)
                                .sans(List.of(id + "\u001b[0m"), List.of())
                                .sanNotCritical()),
                        "contains a control character 0x1b"),
                argumentSet(
                        "an upper-case SPIFFE scheme",
                        leaf(id -> TestPki.Leaf.of(id)
                                .sans(List.of(id.toString().replace("spiffe:", "SPIFFE:")), List.of())),
                        "is not a workload SPIFFE id"),
                argumentSet(
                        "no extended key usage (CVE-2022-21657: absent must not mean any)",
                        leaf(id -> TestPki.Leaf.of(id).extendedKeyUsage(null)),
                        "has no extendedKeyUsage extension"),
                argumentSet(
                        "only anyExtendedKeyUsage",
                        leaf(id -> TestPki.Leaf.of(id).extendedKeyUsage(List.of(KeyPurposeId.anyExtendedKeyUsage))),
                        "does not allow"),
                argumentSet(
                        "only the other role's extended key usage",
                        // a client with serverAuth only, a server with clientAuth only; PKIX already says no
                        leaf(id -> TestPki.Leaf.of(id).usage(id.equals(Ids.SERVER), id.equals(Ids.CLIENT))),
                        "Extended key usage does not permit"));
    }

    @ParameterizedTest(name = "a client with {0} is refused by the server in the handshake")
    @MethodSource("hostileLeaves")
    void serverRefusesAHostileClient(Function<SpiffeId, TestPki.Leaf> hostile, String why) throws Exception {
        Throwable refused = Await.failure(serverOutcome(pki.issue(hostile.apply(Ids.CLIENT))));
        assertThat(refused).isInstanceOf(SSLHandshakeException.class).hasStackTraceContaining(why);
    }

    @ParameterizedTest(name = "a server with {0} is refused by the client in the handshake")
    @MethodSource("hostileLeaves")
    void clientRefusesAHostileServer(Function<SpiffeId, TestPki.Leaf> hostile, String why) throws Exception {
        Throwable refused = Await.failure(clientOutcome(pki.issue(hostile.apply(Ids.SERVER))));
        assertThat(refused).isInstanceOf(SSLHandshakeException.class).hasStackTraceContaining(why);
    }

    @Test
    void anIstioShapedPeerPassesTheSameHandshakesOnBothSides() throws Exception {
        assertThat(Await.get(serverOutcome(pki.issue(Ids.CLIENT))).identity()).isEqualTo(Ids.CLIENT);
        assertThat(Await.get(clientOutcome(pki.issue(Ids.SERVER))).identity()).isEqualTo(Ids.SERVER);
    }

    // --- helpers

    /**
     * Our server's outcome when a raw client presents {@code client}. The handshake alone decides: once it
     * completes, the peer is read without further checks.
     */
    private static CompletableFuture<TlsPeer> serverOutcome(WorkloadCertificate client) throws Exception {
        WorkloadCertificate server = pki.issue(Ids.SERVER);
        SslContext raw = RawTls.client(client, null, "TLSv1.3");
        try (ServerTls serverTls = new ServerTls(() -> server, TlsSettings.defaults());
                TlsProbe probe =
                        TlsProbe.server(loops, ch -> serverTls.newHandler(ch.alloc()), HostilePeerTest::peer)) {
            TlsProbe.connect(loops, probe.address(), ch -> raw.newHandler(ch.alloc()), x -> null);
            CompletableFuture<TlsPeer> outcome = probe.accepted.take();
            Await.get(outcome.handle((p, e) -> null));
            return outcome;
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }

    /** Our client's outcome when a raw server presents {@code server}; the handshake alone decides. */
    private static CompletableFuture<TlsPeer> clientOutcome(WorkloadCertificate server) throws Exception {
        WorkloadCertificate client = pki.issue(Ids.CLIENT);
        SslContext raw = RawTls.server(server, null);
        try (ClientTls clientTls = new ClientTls(TlsSettings.defaults());
                TlsProbe probe = TlsProbe.server(loops, ch -> raw.newHandler(ch.alloc()), x -> null)) {
            CompletableFuture<TlsPeer> outcome = TlsProbe.connect(
                    loops,
                    probe.address(),
                    ch -> clientTls.newHandler(ch.alloc(), client, Set.of(Ids.SERVER)),
                    HostilePeerTest::peer);
            Await.get(outcome.handle((p, e) -> null));
            return outcome;
        } finally {
            ReferenceCountUtil.release(raw);
        }
    }

    /** The peer of a completed handshake, read as is: only the trust manager has checked it. */
    private static TlsPeer peer(SslHandler handler) throws Exception {
        X509Certificate leaf = (X509Certificate) handler.engine().getSession().getPeerCertificates()[0];
        return new TlsPeer(PeerIdentities.of(leaf), leaf, List.of(leaf), null, null, null, null);
    }

    private static Function<SpiffeId, TestPki.Leaf> leaf(Function<SpiffeId, TestPki.Leaf> hostile) {
        return hostile;
    }
}
