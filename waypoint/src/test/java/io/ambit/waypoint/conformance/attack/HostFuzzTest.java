package io.ambit.waypoint.conformance.attack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security case 4 with wfuzz: a DENY on {@code hosts: ["secret.example.com", "secret.example.com:*"]} (the
 * name alone does not match {@code name:port} in Istio, so its host-match guidance lists both) must hold
 * whatever the case of the Host header, with any port, and with the absolute-name trailing dot, which the
 * waypoint removes before the policy decides ({@link io.ambit.waypoint.ingress.HostNames}); other hosts are
 * served, and the app receives the host the policy saw.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class HostFuzzTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress client;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        AttackTools.require("wfuzz", "wfuzz");
        mesh = WaypointFixture.start(142, PathFuzzTest.POLICIES);
        client = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void theDeniedHostIsRefusedInEveryCaseWithAnyPortAndTrailingDot() throws Exception {
        String url = AttackTools.base(client) + "/get";
        List<String> wrong = new ArrayList<>();
        Map<String, Wfuzz.Hit> denied = Wfuzz.run(dir, "hosts.txt", url, "-H", "Host: FUZZ");
        denied.values().stream()
                .filter(h -> h.code() != 403)
                .forEach(h -> wrong.add("Host: " + h.payload() + " answered " + h.code() + " (expected 403)"));
        mesh.backends.forEach(b -> b.seen.clear());
        Map<String, Wfuzz.Hit> allowed = Wfuzz.run(dir, "hosts-allowed.txt", url, "-H", "Host: FUZZ");
        mesh.backends.stream()
                .flatMap(b -> b.seen.stream())
                .map(s -> s.header("host"))
                .filter(h -> h == null || h.matches(".*\\.(:[0-9]+)?"))
                .forEach(h ->
                        wrong.add("the app received Host: " + h + " (expected the name without its trailing dot)"));
        assertThat(mesh.backends.stream().mapToInt(b -> b.seen.size()).sum())
                .as("the allowed hosts reached the app")
                .isEqualTo(allowed.size());
        allowed.values().stream()
                .filter(h -> h.code() != 200)
                .forEach(h -> wrong.add("Host: " + h.payload() + " answered " + h.code() + " (expected 200)"));
        assertThat(wrong)
                .as("wfuzz against DENY hosts: [secret.example.com, secret.example.com:*]")
                .isEmpty();
    }
}
