package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.rpc.Status;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.proto.envoy.config.core.v3.HeaderValue;
import io.ambit.proto.envoy.config.core.v3.HeaderValueOption;
import io.ambit.proto.envoy.config.core.v3.QueryParameter;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckRequest;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.ambit.proto.envoy.service.auth.v3.DeniedHttpResponse;
import io.ambit.proto.envoy.service.auth.v3.OkHttpResponse;
import io.ambit.proto.envoy.type.v3.HttpStatus;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The envoyExtAuthzGrpc provider against a real grpc-java Authorization server on loopback. */
class ExtAuthzGrpcTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final ExtAuthzClients clients = new ExtAuthzClients(group, NioSocketChannel.class, ProviderResolver.dns());
    private final LinkedBlockingQueue<CheckRequest> received = new LinkedBlockingQueue<>();
    private volatile Function<CheckRequest, CheckResponse> answer = r -> ok(OkHttpResponse.getDefaultInstance());
    private volatile long delayMillis;
    private final Server server;

    ExtAuthzGrpcTest() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.93.2.2", 0))
                .addService(new AuthorizationGrpc.AuthorizationImplBase() {
                    @Override
                    public void check(CheckRequest request, StreamObserver<CheckResponse> out) {
                        received.add(request);
                        if (delayMillis > 0) {
                            try {
                                Thread.sleep(delayMillis); // a slow provider, on purpose
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        if (((io.grpc.stub.ServerCallStreamObserver<CheckResponse>) out).isCancelled()) {
                            return; // the client's deadline passed while we slept
                        }
                        CheckResponse response;
                        try {
                            response = answer.apply(request);
                        } catch (RuntimeException e) {
                            out.onError(io.grpc.Status.UNAVAILABLE
                                    .withDescription(e.getMessage())
                                    .asRuntimeException());
                            return;
                        }
                        try {
                            out.onNext(response);
                            out.onCompleted();
                        } catch (io.grpc.StatusRuntimeException | IllegalStateException e) {
                            // cancelled between the check above and now: nothing to answer
                        }
                    }
                })
                .build()
                .start();
    }

    @AfterEach
    void close() throws Exception {
        clients.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private ExtAuthzClient provider(String extra) throws Exception {
        return provider("5s", extra);
    }

    private ExtAuthzClient provider(String timeout, String extra) throws Exception {
        var port = ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
        clients.update(MeshConfigLoader.parse("""
                extensionProviders:
                  - name: grpc-authz
                    envoyExtAuthzGrpc:
                      service: 127.93.2.2
                      port: %d
                      timeout: %s
                %s""".formatted(port, timeout, extra.indent(6)), "mesh.yaml"));
        return clients.client("grpc-authz");
    }

    private static CheckResponse ok(OkHttpResponse ok) {
        return CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(0))
                .setOkResponse(ok)
                .build();
    }

    private static HeaderValueOption header(String k, String v, Boolean append) {
        var b = HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(k).setValue(v));
        if (append != null) {
            b.setAppend(BoolValue.of(append));
        }
        return b.build();
    }

    private static CheckInput input() {
        return CheckInput.builder()
                .request("GET", "http", "payments.shop", "/pay?amount=10", "HTTP/2")
                .headers(Map.of("x-user", List.of("alice", "bob"), "cookie", List.of("a=1", "b=2")))
                .source(new InetSocketAddress("10.1.2.3", 50000), "spiffe://cluster.local/ns/shop/sa/web")
                .destination(new InetSocketAddress("10.9.9.9", 8080), "spiffe://cluster.local/ns/shop/sa/waypoint")
                .requestId("req-1")
                .time(Instant.parse("2026-03-01T12:00:00Z"))
                .build();
    }

    private static ExtAuthzVerdict await(CompletionStage<ExtAuthzVerdict> s) {
        try {
            return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the check did not complete", e);
        }
    }

    @Test
    void theCheckRequestDescribesTheRequestAsEnvoyDoes() throws Exception {
        await(provider("").check(input()));
        var a = received.poll(5, TimeUnit.SECONDS).getAttributes();
        var http = a.getRequest().getHttp();
        assertThat(http.getMethod()).isEqualTo("GET");
        assertThat(http.getPath()).isEqualTo("/pay?amount=10");
        assertThat(http.getHost()).isEqualTo("payments.shop");
        assertThat(http.getProtocol()).isEqualTo("HTTP/2");
        assertThat(http.getId()).isEqualTo("req-1");
        assertThat(http.getHeadersMap())
                .containsEntry(":method", "GET")
                .containsEntry(":path", "/pay?amount=10")
                .containsEntry(":authority", "payments.shop")
                .containsEntry("x-user", "alice,bob")
                .containsEntry("cookie", "a=1; b=2");
        assertThat(a.getSource().getPrincipal()).isEqualTo("spiffe://cluster.local/ns/shop/sa/web");
        assertThat(a.getSource().getAddress().getSocketAddress().getAddress()).isEqualTo("10.1.2.3");
        assertThat(a.getSource().getAddress().getSocketAddress().getPortValue()).isEqualTo(50000);
        assertThat(a.getDestination().getPrincipal()).isEqualTo("spiffe://cluster.local/ns/shop/sa/waypoint");
        assertThat(a.getRequest().getTime().getSeconds())
                .isEqualTo(Instant.parse("2026-03-01T12:00:00Z").getEpochSecond());
    }

    @Test
    void okAllowsWithItsHeaderQueryAndResponseChanges() throws Exception {
        answer = r -> ok(OkHttpResponse.newBuilder()
                .addHeaders(header("x-user-roles", "admin", null))
                .addHeaders(header("x-trace", "t", true))
                .addHeaders(header("host", "evil.example", false))
                .addHeadersToRemove("authorization")
                .addHeadersToRemove(":authority")
                .addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                        .setHeader(HeaderValue.newBuilder()
                                .setKey("x-ratelimit-hint")
                                .setValue("5"))
                        .setAppendAction(HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT))
                .addQueryParametersToSet(
                        QueryParameter.newBuilder().setKey("tenant").setValue("t1"))
                .addQueryParametersToRemove("debug")
                .build());
        var v = await(provider("").check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ALLOWED);
        assertThat(v.upstream())
                .containsExactly(
                        new HeaderOp("x-user-roles", "admin", HeaderOp.Action.SET),
                        new HeaderOp("x-trace", "t", HeaderOp.Action.APPEND));
        assertThat(v.upstreamRemove()).containsExactly("authorization");
        assertThat(v.downstream())
                .containsExactly(new HeaderOp("x-ratelimit-hint", "5", HeaderOp.Action.ADD_IF_ABSENT));
        assertThat(v.queryToSet()).containsExactly(Map.entry("tenant", "t1"));
        assertThat(v.queryToRemove()).containsExactly("debug");
    }

    @Test
    void aDenialCarriesTheProvidersStatusBodyAndHeaders() throws Exception {
        answer = r -> CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(7))
                .setDeniedResponse(DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(401))
                        .setBody("login first")
                        .addHeaders(header("www-authenticate", "Basic", null)))
                .build();
        var v = await(provider("").check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
        assertThat(v.status()).isEqualTo(401);
        assertThat(v.body()).isEqualTo("login first");
        assertThat(v.downstream()).containsExactly(new HeaderOp("www-authenticate", "Basic", HeaderOp.Action.SET));

        answer = r -> CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(16))
                .build();
        var bare = await(provider("").check(input()));
        assertThat(bare.status()).isEqualTo(403);
        assertThat(bare.body()).isEmpty();
    }

    @Test
    void aFailingCallFailsClosedWithStatusOnErrorOrOpensWithFailOpen() throws Exception {
        answer = r -> {
            throw new IllegalStateException("backend down");
        };
        var v = await(provider("statusOnError: \"503\"").check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.allowed()).isFalse();
        assertThat(v.status()).isEqualTo(503);
        assertThat(v.detail()).contains("UNAVAILABLE");
        assertThat(await(provider("failOpen: true").check(input())).allowed()).isTrue();
    }

    @Test
    void theDeadlineIsTheProvidersTimeout() throws Exception {
        var client = provider("1s", "");
        assertThat(await(client.check(input())).allowed()).isTrue(); // connected
        delayMillis = 3_000;
        var v = await(client.check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.detail()).contains("DEADLINE_EXCEEDED");
        assertThat(v.status()).isEqualTo(403);
    }

    @Test
    void anOversizedAnswerIsAnError() throws Exception {
        answer = r -> CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(7))
                .setDeniedResponse(
                        DeniedHttpResponse.newBuilder().setBody("x".repeat(GrpcExtAuthzClient.MAX_MESSAGE + 1)))
                .build();
        var v = await(provider("").check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.detail()).contains("RESOURCE_EXHAUSTED");
    }

    @Test
    void theBodyGoesAsTextOrBytes() throws Exception {
        var in = CheckInput.builder()
                .request("POST", "http", "h", "/", "HTTP/2")
                .body("héllo".getBytes(StandardCharsets.UTF_8), false, 6)
                .build();
        await(provider("includeRequestBodyInCheck: {maxRequestBytes: 100}").check(in));
        var http =
                received.poll(5, TimeUnit.SECONDS).getAttributes().getRequest().getHttp();
        assertThat(http.getBody()).isEqualTo("héllo");
        assertThat(http.getSize()).isEqualTo(6);
        await(provider("includeRequestBodyInCheck: {maxRequestBytes: 100, packAsBytes: true}")
                .check(in));
        var raw =
                received.poll(5, TimeUnit.SECONDS).getAttributes().getRequest().getHttp();
        assertThat(raw.getRawBody().toByteArray()).isEqualTo("héllo".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void anUnreachableServerFailsClosed() throws Exception {
        var client = provider("");
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        var v = await(client.check(input()));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.allowed()).isFalse();
    }
}
