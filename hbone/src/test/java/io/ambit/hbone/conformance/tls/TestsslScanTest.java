package io.ambit.hbone.conformance.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.tls.TlsSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * testssl.sh 3.0.8 (Debian {@code testssl.sh}) against the HBONE listener (ztunnel's inbound and the waypoint's
 * ingress), with protocols, ciphers per protocol, server defaults and vulnerabilities ({@code -p -E -S -U}; about
 * 25 s), read from its flat JSON file and checked against ztunnel-reference.md §2.1: TLS 1.3 only, the two AES-GCM
 * suites only (no ChaCha20), ALPN h2, no session tickets or resumption, no TLS 1.2 and no vulnerability flagged;
 * and with TLS 1.2 enabled ({@code TLS12_ENABLED}), only ECDHE with AES-GCM added ({@code -p -E}, about 15 s).
 *
 * <p>testssl 3.0.8 has no option for a client certificate: its OpenSSL runs get one through a wrapper
 * ({@link #mutualTlsOpenSsl}); its socket checks need none, as they read the server's first flight. The
 * certificate findings it rates as problems are expected of a mesh workload certificate and are listed in
 * {@link #MESH_CERTIFICATE}; anything else rated LOW or worse fails the test with its id and text.
 */
@ExtendWith(NoLeaks.class)
@Timeout(180)
final class TestsslScanTest {
    private static final String TESTSSL = "/usr/bin/testssl";

    /**
     * Findings about the certificate that are how mesh certificates are meant to be: a private CA (not in
     * testssl's trust stores), a SPIFFE URI SAN instead of the host name, a 24 h lifetime, revocation by the
     * mesh's CRL rather than CRL/OCSP URLs, no DNS CAA record for an IP; and testssl's own OpenSSL lacking a
     * GOST engine.
     */
    private static final Set<String> MESH_CERTIFICATE = Set.of(
            "cert_trust",
            "cert_chain_of_trust",
            "cert_expirationStatus",
            "cert_notAfter",
            "cert_revocation",
            "DNS_CAArecord",
            "engine_problem");

    private static final Set<String> PROBLEM_SEVERITIES = Set.of("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN");

    @TempDir
    static Path dir;

    private static ScannedServer server;
    private static Map<String, Finding> findings;
    private static String output;

    record Finding(String id, String severity, String finding) {}

    @BeforeAll
    static void scan() throws Exception {
        Scanner.require(TESTSSL, "testssl.sh");
        server = ScannedServer.start("127.62.20.1", TlsSettings.defaults(), dir);
        Path json = dir.resolve("testssl.json");
        Path openssl = mutualTlsOpenSsl(server);
        Scanner.Run run = Scanner.run(
                Duration.ofSeconds(150),
                List.of(
                        TESTSSL,
                        "--quiet",
                        "--color",
                        "0",
                        "--warnings",
                        "off",
                        "--openssl",
                        openssl.toString(),
                        "--openssl-timeout",
                        "5",
                        "-p",
                        "-E",
                        "-S",
                        "-U",
                        "--jsonfile",
                        json.toString(),
                        server.hostPort()));
        output = run.out();
        assertThat(Files.exists(json))
                .as("testssl wrote no JSON; output:\n" + output)
                .isTrue();
        findings = parse(Files.readString(json, StandardCharsets.UTF_8));
        assertThat(findings).as("testssl's findings; output:\n" + output).containsKey("TLS1_3");
    }

    /**
     * testssl 3.0.8 has no client-certificate option, and without one each of its {@code openssl s_client}
     * connections is refused by the server (alert 116) a moment after its handshake, which s_client sees or not
     * depending on timing. testssl runs OpenSSL through this wrapper, which adds the test CA's client
     * certificate to every {@code s_client}: a real mutual-TLS session, as a mesh peer has. (Its own socket
     * checks read the server's first flight, which comes before the certificate request.)
     */
    private static Path mutualTlsOpenSsl(ScannedServer server) throws Exception {
        Path wrapper = dir.resolve("openssl-mtls-" + server.port + "-" + server.host);
        Files.writeString(
                wrapper,
                "#!/bin/sh\n"
                        + "if [ \"$1\" = s_client ]; then\n"
                        + "  shift\n"
                        + "  exec /usr/bin/openssl s_client -cert '" + server.client.chain() + "' -key '"
                        + server.client.key() + "' \"$@\"\n"
                        + "fi\n"
                        + "exec /usr/bin/openssl \"$@\"\n");
        assertThat(wrapper.toFile().setExecutable(true)).isTrue();
        return wrapper;
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void onlyTls13IsOffered() {
        for (String old : List.of("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2")) {
            assertThat(finding(old).finding()).as(old).startsWith("not offered");
        }
        assertThat(finding("TLS1_3").finding()).as("TLS1_3").startsWith("offered");
    }

    @Test
    void onlyTheTwoAesGcmSuitesAreAcceptedAndChaCha20IsNot() {
        // cipher-<protocol>_<hex id>: one finding per cipher the server accepted
        Map<String, String> ciphers = findings.values().stream()
                .filter(f -> f.id().startsWith("cipher-"))
                .collect(Collectors.toMap(Finding::id, Finding::finding, (a, b) -> a, TreeMap::new));
        assertThat(ciphers.keySet())
                .as("accepted ciphers: %s", ciphers.values())
                .containsExactlyInAnyOrder("cipher-tls1_3_x1301", "cipher-tls1_3_x1302");
        assertThat(ciphers.values()).noneMatch(c -> c.contains("CHACHA20"));
    }

    @Test
    void alpnIsH2AndThereAreNoSessionTicketsOrResumption() {
        assertThat(finding("ALPN_HTTP2").finding()).isEqualTo("h2");
        assertThat(finding("TLS_session_ticket").finding()).startsWith("no");
        assertThat(finding("sessionresumption_ticket").finding()).isEqualTo("not supported");
        assertThat(finding("sessionresumption_ID").finding()).contains("no resumption");
    }

    @Test
    void noRenegotiationAndNoCompression() {
        assertThat(finding("secure_renego").finding()).contains("TLS 1.3 only");
        assertThat(finding("secure_client_renego").finding()).contains("not vulnerable");
        assertThat(findings.values())
                .filteredOn(f -> f.id().equals("CRIME_TLS"))
                .isNotEmpty()
                .allSatisfy(f -> assertThat(f.severity()).as(f.toString()).isEqualTo("OK"));
    }

    @Test
    void noVulnerabilityOrOtherProblemIsFlagged() {
        List<String> problems = new ArrayList<>();
        for (Finding f : findings.values()) {
            if (PROBLEM_SEVERITIES.contains(f.severity()) && !MESH_CERTIFICATE.contains(f.id())) {
                problems.add(f.id() + " [" + f.severity() + "]: " + f.finding());
            }
        }
        assertThat(problems).as("testssl findings rated LOW or worse").isEmpty();
        // -U ran: each of these is present and OK
        for (String id : List.of(
                "heartbleed",
                "CCS",
                "ROBOT",
                "POODLE_SSL",
                "fallback_SCSV",
                "FREAK",
                "DROWN",
                "LOGJAM",
                "BEAST",
                "LUCKY13",
                "RC4")) {
            assertThat(finding(id).severity())
                    .as(id + ": " + finding(id).finding())
                    .isIn("OK", "INFO");
        }
    }

    @Test
    void withTls12EnabledOnlyEcdheAesGcmIsAdded() throws Exception {
        try (ScannedServer tls12 = ScannedServer.start(
                "127.62.20.8", TlsSettings.defaults().withTls12Enabled(true), dir.resolve("tls12"))) {
            Path json = dir.resolve("testssl-tls12.json");
            Scanner.Run run = Scanner.run(
                    Duration.ofSeconds(120),
                    List.of(
                            TESTSSL,
                            "--quiet",
                            "--color",
                            "0",
                            "--warnings",
                            "off",
                            "--openssl",
                            mutualTlsOpenSsl(tls12).toString(),
                            "--openssl-timeout",
                            "5",
                            "-p",
                            "-E",
                            "--jsonfile",
                            json.toString(),
                            tls12.hostPort()));
            Map<String, Finding> tls12Findings = parse(Files.readString(json, StandardCharsets.UTF_8));
            assertThat(tls12Findings).as(run.out()).containsKey("TLS1_2");
            assertThat(tls12Findings.get("TLS1_2").finding()).as(run.out()).startsWith("offered");
            assertThat(tls12Findings.get("TLS1_1").finding()).as(run.out()).startsWith("not offered");
            // ECDSA test certificates: the two ECDHE-ECDSA AES-GCM suites (the RSA ones need an RSA key)
            assertThat(tls12Findings.keySet().stream().filter(id -> id.startsWith("cipher-")))
                    .as(run.out())
                    .containsExactlyInAnyOrder(
                            "cipher-tls1_2_xc02b", "cipher-tls1_2_xc02c", "cipher-tls1_3_x1301", "cipher-tls1_3_x1302");
        }
    }

    private static Finding finding(String id) {
        Finding f = findings.get(id);
        assertThat(f)
                .as("testssl reported no \"" + id + "\"; output:\n" + output)
                .isNotNull();
        return f;
    }

    private static final Pattern OBJECT = Pattern.compile("\\{[^{}]*\\}");

    /** testssl's flat JSON: an array of objects of string fields; a repeated id keeps its first finding. */
    static Map<String, Finding> parse(String json) {
        Map<String, Finding> byId = new TreeMap<>();
        Matcher m = OBJECT.matcher(json);
        while (m.find()) {
            String object = m.group();
            String id = field(object, "id");
            if (id != null) {
                byId.putIfAbsent(id, new Finding(id, field(object, "severity"), field(object, "finding")));
            }
        }
        return byId;
    }

    private static String field(String object, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"")
                .matcher(object);
        return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : null;
    }
}
