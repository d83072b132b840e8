package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.load.MeshConfigLoader;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The example's provider ({@code examples/policies/ext-authz-and-jwt/ext-authz-server.mjs}, Node's http
 * module) behind the example's {@code mesh.yaml}: the answers of the example's README reach the client.
 */
class ExampleExtAuthzServerTest {
    private static final Path EXAMPLE = Path.of("..", "examples", "policies", "ext-authz-and-jwt");

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExtAuthzClients clients = new ExtAuthzClients(group, NioSocketChannel.class, ProviderResolver.dns());
    private final Process node;
    private final int port;

    ExampleExtAuthzServerTest() throws Exception {
        node = new ProcessBuilder(
                        "node",
                        EXAMPLE.resolve("ext-authz-server.mjs").toString(),
                        "--host",
                        "127.93.2.5",
                        "--port",
                        "0")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        var out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.US_ASCII));
        String line = CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (java.io.IOException e) {
                        return null;
                    }
                })
                .get(20, TimeUnit.SECONDS);
        assertThat(line).as("the provider's first line").startsWith("listening ");
        port = Integer.parseInt(line.substring("listening ".length()).strip());
        // the example's mesh.yaml, pointed at this provider
        String mesh = Files.readString(EXAMPLE.resolve("mesh.yaml"))
                .replace("service: 127.0.0.1", "service: 127.93.2.5")
                .replace("port: 9191", "port: " + port)
                .replace("timeout: 0.5s", "timeout: 5s");
        clients.update(MeshConfigLoader.parse(mesh, "mesh.yaml"));
    }

    @AfterEach
    void close() throws Exception {
        clients.close();
        node.destroy();
        node.waitFor(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private ExtAuthzVerdict check(Map<String, List<String>> headers) throws Exception {
        return clients.client("external-authz")
                .check(CheckInput.builder()
                        .request("POST", "http", "payments.shop", "/payments", "HTTP/1.1")
                        .headers(headers)
                        .build())
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void withoutAUserTheProvidersAnswerReachesTheClient() throws Exception {
        var v = check(Map.of());
        assertThat(v.allowed()).isFalse();
        assertThat(v.status()).isEqualTo(401);
        assertThat(v.body()).isEqualTo("{\"error\":\"who are you?\"}");
        assertThat(v.downstream()).contains(new HeaderOp("content-type", "application/json", HeaderOp.Action.SET));
    }

    @Test
    void malloryIsDeniedWithTheCookie() throws Exception {
        var v = check(Map.of("x-user-id", List.of("mallory")));
        assertThat(v.status()).isEqualTo(403);
        assertThat(v.downstream()).extracting(HeaderOp::name).containsExactlyInAnyOrder("content-type", "set-cookie");
    }

    @Test
    void bobIsAllowedAndTheRoleGoesUpstream() throws Exception {
        var v = check(Map.of("x-user-id", List.of("bob")));
        assertThat(v.allowed()).isTrue();
        assertThat(v.upstream()).containsExactly(new HeaderOp("x-user-roles", "reader", HeaderOp.Action.SET));
    }
}
