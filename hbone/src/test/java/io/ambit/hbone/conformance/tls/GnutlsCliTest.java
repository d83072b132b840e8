package io.ambit.hbone.conformance.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.tls.CompliancePolicy;
import io.ambit.hbone.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * GnuTLS's client ({@code gnutls-cli} 3.7, Debian {@code gnutls-bin}: a TLS stack independent of OpenSSL and
 * BoringSSL, without ML-KEM) against the HBONE listener: with the test CA's client certificate it gets TLS 1.3,
 * X25519, an AES-GCM suite and ALPN h2, and a second connection is a full handshake, not a resumption; offering
 * only ChaCha20 or only TLS 1.2 gets a handshake failure (only P-256 or P-384 gets a handshake, as with ztunnel); without a certificate the server ends the
 * connection with {@code certificate_required}; with the {@code pqc} policy its X25519 is not enough.
 */
@ExtendWith(NoLeaks.class)
@Timeout(120)
final class GnutlsCliTest {
    private static final String GNUTLS_CLI = "/usr/bin/gnutls-cli";
    private static final String OPENSSL = "/usr/bin/openssl";

    @TempDir
    static Path dir;

    private static ScannedServer server;
    private static Path ecKey;

    @BeforeAll
    static void start() throws Exception {
        Scanner.require(GNUTLS_CLI, "gnutls-bin");
        Scanner.require(OPENSSL, "openssl");
        server = ScannedServer.start("127.62.20.4", TlsSettings.defaults(), dir.resolve("default"));
        // GnuTLS does not read a PKCS#8 EC key without its public key; OpenSSL writes the full SEC1 form.
        ecKey = dir.resolve("key-ec.pem");
        Scanner.Run converted = Scanner.run(
                Duration.ofSeconds(20),
                List.of(OPENSSL, "ec", "-in", server.client.key().toString(), "-out", ecKey.toString()));
        assertThat(converted.exit()).as(converted.out()).isZero();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void withAClientCertificateItIsTls13X25519AesGcmH2AndNeverResumed() throws Exception {
        long before = server.server.stats().handshakes();
        Scanner.Run run = gnutls(server, true, "NORMAL", "--resume");
        String out = run.out();

        assertThat(out)
                .as(out)
                .containsPattern("Description: \\(TLS1\\.3-X\\.509\\)-\\(ECDHE-X25519\\)-\\(ECDSA-SECP256R1-SHA256\\)"
                        + "-\\(AES-(128|256)-GCM\\)");
        assertThat(out).as(out).contains("Application protocol: h2");
        // --resume connects twice; each connection is a full handshake with the server's certificate
        assertThat(out.split("Got a certificate list of 1 certificates", -1))
                .as(out)
                .hasSize(3);
        assertThat(out).as(out).doesNotContain("This is a resumed session");
        Await.until(() -> server.server.stats().handshakes() >= before + 2, "the server completed both handshakes");
    }

    @Test
    void aClientWithOnlyTheNistCurvesGetsAHandshakeAsWithZtunnel() throws Exception {
        for (String priority : List.of("NORMAL:-GROUP-ALL:+GROUP-SECP256R1", "NORMAL:-GROUP-ALL:+GROUP-SECP384R1")) {
            Scanner.Run run = gnutls(server, true, priority);
            assertThat(run.out()).as(priority + ":\n" + run.out()).contains("Handshake was completed");
        }
    }

    @Test
    void chaCha20OnlyAndTls12OnlyAreRefusedInTheHandshake() throws Exception {
        for (String priority : List.of("NORMAL:-CIPHER-ALL:+CHACHA20-POLY1305", "NORMAL:-VERS-ALL:+VERS-TLS1.2")) {
            Scanner.Run run = gnutls(server, true, priority);
            assertThat(run.out()).as(priority + ":\n" + run.out()).doesNotContain("Handshake was completed");
            assertThat(run.out()).as(priority + ":\n" + run.out()).contains("*** Received alert [");
            assertThat(run.exit()).as(priority).isNotZero();
        }
    }

    @Test
    void withoutAClientCertificateTheServerEndsTheConnectionWithCertificateRequired() throws Exception {
        Scanner.Run run = gnutls(server, false, "NORMAL");
        // TLS 1.3: the client finishes its side first; the server's refusal is the alert that follows
        assertThat(run.out()).as(run.out()).contains("Received alert [116]");
        assertThat(run.exit()).isNotZero();
    }

    @Test
    void withThePqcPolicyX25519AloneIsRefused() throws Exception {
        TlsSettings pqc = TlsSettings.defaults().withCompliancePolicy(CompliancePolicy.PQC);
        try (ScannedServer pqcServer = ScannedServer.start("127.62.20.5", pqc, dir.resolve("pqc"))) {
            Path key = dir.resolve("pqc-key-ec.pem");
            Scanner.Run converted = Scanner.run(
                    Duration.ofSeconds(20),
                    List.of(OPENSSL, "ec", "-in", pqcServer.client.key().toString(), "-out", key.toString()));
            assertThat(converted.exit()).as(converted.out()).isZero();
            Scanner.Run run =
                    Scanner.run(Duration.ofSeconds(30), command(pqcServer, pqcServer.client.chain(), key, "NORMAL"));
            assertThat(run.out()).as(run.out()).doesNotContain("Handshake was completed");
            assertThat(run.out()).as(run.out()).contains("Received alert [40]");
        }
    }

    private static Scanner.Run gnutls(ScannedServer target, boolean withCertificate, String priority, String... extra)
            throws Exception {
        List<String> command = command(
                target, withCertificate ? target.client.chain() : null, withCertificate ? ecKey : null, priority);
        command.addAll(List.of(extra));
        return Scanner.run(Duration.ofSeconds(30), command);
    }

    private static List<String> command(ScannedServer target, Path cert, Path key, String priority) {
        List<String> command = new ArrayList<>(List.of(
                GNUTLS_CLI,
                // the server's SPIFFE certificate has no host name to check; identity checks are ours, not its
                "--no-ca-verification",
                "--alpn",
                "h2",
                "--priority",
                priority,
                "-p",
                Integer.toString(target.port)));
        if (cert != null) {
            command.addAll(List.of("--x509certfile", cert.toString(), "--x509keyfile", key.toString()));
        }
        command.add(target.host);
        return command;
    }
}
