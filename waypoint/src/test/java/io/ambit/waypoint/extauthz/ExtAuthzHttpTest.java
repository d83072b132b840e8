package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.mesh.MeshConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The envoyExtAuthzHttp provider against a real HTTP server, with the article's settings. */
class ExtAuthzHttpTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final AuthzHttpServer server;
    private final ExtAuthzClients clients = new ExtAuthzClients(group, NioSocketChannel.class, ProviderResolver.dns());

    ExtAuthzHttpTest() throws Exception {
        server = new AuthzHttpServer("127.93.2.1");
    }

    @AfterEach
    void close() throws Exception {
        clients.close();
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /**
     * The article's provider, pointed at the test server; {@code extra} adds fields. The article's 0.5s
     * timeout becomes 5s, so that a cold JVM on a busy machine does not time out; the timeout test sets
     * its own.
     */
    private ExtAuthzClient provider(String extra) throws Exception {
        return provider("5s", extra);
    }

    private ExtAuthzClient provider(String timeout, String extra) throws Exception {
        MeshConfig mesh = MeshConfigLoader.parse(
                """
                extensionProviders:
                  - name: external-authz
                    envoyExtAuthzHttp:
                      service: %s
                      port: %d
                      timeout: %s
                      pathPrefix: "/auth"
                      includeHeadersInCheck:
                        - "authorisation"
                        - "x-user-id"
                      headersToUpstreamOnAllow:
                        - "x-user-roles"
                      headersToDownstreamOnDeny:
                        - "content-type"
                        - "set-cookie"
                %s""".formatted(server.host(), server.port(), timeout, extra.indent(6)), "mesh.yaml");
        clients.update(mesh);
        return clients.client("external-authz");
    }

    private static CheckInput input(Map<String, List<String>> headers) {
        return CheckInput.builder()
                .request("POST", "http", "orders.shop:8080", "/orders?id=1", "HTTP/1.1")
                .headers(headers)
                .source(new InetSocketAddress("10.0.0.9", 41000), "spiffe://cluster.local/ns/shop/sa/web")
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
    void theCheckCarriesTheMethodPrefixedPathHostAuthorizationAndTheListedHeadersOnly() throws Exception {
        var client = provider("");
        await(client.check(input(Map.of(
                "authorization", List.of("Bearer t"),
                "authorisation", List.of("British spelling"),
                "x-user-id", List.of("u1"),
                "cookie", List.of("session=secret"),
                "x-secret", List.of("s")))));
        var r = server.last();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.uri()).isEqualTo("/auth/orders?id=1");
        assertThat(r.header("host")).isEqualTo("orders.shop:8080");
        assertThat(r.header("authorization")).isEqualTo("Bearer t");
        assertThat(r.header("authorisation")).isEqualTo("British spelling");
        assertThat(r.header("x-user-id")).isEqualTo("u1");
        assertThat(r.header("content-length")).isEqualTo("0");
        assertThat(r.headers()).doesNotContainKeys("cookie", "x-secret");
        assertThat(r.body()).isEmpty();
    }

    @Test
    void everyValueOfARepeatedHeaderReachesTheProvider() throws Exception {
        var client = provider("");
        await(client.check(input(Map.of("x-user-id", List.of("alice", "admin")))));
        assertThat(server.last().header("x-user-id")).isEqualTo("alice,admin"); // CVE-2021-32777
    }

    @Test
    void a200AllowsAndCopiesOnlyTheAllowedHeadersUpstream() throws Exception {
        var client = provider("headersToDownstreamOnAllow: [set-cookie]");
        server.respond(r -> AuthzHttpServer.Reply.of(
                200,
                "ignored",
                "x-user-roles",
                "admin",
                "x-other",
                "no",
                "set-cookie",
                "a=1",
                "x-envoy-auth-headers-to-remove",
                "authorization, Host, x-debug"));
        var v = await(client.check(input(Map.of())));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ALLOWED);
        assertThat(v.allowed()).isTrue();
        assertThat(v.upstream()).containsExactly(new HeaderOp("x-user-roles", "admin", HeaderOp.Action.SET));
        assertThat(v.upstreamRemove()).containsExactly("authorization", "x-debug"); // never host
        assertThat(v.downstream()).containsExactly(new HeaderOp("set-cookie", "a=1", HeaderOp.Action.APPEND));

        var request =
                new DefaultHttpHeaders().add("x-user-roles", "forged-by-client").add("authorization", "x");
        v.upstream().forEach(op -> op.apply(request));
        v.upstreamRemove().forEach(request::remove);
        assertThat(request.getAll("x-user-roles")).containsExactly("admin");
        assertThat(request.contains("authorization")).isFalse();
    }

    @Test
    void aDenialPassesStatusBodyAndTheAllowedHeadersToTheClient() throws Exception {
        var client = provider("");
        server.respond(r -> AuthzHttpServer.Reply.of(
                401,
                "{\"error\":\"no session\"}",
                "content-type",
                "application/json",
                "set-cookie",
                "a=1",
                "set-cookie",
                "b=2",
                "x-internal",
                "secret",
                "www-authenticate",
                "Bearer"));
        var v = await(client.check(input(Map.of())));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
        assertThat(v.allowed()).isFalse();
        assertThat(v.status()).isEqualTo(401);
        assertThat(v.body()).isEqualTo("{\"error\":\"no session\"}");
        assertThat(v.downstream())
                .extracting(HeaderOp::name)
                .containsExactlyInAnyOrder("content-type", "set-cookie", "set-cookie", "www-authenticate");
        assertThat(v.downstream())
                .filteredOn(o -> o.name().equals("set-cookie"))
                .extracting(HeaderOp::action)
                .containsExactly(HeaderOp.Action.SET, HeaderOp.Action.APPEND);
    }

    @Test
    void withoutADenyListEveryHeaderButHostAndFramingReachesTheClient() throws Exception {
        clients.update(MeshConfigLoader.parse(
                "extensionProviders: [{name: p, envoyExtAuthzHttp: {service: %s, port: %d}}]"
                        .formatted(server.host(), server.port()),
                "m.yaml"));
        server.respond(r -> AuthzHttpServer.Reply.of(302, "", "location", "https://login.example/", "x-a", "1"));
        var v = await(clients.client("p").check(input(Map.of())));
        assertThat(v.status()).isEqualTo(302);
        assertThat(v.downstream())
                .extracting(HeaderOp::name)
                .contains("location", "x-a", "date")
                .doesNotContain("content-length", "host", "transfer-encoding");
    }

    @Test
    void aServerErrorFailsClosedWithStatusOnError() throws Exception {
        server.respond(r -> AuthzHttpServer.Reply.of(503, "down"));
        var v = await(provider("").check(input(Map.of())));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.allowed()).isFalse();
        assertThat(v.status()).isEqualTo(403);
        assertThat(v.body()).isEmpty();

        var custom = await(provider("statusOnError: \"503\"").check(input(Map.of())));
        assertThat(custom.status()).isEqualTo(503);
        var open = await(provider("failOpen: true").check(input(Map.of())));
        assertThat(open.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(open.allowed()).isTrue();
    }

    @Test
    void aSlowProviderTimesOutAndFailsClosed() throws Exception {
        var client = provider("0.5s", "");
        await(client.check(input(Map.of()))); // connect and warm up (its outcome does not matter here)
        server.respond(r -> AuthzHttpServer.Reply.of(200, "").delayed(2_000));
        var v = await(client.check(input(Map.of())));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.status()).isEqualTo(403);
        assertThat(v.detail()).contains("no answer within 500 ms");
    }

    @Test
    void anUnreachableProviderFailsClosed() throws Exception {
        int port;
        try (var s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.93.2.3"))) {
            port = s.getLocalPort();
        }
        clients.update(MeshConfigLoader.parse(
                "extensionProviders: [{name: p, envoyExtAuthzHttp: {service: 127.93.2.3, port: %d, timeout: 2s}}]"
                        .formatted(port),
                "m.yaml"));
        var v = await(clients.client("p").check(input(Map.of())));
        assertThat(v.kind()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        assertThat(v.allowed()).isFalse();
        assertThat(v.status()).isEqualTo(403);
    }

    @Test
    void anOversizedAnswerIsAnErrorNotAnAllocation() throws Exception {
        var client = provider("");
        server.respond(r -> AuthzHttpServer.Reply.of(403, "x".repeat(ConnectionPool.MAX_BODY + 1)));
        var v1 = await(client.check(input(Map.of())));
        assertThat(v1.kind()).as(v1.detail()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        server.respond(r -> AuthzHttpServer.Reply.of(403, "", "x-big", "y".repeat(ConnectionPool.MAX_HEADERS)));
        var v2 = await(client.check(input(Map.of())));
        assertThat(v2.kind()).as(v2.detail()).isEqualTo(ExtAuthzVerdict.Kind.ERROR);
        server.respond(r -> AuthzHttpServer.Reply.of(403, "small"));
        var v = await(client.check(input(Map.of())));
        assertThat(v.kind()).as(v.detail()).isEqualTo(ExtAuthzVerdict.Kind.DENIED);
    }

    @Test
    void theBodyIsSentUpToMaxRequestBytesAndAnOverlongOneIs413WithoutPartialMessages() throws Exception {
        var client = provider("includeRequestBodyInCheck: {maxRequestBytes: 8, allowPartialMessage: true}");
        assertThat(client.body().maxRequestBytes()).isEqualTo(8);
        byte[] body = "0123456789".getBytes(StandardCharsets.US_ASCII);
        var in = CheckInput.builder()
                .request("PUT", "http", "h", "/x", "HTTP/1.1")
                .body(body, true, 100)
                .build();
        assertThat(await(client.check(in)).allowed()).isTrue();
        assertThat(new String(server.last().body(), StandardCharsets.US_ASCII)).isEqualTo("01234567");
        assertThat(server.last().header("content-length")).isEqualTo("8");
        assertThat(server.last().header("x-envoy-auth-partial-body")).isEqualTo("true");

        int before = server.received.size();
        var strict = provider("includeRequestBodyInCheck: {maxRequestBytes: 8}");
        var v = await(strict.check(in));
        assertThat(v.status()).isEqualTo(413);
        assertThat(server.received).hasSize(before); // the provider was not asked
    }

    @Test
    void additionalHeadersReplaceTheClientsAndInjectedLinesNeverReachTheProvider() throws Exception {
        var client = provider("includeAdditionalHeadersInCheck: {x-user-id: fixed, x-source: waypoint}");
        await(client.check(
                input(Map.of("x-user-id", List.of("client"), "authorization", List.of("a\r\nx-injected: 1")))));
        var r = server.last();
        assertThat(r.header("x-user-id")).isEqualTo("fixed");
        assertThat(r.header("x-source")).isEqualTo("waypoint");
        assertThat(r.headers()).doesNotContainKeys("x-injected", "authorization");
    }

    @Test
    void connectionsAreReusedAndAStaleOneIsReplacedTransparently() throws Exception {
        var client = provider("");
        for (int i = 0; i < 20; i++) {
            assertThat(await(client.check(input(Map.of()))).allowed()).isTrue();
        }
        var ports = new HashSet<Integer>();
        server.received.forEach(r -> ports.add(r.remotePort()));
        assertThat(ports).hasSize(1);

        server.restart(); // the pooled connection is dead now
        assertThat(await(client.check(input(Map.of()))).allowed()).isTrue();
    }

    @Test
    void theProviderCannotSetHostOrFramingHeadersUpstream() throws Exception {
        clients.update(MeshConfigLoader.parse("""
                extensionProviders:
                  - name: p
                    envoyExtAuthzHttp:
                      service: %s
                      port: %d
                      headersToUpstreamOnAllow: ["x-*", host, transfer-encoding, connection]
                """.formatted(server.host(), server.port()), "m.yaml"));
        var c = clients.client("p");
        server.respond(
                r -> AuthzHttpServer.Reply.of(200, "", "x-ok", "1", "host", "evil.example", "connection", "close"));
        var v = await(c.check(input(Map.of())));
        assertThat(v.upstream()).extracting(HeaderOp::name).containsExactly("x-ok");
    }

    @Test
    void providersThatCannotBeCalledDenyWith403() throws Exception {
        clients.update(MeshConfigLoader.parse("extensionProviders: [named-only, {name: z, zipkin: {}}]", "m.yaml"));
        for (String name : new String[] {"named-only", "z", "undeclared"}) {
            var v = await(clients.client(name).check(input(Map.of())));
            assertThat(v.allowed()).as(name).isFalse();
            assertThat(v.status()).isEqualTo(403);
        }
    }

    @Test
    void anUnchangedProviderKeepsItsClientAcrossUpdates() throws Exception {
        var first = provider("");
        var same = provider("");
        assertThat(same).isSameAs(first);
        var changed = provider("failOpen: true");
        assertThat(changed).isNotSameAs(first);
    }
}
