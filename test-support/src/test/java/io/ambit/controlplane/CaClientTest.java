package io.ambit.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.SigningCa;
import io.ambit.hbone.cert.CertificateManager;
import io.ambit.hbone.cert.RetryBackoff;
import io.ambit.hbone.cert.Scheduler;
import io.ambit.hbone.cert.WorkloadCertificate;
import io.ambit.hbone.identity.SpiffeId;
import io.ambit.xds.ca.IstioCaClient;
import io.ambit.xds.client.XdsSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hbone's certificate manager on the istiod CA client, against the local control plane's CA over real
 * gRPC and TLS: issuance with impersonation, rotation at half-life, a CA outage (the valid certificate
 * keeps serving, the manager retries and recovers), a root rotation, and a refused request.
 */
class CaClientTest {
    private static final SpiffeId SELF = SpiffeId.parse("spiffe://cluster.local/ns/istio-system/sa/ztunnel");
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/web");

    @TempDir
    Path dir;

    private LocalControlPlane plane;
    private IstioCaClient ca;
    private CertificateManager manager;
    private ScheduledExecutorService timer;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        Files.writeString(dir.resolve("mesh.yaml"), Meshes.SHOP);
        Files.writeString(dir.resolve("token"), "ca-token");
        plane = startPlane(0);
        ca = new IstioCaClient(XdsSettings.of(plane.url(), plane.rootCert(), dir.resolve("token"), "Kubernetes"), SELF);
        timer = Executors.newSingleThreadScheduledExecutor();
        manager = manager(Duration.ofHours(1));
    }

    /** A manager asking for {@code ttl}; short ones make rotation happen within a test. */
    private CertificateManager manager(Duration ttl) {
        if (manager != null) {
            manager.close();
        }
        return CertificateManager.builder(ca, Scheduler.of(timer), Executors.newVirtualThreadPerTaskExecutor())
                .ttl(ttl)
                .backoff(new RetryBackoff(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1), 0.2))
                .meterRegistry(registry)
                .build();
    }

    private LocalControlPlane startPlane(int port) throws Exception {
        return LocalControlPlane.start(LocalControlPlane.Config.of(
                        dir.resolve("mesh.yaml"),
                        new InetSocketAddress(InetAddress.getByName("127.91.0.3"), port),
                        dir.resolve("ca"))
                .withMaxCertTtl(Duration.ofHours(2))
                .withTrigger(new ManualTrigger()));
    }

    @AfterEach
    void stop() {
        manager.close();
        ca.close();
        timer.shutdownNow();
        if (plane != null) {
            plane.close();
        }
    }

    @Test
    void aWorkloadCertificateComesFromTheCaWithItsRootBundle() throws Exception {
        WorkloadCertificate cert = manager.certificate(WEB).get(20, TimeUnit.SECONDS);
        assertThat(cert.identity()).isEqualTo(WEB);
        var root = Pem.readCertificates(plane.rootCert(), "root").getFirst();
        assertThat(cert.roots()).containsExactly(root);
        cert.leaf().verify(root.getPublicKey());
        assertThat(cert.leaf().getSubjectAlternativeNames()).singleElement().satisfies(san -> assertThat(san.get(1))
                .isEqualTo(WEB.toString()));
        assertThat(cert.lifetime()).isLessThanOrEqualTo(Duration.ofMinutes(61)); // as asked (plus backdating)
        assertThat(plane.certificatesIssued()).isEqualTo(1);
        assertThat(plane.lastHeaders().get("istio.v1.auth.IstioCertificateService/CreateCertificate"))
                .containsEntry("authorization", "Bearer ca-token")
                .containsEntry("clusterid", "Kubernetes");
    }

    @Test
    void aCertificateIsRotatedBeforeItExpires() throws Exception {
        manager = manager(Duration.ofSeconds(6));
        var seen = new CopyOnWriteArrayList<WorkloadCertificate>();
        manager.addListener(seen::add);
        var first = manager.certificate(WEB).get(20, TimeUnit.SECONDS);
        Await.until("a rotated certificate", Duration.ofSeconds(30), () -> seen.size() >= 2);
        var second = seen.get(1);
        assertThat(second.leaf().getSerialNumber()).isNotEqualTo(first.leaf().getSerialNumber());
        assertThat(second.notAfter()).isAfter(first.notAfter());
        assertThat(plane.certificatesIssued()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void duringACaOutageTheValidCertificateKeepsServingAndTheManagerRecovers() throws Exception {
        manager = manager(Duration.ofSeconds(6));
        var first = manager.certificate(WEB).get(20, TimeUnit.SECONDS);
        int port = plane.address().getPort();
        plane.close();
        plane = null;
        Await.until("failed rotation attempts", Duration.ofSeconds(30), () -> failures() >= 2);
        // whatever the outage, the certificate that is still valid keeps being served
        if (first.validAt(Instant.now())) {
            assertThat(manager.current(WEB)).contains(first);
        }
        plane = startPlane(port);
        var fresh = Await.value(
                "a certificate from the CA that came back",
                () -> manager.current(WEB),
                c -> c.isPresent() && !c.get().equals(first));
        assertThat(fresh.get().validAt(Instant.now())).isTrue();
    }

    @Test
    void aRootRotationHandsOutBothRootsThenTheNewOne() throws Exception {
        var oldRoot = Pem.readCertificates(plane.rootCert(), "root").getFirst();
        var next = SigningCa.newRoot("O=ambit, CN=ambit rotated root", Instant.now(), Duration.ofDays(30));
        plane.useCa(next, List.of(oldRoot, next.certificate()));
        var during = manager.certificate(WEB).get(20, TimeUnit.SECONDS);
        assertThat(during.roots()).containsExactly(oldRoot, next.certificate());
        during.leaf().verify(next.certificate().getPublicKey());

        plane.useCa(next, List.of(next.certificate()));
        var other = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/client");
        assertThat(manager.certificate(other).get(20, TimeUnit.SECONDS).roots()).containsExactly(next.certificate());
    }

    @Test
    void anIdentityOutsideTheTrustDomainIsRefusedWithTheReason() {
        var foreign = SpiffeId.parse("spiffe://other.domain/ns/shop/sa/web");
        assertThatThrownBy(() -> manager.certificate(foreign).get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("INVALID_ARGUMENT")
                .hasMessageContaining("expected: trust domain cluster.local");
        assertThat(plane.certificatesRefused()).isEqualTo(1);
    }

    @Test
    void anImpersonationOfAnotherIdentityThanTheCsrsIsRefused() throws Exception {
        var channel = new io.ambit.xds.client.ControlPlaneChannel(plane.url(), plane.rootCert(), null, 1 << 20, null);
        try {
            var keys = SigningCa.newKeyPair();
            var ext = new org.bouncycastle.asn1.x509.ExtensionsGenerator();
            ext.addExtension(
                    org.bouncycastle.asn1.x509.Extension.subjectAlternativeName,
                    true,
                    new org.bouncycastle.asn1.x509.GeneralNames(new org.bouncycastle.asn1.x509.GeneralName(
                            org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier, WEB.toString())));
            var request = new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                            new org.bouncycastle.asn1.x500.X500Name(new org.bouncycastle.asn1.x500.RDN[0]),
                            keys.getPublic())
                    .addAttribute(
                            org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                    .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                            .build(keys.getPrivate()));
            var pem = new java.io.StringWriter();
            try (var w = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(pem)) {
                w.writeObject(request);
            }
            var stub = io.ambit.xds.proto.ca.IstioCertificateServiceGrpc.newBlockingStub(channel.current());
            var other = com.google.protobuf.Struct.newBuilder()
                    .putFields(
                            "ImpersonatedIdentity",
                            com.google.protobuf.Value.newBuilder()
                                    .setStringValue("spiffe://cluster.local/ns/shop/sa/admin")
                                    .build())
                    .build();
            assertThatThrownBy(() -> stub.createCertificate(io.ambit.xds.proto.ca.IstioCertificateRequest.newBuilder()
                            .setCsr(pem.toString())
                            .setValidityDuration(3600)
                            .setMetadata(other)
                            .build()))
                    .hasMessageContaining("INVALID_ARGUMENT")
                    .hasMessageContaining(
                            "ImpersonatedIdentity spiffe://cluster.local/ns/shop/sa/admin differs from the"
                                    + " csr's spiffe://cluster.local/ns/shop/sa/web");
            assertThatThrownBy(() -> stub.createCertificate(io.ambit.xds.proto.ca.IstioCertificateRequest.newBuilder()
                            .setCsr("-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n-----END CERTIFICATE REQUEST-----\n")
                            .build()))
                    .hasMessageContaining("INVALID_ARGUMENT");
        } finally {
            channel.close();
        }
    }

    private double failures() {
        var c = registry.find(CertificateManager.FAILURES_METRIC).counter();
        return c == null ? 0 : c.count();
    }
}
