package io.ambit.waypoint.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.hbone.testsupport.LeakRecorder;
import io.ambit.waypoint.testing.EchoBackend;
import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.RawHttp;
import io.ambit.waypoint.testing.WaypointFixture;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * The same mutated HTTP/1.1 heads as {@link Http1DecoderFuzzTest}, sent on a real socket through ztunnel,
 * HBONE and the waypoint to echo apps (issue 6: "every input is either a request or a 400 + close"): a 400
 * is the last answer and the connection is closed after it; nothing reaches an app that was not answered
 * with a 2xx (no smuggled request is ever served); the waypoint never answers 5xx to a client's bytes; and
 * no buffer leaks. Each try is a connection through the whole mesh, so the tries are bounded here (60).
 */
class Http1ThroughWaypointFuzzTest {
    private static WaypointFixture mesh;
    private static InetSocketAddress asSleep;

    @BeforeContainer
    static void start() throws Exception {
        mesh = WaypointFixture.start(77, Policies.BASIC);
        asSleep = mesh.clientPort(WaypointFixture.SLEEP, mesh.httpbin());
    }

    @AfterContainer
    static void stop() throws InterruptedException {
        if (mesh != null) {
            mesh.close();
        }
        if (LeakRecorder.isInstalled()) {
            assertThat(LeakRecorder.collect()).as("Netty leak reports").isEmpty();
        }
    }

    @Property(seed = FuzzInputs.SEED, tries = 60)
    void everyHeadIsServedOrRefusedWith400AndClose(@ForAll("requests") String input) throws Exception {
        mesh.backends.forEach(b -> b.seen.clear());

        RawHttp.Exchange r = RawHttp.send(asSleep, input, 300);

        List<Integer> statuses = r.statuses();
        FuzzInputs.outcome(!statuses.contains(400));
        assertThat(statuses).as(r.response()).allMatch(s -> s < 500);
        if (statuses.contains(400)) {
            assertThat(statuses.getLast()).as(r.response()).isEqualTo(400);
            assertThat(r.closedByServer())
                    .as("closed after the 400: %s", r.response())
                    .isTrue();
        }
        long served = statuses.stream().filter(s -> s >= 200 && s < 300).count();
        int seen = 0;
        for (EchoBackend b : mesh.backends) {
            while (b.seen.poll(20, TimeUnit.MILLISECONDS) != null) {
                seen++;
            }
        }
        assertThat(seen).as("requests the apps saw, for %s", r.response()).isLessThanOrEqualTo((int) served);
    }

    @Provide
    Arbitrary<String> requests() {
        return Http1DecoderFuzzTest.mutatedRequests();
    }
}
