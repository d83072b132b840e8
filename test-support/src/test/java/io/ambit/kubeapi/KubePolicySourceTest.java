package io.ambit.kubeapi;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.mesh.MeshConfig;
import io.ambit.xds.kube.KubeApi;
import io.ambit.xds.kube.KubePolicySource;
import io.ambit.xds.kube.WatchLimits;
import io.ambit.xds.mesh.MeshExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kubernetes list-and-watch protocol against a real HTTPS server speaking it ({@link FakeKubeApiServer}):
 * list then watch, events in order, bookmarks, 410 Gone → a new list, paged lists, a CRD that is not
 * installed, a rotated token, garbage on the stream, the server gone and back, a refused object next to
 * good ones, and the mesh config from Istio's ConfigMap.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KubePolicySourceTest {
    static final String DENY_ADMIN = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: deny-admin, namespace: shop}
            spec:
              action: DENY
              rules:
              - to: [{operation: {paths: ["/admin"]}}]
            """;
    static final String ALLOW_GET = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-get, namespace: shop}
            spec:
              action: ALLOW
              rules:
              - to: [{operation: {methods: ["GET"]}}]
            """;
    static final String BAD = """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: typo, namespace: shop}
            spec:
              action: DENY
              rules:
              - to: [{operation: {pathz: ["/x"]}}]
            """;
    static final String MESH = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: istio, namespace: istio-system}
            data:
              mesh: |
                accessLogFile: /dev/stdout
                extensionProviders:
                - name: authz
                  envoyExtAuthzHttp: {service: authz.shop.svc.cluster.local, port: 8000}
            """;

    /** Stands in for Ambit's LocalRateLimit reader: counts the documents of its kind. */
    record Count(int documents) {}

    static final MeshExtension<Count> LIMITS = new MeshExtension<>() {
        @Override
        public Class<Count> type() {
            return Count.class;
        }

        @Override
        public Map<String, String> kinds() {
            return Map.of("LocalRateLimit", "ambit.io/", "EnvoyFilter", "networking.istio.io/");
        }

        @Override
        public Result<Count> read(String text, String fileName, MeshConfig mesh) {
            int n = text.split("kind: LocalRateLimit", -1).length - 1 + text.split("kind: EnvoyFilter", -1).length - 1;
            return new Result<>(new Count(n), List.of(), List.of());
        }
    };

    @TempDir
    Path dir;

    FakeKubeApiServer api;
    KubePolicySource source;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void start() throws Exception {
        api = FakeKubeApiServer.start(
                new InetSocketAddress(InetAddress.getByName("127.134.1.1"), 0), dir.resolve("sa"));
        api.serve("v1", "configmaps", "ConfigMap");
        api.serve("security.istio.io/v1", "authorizationpolicies", "AuthorizationPolicy");
        api.serve("security.istio.io/v1", "requestauthentications", "RequestAuthentication");
    }

    @AfterEach
    void stop() {
        if (source != null) {
            source.close();
        }
        api.close();
    }

    KubePolicySource connect(WatchLimits limits) throws Exception {
        var kube = KubeApi.of(
                api.url(),
                api.serviceAccountDir().resolve("ca.crt"),
                api.serviceAccountDir().resolve("token"));
        source = KubePolicySource.start(
                kube, KubePolicySource.Settings.DEFAULT.withLimits(limits), List.of(LIMITS), registry);
        source.synced().get(20, TimeUnit.SECONDS);
        return source;
    }

    KubePolicySource connect() throws Exception {
        return connect(WatchLimits.DEFAULT.withBackoff(Duration.ofMillis(20), Duration.ofMillis(200)));
    }

    List<String> policies() {
        return source.current().policies().policies().authorizationPolicies().stream()
                .map(p -> p.meta().namespace() + "/" + p.meta().name())
                .sorted()
                .toList();
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void listsWhatExistsThenFollowsAddsChangesAndDeletes() throws Exception {
        api.apply(DENY_ADMIN);
        connect();
        assertThat(policies()).containsExactly("shop/deny-admin");
        assertThat(api.lists("authorizationpolicies")).isEqualTo(1);

        api.apply(ALLOW_GET);
        await("the added policy", () -> policies().contains("shop/allow-get"));
        api.apply(ALLOW_GET.replace("GET", "POST"));
        await("the changed policy", () -> source.current().policies().policies().authorizationPolicies().stream()
                .anyMatch(
                        p -> p.meta().name().equals("allow-get") && p.toString().contains("POST")));
        api.delete("security.istio.io/v1", "AuthorizationPolicy", "shop", "deny-admin");
        await("the deleted policy gone", () -> policies().equals(List.of("shop/allow-get")));
        assertThat(api.lists("authorizationpolicies"))
                .as("all through one watch, no new list")
                .isEqualTo(1);
    }

    @Test
    void aWatchEndedByTheServerResumesFromTheLastBookmarkWithoutListingAgain() throws Exception {
        connect();
        api.apply(DENY_ADMIN);
        await("the policy", () -> policies().contains("shop/deny-admin"));
        api.bookmark();
        int watchesBefore = api.watchRequests("authorizationpolicies");
        api.endWatches(); // as at timeoutSeconds
        await(
                "a new watch",
                () -> api.watchRequests("authorizationpolicies") > watchesBefore
                        && api.openWatches("authorizationpolicies") == 1);
        api.apply(ALLOW_GET);
        await("the policy added after the reconnect", () -> policies().contains("shop/allow-get"));
        assertThat(api.lists("authorizationpolicies")).isEqualTo(1);
        assertThat(registry.get("ambit_kube_watch_events")
                        .tags("kind", "AuthorizationPolicy", "type", "BOOKMARK")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void a410GoneListsAgainAndMissesNothingThatChangedMeanwhile() throws Exception {
        api.apply(DENY_ADMIN);
        connect();
        api.down();
        // changed while the watcher could not see it, then the history is compacted away
        api.delete("security.istio.io/v1", "AuthorizationPolicy", "shop", "deny-admin");
        api.apply(ALLOW_GET);
        api.expireHistory();
        api.up();
        await("the state after a new list", () -> policies().equals(List.of("shop/allow-get")));
        assertThat(api.lists("authorizationpolicies")).isGreaterThanOrEqualTo(2);
        assertThat(registry.get("ambit_kube_relists")
                        .tags("kind", "AuthorizationPolicy", "reason", "gone")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void anOpenWatchThatExpiresWithAnErrorEventListsAgain() throws Exception {
        connect();
        int lists = api.lists("authorizationpolicies");
        await("the watch open", () -> api.openWatches("authorizationpolicies") == 1);
        api.expireHistory(); // open watches get {"type":"ERROR","object":{"code":410}}
        await("a new list", () -> api.lists("authorizationpolicies") > lists);
        api.apply(DENY_ADMIN);
        await("events after the relist", () -> policies().contains("shop/deny-admin"));
    }

    @Test
    void aMalformedObjectIsRefusedByNameWithItsFieldWhileTheOthersApply() throws Exception {
        api.apply(DENY_ADMIN);
        api.apply(BAD);
        connect();
        assertThat(policies()).containsExactly("shop/deny-admin");
        assertThat(source.refused()).isNotEmpty().allSatisfy(e -> assertThat(e.object())
                .isEqualTo("AuthorizationPolicy shop/typo"));
        assertThat(source.refused()).anySatisfy(e -> {
            assertThat(e.field()).isEqualTo("spec.rules[0].to[0].operation.pathz");
            assertThat(e.message()).contains("unknown field");
        });
        assertThat(registry.get("ambit_kube_objects_rejected")
                        .tags("kind", "AuthorizationPolicy")
                        .counter()
                        .count())
                .isEqualTo(1);
        // fixed: applies, and is no longer refused
        api.apply(BAD.replace("pathz", "paths"));
        await("the fixed object applied", () -> policies().contains("shop/typo"));
        assertThat(source.refused()).isEmpty();
    }

    @Test
    void withTheApiServerDownTheLastPoliciesKeepServingAndChangesArriveWhenItIsBack() throws Exception {
        api.apply(DENY_ADMIN);
        connect();
        api.down();
        await(
                "the watch failing",
                () -> registry.find("ambit_kube_request_failures").counters().stream()
                                .mapToDouble(c -> c.count())
                                .sum()
                        >= 2);
        assertThat(policies()).containsExactly("shop/deny-admin");
        api.apply(ALLOW_GET);
        api.up();
        await("the change made while down", () -> policies().contains("shop/allow-get"));
        assertThat(policies()).containsExactly("shop/allow-get", "shop/deny-admin");
    }

    @Test
    void aCrdThatIsNotInstalledMeansNoneAndIsPickedUpOnceInstalled() throws Exception {
        connect(WatchLimits.DEFAULT
                .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .withAbsentRecheck(Duration.ofMillis(200)));
        assertThat(source.current().extension(Count.class)).hasValue(new Count(0));
        api.serve("ambit.io/v1alpha1", "localratelimits", "LocalRateLimit");
        api.apply("""
                apiVersion: ambit.io/v1alpha1
                kind: LocalRateLimit
                metadata: {name: orders, namespace: shop}
                spec: {tokenBucket: {maxTokens: 1, tokensPerFill: 1, fillInterval: 60s}}
                """);
        await(
                "the limit from the new CRD",
                () -> source.current().extension(Count.class).equals(java.util.Optional.of(new Count(1))));
    }

    @Test
    void aPagedListIsReadToItsLastPage() throws Exception {
        for (int i = 0; i < 7; i++) {
            api.apply(DENY_ADMIN.replace("deny-admin", "deny-" + i));
        }
        connect(WatchLimits.DEFAULT.withPageSize(3));
        assertThat(policies()).hasSize(7);
        assertThat(api.lists("authorizationpolicies")).isEqualTo(3);
    }

    @Test
    void aRotatedTokenIsReadAgainForTheNextRequest() throws Exception {
        connect();
        api.rotateToken();
        api.expireOldTokens(); // from now on only a client that reads the file again gets through
        api.endWatches();
        api.apply(DENY_ADMIN);
        await("the change seen with the new token", () -> policies().contains("shop/deny-admin"));
    }

    @Test
    void garbageOnTheWatchStreamIsDroppedAndTheKindListedAgain() throws Exception {
        api.apply(DENY_ADMIN);
        connect();
        int lists = api.lists("authorizationpolicies");
        await("the watch open", () -> api.openWatches("authorizationpolicies") == 1);
        int watches = api.watchRequests("authorizationpolicies");
        api.rawLine("authorizationpolicies", "{\"type\": \"ADDED\", \"object\": {\"metadata\": ");
        await("a new list", () -> api.lists("authorizationpolicies") > lists);
        assertThat(policies()).containsExactly("shop/deny-admin");
        int again = api.lists("authorizationpolicies");
        await(
                "the new watch open (the server notices the dropped one only when it writes to it)",
                () -> api.watchRequests("authorizationpolicies") > watches);
        api.rawLine("authorizationpolicies", "{\"type\": \"EXPLODED\", \"object\": {}}");
        await(
                "an unknown event type dropped and the kind listed again",
                () -> api.lists("authorizationpolicies") > again);
        api.apply(ALLOW_GET);
        await("later events still applied", () -> policies().contains("shop/allow-get"));
    }

    @Test
    void anEventLongerThanTheLimitIsRefusedWithoutReadingItWhole() throws Exception {
        connect(WatchLimits.DEFAULT
                .withBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .withMaxEventBytes(4096));
        int lists = api.lists("authorizationpolicies");
        await("the watch open", () -> api.openWatches("authorizationpolicies") == 1);
        api.rawLine("authorizationpolicies", "{\"x\": \"" + "a".repeat(100_000) + "\"}");
        await("a new list", () -> api.lists("authorizationpolicies") > lists);
        api.apply(DENY_ADMIN);
        await("later events applied", () -> policies().contains("shop/deny-admin"));
    }

    @Test
    void theMeshConfigComesFromIstiosConfigMapAndABadOneKeepsTheLastGood() throws Exception {
        api.apply(MESH);
        connect();
        assertThat(source.current().mesh().provider("authz")).isPresent();
        api.apply(MESH.replace("port: 8000", "port: 99999"));
        await(
                "the bad mesh config refused",
                () -> registry.find("ambit_kube_objects_rejected")
                                .tags("kind", "ConfigMap")
                                .counter()
                        != null);
        api.apply(DENY_ADMIN);
        await("a later policy", () -> policies().contains("shop/deny-admin"));
        assertThat(source.current().mesh().provider("authz")).isPresent();
        api.delete("v1", "ConfigMap", "istio-system", "istio");
        await(
                "defaults once the ConfigMap is gone",
                () -> source.current().mesh().provider("authz").isEmpty());
    }

    @Test
    void anEnvoyFilterWrittenForEnvoyIsLeftOutWhileTheLocalRateLimitOneIsRead() throws Exception {
        api.serve("networking.istio.io/v1alpha3", "envoyfilters", "EnvoyFilter");
        api.apply("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: lua-headers, namespace: istio-system}
                spec:
                  workloadSelector: {labels: {istio: ingressgateway}}
                  configPatches:
                  - applyTo: HTTP_FILTER
                    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
                """);
        api.apply("""
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata: {name: rate-limit, namespace: shop}
                spec:
                  configPatches:
                  - applyTo: HTTP_FILTER
                    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
                """);
        connect();
        assertThat(source.refused())
                .as("the Lua filter is not the waypoint's business")
                .isEmpty();
        assertThat(source.current().extension(Count.class))
                .as("only the local_ratelimit EnvoyFilter reaches the readers")
                .hasValue(new Count(1));
    }
}
