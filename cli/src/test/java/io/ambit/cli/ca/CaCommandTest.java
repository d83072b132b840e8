package io.ambit.cli.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.cli.Main;
import io.ambit.hbone.ca.Pem;
import io.ambit.hbone.ca.PluggedCa;
import io.ambit.hbone.ca.StaticCertificates;
import io.ambit.hbone.identity.SpiffeId;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine.TypeConversionException;

/** {@code ambit ca init} and {@code ambit ca issue}, in process, checked with the real openssl. */
class CaCommandTest {
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

    @TempDir
    Path tmp;

    private Path ca;
    private StringWriter out;
    private StringWriter err;

    @BeforeEach
    void initCa() {
        ca = tmp.resolve("ca");
        assertThat(run("ca", "init", ca.toString())).as(err.toString()).isZero();
    }

    private int run(String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return Main.run(new PrintWriter(out), new PrintWriter(err), args);
    }

    @Test
    void initWritesACacertsDirectoryThatOpensslAndThePluggedCaAccept() throws Exception {
        assertThat(out.toString()).contains("created a CA in " + ca).contains("root key:     not kept");
        for (String name : List.of("root-cert.pem", "ca-cert.pem", "ca-key.pem", "cert-chain.pem")) {
            assertThat(ca.resolve(name)).isRegularFile();
        }
        assertThat(mode(ca.resolve("ca-key.pem"))).isEqualTo("rw-------");
        assertThat(mode(ca.resolve("ca-cert.pem"))).isEqualTo("rw-r--r--");

        assertThat(openssl(ca, "verify", "-CAfile", "root-cert.pem", "ca-cert.pem"))
                .isEqualTo("ca-cert.pem: OK\n");
        assertThat(openssl(ca, "x509", "-in", "ca-cert.pem", "-noout", "-text"))
                .contains("CA:TRUE, pathlen:0")
                .contains("Certificate Sign, CRL Sign")
                .contains("Subject: O = cluster.local, CN = ambit intermediate CA");
        List<X509Certificate> chain = Pem.readCertificates(ca.resolve("cert-chain.pem"), "chain");
        assertThat(chain).hasSize(2);
        assertThat(chain.get(0))
                .isEqualTo(Pem.readCertificates(ca.resolve("ca-cert.pem"), "ca").getFirst());
        assertThat(chain.get(1))
                .isEqualTo(Pem.readCertificates(ca.resolve("root-cert.pem"), "root")
                        .getFirst());
        assertThat(PluggedCa.open(ca).signingCa().certificate()).isEqualTo(chain.get(0));
    }

    @Test
    void initRefusesToReplaceACaUnlessForced() throws Exception {
        String root = Files.readString(ca.resolve("root-cert.pem"));
        Files.writeString(ca.resolve("ca-crl.pem"), "an old CRL");

        assertThat(run("ca", "init", ca.toString())).isEqualTo(2);
        assertThat(err.toString())
                .contains("error: " + ca + " already holds a CA (root-cert.pem exists); use --force to replace it.");
        assertThat(Files.readString(ca.resolve("root-cert.pem"))).isEqualTo(root);

        Path rootKey = tmp.resolve("root-key.pem");
        assertThat(run("ca", "init", "--force", "--root-key-out", rootKey.toString(), ca.toString()))
                .isZero();
        assertThat(Files.readString(ca.resolve("root-cert.pem"))).isNotEqualTo(root);
        assertThat(ca.resolve("ca-crl.pem"))
                .as("a CRL of the old CA would not load")
                .doesNotExist();
        assertThat(mode(rootKey)).isEqualTo("rw-------");
        assertThat(openssl(tmp, "pkey", "-in", "root-key.pem", "-pubout"))
                .isEqualTo(openssl(ca, "x509", "-in", "root-cert.pem", "-pubkey", "-noout"));
    }

