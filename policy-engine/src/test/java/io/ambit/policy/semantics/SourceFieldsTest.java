package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.request;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.semantics.Fixture.Expect;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** authz-semantics §2.5: which attribute each source field reads, and where it is enforced. */
class SourceFieldsTest {
    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();
    private static final String JWT = waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n");
    private static final String BAR_CURL = "cluster.local/ns/bar/sa/curl";

    @ParameterizedTest
    @MethodSource
    void sourceFields(Layer layer, String source, UnaryOperator<AccessRequest.Builder> request, boolean matches) {
        var yaml = docs(JWT, attached(layer, "p", "rules: [{from: [{source: " + source + "}]}]\n"));
        check(snapshot(yaml), layer, request.apply(request(layer)).build(), matches ? YES : NO);
    }

    /** The same case at both layers (the field is enforced at L4 and L7 alike). */
    private static Stream<Arguments> both(
            String name, String source, UnaryOperator<AccessRequest.Builder> request, boolean matches) {
        return Stream.of(
                argumentSet(name + " (" + L4 + ")", L4, source, request, matches),
                argumentSet(name + " (" + L7 + ")", L7, source, request, matches));
    }

    private static Stream<Arguments> at(
            Layer layer, String name, String source, UnaryOperator<AccessRequest.Builder> request, boolean matches) {
        return Stream.of(argumentSet(name, layer, source, request, matches));
    }

    static Stream<Arguments> sourceFields() {
        UnaryOperator<AccessRequest.Builder> sleep = b -> b;
        UnaryOperator<AccessRequest.Builder> curl = b -> b.peer(BAR_CURL);
        UnaryOperator<AccessRequest.Builder> plaintext = b -> b.peer(null);
        UnaryOperator<AccessRequest.Builder> forwarded = b -> b.remoteIp("192.168.7.7");
        UnaryOperator<AccessRequest.Builder> token = b -> b.token(jwt("https://issuer.example.com", "alice"));
        return Stream.of(
                        both(
                                "principals match the peer identity",
                                "{principals: [\"cluster.local/ns/foo/sa/sleep\"]}",
                                sleep,
                                true),
                        both(
                                "principals do not match another identity",
                                "{principals: [\"cluster.local/ns/foo/sa/sleep\"]}",
                                curl,
                                false),
                        both(
                                "principals need mTLS",
                                "{principals: [\"cluster.local/ns/foo/sa/sleep\"]}",
                                plaintext,
                                false),
                        both(
                                "notPrincipals exclude the peer identity",
                                "{notPrincipals: [\"cluster.local/ns/foo/sa/sleep\"]}",
                                sleep,
                                false),
                        both(
                                "notPrincipals admit another identity",
                                "{notPrincipals: [\"cluster.local/ns/foo/sa/sleep\"]}",
                                curl,
                                true),
                        both("namespaces match the namespace of the peer identity", "{namespaces: [bar]}", curl, true),
                        both("namespaces do not match another namespace", "{namespaces: [bar]}", sleep, false),
                        both("namespaces need mTLS", "{namespaces: [foo]}", plaintext, false),
                        both("notNamespaces exclude the peer's namespace", "{notNamespaces: [bar]}", curl, false),
                        both("notNamespaces admit another namespace", "{notNamespaces: [bar]}", sleep, true),
                        both(
                                "serviceAccounts match namespace and service account of the peer",
                                "{serviceAccounts: [bar/curl]}",
                                curl,
                                true),
                        both(
                                "serviceAccounts do not match another service account",
                                "{serviceAccounts: [bar/curl]}",
                                sleep,
                                false),
                        both("serviceAccounts need mTLS", "{serviceAccounts: [sleep]}", plaintext, false),
                        both(
                                "notServiceAccounts exclude the peer's service account",
                                "{notServiceAccounts: [bar/curl]}",
                                curl,
                                false),
                        both(
                                "notServiceAccounts admit another service account",
                                "{notServiceAccounts: [bar/curl]}",
                                sleep,
                                true),
                        both("ipBlocks match the source IP of the connection", "{ipBlocks: [10.0.0.1]}", sleep, true),
                        both("ipBlocks need no mTLS", "{ipBlocks: [10.0.0.0/8]}", plaintext, true),
                        both("ipBlocks do not match another source IP", "{ipBlocks: [10.9.0.0/16]}", sleep, false),
                        both("notIpBlocks exclude the source IP", "{notIpBlocks: [10.0.0.0/8]}", sleep, false),
                        both("notIpBlocks admit another source IP", "{notIpBlocks: [10.9.0.0/16]}", sleep, true),
                        at(
                                L7,
                                "ipBlocks use the direct peer IP, not the forwarded client IP",
                                "{ipBlocks: [192.168.7.7]}",
                                forwarded,
                                false),
                        at(
                                L7,
                                "ipBlocks still match the direct peer IP when a client IP is forwarded",
                                "{ipBlocks: [10.0.0.1]}",
                                forwarded,
                                true),
                        at(
                                L7,
                                "remoteIpBlocks use the forwarded client IP",
                                "{remoteIpBlocks: [192.168.7.0/24]}",
                                forwarded,
                                true),
                        at(
                                L7,
                                "remoteIpBlocks do not use the direct peer IP when a client IP is forwarded",
                                "{remoteIpBlocks: [10.0.0.1]}",
                                forwarded,
                                false),
                        at(
                                L7,
                                "remoteIpBlocks equal the peer IP when nothing is forwarded",
                                "{remoteIpBlocks: [10.0.0.1]}",
                                sleep,
                                true),
                        at(
                                L7,
                                "notRemoteIpBlocks exclude the forwarded client IP",
                                "{notRemoteIpBlocks: [192.168.7.7]}",
                                forwarded,
                                false),
                        at(
                                L4,
                                "remoteIpBlocks are HTTP-only: the ALLOW rule is dropped at ztunnel",
                                "{remoteIpBlocks: [10.0.0.1]}",
                                sleep,
                                false),
                        at(
                                L4,
                                "notRemoteIpBlocks are HTTP-only: the ALLOW rule is dropped at ztunnel",
                                "{notRemoteIpBlocks: [192.168.0.0/16]}",
                                sleep,
                                false),
                        at(
                                L7,
                                "requestPrincipals match the iss/sub of the validated JWT",
                                "{requestPrincipals: [\"https://issuer.example.com/alice\"]}",
                                token,
                                true),
                        at(
                                L7,
                                "requestPrincipals need a JWT",
                                "{requestPrincipals: [\"https://issuer.example.com/alice\"]}",
                                sleep,
                                false),
                        at(
                                L7,
                                "notRequestPrincipals exclude the JWT's principal",
                                "{notRequestPrincipals: [\"https://issuer.example.com/alice\"]}",
                                token,
                                false),
                        at(
                                L4,
                                "requestPrincipals are HTTP-only: the ALLOW rule is dropped at ztunnel",
                                "{requestPrincipals: [\"*\"]}",
                                token,
                                false),
                        at(
                                L4,
                                "notRequestPrincipals are HTTP-only: the ALLOW rule is dropped at ztunnel",
                                "{notRequestPrincipals: [\"*\"]}",
                                sleep,
                                false))
                .flatMap(s -> s);
    }
}
