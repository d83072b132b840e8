package io.ambit.waypoint.extauthz;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.waypoint.testing.TestNet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An HTTP ext_authz provider whose mesh service has two endpoints, each a real HTTP server (the JDK's)
 * behind its own HBONE node: the waypoint's checks are spread over both per check, not per pooled
 * connection (a steady stream of checks reusing one idle connection would all land on one endpoint), and
 * follow the mesh when an endpoint leaves the service and when it comes back ({@link ProviderBalancing}).
 * Addresses: 127.98.8.0/24 (logical, see {@link TestNet}).
 */
@ExtendWith(NoLeaks.class)
class HttpProviderBalancingTest {
    static final int SUBNET = 8;
    static AuthzHttpServer one;
    static AuthzHttpServer two;
    static final AtomicInteger first = new AtomicInteger();
    static final AtomicInteger second = new AtomicInteger();
    static ProviderBalancing scenario;

    @BeforeAll
    static void start() throws Exception {
        one = authz(1, first);
        two = authz(2, second);
        scenario = ProviderBalancing.start(SUBNET, "envoyExtAuthzHttp");
    }

    /** A real provider that allows everything and counts the checks it gets. */
    static AuthzHttpServer authz(int endpoint, AtomicInteger checks) throws Exception {
        var at = ProviderBalancing.providerAddress(SUBNET, endpoint);
        var server = new AuthzHttpServer(at.getHostString(), at.getPort());
        server.respond(r -> {
            checks.incrementAndGet();
            return AuthzHttpServer.Reply.of(200, "");
        });
        return server;
    }

    @AfterAll
    static void stop() throws Exception {
        if (scenario != null) {
            scenario.close();
        }
        for (var s : new AuthzHttpServer[] {one, two}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @Test
    void checksAreSpreadOverTheProvidersEndpointsAndFollowTheMesh() throws Exception {
        scenario.checksSpreadAndFollowTheMesh(first, second);
    }
}
