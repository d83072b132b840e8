package io.ambit.waypoint.xns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ambit.hbone.transport.Transports;
import io.ambit.waypoint.stages.SecurityStages;
import io.ambit.waypoint.testing.Processes;
import io.ambit.waypoint.testing.StaticMesh;
import io.ambit.waypoint.testing.TestNet;
import io.ambit.waypoint.testing.WaypointFixture;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A local rate limit attached to the Gateway of a waypoint in namespace {@code waypoints} limits the
 * {@code default/httpbin} Service that waypoint serves (before the fix it looked for the Gateway in
 * {@code default} and never limited). Real curl through the real waypoint.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class CrossNamespaceRateLimitThroughWaypointTest {
    private static final String LIMIT = """
            apiVersion: ambit.io/v1alpha1
            kind: LocalRateLimit
            metadata: {name: one-a-day, namespace: waypoints}
            spec:
              targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
              tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 24h}
            """;

    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;
    private static EventLoopGroup stagesGroup;
    private static SecurityStages stages;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Processes.available("curl"), "curl is installed");
        // The real rate-limit stage, built from the same mesh document the fixture serves (subnet 58).
        var transport = Transports.select();
        stagesGroup = transport.newEventLoopGroup(1, "xns-stages");
        stages = SecurityStages.start(
                new StaticMesh(WaypointFixture.meshYaml(TestNet.net(92) + ".58") + "---\n" + LIMIT),
                transport,
                stagesGroup);
        mesh = WaypointFixture.start(58, LIMIT, c -> {
            var moved = CrossNamespaceWaypointTest.inWaypointsNamespace(c);
            return moved.withStages(stages.forWaypoint(moved.self()));
        });
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
        if (stages != null) {
            stages.close();
        }
        if (stagesGroup != null) {
            stagesGroup
                    .shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS)
                    .syncUninterruptibly();
        }
    }

    @Test
    void theSecondRequestOfTheDayIsRefusedWith429() throws Exception {
        String url = "http://" + asSleep.getAddress().getHostAddress() + ":" + asSleep.getPort() + "/get";
        List<String> cmd = List.of("curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url);
        var first = Processes.run(cmd, Duration.ofSeconds(30));
        var second = Processes.run(cmd, Duration.ofSeconds(30));
        assertThat(first.out()).as(first.toString()).isEqualTo("200");
        assertThat(second.out()).as(second.toString()).isEqualTo("429");
        // the access log names what refused it, not the policy that had allowed it
        String line = mesh.awaitLog(l -> l.contains("\"response_code\":429"));
        assertThat(line)
                .contains("\"decision\":\"DENY\"")
                .contains("\"decision_reason\":\"rate-limit\"")
                .contains("\"policy\":\"LocalRateLimit waypoints/one-a-day\"")
                .contains("rate limited by LocalRateLimit waypoints/one-a-day");
    }
}
