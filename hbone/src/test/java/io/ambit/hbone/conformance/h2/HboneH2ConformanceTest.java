package io.ambit.hbone.conformance.h2;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.server.Authority;
import io.ambit.hbone.testsupport.HboneFixture;
import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.hbone.testsupport.TcpServer;
import io.ambit.hbone.testsupport.TestLoops;
import io.ambit.hbone.testsupport.TestPki;
import io.ambit.hbone.testsupport.UpstreamConnector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * h2spec's cases (generic, http2 3.5-8.2, hpack) and the CONNECT cases of RFC 9113 §8.5 against the HBONE server
 * (port 15008: TLS 1.3, ALPN h2, mutual TLS with a client certificate from the test CA), driven by the project's
 * conformance script ({@code conformance/h2/h2conf.py}, Debian's python3-hyperframe and python3-hpack) as a real
 * process. A "request" there is a CONNECT to an echo server; a "response body" is the echo. One test per case, named
 * by its id; the case table: {@code conformance/h2/CASES.md}.
 */
@ExtendWith(NoLeaks.class)
final class HboneH2ConformanceTest {
    /** Debian's interpreter: the one python3-hyperframe/-hpack install into (not a pyenv one on the PATH). */
    private static final String PYTHON = "/usr/bin/python3";

    private static final String SCRIPT = "conformance/h2/h2conf.py";

    private static TestLoops loops;
    private static TcpServer echo;
    private static HboneFixture hbone;

    @TempDir
    static Path dir;

    /**
     * Cases the HBONE server is known to fail, each with the observation that identifies it: the case must fail
     * exactly so, and a fix shows up as a failure here ("now passes: remove it"). None at present.
     */
    private static final Map<String, String> CODEC_DEVIATIONS = Map.of();

    record Result(String id, boolean passed, String title, String expected, String observed) {}

    record Run(int exit, String out) {}

    @BeforeAll
    static void start() throws Exception {
        Run check = run(List.of(PYTHON, "-c", "import hyperframe, hpack, h2"), Duration.ofSeconds(30));
        // Never a skip: CI installs the Debian packages python3-hyperframe, python3-hpack and python3-h2.
        assertThat(check.exit())
                .as("%s with python3-hyperframe, python3-hpack and python3-h2 is needed: %s", PYTHON, check.out())
                .isZero();
        loops = TestLoops.start();
        echo = TcpServer.start(loops, TcpServer.Mode.ECHO);
        hbone = HboneFixture.start(loops, new UpstreamConnector(loops.transport));
    }

    @AfterAll
    static void stop() {
        if (hbone != null) {
            hbone.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (loops != null) {
            loops.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCaseOfTheConnectProfilePasses() throws Exception {
        TestPki.PemFiles client = TestPki.writePem(hbone.clientCert, dir.resolve("client"));
        List<String> args = new ArrayList<>(List.of(
                PYTHON,
                script().toString(),
                "--host",
                hbone.server.localAddress().getAddress().getHostAddress(),
                "--port",
                Integer.toString(hbone.server.localAddress().getPort()),
                "--profile",
                "connect",
                "--tls",
                "--cert",
                client.chain().toString(),
                "--key",
                client.key().toString(),
                "--ca",
                client.ca().toString(),
                "--connect-target",
                Authority.of(echo.address()).toString(),
                "--timeout",
                "5"));
        // -Dh2conf.only=http2/5.1,connect/ runs those cases alone (while working on one).
        String only = System.getProperty("h2conf.only");
        if (only != null && !only.isBlank()) {
            args.addAll(List.of("--only", only));
        }
        List<String> listing = new ArrayList<>(args);
        listing.add("--list");
        Run listed = run(listing, Duration.ofSeconds(30));
        assertThat(listed.exit()).as("h2conf.py --list: %s", listed.out()).isZero();
        List<String> ids = listed.out().lines().map(l -> l.split("\t", 2)[0]).toList();

        Run run = run(args, Duration.ofMinutes(8));
        List<Result> results = new ArrayList<>();
        for (String line : run.out().lines().toList()) {
            if (line.startsWith("RESULT\t")) {
                String[] f = line.split("\t", 6);
                assertThat(f).as("a RESULT line with 6 fields: %s", line).hasSize(6);
                results.add(new Result(f[1], f[2].equals("PASS"), f[3], f[4], f[5]));
            }
        }
        assertThat(run.out()).as("the script's summary").contains("SUMMARY passed=");
        assertThat(run.exit())
                .as("exit status agrees with the results; output:\n%s", run.out())
                .isEqualTo(results.stream().allMatch(Result::passed) ? 0 : 1);
        assertThat(results.stream().map(Result::id).toList())
                .as("every case of the profile ran and reported")
                .containsExactlyElementsOf(ids);
        return results.stream().map(r -> DynamicTest.dynamicTest(r.id() + " " + r.title(), () -> verdict(r)));
    }

    private static void verdict(Result r) {
        String deviation = CODEC_DEVIATIONS.get(r.id());
        if (deviation == null) {
            assertThat(r.passed())
                    .as("case %s (%s): expected %s; observed %s", r.id(), r.title(), r.expected(), r.observed())
                    .isTrue();
            return;
        }
        assertThat(r.passed())
                .as("case %s now passes: remove it from CODEC_DEVIATIONS", r.id())
                .isFalse();
        assertThat(r.observed())
                .as("case %s (%s): the known deviation", r.id(), r.title())
                .contains(deviation);
    }

    /** The script, found from the module's directory up to the repository root. */
    private static Path script() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(SCRIPT))) {
                return d.resolve(SCRIPT);
            }
        }
        throw new AssertionError(SCRIPT + " not found above " + Path.of("").toAbsolutePath());
    }

    /** Runs a command to its end (stderr merged), killing it — only it — after {@code timeout}. */
    private static Run run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = p.getInputStream()) {
                in.transferTo(out);
            } catch (IOException e) {
                // the process went away
            }
        });
        p.getOutputStream().close();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            reader.join(5000);
            throw new AssertionError(command + " did not finish within " + timeout + "; output:\n"
                    + out.toString(StandardCharsets.UTF_8));
        }
        reader.join(5000);
        return new Run(p.exitValue(), out.toString(StandardCharsets.UTF_8));
    }
}
