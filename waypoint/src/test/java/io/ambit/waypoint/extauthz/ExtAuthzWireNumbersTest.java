package io.ambit.waypoint.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors;
import io.ambit.proto.envoy.config.core.v3.HeaderValueOption;
import io.ambit.proto.envoy.config.core.v3.SocketAddress;
import io.ambit.proto.envoy.service.auth.v3.AttributeContext;
import io.ambit.proto.envoy.service.auth.v3.AuthorizationGrpc;
import io.ambit.proto.envoy.service.auth.v3.CheckResponse;
import io.ambit.proto.envoy.service.auth.v3.DeniedHttpResponse;
import io.ambit.proto.envoy.service.auth.v3.OkHttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ext_authz protos are written by hand: their names and numbers must stay Envoy's
 * (envoyproxy/data-plane-api), or a server built for Envoy misreads them. A renumbering fails here.
 */
class ExtAuthzWireNumbersTest {
    private static void numbers(Descriptors.Descriptor d, Map<String, Integer> expected) {
        expected.forEach((name, number) -> assertThat(d.findFieldByName(name))
                .as("%s.%s", d.getFullName(), name)
                .isNotNull()
                .extracting(Descriptors.FieldDescriptor::getNumber)
                .isEqualTo(number));
    }

    @Test
    void theServiceIsEnvoys() {
        assertThat(AuthorizationGrpc.getCheckMethod().getFullMethodName())
                .isEqualTo("envoy.service.auth.v3.Authorization/Check");
    }

    @Test
    void fieldNumbersAreEnvoys() {
        numbers(
                AttributeContext.getDescriptor(),
                Map.of("source", 1, "destination", 2, "request", 4, "context_extensions", 10));
        numbers(
                AttributeContext.Peer.getDescriptor(),
                Map.of("address", 1, "service", 2, "labels", 3, "principal", 4, "certificate", 5));
        numbers(AttributeContext.Request.getDescriptor(), Map.of("time", 1, "http", 2));
        numbers(
                AttributeContext.HttpRequest.getDescriptor(),
                Map.ofEntries(
                        Map.entry("id", 1),
                        Map.entry("method", 2),
                        Map.entry("headers", 3),
                        Map.entry("path", 4),
                        Map.entry("host", 5),
                        Map.entry("scheme", 6),
                        Map.entry("query", 7),
                        Map.entry("fragment", 8),
                        Map.entry("size", 9),
                        Map.entry("protocol", 10),
                        Map.entry("body", 11),
                        Map.entry("raw_body", 12)));
        numbers(
                CheckResponse.getDescriptor(),
                Map.of("status", 1, "denied_response", 2, "ok_response", 3, "dynamic_metadata", 4));
        numbers(DeniedHttpResponse.getDescriptor(), Map.of("status", 1, "headers", 2, "body", 3));
        numbers(
                OkHttpResponse.getDescriptor(),
                Map.of(
                        "headers",
                        2,
                        "headers_to_remove",
                        5,
                        "response_headers_to_add",
                        6,
                        "query_parameters_to_set",
                        7,
                        "query_parameters_to_remove",
                        8));
        numbers(
                HeaderValueOption.getDescriptor(),
                Map.of("header", 1, "append", 2, "append_action", 3, "keep_empty_value", 4));
        numbers(
                SocketAddress.getDescriptor(),
                Map.of(
                        "protocol",
                        1,
                        "address",
                        2,
                        "port_value",
                        3,
                        "named_port",
                        4,
                        "resolver_name",
                        5,
                        "ipv4_compat",
                        6));
        assertThat(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD.getNumber())
                .isEqualTo(2);
    }
}
