package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.route.RouteConfig;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security case 42: {@code slowhttptest} (Debian 1.8.2) against the waypoint in its four modes, over
 * HTTP/1.1 through an HBONE tunnel (the tool speaks only HTTP/1.x). The waypoint runs with two-second
 * timeouts so each attack ends in seconds; the tool's own report ({@code -g -o}: connection states per
 * second) must show the waypoint closing its connections before the tool's time limit, the waypoint's access
 * log must show why, and a real curl on its own connection must keep getting 200 while the attack runs.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class SlowHttpAttackTest {
    private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration STREAM_IDLE = Duration.ofSeconds(2);
    private static final int MIN_RATE = 1024;
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*m");

    private static WaypointFixture mesh;
    private static InetSocketAddress attacker;
    private static InetSocketAddress legit;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        AttackTools.require("slowhttptest", "slowhttptest");
        AttackTools.require("curl", "curl");
        mesh = WaypointFixture.start(140, "", c -> {
            RouteConfig r = c.route();
            return c.withHttp1(new Http1Limits(16 * 1024, 60 * 1024, 64 * 1024, HEAD_TIMEOUT)
                            .withBody(BODY_TIMEOUT, MIN_RATE))
                    .withRoute(new RouteConfig(
                            r.hbonePort(),
                            r.connectTimeout(),
                            Duration.ZERO,
                            STREAM_IDLE,
                            r.upstreamIdleTimeout(),
                            r.maxStreamsPerConnection(),
                            r.maxResponseHeaderBytes()));
        });
        attacker = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
        legit = mesh.clientPort(WaypointFixture.CURL, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /** What one slowhttptest run printed and reported. */
    record Run(String output, SlowReport report, List<String> legitResults) {
        String exitStatus() {
            Matcher m = Pattern.compile("Exit status: *(.*)").matcher(output);
            return m.find() ? m.group(1).trim() : "(none printed)";
        }

        @Override
        public String toString() {
            return "exit status: " + exitStatus() + "\nreport:\n" + report + "\nlegit curl: " + legitResults;
        }
    }

    /**
     * Runs slowhttptest with {@code args} against {@code path} for at most {@code seconds} (its {@code -l}),
     * killed by its own handle if it overruns, while a legitimate curl calls {@code /get} throughout.
     */
    private Run attack(String path, int seconds, String... args) throws Exception {
        String prefix = dir.resolve("report").toString();
        List<String> cmd = new ArrayList<>(List.of("slowhttptest"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of(
                "-l",
                Integer.toString(seconds),
                "-p",
                "3",
                "-g",
                "-o",
                prefix,
                "-u",
                AttackTools.base(attacker) + path));
        // The legitimate client is already connected (its tunnel and the waypoint's upstream connections
        // pooled) when the attack starts, as a mesh client's ztunnel would be.
        var warm = Processes.run(
                List.of(
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "--max-time",
                        "5",
                        "-w",
                        "%{http_code}",
                        AttackTools.base(legit) + "/get"),
                Duration.ofSeconds(20));
        assertThat(warm.out()).as("before the attack: %s", warm).isEqualTo("200");
        Availability probe = Availability.of(legit, "/get");
        Processes.Result r;
        try {
            r = Processes.run(cmd, Duration.ofSeconds(seconds + 40L));
        } finally {
            probe.awaitCalls(2, Duration.ofSeconds(20)); // at least two calls overlap the attack
        }
        List<String> legitResults = probe.stop();
        String out = ANSI.matcher(r.out() + r.err()).replaceAll("");
        return new Run(out, SlowReport.read(Path.of(prefix + ".csv"), out), legitResults);
    }

    private static void assertLegitServed(Run run) {
        assertThat(run.legitResults())
                .as("a legitimate client during the attack: %s", run)
                .isNotEmpty()
                .allMatch("200"::equals);
    }

    /** The tool ended because every connection was closed, with the probe served throughout. */
    private static void assertAllClosedBeforeTheTimeLimit(Run run) {
        // The tool stops as soon as its last connection is closed, before it writes that second's row: its
        // exit status is the complete account. Closed means closed by the server (a failure is an error).
        assertThat(run.exitStatus())
                .as("the waypoint closed every attack connection before the tool's time limit: %s", run)
                .isEqualTo("No open connections left");
        assertThat(run.report().everUnavailable())
                .as("the tool's own probe found the service unavailable: %s", run)
                .isFalse();
    }

    /** As above, for an attack that holds its connections: they were up (held) before the waypoint cut them. */
    private static void assertWaypointClosedEverything(Run run, int connections) {
        assertAllClosedBeforeTheTimeLimit(run);
        assertThat(run.report().peakConnected())
                .as("the attack got its connections up: %s", run)
                .isGreaterThan(connections / 2)
                .isLessThanOrEqualTo(connections);
    }

    /** The attacker's requests (not the legitimate client's) in the access log. */
    private static List<String> logLines(String method, String path) {
        return mesh.accessLog.stream()
                .filter(l -> l.contains("\"source_workload\":\"sleep\""))
                .filter(l -> l.contains("\"method\":\"" + method + "\"") && l.contains("\"path\":\"" + path + "\""))
                .toList();
    }

    @Test
    void slowlorisHeadersAreCutByTheHeadTimeout() throws Exception {
        // -H: 30 connections each sending one more header line every second, never ending the head.
        Run run = attack("/get", 12, "-H", "-c", "30", "-r", "15", "-i", "1", "-x", "24");
        assertWaypointClosedEverything(run, 30);
        assertLegitServed(run);
    }

    @Test
    void aTunnelThatNeverSpeaksIsClosedByTheHeadTimeout() throws Exception {
        // Below slowhttptest: a connection that sends nothing at all (no request line to start a head timer).
        try (var socket = new java.net.Socket()) {
            socket.connect(attacker, 5000);
            socket.setSoTimeout((int) HEAD_TIMEOUT.multipliedBy(10).toMillis());
            int read;
            try {
                read = socket.getInputStream().read();
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("a silent tunnel was still open after " + HEAD_TIMEOUT.multipliedBy(10)
                        + " (head timeout " + HEAD_TIMEOUT + ")");
            } catch (java.net.SocketException reset) {
                read = -1; // closed abruptly is closed too
            }
            assertThat(read).as("the waypoint ended the silent tunnel").isEqualTo(-1);
        }
    }

    @Test
    void slowBodiesAreCutWith408ByTheBodyTimeout() throws Exception {
        // -B: 20 POSTs announcing 64 KiB, then trickling ~20 bytes a second: more often than the stream idle
        // timeout could ever notice, far below the minimum rate.
        mesh.accessLog.clear();
        Run run = attack("/echo", 14, "-B", "-c", "20", "-r", "20", "-i", "1", "-s", "65536", "-x", "10");
        assertWaypointClosedEverything(run, 20);
        assertLegitServed(run);
        List<String> posts = logLines("POST", "/echo");
        assertThat(posts).as("access log of the slow bodies").hasSize(20);
        assertThat(posts)
                .as("each cut with 408 by the body timer")
                .allMatch(l -> l.contains("\"response_code\":408") && l.contains("\"response_flags\":\"SI\""));
    }

    @Test
    void aLegitimateUploadSlowerThanTheBodyTimeoutButAboveTheMinimumRateGoesThrough() throws Exception {
        // 96 KiB at 24 KiB/s: about four seconds, twice the body timeout, but 24 times the minimum rate.
        Path body = dir.resolve("upload.bin");
        byte[] data = new byte[96 * 1024];
        new java.util.Random(42).nextBytes(data);
        Files.write(body, data);
        var r = Processes.run(
                List.of(
                        "curl",
                        "-sS",
                        "--max-time",
                        "30",
                        "--limit-rate",
                        "24k",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code} %{size_upload}",
                        "--data-binary",
                        "@" + body,
                        AttackTools.base(legit) + "/echo"),
                Duration.ofSeconds(40));
        assertThat(r.out()).as(r.toString()).isEqualTo("200 " + data.length);
    }

    @Test
    void rangeAttackHeadersPassWhenBoundedAndAreRefusedWhenOverTheHeaderLimit() throws Exception {
        // -R (Apache killer): HEAD with "Range: bytes=0-,10-0,10-1,...". Ranges are the app's business (Envoy
        // passes them on too); the waypoint's part is the header bound and not holding the connections.
        mesh.backends.forEach(b -> b.seen.clear());
        Run small = attack("/bytes/5000", 8, "-R", "-c", "20", "-r", "20", "-a", "10", "-b", "600");
        assertAllClosedBeforeTheTimeLimit(small);
        assertLegitServed(small);
        List<EchoBackend.Seen> ranged = seenWithRange();
        assertThat(ranged).as("bounded Range headers reach the app untouched").isNotEmpty();
        assertThat(ranged.getFirst().header("range")).startsWith("bytes=0-,10-0,10-1,");

        // 10,000 ranges make a ~75 KiB header: over the 60 KiB limit, refused before anything is forwarded.
        mesh.backends.forEach(b -> b.seen.clear());
        mesh.accessLog.clear();
        Run big = attack("/bytes/5000", 8, "-R", "-c", "10", "-r", "10", "-a", "10", "-b", "10000");
        assertAllClosedBeforeTheTimeLimit(big);
        assertLegitServed(big);
        assertThat(seenWithRange())
                .as("an oversized Range header never reaches the app")
                .isEmpty();
        Await.until(() -> logLines("HEAD", "/bytes/5000").size() >= 10, "ten refusals in the access log");
        assertThat(logLines("HEAD", "/bytes/5000"))
                .as("refused by the header limit")
                .allMatch(l -> l.contains("\"response_code\":400") || l.contains("\"response_code\":431"));
    }

    private static List<EchoBackend.Seen> seenWithRange() {
        return mesh.backends.stream()
                .flatMap(b -> b.seen.stream())
                .filter(s -> s.header("range") != null)
                .toList();
    }

    @Test
    void slowReadersAreCutByTheStreamIdleTimeoutWithOnlyABoundedPartSent() throws Exception {
        // -X: 8 connections asking three times for 3 MB each (pipelined) and reading 32 bytes a second
        // through a tiny TCP window. Past what the tunnel's flow-control windows absorb, the waypoint must
        // stop reading the app (back-pressure, bounded buffers) and end the stalled exchange at the stream
        // idle timeout instead of holding it forever, and the legitimate client must be served throughout.
        // (Up to the sixth session, four to eight readers made it stall whenever its tunnel shared an event loop,
        // hence the waypoint's upstream connections, with theirs: their unread responses held the whole
        // connection window. Deterministically: SlowReadersIsolationTest.)
        int size = 3_000_000;
        String path = "/bytes/" + size;
        mesh.accessLog.clear();
        Run run =
                attack(path, 12, "-X", "-c", "8", "-r", "8", "-k", "3", "-n", "1", "-w", "16", "-y", "32", "-z", "32");
        assertLegitServed(run);
        Await.until(
                () -> logLines("GET", path).stream().anyMatch(l -> l.contains("\"response_flags\":\"SI\"")),
                "a stalled slow read ended by the stream idle timeout; log: " + logLines("GET", path));
        for (String line : logLines("GET", path)) {
            if (line.contains("\"response_flags\":\"SI\"")) {
                long sent = Long.parseLong(field(line, "bytes_sent"));
                assertThat(sent)
                        .as("a cut slow read sent only part of the response (back-pressure): %s", line)
                        .isLessThan(size);
            }
        }
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":([0-9]+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in " + json);
        }
        return m.group(1);
    }
}
