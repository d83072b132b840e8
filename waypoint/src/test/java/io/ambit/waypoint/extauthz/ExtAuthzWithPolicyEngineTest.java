package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision;
import io.ambit.policy.engine.PolicyCompiler;
import io.ambit.policy.engine.PolicySnapshot;
import io.ambit.policy.load.MeshConfigLoader;
import io.ambit.policy.load.PolicyLoader;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The article's external authorization at a waypoint: its IstioOperator provider and its CUSTOM policy
 * (targetRefs instead of the sidecar selector). The engine says when to ask; the client asks a real server;
 * the engine decides with the answer.
 */
class ExtAuthzWithPolicyEngineTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExtAuthzClients clients = new ExtAuthzClients(group, NioSocketChannel.class, ProviderResolver.dns());
    private final AuthzHttpServer server;
    private final PolicySnapshot snapshot;

    ExtAuthzWithPolicyEngineTest() throws Exception {
        server = new AuthzHttpServer("127.93.2.4");
        var mesh = MeshConfigLoader.parse("""
                apiVersion: install.istio.io/v1alpha1
                kind: IstioOperator
                metadata:
                  name: control-plane
                spec:
                  meshConfig:
                    extensionProviders:
                      - name: external-authz
                        envoyExtAuthzHttp:
                          service: %s
                          port: %d
                          timeout: 5s
                          pathPrefix: "/auth"
                          includeHeadersInCheck: ["authorisation", "x-user-id"]
                          headersToUpstreamOnAllow: ["x-user-roles"]
                          headersToDownstreamOnDeny: ["content-type", "set-cookie"]
                """.formatted(server.host(), server.port()), "operator.yaml");
        var policies = new PolicyLoader(false).text("""
                apiVersion: security.istio.io/v1beta1
                kind: AuthorizationPolicy
                metadata:
                  name: external-authz-policy
                  namespace: production
                spec:
                  targetRefs: [{kind: Service, group: "", name: sensitive-service}]
                  action: CUSTOM
                  provider:
                    name: external-authz
                  rules:
                    - to:
                        - operation:
                            methods: ["GET", "POST"]
                """, "policy.yaml").result();
        assertThat(policies.errors()).isEmpty();
        snapshot = PolicyCompiler.compile(policies.policies(), mesh);
        clients.update(mesh);
    }

    @AfterEach
    void close() throws Exception {
        clients.close();
        server.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private AccessRequest.Builder request(String method) {
        return AccessRequest.builder()
                .destination(new AccessRequest.Destination("production", Map.of(), null, "sensitive-service", null))
                .sourceIp("10.0.0.1")
                .http(method, "sensitive-service.production", "/records/7")
                .headers(Map.of("x-user-id", List.of("u7")));
    }

    /** The waypoint's CUSTOM step: decide, ask the provider when told to, decide again with its answer. */
    private Decision decide(String method) throws Exception {
        var first = snapshot.decideL7(request(method).build());
        if (first.verdict() != Decision.Verdict.CUSTOM) {
            return first;
        }
        var verdict = clients.client(first.provider())
                .check(CheckInput.builder()
                        .request(method, "http", "sensitive-service.production", "/records/7", "HTTP/1.1")
                        .headers(Map.of("x-user-id", List.of("u7")))
                        .build())
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        return snapshot.decideL7(request(method).extAuthz(verdict.answer()).build());
    }

    @Test
    void aGetTheProviderAllowsIsAllowed() throws Exception {
        server.respond(r -> AuthzHttpServer.Reply.of(200, ""));
        assertThat(decide("GET").allowed()).isTrue();
        assertThat(server.last().uri()).isEqualTo("/auth/records/7");
        assertThat(server.last().header("x-user-id")).isEqualTo("u7");
    }

    @Test
    void aPostTheProviderDeniesIsDenied() throws Exception {
        server.respond(r -> AuthzHttpServer.Reply.of(403, "no"));
        var d = decide("POST");
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).isEqualTo(Decision.Reason.EXT_AUTHZ);
    }

    @Test
    void aDeleteDoesNotMatchTheCustomRuleSoTheProviderIsNotAsked() throws Exception {
        assertThat(decide("DELETE").allowed()).isTrue();
        assertThat(server.received).isEmpty();
    }
}
