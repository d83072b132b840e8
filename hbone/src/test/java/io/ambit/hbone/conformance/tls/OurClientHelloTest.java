package io.ambit.hbone.conformance.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.cert.WorkloadCertificate;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What our HBONE client ({@link ClientTls}, as the pool uses it) offers in its ClientHello, decoded by
 * {@code openssl s_server -trace} (a real server; OpenSSL 3.0 names X25519MLKEM768 only by its number, 4588):
 * cipher suites TLS_AES_128_GCM_SHA256 and TLS_AES_256_GCM_SHA384 only (no ChaCha20), key-exchange groups
 * X25519MLKEM768 then X25519 only, TLS 1.3 only, ALPN h2 only, no SNI, no session ticket or pre-shared key
 * (no resumption), no compression (ztunnel-reference.md §2.1).
 */
@ExtendWith(NoLeaks.class)
@Timeout(60)
final class OurClientHelloTest {
    private static final String OPENSSL = "/usr/bin/openssl";
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.62.20.6", 15008);

    @TempDir
    static Path dir;

    @Test
    void ourClientHelloOffersExactlyWhatZtunnelDoes() throws Exception {
        Scanner.require(OPENSSL, "openssl");
        TestPki pki = TestPki.create(Ids.TRUST_DOMAIN);
        TestPki.PemFiles server = TestPki.writePem(pki.issue(Ids.SERVER), dir.resolve("s_server"));
        WorkloadCertificate clientCert = pki.issue(Ids.CLIENT);
        String trace;
        TlsPeer peer;
        try (TestLoops loops = TestLoops.start();
                // stdin stays open until close(): s_server would stop at its end of input
                ExternalProcess sServer = ExternalProcess.start(List.of(
                        OPENSSL,
                        "s_server",
                        "-accept",
                        SERVER.getHostString() + ":" + SERVER.getPort(),
                        "-naccept",
                        "1",
                        "-trace",
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
            peer = Await.get(TlsProbe.connect(
                    loops,
                    SERVER,
                    ch -> tls.newHandler(ch.alloc(), clientCert, Set.of(Ids.SERVER)),
                    handler -> tls.verifyPeer(handler, Set.of(Ids.SERVER))));
            trace = sServer.awaitOutput(); // -naccept 1: it exits once our connection is closed
        }
        assertThat(peer.identity()).isEqualTo(Ids.SERVER);
        String hello = clientHello(trace);

        assertThat(listAfter(hello, "cipher_suites"))
                .as(hello)
                .containsExactly("{0x13, 0x01} TLS_AES_128_GCM_SHA256", "{0x13, 0x02} TLS_AES_256_GCM_SHA384");
        assertThat(listAfter(hello, "compression_methods")).as(hello).containsExactly("No Compression (0x00)");
        assertThat(extensionBody(hello, "supported_groups"))
                .as(hello)
                // 4588 = 0x11EC, X25519MLKEM768; then ztunnel's provider defaults
                .containsExactly(
                        "UNKNOWN (4588)", "ecdh_x25519 (29)", "secp256r1 (P-256) (23)", "secp384r1 (P-384) (24)");
        assertThat(extensionBody(hello, "supported_versions")).as(hello).containsExactly("TLS 1.3 (772)");
        assertThat(extensionBody(hello, "application_layer_protocol_negotiation"))
                .as(hello)
                .containsExactly("h2");
        // the compliance policy's signature list (AesGcmOnly): ECDSA P-256/P-384 and RSA with SHA-256 and up
        assertThat(extensionBody(hello, "signature_algorithms"))
                .as(hello)
                .contains("ecdsa_secp256r1_sha256 (0x0403)")
                .noneMatch(s -> s.contains("sha1") || s.contains("ed25519"));
        List<String> extensions = extensionNames(hello);
        assertThat(extensions)
                .as(hello)
                .doesNotContain("server_name", "session_ticket", "pre_shared_key", "early_data")
                .contains("key_share", "signature_algorithms");
    }

    /** The ClientHello part of the trace: from "ClientHello" to the next record. */
    static String clientHello(String trace) {
        int start = trace.indexOf("ClientHello");
        assertThat(start).as("no ClientHello in the trace:\n" + trace).isNotNegative();
        int end = trace.indexOf("Sent Record", start);
        return trace.substring(start, end < 0 ? trace.length() : end);
    }

    private static final Pattern EXTENSION = Pattern.compile("extension_type=(\\w+)\\((\\d+)\\)");

    static List<String> extensionNames(String hello) {
        List<String> names = new ArrayList<>();
        Matcher m = EXTENSION.matcher(hello);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The indented lines under an extension's header line, trimmed. */
    static List<String> extensionBody(String hello, String name) {
        return indentedAfter(hello, "extension_type=" + name + "(");
    }

    /** The indented lines under a header line such as {@code cipher_suites (len=4)}. */
    static List<String> listAfter(String hello, String header) {
        return indentedAfter(hello, header + " (len=");
    }

    private static List<String> indentedAfter(String text, String headerStart) {
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith(headerStart)) {
                int indent = indent(lines.get(i));
                List<String> body = new ArrayList<>();
                for (int j = i + 1; j < lines.size() && indent(lines.get(j)) > indent; j++) {
                    String line = lines.get(j).trim();
                    if (!line.isEmpty() && !line.startsWith("ProtocolName") && !line.startsWith("NamedGroup")) {
                        body.add(line);
                    }
                }
                return body;
            }
        }
        throw new AssertionError("no \"" + headerStart + "\" in:\n" + text);
    }

    private static int indent(String line) {
        int n = 0;
        while (n < line.length() && line.charAt(n) == ' ') {
            n++;
        }
        return line.isBlank() ? Integer.MAX_VALUE : n;
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
