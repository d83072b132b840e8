package io.ambit.hbone.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.Await;
import io.ambit.hbone.testsupport.ExternalProcess;
import io.ambit.hbone.testsupport.Ids;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.TlsProbe;
import io.ambit.hbone.tls.ClientTls;
import io.ambit.hbone.tls.TlsPeer;
import io.ambit.hbone.tls.TlsSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * ztunnel-reference §2.1 / checklist item 4 from the other side: what our HBONE client's ClientHello
 * offers, as {@code openssl s_server -tlsextdebug} prints it. ztunnel sends no SNI (the server picks the
 * workload by listener, not by name), offers only TLS 1.3, ALPN {@code h2} alone, and never a session
 * ticket; a server that routes or logs by SNI must see none from us either. Address 127.133.0.4.
 */
@ExtendWith(NoLeaks.class)
final class OpenSslServerProbeTest {
    private static final String OPENSSL = "/usr/bin/openssl";
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.133.0.4", 15008);
    private static TestLoops loops;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(ExternalProcess.available(OPENSSL), "openssl is not installed at " + OPENSSL);
        loops = TestLoops.start();
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
    }

    @Test
    void ourClientHelloHasNoSniOnlyTls13OnlyH2AndNoTicket() throws Exception {
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        TestPki.PemFiles server = TestPki.writePem(pki.issue(Ids.SERVER), dir.resolve("s_server"));
        var clientCert = pki.issue(Ids.CLIENT);
        // stdin stays open until close(): s_server would stop at its end of input
        try (ExternalProcess sServer = ExternalProcess.start(List.of(
                        OPENSSL,
                        "s_server",
                        "-accept",
                        SERVER.getHostString() + ":" + SERVER.getPort(),
                        "-naccept",
                        "1",
                        "-tlsextdebug",
                        "-cert",
                        server.chain().toString(),
                        "-key",
                        server.key().toString(),
                        "-CAfile",
                        server.ca().toString(),
                        "-Verify",
                        "1",
                        "-alpn",
                        "h2"));
                ClientTls tls = new ClientTls(TlsSettings.defaults())) {
            awaitLine(sServer, "ACCEPT");
            TlsPeer peer = Await.get(TlsProbe.connect(
                    loops,
                    SERVER,
                    ch -> tls.newHandler(ch.alloc(), clientCert, Set.of(Ids.SERVER)),
                    handler -> tls.verifyPeer(handler, Set.of(Ids.SERVER))));
            String hello = sServer.awaitOutput(); // -naccept 1: it exits once our connection is closed

            assertThat(peer.identity()).isEqualTo(Ids.SERVER);
            assertThat(hello).as(hello).contains("TLS client extension \"supported versions\"");
            assertThat(hello).as(hello).doesNotContain("TLS client extension \"server name\"");
            // supported_versions: a 2-byte list holding 0x0304 alone
            assertThat(hello).as(hello).containsPattern("\"supported versions\" \\(id=43\\), len=3\\s+0000 - 02 03 04");
            assertThat(hello).as(hello).contains("ALPN protocols advertised by the client: h2\n");
            assertThat(hello).as(hello).doesNotContain("TLS client extension \"session ticket\"");
            assertThat(hello).as(hello).containsPattern("CIPHER is TLS_AES_(128|256)_GCM_SHA(256|384)");
        }
    }

    private static void awaitLine(ExternalProcess p, String line) throws Exception {
        for (int i = 0; i < 100; i++) { // nextLine() waits at most Await.TIMEOUT each
            if (p.nextLine().equals(line)) {
                return;
            }
        }
        throw new AssertionError("no line " + line);
    }
}
