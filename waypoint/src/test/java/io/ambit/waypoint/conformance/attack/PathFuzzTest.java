package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.path.PathNormalization;
import io.ambit.waypoint.testing.Await;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Security cases 1-3 with a real fuzzer: wfuzz sends our path corpora (dot segments, backslashes, {@code %2F}
 * {@code %5C} {@code %2E} escapes single and double, mixed hex case, overlong UTF-8, full-width characters,
 * {@code ;params}, NUL, trailing dots and slashes) at a waypoint that DENYs {@code /admin} and {@code
 * /admin/*}, under each of Istio's path normalizations. Every payload that the mode reads as {@code /admin}
 * must be answered 403 (or 400), never 200; whatever was served, the app must have received exactly the path
 * the policy matched (CVE-2021-29492), and never a path the mode reads as {@code /admin}. Controls that must
 * be served make a run where everything is refused fail.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class PathFuzzTest {
    static final String POLICIES = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: default}
            spec:
              targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
              action: DENY
              rules:
              - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
              # Istio's host-match practice: the name alone does not match "name:port", so both are listed
              - to: [{operation: {hosts: ["secret.example.com", "secret.example.com:*"]}}]
            """;
    private static final Set<Integer> REFUSED = Set.of(403, 400);

    private static WaypointFixture mesh;
    private static InetSocketAddress client;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        AttackTools.require("wfuzz", "wfuzz");
        mesh = WaypointFixture.start(141, POLICIES);
        client = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    /** Switches the mesh (live, as a config push would) to {@code mode}. */
    static void normalization(WaypointFixture mesh, PathNormalization mode) {
        mesh.mesh.set(WaypointFixture.meshYaml(mesh.net)
                        .replace("extendedConditions: true", "extendedConditions: true\n  pathNormalization: " + mode)
                + "---\n" + POLICIES);
    }

    /** The wordlists whose payloads {@code mode} reads as {@code /admin}. */
    private static List<String> adminLists(PathNormalization mode) {
        return switch (mode) {
            case NONE -> List.of();
            case BASE -> List.of("admin-base.txt");
            case MERGE_SLASHES -> List.of("admin-base.txt", "admin-merge.txt");
            case DECODE_AND_MERGE_SLASHES -> List.of("admin-base.txt", "admin-merge.txt", "admin-decode.txt");
        };
    }

    @ParameterizedTest(
            name = "under {0}, every path that reads as /admin is refused and the app sees only what the policy saw")
    @EnumSource(
            value = PathNormalization.class,
            names = {"BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"})
    void theAdminCorporaAreRefused(PathNormalization mode) throws Exception {
        normalization(mesh, mode);
        mesh.backends.forEach(b -> b.seen.clear());
        mesh.accessLog.clear();
        String url = AttackTools.base(client) + "/FUZZ";
        List<String> wrong = new ArrayList<>();
        int sent = 0;
        for (String list : List.of("admin-base.txt", "admin-merge.txt", "admin-decode.txt", "admin-never.txt")) {
            boolean mustRefuse = adminLists(mode).contains(list);
            Map<String, Wfuzz.Hit> hits = Wfuzz.run(dir, list, url);
            sent += hits.size();
            for (Wfuzz.Hit hit : hits.values()) {
                if (mustRefuse && !REFUSED.contains(hit.code())) {
                    wrong.add(list + ": payload \"" + hit.payload() + "\" answered " + hit.code()
                            + " (expected 403 or 400 under " + mode + ")");
                }
                if (hit.payload().contains("%00") && hit.code() != 400) {
                    wrong.add(list + ": payload \"" + hit.payload() + "\" answered " + hit.code()
                            + " (expected 400: an escaped NUL is refused in every mode)");
                }
            }
        }
        Map<String, Wfuzz.Hit> controls = Wfuzz.run(dir, "controls.txt", url);
        sent += controls.size();
        for (Wfuzz.Hit hit : controls.values()) {
            if (hit.code() != 200) {
                wrong.add("controls.txt: payload \"" + hit.payload() + "\" answered " + hit.code() + " (expected 200)");
            }
        }
        wrong.addAll(whatTheAppSaw(mode, sent));
        assertThat(wrong).as("wfuzz against DENY /admin under %s", mode).isEmpty();
    }

    @ParameterizedTest(name = "under DECODE_AND_MERGE_SLASHES, curl over HTTP/2 gets the same answers")
    @EnumSource(value = PathNormalization.class, names = "DECODE_AND_MERGE_SLASHES")
    void theAdminCorporaAreRefusedOverHttp2Too(PathNormalization mode) throws Exception {
        AttackTools.require("curl", "curl");
        normalization(mesh, mode);
        mesh.backends.forEach(b -> b.seen.clear());
        mesh.accessLog.clear();
        List<String> wrong = new ArrayList<>();
        int sent = 0;
        for (String list :
                List.of("admin-base.txt", "admin-merge.txt", "admin-decode.txt", "admin-never.txt", "controls.txt")) {
            boolean mustRefuse = adminLists(mode).contains(list);
            for (String payload : AttackTools.wordlist(list)) {
                // A curl per payload (HTTP/2 with prior knowledge, the path as is, as wfuzz sends it).
                var r = io.ambit.waypoint.testing.Processes.run(
                        List.of(
                                "curl",
                                "-sS",
                                "--http2-prior-knowledge",
                                "--path-as-is",
                                "--max-time",
                                "10",
                                "-o",
                                "/dev/null",
                                "-w",
                                "%{http_code}",
                                AttackTools.base(client) + "/" + payload),
                        java.time.Duration.ofSeconds(30));
                sent++;
                int code = Integer.parseInt(r.out().trim());
                if (code == 0) {
                    wrong.add("HTTP/2 " + list + ": payload \"" + payload + "\" got no answer: " + r);
                } else if (mustRefuse && !REFUSED.contains(code)) {
                    wrong.add("HTTP/2 " + list + ": payload \"" + payload + "\" answered " + code
                            + " (expected 403 or 400)");
                } else if (list.equals("controls.txt") && code != 200) {
                    wrong.add("HTTP/2 controls.txt: payload \"" + payload + "\" answered " + code + " (expected 200)");
                }
            }
        }
        wrong.addAll(whatTheAppSaw(mode, sent));
        assertThat(wrong)
                .as("curl --http2-prior-knowledge against DENY /admin under %s", mode)
                .isEmpty();
    }

    @ParameterizedTest(name = "the raw request target {0} (which libcurl would not send) is refused")
    @org.junit.jupiter.params.provider.ValueSource(
            strings = {
                "/admin#x",
                "/admin#/../get",
                "/get/../admin#frag",
                "/admin?q=1#x",
                "/admin/#",
                "/%2e%2e/admin#",
                "/admin\u0000",
                "/ad min",
                "/admin\tx",
                "/\u00ef\u00bc\u008fadmin"
            })
    void rawTargetsThatClientsCannotSendAreRefused(String target) throws Exception {
        normalization(mesh, PathNormalization.BASE);
        mesh.backends.forEach(b -> b.seen.clear());
        var answer = io.ambit.waypoint.testing.RawHttp.send(
                client, "GET " + target + " HTTP/1.1\r\nHost: httpbin\r\nConnection: close\r\n\r\n", 3000);
        List<Integer> statuses = answer.statuses();
        if (target.contains("\u00ef")) {
            // Not /admin under any mode (full-width solidus bytes): anything but a path the oracle reads as /admin.
            assertThat(statuses).as("%s: %s", target, answer).hasSize(1);
        } else {
            assertThat(statuses).as("%s: %s", target, answer).hasSize(1);
            assertThat(statuses.getFirst()).as("%s: %s", target, answer).isIn(403, 400);
        }
        for (EchoBackend b : mesh.backends) {
            for (EchoBackend.Seen seen : b.seen) {
                assertThat(PathOracle.isAdmin(seen.uri(), PathNormalization.DECODE_AND_MERGE_SLASHES))
                        .as("the app received %s for target %s", seen.uri(), target)
                        .isFalse();
            }
        }
    }

    /**
     * Every request the app received, against the access log: the path it got is the path the policy matched
     * (found by request id), and the mode does not read it as {@code /admin}.
     */
    private static List<String> whatTheAppSaw(PathNormalization mode, int sent) throws InterruptedException {
        List<String> wrong = new ArrayList<>();
        List<EchoBackend.Seen> seen = new ArrayList<>();
        mesh.backends.forEach(b -> seen.addAll(b.seen));
        // Every request logged (each logs once, when it ends) before the log is searched.
        Await.until(() -> mesh.accessLog.size() >= sent, sent + " access log lines; have " + mesh.accessLog.size());
        for (EchoBackend.Seen s : seen) {
            if (PathOracle.isAdmin(s.uri(), mode)) {
                wrong.add("the app received " + s.uri() + ", which " + mode + " reads as "
                        + PathOracle.read(s.uri(), mode));
            }
            String id = s.header("x-request-id");
            String line = mesh.accessLog.stream()
                    .filter(l -> l.contains("\"request_id\":\"" + id + "\""))
                    .findFirst()
                    .orElse(null);
            if (line == null) {
                wrong.add("no access log line for the request the app received as " + s.uri());
                continue;
            }
            String policyPath = jsonString(line, "path");
            if (!s.uri().equals(policyPath)) {
                wrong.add("the policy matched " + policyPath + " but the app received " + s.uri());
            }
        }
        if (seen.isEmpty()) {
            wrong.add("the app received nothing at all (not even the controls)");
        }
        return wrong;
    }

    static String jsonString(String json, String name) {
        Matcher m =
                Pattern.compile("\"" + name + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in " + json);
        }
        return m.group(1).replace("\\\\", "\\").replace("\\\"", "\"");
    }
}
