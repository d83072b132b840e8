package io.ambit.waypoint.extauthz;

import io.ambit.hbone.testsupport.NoLeaks;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckRequest;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.ambit.waypoint.testing.TestNet;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A gRPC ext_authz provider whose mesh service has two endpoints, each a real grpc-java
 * {@code envoy.service.auth.v3} server behind its own HBONE node: the waypoint's checks are spread over
 * both (grpc-java round_robin, one tunnel per endpoint), follow the mesh when an endpoint leaves the service
 * and when it comes back ({@link ProviderBalancing}). Addresses: 127.98.6.0/24 (logical, see {@link TestNet}).
 */
@ExtendWith(NoLeaks.class)
class GrpcProviderBalancingTest {
    static final int SUBNET = 6;
    static final List<Server> servers = new ArrayList<>();
    static final AtomicInteger first = new AtomicInteger();
    static final AtomicInteger second = new AtomicInteger();
    static ProviderBalancing scenario;

    @BeforeAll
    static void start() throws Exception {
        servers.add(authz(1, first));
        servers.add(authz(2, second));
        scenario = ProviderBalancing.start(SUBNET, "envoyExtAuthzGrpc");
    }

    /** A real provider that allows everything and counts the checks it gets. */
    static Server authz(int endpoint, AtomicInteger checks) throws Exception {
        return NettyServerBuilder.forAddress(ProviderBalancing.providerAddress(SUBNET, endpoint))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> out) {
                        checks.incrementAndGet();
                        out.onNext(CheckResponse.newBuilder()
                                .setStatus(com.google.rpc.Status.newBuilder().setCode(0))
                                .build());
                        out.onCompleted();
                    }
                })
                .build()
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (scenario != null) {
            scenario.close();
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void checksAreSpreadOverTheProvidersEndpointsAndFollowTheMesh() throws Exception {
        scenario.checksSpreadAndFollowTheMesh(first, second);
    }
}