    @Test
    void issueWritesAWorkloadCertificateThatOpensslVerifies() throws Exception {
        Path dest = tmp.resolve("sleep");

        assertThat(run("ca", "issue", SLEEP, "--ca", ca.toString(), "--out", dest.toString(), "--ttl", "1h"))
                .as(err.toString())
                .isZero();

        assertThat(out.toString()).startsWith("issued " + SLEEP + ", serial ").contains("2 CA certificate(s)");
        assertThat(err.toString()).isEmpty();
        assertThat(openssl(
                        dest, "verify", "-CAfile", "root-cert.pem", "-untrusted", "cert-chain.pem", "cert-chain.pem"))
                .isEqualTo("cert-chain.pem: OK\n");
        for (String purpose : List.of("sslclient", "sslserver")) {
            assertThat(openssl(
                            dest,
                            "verify",
                            "-purpose",
                            purpose,
                            "-CAfile",
                            "root-cert.pem",
                            "-untrusted",
                            "cert-chain.pem",
                            "cert-chain.pem"))
                    .as(purpose)
                    .isEqualTo("cert-chain.pem: OK\n");
        }
        assertThat(openssl(dest, "x509", "-in", "cert-chain.pem", "-noout", "-text"))
                .containsPattern("Subject: *\n")
                .contains("X509v3 Subject Alternative Name: critical\n                URI:" + SLEEP + "\n")
                .contains("X509v3 Key Usage: critical\n                Digital Signature\n")
                .contains("TLS Web Server Authentication, TLS Web Client Authentication")
                .contains("CA:FALSE")
                .contains("ASN1 OID: prime256v1")
                .contains("Signature Algorithm: ecdsa-with-SHA256");
        assertThat(openssl(dest, "pkey", "-in", "key.pem", "-pubout"))
                .isEqualTo(openssl(dest, "x509", "-in", "cert-chain.pem", "-pubkey", "-noout"));
        assertThat(Files.readString(dest.resolve("key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(mode(dest.resolve("key.pem"))).isEqualTo("rw-------");

        var source = StaticCertificates.fromDirectory(dest, Clock.systemUTC());
        assertThat(source.identity()).isEqualTo(SpiffeId.parse(SLEEP));
        var cert = source.issue(SpiffeId.parse(SLEEP), Duration.ofHours(1));
        assertThat(cert.lifetime()).isEqualTo(Duration.ofHours(1).plusMinutes(1));
    }

    @Test
    void issueRefusesToOverwriteAKeyUnlessForced() {
        Path dest = tmp.resolve("sleep");
        assertThat(run("ca", "issue", SLEEP, "--ca", ca.toString(), "--out", dest.toString()))
                .isZero();

        assertThat(run("ca", "issue", SLEEP, "--ca", ca.toString(), "--out", dest.toString()))
                .isEqualTo(2);
        assertThat(err.toString()).contains("key.pem exists; use --force to replace it");

        assertThat(run("ca", "issue", SLEEP, "--ca", ca.toString(), "--out", dest.toString(), "--force"))
                .isZero();
    }

    @ParameterizedTest
    @MethodSource
    void badInputExitsWithTwo(List<String> args, String expected) throws IOException {
        Path half = tmp.resolve("half");
        Files.createDirectories(half);
        for (String name : List.of("root-cert.pem", "ca-cert.pem", "cert-chain.pem")) {
            Files.copy(ca.resolve(name), half.resolve(name));
        }
        Path file = Files.writeString(tmp.resolve("file"), "x");
        List<String> resolved = new ArrayList<>();
        for (String a : args) {
            resolved.add(a.replace("CA", ca.toString())
                    .replace("HALF", half.toString())
                    .replace("OUT", tmp.resolve("out").toString())
                    .replace("FILE", file.toString())
                    .replace("NONE", tmp.resolve("none").toString()));
        }

        assertThat(run(resolved.toArray(String[]::new))).isEqualTo(2);

        assertThat(err.toString()).contains(expected);
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    private static List<String> issue(String identity, String... more) {
        List<String> args = new ArrayList<>(List.of("ca", "issue", identity, "--ca", "CA", "--out", "OUT"));
        args.addAll(List.of(more));
        return args;
    }

    static Stream<Arguments> badInputExitsWithTwo() {
        return Stream.of(
                argumentSet(
                        "an identity that is not a workload SPIFFE id",
                        issue("spiffe://cluster.local/ns/default"),
                        "is not a workload SPIFFE id: the path is not /ns/<namespace>/sa/<service-account>"),
                argumentSet(
                        "an identity with a percent escape",
                        issue("spiffe://cluster.local/ns/default/sa/sl%65ep"),
                        "contains '%'"),
                argumentSet(
                        "a lifetime without a unit",
                        issue(SLEEP, "--ttl", "24"),
                        "invalid duration '24' (expected e.g. 24h, 90m, 1h30m, 7d, 3600s or PT24H)"),
                argumentSet("a zero lifetime", issue(SLEEP, "--ttl", "0s"), "error: --ttl PT0S (expected > 0)"),
                argumentSet(
                        "a CA directory that does not exist",
                        List.of("ca", "issue", SLEEP, "--ca", "NONE", "--out", "OUT"),
                        "no such directory (expected an Istio cacerts directory"),
                argumentSet(
                        "a CA directory without its key",
                        List.of("ca", "issue", SLEEP, "--ca", "HALF", "--out", "OUT"),
                        "has no ca-key.pem (expected the private key of ca-cert.pem"),
                argumentSet(
                        "no output directory",
                        List.of("ca", "issue", SLEEP, "--ca", "CA"),
                        "Missing required option: '--out=DIR'"),
                argumentSet(
                        "an output path that is a file",
                        List.of("ca", "issue", SLEEP, "--ca", "CA", "--out", "FILE"),
                        "is not a directory"),
                argumentSet(
                        "a CA directory that is a file",
                        List.of("ca", "init", "FILE"),
                        "is not a directory (expected a directory for the CA files)"),
                argumentSet(
                        "a trust domain with a space",
                        List.of("ca", "init", "--trust-domain", "cluster local", "OUT"),
                        "error: --trust-domain: trust domain \"cluster local\" contains ' '"),
                argumentSet(
                        "an unknown subcommand", List.of("ca", "revoke"), "Unmatched argument at index 1: 'revoke'"));
    }

    @Test
    void caAloneListsItsSubcommands() {
        assertThat(run("ca")).isZero();
        assertThat(out.toString()).contains("init").contains("issue");
    }

    @ParameterizedTest
    @MethodSource
    void durations(String text, Duration expected) {
        assertThat(DurationConverter.parse(text)).isEqualTo(expected);
    }

    static Stream<Arguments> durations() {
        return Stream.of(
                argumentSet("hours", "24h", Duration.ofHours(24)),
                argumentSet("minutes", "90m", Duration.ofMinutes(90)),
                argumentSet("hours and minutes", "1h30m", Duration.ofMinutes(90)),
                argumentSet("days", "7d", Duration.ofDays(7)),
                argumentSet("seconds", "3600s", Duration.ofHours(1)),
                argumentSet("milliseconds", "500ms", Duration.ofMillis(500)),
                argumentSet("ISO-8601", "PT24H", Duration.ofHours(24)));
    }

    @ParameterizedTest
    @MethodSource
    void notDurations(String text) {
        assertThatThrownBy(() -> DurationConverter.parse(text))
                .isInstanceOf(TypeConversionException.class)
                .hasMessage("invalid duration '" + text + "' (expected e.g. 24h, 90m, 1h30m, 7d, 3600s or PT24H)");
    }

    static Stream<Arguments> notDurations() {
        return Stream.of(
                argumentSet("empty", ""),
                argumentSet("a number without a unit", "24"),
                argumentSet("a unit without a number", "h"),
                argumentSet("an unknown unit", "1x"),
                argumentSet("a negative number", "-1h"),
                argumentSet("a space between parts", "1h 30m"),
                argumentSet("a broken ISO-8601 duration", "PT"));
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    /** Runs the real openssl in {@code dir}; returns its output when it exits 0. */
    private static String openssl(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
        } catch (IOException e) {
            assumeTrue(false, "openssl is not installed: " + e.getMessage());
            throw e;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor())
                .as("openssl " + String.join(" ", args) + ":\n" + output)
                .isZero();
        return output;
    }
}
