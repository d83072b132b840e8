package io.ambit.deploy.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ambit.deploy.Tools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The container image, built here without a registry by {@code scripts/image/build-offline.sh} (podman,
 * debootstrap'ed Debian bases), then run for real: {@code ambit --version}, Istio's {@code proxy ztunnel}
 * arguments, a non-root user, and {@code ambit run examples/quickstart.yaml} answering the host's
 * {@code curl} through SOCKS5 — allowed and denied as the README says.
 *
 * <p>Opt-in ({@code AMBIT_IMAGE_TEST=1}): the first build takes minutes (debootstrap, a Maven build in the
 * container). The mesh listens on 127.0.x.y inside the container's own network namespace, so the host's
 * curl is run in that namespace ({@code nsenter -n}): no port of the host is taken, whatever else runs here.
 */
@EnabledIfEnvironmentVariable(named = "AMBIT_IMAGE_TEST", matches = "1")
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class ContainerImageTest {
    static final String IMAGE = System.getenv().getOrDefault("AMBIT_IMAGE", "ambit:0.1.0");
    static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    static final String CONTAINER =
            "ambit-image-test-" + ProcessHandle.current().pid();
    static long buildSeconds;
    static long meshPid;
    /** What podman needs on this machine to run a container (scripts/image/podman-flags.sh). */
    static List<String> runFlags = List.of();

    @BeforeAll
    static void buildAndStart() throws Exception {
        Tools.require("podman", "podman");
        Tools.require("nsenter", "util-linux");
        long start = System.nanoTime();
        var build = Tools.run(REPO, Duration.ofMinutes(30), List.of("bash", "scripts/image/build-offline.sh"));
        buildSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        assertThat(build.ok()).as(tail(build.output())).isTrue();
        System.out.println("image build (scripts/image/build-offline.sh): " + buildSeconds + " s");
        var flags = Tools.run(REPO, Duration.ofMinutes(2), List.of("bash", "scripts/image/podman-flags.sh", IMAGE));
        assertThat(flags.ok()).as(flags.output()).isTrue();
        runFlags = flags.output().lines().filter(l -> !l.isBlank()).toList();

        var run = podman("run", "-d", "--name", CONTAINER, IMAGE, "run", "examples/quickstart.yaml");
        assertThat(run.ok()).as(run.output()).isTrue();
        var pid = podman("inspect", "-f", "{{.State.Pid}}", CONTAINER);
        assertThat(pid.ok()).as(pid.output()).isTrue();
        meshPid = Long.parseLong(pid.output().strip());
        // ready once every node has its certificates and listeners (bounded: 60 tries, 1 s apart at most)
        boolean ready = false;
        for (int i = 0; i < 60 && !ready; i++) {
            ready = curlInContainer("-sf", "--max-time", "2", "http://127.0.2.1:15021/healthz/ready")
                    .ok();
            if (!ready) {
                Thread.sleep(1000);
            }
        }
        assertThat(ready)
                .as("quickstart ready; logs:\n" + podman("logs", CONTAINER).output())
                .isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        podman("rm", "-f", "-t", "10", CONTAINER);
    }

    @Test
    void versionAndHelpRunOnTheJlinkedRuntime() throws Exception {
        var version = podman("run", "--rm", IMAGE, "--version");
        assertThat(version.ok()).as(version.output()).isTrue();
        assertThat(version.output().strip()).isEqualTo("ambit 0.1.0");
        var modules = podman("run", "--rm", "--entrypoint", "/opt/ambit/jre/bin/java", IMAGE, "--list-modules");
        assertThat(modules.output()).contains("java.base").doesNotContain("java.compiler", "jdk.jshell");
    }

    /**
     * Istio's ztunnel chart passes {@code proxy ztunnel}: the launcher must hand the JVM {@code ztunnel}. Read
     * from the launcher's own trace ({@code sh -x}), so it holds whatever the CLI does with the words.
     */
    @Test
    void istiosArgumentsMeanTheZtunnelCommand() throws Exception {
        var istio = podman(
                "run",
                "--rm",
                "--entrypoint",
                "sh",
                IMAGE,
                "-x",
                "/usr/local/bin/ambit",
                "proxy",
                "ztunnel",
                "--version");
        assertThat(istio.output())
                .contains("/opt/ambit/ambit-cli.jar ztunnel --version")
                .doesNotContain("jar proxy");
        var other = podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-x", "/usr/local/bin/ambit", "proxy", "--help");
        assertThat(other.output()).contains("/opt/ambit/ambit-cli.jar proxy --help");
    }

    @Test
    void runsAsTheNonRootUserWithTheProxyPortsExposed() throws Exception {
        var id = podman("run", "--rm", "--entrypoint", "id", IMAGE);
        assertThat(id.output()).contains("uid=1337(ambit)").contains("gid=1337(ambit)");
        JsonNode config = new ObjectMapper()
                .readTree(podman("image", "inspect", IMAGE).output())
                .get(0)
                .path("Config");
        var ports = new ArrayList<String>();
        config.path("ExposedPorts").fieldNames().forEachRemaining(ports::add);
        assertThat(ports)
                .contains("15001/tcp", "15006/tcp", "15008/tcp", "15020/tcp", "15021/tcp")
                .doesNotContain("15000/tcp");
        assertThat(config.path("Entrypoint").get(0).asText()).isEqualTo("/usr/local/bin/ambit");
    }

    @Test
    void theQuickstartAnswersTheHostsCurlThroughSocks5() throws Exception {
        var allowed = curlInContainer(
                "-sS", "--max-time", "10", "--socks5-hostname", "127.0.1.1:15080", "http://httpbin.default:8000/get");
        assertThat(allowed.ok()).as(allowed.output()).isTrue();
        assertThat(allowed.output()).contains("hello from httpbin");
        var denied = curlInContainer(
                "-sS", "--max-time", "10", "--socks5-hostname", "127.0.1.2:15080", "http://httpbin.default:8000/get");
        assertThat(denied.ok())
                .as("curl (no ALLOW policy) is refused: " + denied.output())
                .isFalse();
        var metrics = curlInContainer("-sS", "--max-time", "5", "http://127.0.2.1:15020/metrics");
        assertThat(metrics.output()).contains("istio_tcp_connections_opened_total");
        assertThat(podman("logs", CONTAINER).output())
                .contains("connection failed")
                .contains("no ALLOW policy");
    }

    // --- helpers

    /** The host's curl, run in the container's network namespace. */
    static Tools.Result curlInContainer(String... args) throws Exception {
        var command = new ArrayList<>(List.of("nsenter", "-t", Long.toString(meshPid), "-n", "curl"));
        command.addAll(List.of(args));
        return Tools.run(REPO, Duration.ofSeconds(30), command);
    }

    static Tools.Result podman(String... args) throws Exception {
        var command = new ArrayList<>(List.of("podman"));
        command.add(args[0]);
        if (args[0].equals("run")) {
            command.addAll(runFlags);
        }
        command.addAll(List.of(args).subList(1, args.length));
        return Tools.run(REPO, Duration.ofMinutes(2), command);
    }

    static String tail(String s) {
        return s.length() <= 6000 ? s : "..." + s.substring(s.length() - 6000);
    }
}
