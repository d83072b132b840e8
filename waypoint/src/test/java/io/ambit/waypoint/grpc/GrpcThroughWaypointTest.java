package io.ambit.waypoint.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.waypoint.testing.Policies;
import io.ambit.waypoint.testing.WaypointFixture;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A grpc-java client calling grpc-java servers through the waypoint (HTTP/2 both ways): unary calls spread
 * over both endpoints on one channel, a method denied by policy fails with PERMISSION_DENIED (status 7,
 * trailers-only), and a bidirectional stream goes through whole.
 */
@org.junit.jupiter.api.extension.ExtendWith(io.ambit.hbone.testsupport.NoLeaks.class)
class GrpcThroughWaypointTest {
    private static final String DENY_FORBIDDEN = """
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: greeter-deny-forbidden, namespace: default}
            spec:
              targetRefs: [{kind: Service, group: "", name: greeter}]
              action: DENY
              rules:
              - to: [{operation: {paths: ["/test.Greeter/Forbidden"]}}]
            """;

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Greeter", name))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    static final MethodDescriptor<byte[], byte[]> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<byte[], byte[]> FORBIDDEN = method("Forbidden", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<byte[], byte[]> CHAT = method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);

    private static WaypointFixture mesh;
    private static final List<Server> servers = new ArrayList<>();
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        mesh = WaypointFixture.start(4, Policies.BASIC + DENY_FORBIDDEN);
        for (String host : List.of("21", "22")) {
            String name = "greeter-" + host;
            ServerServiceDefinition service = ServerServiceDefinition.builder("test.Greeter")
                    .addMethod(SAY, ServerCalls.asyncUnaryCall((req, out) -> {
                        out.onNext(("hello " + new String(req, StandardCharsets.UTF_8) + " from " + name)
                                .getBytes(StandardCharsets.UTF_8));
                        out.onCompleted();
                    }))
                    .addMethod(FORBIDDEN, ServerCalls.asyncUnaryCall((req, out) -> {
                        out.onNext("must never be reached".getBytes(StandardCharsets.UTF_8));
                        out.onCompleted();
                    }))
                    .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                        @Override
                        public void onNext(byte[] value) {
                            out.onNext(value);
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {
                            out.onCompleted();
                        }
                    }))
                    .build();
            servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(mesh.ip(host), 9090))
                    .addService(service)
                    .build()
                    .start());
        }
        var port = mesh.clientPort(WaypointFixture.SLEEP, new InetSocketAddress(mesh.ip("103"), 9090));
        channel = NettyChannelBuilder.forAddress(port).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (mesh != null) {
            mesh.close();
        }
    }

    private static CallOptions deadline() {
        return CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @Test
    void unaryCallsOnOneChannelSpreadOverBothEndpoints() {
        Set<String> from = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            byte[] reply =
                    ClientCalls.blockingUnaryCall(channel, SAY, deadline(), ("n" + i).getBytes(StandardCharsets.UTF_8));
            String text = new String(reply, StandardCharsets.UTF_8);
            assertThat(text).startsWith("hello n" + i + " from greeter-");
            from.add(text.substring(text.lastIndexOf(' ') + 1));
        }
        assertThat(from).containsExactlyInAnyOrder("greeter-21", "greeter-22");
    }

    @Test
    void aDeniedMethodFailsWithPermissionDenied() throws Exception {
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, FORBIDDEN, deadline(), new byte[] {1}))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("RBAC: access denied");
                });
        String line = mesh.awaitLog(l -> l.contains("/test.Greeter/Forbidden"));
        assertThat(line)
                .contains("\"response_code\":200")
                .contains("\"grpc_status\":\"7\"")
                .contains("\"policy\":\"default/greeter-deny-forbidden\"");
    }

    @Test
    void aBidirectionalStreamGoesThroughWhole() throws Exception {
        var received = new ArrayList<String>();
        var done = new CompletableFuture<Void>();
        StreamObserver<byte[]> requests =
                ClientCalls.asyncBidiStreamingCall(channel.newCall(CHAT, deadline()), new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        synchronized (received) {
                            received.add(new String(value, StandardCharsets.UTF_8));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        for (int i = 0; i < 100; i++) {
            requests.onNext(("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        requests.onCompleted();
        done.get(20, TimeUnit.SECONDS);
        assertThat(received).hasSize(100).startsWith("m0", "m1").endsWith("m99");
    }
}
