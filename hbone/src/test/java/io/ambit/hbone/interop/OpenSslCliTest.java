package io.ambit.hbone.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.pool.PoolConfig;
import io.ambit.hbone.server.HboneServerConfig;
import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.ExternalProcess;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.StreamEcho;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.transport.Http2Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code openssl s_client} (Debian's OpenSSL 3.0, which has no ML-KEM) sees of our HBONE port: TLS
 * 1.3 only, ALPN h2, AES-GCM only, no session tickets, and no handshake without a client certificate.
 */
@ExtendWith(NoLeaks.class)
final class OpenSslCliTest {
    private static final String OPENSSL = "/usr/bin/openssl";
    private static TestLoops loops;
    private static HboneFixture hbone;
    private static TestPki.PemFiles client;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(ExternalProcess.available(OPENSSL), "openssl is not installed at " + OPENSSL);
        loops = TestLoops.start();
        // s_client does not speak HTTP/2, so it never answers PINGs: the server drops it quickly, which
        // ends each s_client run (-ign_eof) after everything the server sent has been printed.
        HboneServerConfig quickPing = HboneFixture.defaultServerConfig()
                .withHttp2(Http2Config.serverDefaults().withPing(Duration.ofMillis(100), Duration.ofMillis(200)));
        hbone = HboneFixture.start(loops, quickPing, new StreamEcho(), PoolConfig.defaults());
        client = TestPki.writePem(hbone.clientCert, dir.resolve("client"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (loops != null) {
            hbone.close();
            loops.close();
        }
    }

    @Test
    void tls13WithAlpnH2AesGcmAndNoSessionTicket() throws Exception {
        long before = hbone.server.stats().handshakes();
        String out = sClient(true, "-tls1_3");

        assertThat(out).contains("New, TLSv1.3, Cipher is TLS_AES_");
        assertThat(out).containsPattern("Cipher is TLS_AES_(128|256)_GCM_SHA(256|384)");
        assertThat(out).contains("ALPN protocol: h2");
        assertThat(out).doesNotContain("New Session Ticket");
        Await.until(() -> hbone.server.stats().handshakes() == before + 1, "the server completed the handshake");
    }

    @Test
    void tls12IsRefused() throws Exception {
        long failures = hbone.server.stats().handshakeFailures();
        String out = sClient(true, "-tls1_2");

        assertThat(out).doesNotContain("New, TLSv1.2");
        Await.until(() -> hbone.server.stats().handshakeFailures() == failures + 1, "the server refused TLS 1.2");
    }

    @Test
    void noClientCertificateNoHandshake() throws Exception {
        long handshakes = hbone.server.stats().handshakes();
        long failures = hbone.server.stats().handshakeFailures();
        sClient(false, "-tls1_3");

        Await.until(() -> hbone.server.stats().handshakeFailures() == failures + 1, "the server refused the client");
        assertThat(hbone.server.stats().handshakes()).isEqualTo(handshakes);
    }

    @Test
    void chaCha20OnlyIsRefused() throws Exception {
        long handshakes = hbone.server.stats().handshakes();
        long failures = hbone.server.stats().handshakeFailures();
        sClient(true, "-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256");

        Await.until(() -> hbone.server.stats().handshakeFailures() == failures + 1, "the server refused ChaCha20");
        assertThat(hbone.server.stats().handshakes()).isEqualTo(handshakes);
    }

    private static String sClient(boolean withCertificate, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                OPENSSL,
                "s_client",
                "-connect",
                "127.0.0.1:" + hbone.server.localAddress().getPort(),
                "-CAfile",
                client.ca().toString(),
                "-alpn",
                "h2",
                "-ign_eof"));
        if (withCertificate) {
            cmd.addAll(List.of(
                    "-cert", client.chain().toString(), "-key", client.key().toString()));
        }
        cmd.addAll(List.of(extra));
        try (ExternalProcess p = ExternalProcess.start(cmd)) {
            p.closeStdin("");
            return p.awaitOutput();
        }
    }
}
