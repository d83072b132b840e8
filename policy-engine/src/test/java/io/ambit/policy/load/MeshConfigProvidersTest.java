package io.ambit.policy.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ambit.policy.mesh.ExtensionProvider;
import io.ambit.policy.mesh.HeaderPattern;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.path.PathNormalization;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** extensionProviders with their settings: the article's provider, every field, and precise errors. */
class MeshConfigProvidersTest {
    /** The article's IstioOperator, as a user pastes it. */
    private static final String ARTICLE = """
            apiVersion: install.istio.io/v1alpha1
            kind: IstioOperator
            metadata:
              name: control-plane
            spec:
              meshConfig:
                extensionProviders:
                  - name: external-authz
                    envoyExtAuthzHttp:
                      service: external-authz.auth.svc.cluster.local
                      port: 8080
                      timeout: 0.5s
                      pathPrefix: "/auth"
                      includeHeadersInCheck:
                        - "authorisation"
                        - "x-user-id"
                      headersToUpstreamOnAllow:
                        - "x-user-roles"
                      headersToDownstreamOnDeny:
                        - "content-type"
                        - "set-cookie"
            """;

    @Test
    void theArticlesIstioOperatorProviderIsReadInFull() throws Exception {
        var m = MeshConfigLoader.parse(ARTICLE, "operator.yaml");
        assertThat(m.extensionProviders()).containsExactly("external-authz");
        var p = (ExtensionProvider.ExtAuthzHttp) m.provider("external-authz").orElseThrow();
        assertThat(p.service()).isEqualTo("external-authz.auth.svc.cluster.local");
        assertThat(p.host()).isEqualTo("external-authz.auth.svc.cluster.local");
        assertThat(p.port()).isEqualTo(8080);
        assertThat(p.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.pathPrefix()).isEqualTo("/auth");
        assertThat(p.includeRequestHeadersInCheck())
                .extracting(HeaderPattern::toString)
                .containsExactly("authorisation", "x-user-id");
        assertThat(p.headersToUpstreamOnAllow())
                .extracting(HeaderPattern::toString)
                .containsExactly("x-user-roles");
        assertThat(p.headersToDownstreamOnDeny())
                .extracting(HeaderPattern::toString)
                .containsExactly("content-type", "set-cookie");
        assertThat(p.failOpen()).isFalse();
        assertThat(p.statusOnError()).isEqualTo(403);
        assertThat(p.includeRequestBodyInCheck()).isNull();
    }

