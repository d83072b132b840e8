package io.ambit.cli.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./ambit run examples/waypoint-security.yaml} as its comment tells a new user to run it: the
 * example's own helpers as the outside world (Node's {@code mint-jwt.mjs} signs the token and writes the
 * JWKS, {@code ext-authz-server.mjs} is the provider), the demo apps of {@code ambit run}, and curl through
 * web-frontend's ztunnel. The example moved to 127.99.4x/127.99.50 so it runs beside other tests, and the
 * search limit refills hourly instead of every 2 s so the outcome does not depend on the machine's speed.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SecurityExampleTest {
    static final String HELPERS = "../examples/policies/ext-authz-and-jwt/";
    static final String CLIENT = "127.99.41.1:15080";

    @TempDir
    Path dir;

    @Test
    void theExampleAnswersAsItsCommentSays() throws Exception {
        Assumptions.assumeTrue(hasNode(), "node (Debian package nodejs) runs the example's helpers");
        String token =
                run("node", HELPERS + "mint-jwt.mjs", "--dir", dir.toString(), "--sub", "alice", "--role", "admin");
        String outsider =
                run("node", HELPERS + "mint-jwt.mjs", "--dir", dir.toString(), "--sub", "eve", "--role", "guest");
        String elsewhere = run(
                "node", HELPERS + "mint-jwt.mjs", "--dir", dir.toString(), "--sub", "alice", "--aud", "other.example");
        Process provider = new ProcessBuilder(
                        "node", HELPERS + "ext-authz-server.mjs", "--host", "127.99.9.11", "--port", "0")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        ExecutorService executor = Executors.newCachedThreadPool();
        HttpServer jwks = HttpServer.create(new InetSocketAddress("127.99.9.12", 0), 0);
        try {
            int providerPort = listeningPort(provider);
            byte[] keys = Files.readAllBytes(dir.resolve("jwks.json")); // what python3 -m http.server would serve
            jwks.createContext("/jwks.json", exchange -> {
                exchange.sendResponseHeaders(200, keys.length);
                exchange.getResponseBody().write(keys);
                exchange.close();
            });
            jwks.setExecutor(executor);
            jwks.start();

            Path file = dir.resolve("waypoint-security.yaml");
            Files.writeString(
                    file,
                    Files.readString(Path.of("../examples/waypoint-security.yaml"))
                            .replace("127.22.", "127.99.4")
                            .replace("127.23.0.", "127.99.50.")
                            .replace("service: 127.0.0.1", "service: 127.99.9.11")
                            .replace("port: 9191", "port: " + providerPort)
                            // one token back every hour, not every 2 s: six curls on a busy machine may take
                            // longer than 2 s, and the test must not depend on how fast it runs
                            .replace("fillInterval: 2s", "fillInterval: 3600s")
                            .replace(
                                    "http://127.0.0.1:9192/jwks.json",
                                    "http://127.99.9.12:" + jwks.getAddress().getPort() + "/jwks.json"));
            try (var run = RunningMesh.start(file, dir.resolve("ca"))) {
                var waypoints = run.waypoints();
                assertThat(waypoints.waypoints()).hasSize(1);
                answersAsTheCommentSays(token, outsider, elsewhere);
            }
        } finally {
            provider.destroy();
            provider.waitFor(10, TimeUnit.SECONDS);
            jwks.stop(0);
            executor.shutdownNow();
        }
    }

    private static void answersAsTheCommentSays(String token, String outsider, String elsewhere) throws Exception {
        var noToken = Curl.via(CLIENT, "http://api.shop/orders");
        assertThat(noToken.status()).isEqualTo(403);
        assertThat(noToken.body()).isEqualTo("RBAC: access denied");

        var withToken = Curl.via(CLIENT, "-H", "authorization: Bearer " + token, "http://api.shop/orders");
        assertThat(withToken.status()).isEqualTo(200);
        assertThat(withToken.body()).contains("hello from api-1").contains("request: GET /orders");

        assertThat(Curl.via(CLIENT, "-H", "authorization: Bearer " + outsider, "http://api.shop/orders")
                        .status())
                .as("a valid token whose role the ALLOW does not list")
                .isEqualTo(403);

        var audience = Curl.via(CLIENT, "-H", "authorization: Bearer " + elsewhere, "http://api.shop/orders");
        assertThat(audience.status()).as("a token for another audience").isEqualTo(403);
        assertThat(audience.body()).isEqualTo("Audiences in Jwt are not allowed");

        var bad = Curl.via(CLIENT, "-H", "authorization: Bearer x" + token, "http://api.shop/orders");
        assertThat(bad.status()).isEqualTo(401);
        assertThat(bad.body()).startsWith("Jwt ");
        assertThat(bad.header("www-authenticate"))
                .isEqualTo("Bearer realm=\"http://api.shop/orders\", error=\"invalid_token\"");

        var anonymous = Curl.via(CLIENT, "-X", "POST", "http://payments.shop/charge");
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.body()).isEqualTo("{\"error\":\"who are you?\"}");
        assertThat(anonymous.header("content-type")).isEqualTo("application/json");

        var mallory = Curl.via(CLIENT, "-X", "POST", "-H", "x-user-id: mallory", "http://payments.shop/charge");
        assertThat(mallory.status()).isEqualTo(403);
        assertThat(mallory.body()).isEqualTo("{\"error\":\"not you\"}");
        assertThat(mallory.all("set-cookie")).containsExactly("flagged=1");

        var bob = Curl.via(CLIENT, "-X", "POST", "-H", "x-user-id: bob", "http://payments.shop/charge");
        assertThat(bob.status()).isEqualTo(200);
        assertThat(bob.body()).contains("hello from payments-1");

        assertThat(Curl.via(CLIENT, "http://payments.shop/status").status()).isEqualTo(200);

        for (int i = 0; i < 5; i++) {
            var r = Curl.via(CLIENT, "http://search.shop/?q=x");
            assertThat(r.status()).as("search request %d", i + 1).isEqualTo(200);
            assertThat(r.header("x-ratelimit-limit")).isEqualTo("5");
        }
        var limited = Curl.via(CLIENT, "http://search.shop/?q=x");
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.body()).isEqualTo("local_rate_limited");
        assertThat(limited.header("x-local-rate-limit")).isEqualTo("true");
        assertThat(limited.header("x-ratelimit-remaining")).isEqualTo("0");
    }

    /** The provider prints {@code listening <port>} once it accepts connections. */
    private static int listeningPort(Process provider) throws Exception {
        var reader = new BufferedReader(new InputStreamReader(provider.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
                    try {
                        return reader.readLine();
                    } catch (java.io.IOException e) {
                        return null;
                    }
                })
                .get(30, TimeUnit.SECONDS);
        assertThat(line).as("the provider's first line").startsWith("listening ");
        return Integer.parseInt(line.substring("listening ".length()).trim());
    }

    private static String run(String... command) throws Exception {
        var p = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s", String.join(" ", command)).isZero();
        return out;
    }

    private static boolean hasNode() {
        try {
            var p = new ProcessBuilder("node", "--version")
                    .redirectErrorStream(true)
                    .start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }
}
