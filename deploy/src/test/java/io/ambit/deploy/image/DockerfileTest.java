package io.ambit.deploy.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.deploy.Tools;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the image without building it (the build itself is {@link ContainerImageTest},
 * opt-in): the Dockerfile's base-image arguments and the offline script agree, every file it copies is in
 * the build context, it runs as a non-root user with the proxy ports exposed, and the entrypoint turns
 * Istio's {@code proxy ztunnel} into {@code ztunnel} (read from the launcher's own {@code sh -x} trace).
 */
class DockerfileTest {
    static final Path REPO = Path.of("..");
    static final Path DOCKERFILE = REPO.resolve("Dockerfile");

    @Test
    void baseImagesAreBuildArgumentsWithPublicDefaultsThatTheOfflineScriptReplaces() throws Exception {
        Map<String, String> args = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DOCKERFILE)) {
            var m = Pattern.compile("^ARG (\\w+)=(\\S+)$").matcher(line.strip());
            if (m.matches()) {
                args.put(m.group(1), m.group(2));
            }
        }
        assertThat(args).containsEntry("BUILD_IMAGE", "eclipse-temurin:25-jdk");
        assertThat(args).containsKey("RUNTIME_IMAGE");
        String dockerfile = Files.readString(DOCKERFILE);
        assertThat(dockerfile).contains("FROM ${BUILD_IMAGE} AS build").contains("FROM ${RUNTIME_IMAGE}");
        String script = Files.readString(REPO.resolve("scripts/image/build-offline.sh"));
        assertThat(script).contains("--build-arg \"BUILD_IMAGE=").contains("--build-arg \"RUNTIME_IMAGE=");
        assertThat(script).contains("--pull=never");
    }

    @Test
    void everyCopiedFileIsInTheBuildContext() throws Exception {
        List<String> ignore = Files.readAllLines(REPO.resolve(".dockerignore")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        var sources = new ArrayList<String>();
        for (String line : Files.readAllLines(DOCKERFILE)) {
            String l = line.strip();
            if (l.startsWith("COPY ") && !l.contains("--from=")) {
                var parts = l.substring(5).trim().split("\\s+");
                for (int i = 0; i < parts.length - 1; i++) {
                    sources.add(parts[i]);
                }
            }
        }
        assertThat(sources).contains("mvnw", "pom.xml", ".mvn", "scripts/image/ambit", "cli/pom.xml");
        for (String s : sources) {
            if (s.equals(".")) {
                continue;
            }
            assertThat(Files.exists(REPO.resolve(s))).as(s + " exists").isTrue();
            assertThat(ignored(s, ignore))
                    .as(s + " must not be excluded by .dockerignore")
                    .isFalse();
        }
        assertThat(ignored("cli/src/main/java/io/ambit/cli/Main.java", ignore)).isFalse();
        assertThat(ignored("examples/quickstart.yaml", ignore)).isFalse();
        assertThat(ignored("deploy/pom.xml", ignore))
                .as("the reactor reads every module's POM")
                .isFalse();
        assertThat(ignored("ztunnel/target/classes/x.class", ignore)).isTrue();
        assertThat(ignored("docs/operating.md", ignore)).isTrue();
    }

    @Test
    void runsAsANonRootUserWithTheProxyPortsExposed() throws Exception {
        String dockerfile = Files.readString(DOCKERFILE);
        var user = Pattern.compile("(?m)^USER (\\S+)$").matcher(dockerfile);
        String last = null;
        while (user.find()) {
            last = user.group(1);
        }
        assertThat(last).isEqualTo("1337:1337");
        var expose = Pattern.compile("(?m)^EXPOSE (.+)$").matcher(dockerfile);
        assertThat(expose.find()).isTrue();
        assertThat(expose.group(1).split(" "))
                .contains("15001", "15006", "15008", "15020", "15021")
                .doesNotContain("15000");
        assertThat(dockerfile).contains("ENTRYPOINT [\"/usr/local/bin/ambit\"]");
    }

    @Test
    void theLauncherReadsIstiosArgumentsAsTheZtunnelCommand() throws Exception {
        assertThat(trace("proxy", "ztunnel", "--version"))
                .contains("-jar /opt/ambit/ambit-cli.jar ztunnel --version")
                .doesNotContain("ambit-cli.jar proxy");
        assertThat(trace("proxy", "--help")).contains("-jar /opt/ambit/ambit-cli.jar proxy --help");
        assertThat(trace("run", "examples/quickstart.yaml"))
                .contains("-jar /opt/ambit/ambit-cli.jar run examples/quickstart.yaml")
                .contains("--enable-native-access=ALL-UNNAMED")
                .contains("-XX:+ExitOnOutOfMemoryError")
                .contains("-Dio.netty.leakDetection.level=disabled")
                .contains("-XX:+UseSerialGC");
        assertThat(trace("run", "examples/quickstart.yaml"))
                .as("the node proxy's defaults come first, so AMBIT_JAVA_OPTS can override any of them")
                .containsSubsequence("-XX:+UseSerialGC", "-jar /opt/ambit/ambit-cli.jar");
    }

    /** The launcher's {@code sh -x} trace; the exec itself fails here (no /opt/ambit), after the trace. */
    static String trace(String... args) throws Exception {
        var command = new ArrayList<>(List.of("sh", "-x", "../scripts/image/ambit"));
        command.addAll(List.of(args));
        return Tools.run(Path.of("."), Duration.ofSeconds(30), command).output();
    }

    /** .dockerignore semantics for the patterns used: globs, prefixes for directories, later "!" re-includes. */
    static boolean ignored(String path, List<String> patterns) {
        boolean ignored = false;
        for (String p : patterns) {
            boolean negate = p.startsWith("!");
            String glob = negate ? p.substring(1) : p;
            if (matches(path, glob)) {
                ignored = !negate;
            }
        }
        return ignored;
    }

    private static boolean matches(String path, String glob) {
        var matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        Path p = Path.of(path);
        for (int i = 1; i <= p.getNameCount(); i++) {
            if (matcher.matches(p.subpath(0, i))) {
                return true; // the path or one of its parent directories
            }
        }
        return false;
    }
}