    @Test
    void everyHttpFieldAndTheGrpcProviderAreRead() throws Exception {
        var m = MeshConfigLoader.parse("""
                extensionProviders:
                  - name: http
                    envoyExtAuthzHttp:
                      service: auth/authz.example.com
                      port: "9000"
                      timeout: 2s
                      failOpen: true
                      statusOnError: "503"
                      includeHeadersInCheck: [ignored-because-the-newer-field-is-set]
                      includeRequestHeadersInCheck: [X-User, "x-b3-*", "*-token"]
                      includeAdditionalHeadersInCheck: {X-Source: waypoint}
                      headersToDownstreamOnAllow: [set-cookie]
                      includeRequestBodyInCheck: {maxRequestBytes: 4096, allowPartialMessage: true}
                  - name: grpc
                    envoyExtAuthzGrpc: {service: 10.0.0.7, port: 9191, timeout: 250ms}
                  - name: zipkin
                    zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
                  - just-a-name
                """, "m.yaml");
        var http = (ExtensionProvider.ExtAuthzHttp) m.provider("http").orElseThrow();
        assertThat(http.host()).isEqualTo("authz.example.com");
        assertThat(http.failOpen()).isTrue();
        assertThat(http.statusOnError()).isEqualTo(503);
        assertThat(http.includeRequestHeadersInCheck())
                .extracting(HeaderPattern::toString)
                .containsExactly("x-user", "x-b3-*", "*-token");
        assertThat(http.includeRequestHeadersInCheck().get(1).matches("X-B3-TraceId"))
                .isTrue();
        assertThat(http.includeRequestHeadersInCheck().get(2).matches("x-api-token"))
                .isTrue();
        assertThat(http.includeAdditionalHeadersInCheck()).isEqualTo(Map.of("x-source", "waypoint"));
        assertThat(http.includeRequestBodyInCheck()).isEqualTo(new ExtensionProvider.RequestBody(4096, true, false));
        var grpc = (ExtensionProvider.ExtAuthzGrpc) m.provider("grpc").orElseThrow();
        assertThat(grpc.timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(grpc.statusOnError()).isEqualTo(403);
        assertThat(m.provider("zipkin")).contains(new ExtensionProvider.Other("zipkin", "zipkin"));
        assertThat(m.provider("just-a-name")).contains(new ExtensionProvider.Other("just-a-name", null));
        assertThat(m.extensionProviders()).containsExactly("http", "grpc", "zipkin", "just-a-name");
    }

    @Test
    void theIstioConfigMapShapeIsReadFromDataMesh() throws Exception {
        var m = MeshConfigLoader.parse("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |
                    accessLogFile: /dev/stdout
                    extensionProviders:
                      - name: authz
                        envoyExtAuthzGrpc: {service: authz.svc, port: 9000}
                """, "cm.yaml");
        assertThat(m.provider("authz")).get().isInstanceOf(ExtensionProvider.ExtAuthzGrpc.class);
    }

    @Test
    void theOlderConstructorStillBuildsNamedProviders() {
        var m = new MeshConfig(
                "istio-system",
                "cluster.local",
                List.of(),
                PathNormalization.BASE,
                List.of("a"),
                false,
                ZoneId.of("UTC"));
        assertThat(m.provider("a")).contains(new ExtensionProvider.Other("a", null));
        assertThat(m.hasProvider("a")).isTrue();
        assertThat(MeshConfig.DEFAULT.providers()).isNull();
        assertThat(MeshConfig.DEFAULT.hasProvider("anything")).isTrue();
    }

    static Stream<Arguments> badProviders() {
        return Stream.of(
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s}}",
                        "extensionProviders[0].envoyExtAuthzHttp.port",
                        "is missing (expected: a port 1..65535)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 0}}",
                        "extensionProviders[0].envoyExtAuthzHttp.port",
                        "is \"0\" (expected: a port 1..65535)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 70000}}",
                        "extensionProviders[0].envoyExtAuthzHttp.port",
                        "is \"70000\" (expected: a port 1..65535)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzGrpc: {service: s, port: http}}",
                        "extensionProviders[0].envoyExtAuthzGrpc.port",
                        "is \"http\" (expected: a port 1..65535)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {port: 80}}",
                        "extensionProviders[0].envoyExtAuthzHttp.service",
                        "is missing (expected: a non-empty string)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: 'bad host!', port: 80}}",
                        "extensionProviders[0].envoyExtAuthzHttp.service",
                        "is \"bad host!\" (expected: [<namespace>/]<hostname>, such as ext-authz.auth.svc.cluster.local)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: a/b/c, port: 80}}",
                        "extensionProviders[0].envoyExtAuthzHttp.service",
                        "is \"a/b/c\" (expected: [<namespace>/]<hostname>, such as ext-authz.auth.svc.cluster.local)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, timeout: soon}}",
                        "extensionProviders[0].envoyExtAuthzHttp.timeout",
                        "is \"soon\" (expected: a duration from 1ms to 1h, such as 0.5s or 500ms)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, timeout: 0s}}",
                        "extensionProviders[0].envoyExtAuthzHttp.timeout",
                        "is \"0s\" (expected: a duration from 1ms to 1h, such as 0.5s or 500ms)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, timeout: 2h}}",
                        "extensionProviders[0].envoyExtAuthzHttp.timeout",
                        "is \"2h\" (expected: a duration from 1ms to 1h, such as 0.5s or 500ms)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, pathPrefix: auth}}",
                        "extensionProviders[0].envoyExtAuthzHttp.pathPrefix",
                        "is \"auth\" (expected: a URL path that starts with /, such as /auth)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, pathPrefix: '/a b'}}",
                        "extensionProviders[0].envoyExtAuthzHttp.pathPrefix",
                        "is \"/a b\" (expected: a URL path that starts with /, such as /auth)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, statusOnError: teapot}}",
                        "extensionProviders[0].envoyExtAuthzHttp.statusOnError",
                        "is \"teapot\" (expected: an HTTP status code Envoy knows, such as 403 or 503)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzGrpc: {service: s, port: 80, statusOnError: '299'}}",
                        "extensionProviders[0].envoyExtAuthzGrpc.statusOnError",
                        "is \"299\" (expected: an HTTP status code Envoy knows, such as 403 or 503)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, headersToUpstreamOnAllow: ['*']}}",
                        "extensionProviders[0].envoyExtAuthzHttp.headersToUpstreamOnAllow[0]",
                        "is \"*\", a single wildcard, which Istio does not support (expected: a header name, or a "
                                + "prefix* or *suffix pattern)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, includeRequestHeadersInCheck: ['a b']}}",
                        "extensionProviders[0].envoyExtAuthzHttp.includeRequestHeadersInCheck[0]",
                        "is \"a b\", which has a character that cannot be in a header name (expected: a header name, "
                                + "or a prefix* or *suffix pattern)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, includeRequestBodyInCheck: {}}}",
                        "extensionProviders[0].envoyExtAuthzHttp.includeRequestBodyInCheck.maxRequestBytes",
                        "is missing (expected: 1 to 4194304)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzGrpc: {service: s, port: 80, includeRequestBodyInCheck: "
                                + "{maxRequestBytes: 5000000}}}",
                        "extensionProviders[0].envoyExtAuthzGrpc.includeRequestBodyInCheck.maxRequestBytes",
                        "is \"5000000\" (expected: 1 to 4194304)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80, includeAdditionalHeadersInCheck: "
                                + "{'bad name': x}}}",
                        "extensionProviders[0].envoyExtAuthzHttp.includeAdditionalHeadersInCheck.bad name",
                        "is under \"bad name\", which is not a header name (expected: a token such as x-ext-authz-source)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {serivce: s, service: s, port: 80}}",
                        "extensionProviders[0].envoyExtAuthzHttp.serivce",
                        null),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: {service: s, port: 80}, envoyExtAuthzGrpc: {service: s, port: 80}}",
                        "extensionProviders[0]",
                        "declares envoyExtAuthzGrpc and envoyExtAuthzHttp (expected: one provider kind per entry)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttp: null}",
                        "extensionProviders[0].envoyExtAuthzHttp",
                        "is null (expected: a map with service and port)"),
                Arguments.of(
                        "{name: a, envoyExtAuthzHttps: {service: s, port: 80}}",
                        "extensionProviders[0].envoyExtAuthzHttps",
                        null));
    }

    @ParameterizedTest(name = "{0} is refused at {1}")
    @MethodSource("badProviders")
    void aBadProviderIsRefusedNamingTheField(String entry, String field, String message) {
        assertThatThrownBy(() -> MeshConfigLoader.parse("extensionProviders:\n  - " + entry + "\n", "m.yaml"))
                .isInstanceOfSatisfying(MeshConfigLoader.InvalidMeshConfigException.class, e -> {
                    assertThat(e.errors()).extracting(LoadError::field).contains(field);
                    if (message != null) {
                        assertThat(e.errors())
                                .filteredOn(x -> x.field().equals(field))
                                .extracting(LoadError::message)
                                .contains(message);
                    }
                });
    }

    @Test
    void twoProvidersWithOneNameAreRefused() {
        assertThatThrownBy(() -> MeshConfigLoader.parse(
                        "extensionProviders:\n  - a\n  - {name: a, envoyExtAuthzGrpc: {service: s, port: 1}}\n",
                        "m.yaml"))
                .hasMessageContaining("m.yaml:3: extensionProviders[1]: names provider \"a\" again (first at line 2; "
                        + "expected: unique provider names)");
    }
}
