package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.Layer.L4;
import static io.ambit.policy.semantics.Fixture.Layer.L7;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.attached;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.request;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture.Layer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * authz-semantics §2.9: at L7 principal values are rewritten with the bundle [trustDomain] + aliases;
 * at L4 they are compared literally.
 */
class TrustDomainAliasTest {
    /** Trust domain td1 with alias td2; cluster.local is neither. */
    private static final MeshConfig TD1 = mesh("trustDomain: td1\ntrustDomainAliases: [td2]\n");
    /** Trust domain td1 with alias cluster.local. */
    private static final MeshConfig TD1_CL = mesh("trustDomain: td1\ntrustDomainAliases: [cluster.local]\n");

    private static final MeshConfig DEFAULT = MeshConfig.DEFAULT;
    /** The default trust domain cluster.local with alias td2. */
    private static final MeshConfig CL_TD2 = mesh("trustDomainAliases: [td2]\n");
    /** Trust domain prod.example.com with alias old.example.org. */
    private static final MeshConfig EXAMPLE =
            mesh("trustDomain: prod.example.com\ntrustDomainAliases: [old.example.org]\n");

    private static final String CL_SLEEP = "cluster.local/ns/foo/sa/sleep";

    @ParameterizedTest
    @MethodSource
    void principals(MeshConfig mesh, Layer layer, String rule, String peer, boolean matches) {
        var yaml = attached(layer, "p", "rules:\n" + rule);
        check(
                snapshot(yaml, mesh),
                layer,
                request(layer).peer(peer).build(),
                matches ? allowedBy("foo/p", 0) : deniedNoAllowMatched());
    }

    private static String principals(String value) {
        return "- from: [{source: {principals: [\"" + value + "\"]}}]\n";
    }

    private static Arguments l7(String name, MeshConfig mesh, String rule, String peer, boolean matches) {
        return argumentSet(name, mesh, L7, rule, peer, matches);
    }

    private static Arguments l4(String name, MeshConfig mesh, String rule, String peer, boolean matches) {
        return argumentSet(name, mesh, L4, rule, peer, matches);
    }

    static Stream<Arguments> principals() {
        return Stream.of(
                l7(
                        "cluster.local in a principal means the local trust domain",
                        TD1,
                        principals(CL_SLEEP),
                        "td1/ns/foo/sa/sleep",
                        true),
                l7(
                        "cluster.local in a principal also means every alias",
                        TD1,
                        principals(CL_SLEEP),
                        "td2/ns/foo/sa/sleep",
                        true),
                l7(
                        "cluster.local no longer matches itself unless it is the trust domain or an alias",
                        TD1,
                        principals(CL_SLEEP),
                        CL_SLEEP,
                        false),
                l7("cluster.local matches itself when it is an alias", TD1_CL, principals(CL_SLEEP), CL_SLEEP, true),
                l7(
                        "cluster.local as an alias still stands for the trust domain too",
                        TD1_CL,
                        principals(CL_SLEEP),
                        "td1/ns/foo/sa/sleep",
                        true),
                l7(
                        "with the default trust domain cluster.local matches itself",
                        DEFAULT,
                        principals(CL_SLEEP),
                        CL_SLEEP,
                        true),
                l7(
                        "with the default trust domain and an alias, cluster.local also means the alias",
                        CL_TD2,
                        principals(CL_SLEEP),
                        "td2/ns/foo/sa/sleep",
                        true),
                l7(
                        "with the default trust domain and an alias, the alias also means cluster.local",
                        CL_TD2,
                        principals("td2/ns/foo/sa/sleep"),
                        CL_SLEEP,
                        true),
                l7(
                        "a principal naming an alias also matches the trust domain",
                        TD1,
                        principals("td2/ns/foo/sa/sleep"),
                        "td1/ns/foo/sa/sleep",
                        true),
                l7(
                        "a principal naming the trust domain also matches an alias",
                        TD1,
                        principals("td1/ns/foo/sa/sleep"),
                        "td2/ns/foo/sa/sleep",
                        true),
                l7(
                        "a principal with a foreign trust domain is kept as written",
                        TD1,
                        principals("other/ns/foo/sa/sleep"),
                        "other/ns/foo/sa/sleep",
                        true),
                l7(
                        "a principal with a foreign trust domain does not match the local one",
                        TD1,
                        principals("other/ns/foo/sa/sleep"),
                        "td1/ns/foo/sa/sleep",
                        false),
                l7("\"*\" is kept verbatim", TD1, principals("*"), "other/ns/foo/sa/sleep", true),
                l7(
                        "a principal whose trust domain is exactly * is kept verbatim (a suffix match)",
                        TD1,
                        principals("*/ns/foo/sa/sleep"),
                        "other/ns/foo/sa/sleep",
                        true),
                l7(
                        "a principal that is not five parts is kept verbatim, so cluster.local stays literal",
                        TD1,
                        principals("cluster.local/ns/foo/*"),
                        "td1/ns/foo/sa/sleep",
                        false),
                l7(
                        "a principal that is not five parts still matches literally",
                        TD1,
                        principals("cluster.local/ns/foo/*"),
                        CL_SLEEP,
                        true),
                l7(
                        "a *-prefixed trust domain matching the trust domain by suffix is copied for the aliases",
                        EXAMPLE,
                        principals("*.example.com/ns/foo/sa/sleep"),
                        "old.example.org/ns/foo/sa/sleep",
                        true),
                l7(
                        "a *-prefixed trust domain keeps its original value for the matching entry",
                        EXAMPLE,
                        principals("*.example.com/ns/foo/sa/sleep"),
                        "canary.example.com/ns/foo/sa/sleep",
                        true),
                l7(
                        "a *-prefixed trust domain does not match an unrelated trust domain",
                        EXAMPLE,
                        principals("*.example.com/ns/foo/sa/sleep"),
                        "evil.example.net/ns/foo/sa/sleep",
                        false),
                l7(
                        "notPrincipals are rewritten too",
                        TD1,
                        "- from: [{source: {notPrincipals: [\"" + CL_SLEEP + "\"]}}]\n",
                        "td2/ns/foo/sa/sleep",
                        false),
                l7(
                        "source.principal conditions are rewritten too",
                        TD1,
                        "- when: [{key: source.principal, values: [\"" + CL_SLEEP + "\"]}]\n",
                        "td2/ns/foo/sa/sleep",
                        true),
                l4(
                        "ztunnel compares principals literally: cluster.local does not mean the trust domain",
                        TD1,
                        principals(CL_SLEEP),
                        "td1/ns/foo/sa/sleep",
                        false),
                l4(
                        "ztunnel compares principals literally: cluster.local matches itself",
                        TD1,
                        principals(CL_SLEEP),
                        CL_SLEEP,
                        true),
                l4(
                        "ztunnel does not alias an alias",
                        TD1,
                        principals("td2/ns/foo/sa/sleep"),
                        "td1/ns/foo/sa/sleep",
                        false),
                l4(
                        "ztunnel compares source.principal literally",
                        TD1,
                        "- when: [{key: source.principal, values: [\"" + CL_SLEEP + "\"]}]\n",
                        "td2/ns/foo/sa/sleep",
                        false));
    }
}
