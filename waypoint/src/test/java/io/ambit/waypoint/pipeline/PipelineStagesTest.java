package io.ambit.waypoint.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.waypoint.answer.LocalReply;
import io.ambit.waypoint.answer.ResponseFlag;
import io.ambit.waypoint.http1.Http1Limits;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pipeline's extension points with stand-in stages (the real ext_authz, JWT and rate-limit stages
 * plug into the same slots): Istio's order, asynchronous stages answered from another thread, fail-closed
 * on a failing stage, and a new mesh state applying to the next request. Also the HTTP/1.1 header timeout
 * against a slow client (slowloris, security case 42).
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class PipelineStagesTest {
    private static final Executor ELSEWHERE = CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS);
    private static final List<String> order = new CopyOnWriteArrayList<>();
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    /** CUSTOM stand-in: answers from another thread; denies with the provider's status, body and header. */
    static final RequestStage CUSTOM = request -> {
        order.add("custom");
        var decision = request.decide(); // verdict CUSTOM names the provider when a CUSTOM policy matched
        boolean deny = request.headers().contains("x-ext-deny");
        return CompletableFuture.supplyAsync(
                () -> {
                    if (deny) {
                        return StageResult.respond(new LocalReply(
                                418,
                                "denied by ext_authz",
                                Map.of("x-ext", "no"),
                                ResponseFlag.UNAUTHORIZED_EXTERNAL_SERVICE,
                                false));
                    }
                    request.extAuthz(
                            decision.verdict().name().equals("CUSTOM") ? AccessRequest.ExtAuthzAnswer.ALLOW : null);
                    request.headers().set("x-ext-checked", "yes"); // headersToUpstreamOnAllow
                    return StageResult.CONTINUE;
                },
                ELSEWHERE);
    };

    static final RequestStage JWT = request -> {
        order.add("jwt");
        if (request.headers().contains("x-explode")) {
            throw new IllegalStateException("a broken stage");
        }
        return StageResult.CONTINUE_NOW;
    };

    static final RequestStage RATE = request -> {
        order.add("ratelimit");
        return request.headers().contains("x-over-limit")
                ? CompletableFuture.completedFuture(StageResult.respond(LocalReply.rateLimited()))
                : StageResult.CONTINUE_NOW;
    };

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(6, Policies.BASIC, c -> c.withStages(new StageSet(CUSTOM, JWT, RATE))
                .withHttp1(new Http1Limits(16 * 1024, 60 * 1024, 64 * 1024, Duration.ofSeconds(1))));
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterAll
    static void stop() {
        if (mesh != null) {
            mesh.close();
        }
    }

    private static RawHttp.Exchange get(String path, String... headers) throws Exception {
        return RawHttp.send(
                asSleep, "GET " + path + " HTTP/1.1\r\nHost: httpbin\r\n" + String.join("", headers) + "\r\n", 1000);
    }

    @Test
    void stagesRunInIstiosOrderAndTheirHeadersReachTheApp() throws Exception {
        order.clear();
        var r = get("/get?order");
        assertThat(r.statuses()).containsExactly(200);
        assertThat(order).containsExactly("custom", "jwt", "ratelimit");
        assertThat(r.response()).contains("header x-ext-checked: yes");
    }

    @Test
    void anExtAuthzDenialIsAnsweredBeforeRbacEvenForARequestRbacDenies() throws Exception {
        order.clear();
        var r = get("/admin", "x-ext-deny: 1\r\n");
        assertThat(r.statuses()).containsExactly(418);
        assertThat(r.response()).contains("denied by ext_authz").containsIgnoringCase("x-ext: no");
        assertThat(order).containsExactly("custom");
        assertThat(mesh.awaitLog(l -> l.contains("\"response_code\":418"))).contains("\"response_flags\":\"UAEX\"");
    }

    @Test
    void rbacDeniesBeforeTheRateLimitRuns() throws Exception {
        order.clear();
        var r = get("/admin", "x-over-limit: 1\r\n");
        assertThat(r.statuses()).containsExactly(403);
        assertThat(order).containsExactly("custom", "jwt");
    }

    @Test
    void theRateLimitAnswers429() throws Exception {
        var r = get("/get", "x-over-limit: 1\r\n");
        assertThat(r.statuses()).containsExactly(429);
        assertThat(mesh.awaitLog(l -> l.contains("\"response_code\":429"))).contains("\"response_flags\":\"RL\"");
    }

    @Test
    void aFailingStageFailsClosed() throws Exception {
        var r = get("/get", "x-explode: 1\r\n");
        assertThat(r.statuses()).containsExactly(500);
        assertThat(r.response()).contains("pipeline stage failed");
    }

    @Test
    void aNewMeshStateAppliesToTheNextRequest() throws Exception {
        assertThat(get("/get?before").statuses()).containsExactly(200);
        try {
            mesh.mesh.set(WaypointFixture.meshYaml(mesh.net) + "---\n" + Policies.BASIC + """
                    ---
                    apiVersion: security.istio.io/v1
                    kind: AuthorizationPolicy
                    metadata: {name: deny-everything-get, namespace: default}
                    spec:
                      targetRefs: [{kind: Service, group: "", name: httpbin}]
                      action: DENY
                      rules: [{to: [{operation: {methods: ["GET"]}}]}]
                    """);
            assertThat(get("/get?after").statuses()).containsExactly(403);
        } finally {
            mesh.mesh.set(WaypointFixture.meshYaml(mesh.net) + "---\n" + Policies.BASIC);
        }
        assertThat(get("/get?restored").statuses()).containsExactly(200);
    }

    @Test
    void aClientTricklingItsHeadersIsClosedAfterTheHeaderTimeout() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(asSleep, 5000);
            s.setSoTimeout(10_000);
            var out = s.getOutputStream();
            out.write("GET /get HTTP/1.1\r\nHost: httpbin\r\n".getBytes());
            boolean ended = false;
            // A header line every 200 ms, at most 40 (8 s); the waypoint allows 1 s for a whole head.
            for (int i = 0; i < 40 && !ended; i++) {
                try {
                    out.write("X-Slow: a\r\n".getBytes());
                    out.flush();
                    Thread.sleep(200);
                    ended = s.getInputStream().available() > 0
                            && s.getInputStream().read() < 0;
                } catch (java.io.IOException e) {
                    ended = true; // reset by the other side
                }
            }
            if (!ended) {
                try {
                    ended = s.getInputStream().read() < 0; // a timeout here means the waypoint kept it open
                } catch (java.net.SocketTimeoutException e) {
                    ended = false;
                } catch (java.io.IOException e) {
                    ended = true;
                }
            }
            assertThat(ended)
                    .as("the waypoint ended the connection of a client that never finished its head")
                    .isTrue();
        }
    }
}
