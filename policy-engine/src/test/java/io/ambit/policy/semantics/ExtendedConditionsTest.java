package io.ambit.policy.semantics;

import static io.ambit.policy.semantics.Fixture.TO_SERVICE;
import static io.ambit.policy.semantics.Fixture.allowedBy;
import static io.ambit.policy.semantics.Fixture.allowedNoAllowPolicy;
import static io.ambit.policy.semantics.Fixture.annotated;
import static io.ambit.policy.semantics.Fixture.assertLoads;
import static io.ambit.policy.semantics.Fixture.assertRejected;
import static io.ambit.policy.semantics.Fixture.check;
import static io.ambit.policy.semantics.Fixture.denied;
import static io.ambit.policy.semantics.Fixture.deniedBy;
import static io.ambit.policy.semantics.Fixture.deniedNoAllowMatched;
import static io.ambit.policy.semantics.Fixture.docs;
import static io.ambit.policy.semantics.Fixture.header;
import static io.ambit.policy.semantics.Fixture.jwt;
import static io.ambit.policy.semantics.Fixture.l7;
import static io.ambit.policy.semantics.Fixture.load;
import static io.ambit.policy.semantics.Fixture.mesh;
import static io.ambit.policy.semantics.Fixture.policy;
import static io.ambit.policy.semantics.Fixture.snapshot;
import static io.ambit.policy.semantics.Fixture.waypointPolicy;
import static io.ambit.policy.semantics.Fixture.waypointRequestAuth;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.ambit.policy.engine.AccessRequest;
import io.ambit.policy.engine.Decision.Reason;
import io.ambit.policy.engine.Token;
import io.ambit.policy.load.LoadError;
import io.ambit.policy.mesh.MeshConfig;
import io.ambit.policy.semantics.Fixture.Expect;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** seed-extensions.md: Ambit's extended conditions, off by default, on per policy or for the whole mesh. */
class ExtendedConditionsTest {
    private static final Map<String, String> ON = Map.of("ambit.io/extended-conditions", "true");
    private static final String WHEN0 = "spec.rules[0].when[0]";
    private static final MeshConfig UTC = MeshConfig.DEFAULT;
    private static final MeshConfig BERLIN = mesh("timeZone: Europe/Berlin\n");
    private static final MeshConfig MESH_ON = mesh("extendedConditions: true\n");

    /** An ALLOW or DENY policy {@code foo/p} at the waypoint with extended conditions turned on by annotation. */
    private static String extended(String spec) {
        return annotated("foo", "p", ON, TO_SERVICE + spec);
    }

    private static String when(String condition) {
        return "rules: [{when: [" + condition + "]}]\n";
    }

    // ---------------------------------------------------------------------------------------------
    // off by default

    @ParameterizedTest
    @MethodSource
    void rejectedWhenOff(String spec, String fieldPath, String named) {
        List<LoadError> errors = assertRejected(load(waypointPolicy("p", spec)), fieldPath);
        assertThat(errors)
                .as("the message names %s and says how to turn extended conditions on", named)
                .anySatisfy(e -> assertThat(e.message())
                        .contains(named)
                        .contains("ambit.io/extended-conditions")
                        .contains("extendedConditions"));
    }

    static Stream<Arguments> rejectedWhenOff() {
        return Stream.of(
                argumentSet(
                        "a numeric header comparison is rejected when extended conditions are off",
                        when("{key: \"request.headers[amount]\", notValues: [\">100000\"]}"),
                        WHEN0 + ".notValues",
                        ">100000"),
                argumentSet(
                        "a numeric claim comparison is rejected when extended conditions are off",
                        when("{key: \"request.auth.claims[level]\", values: [\">=3\"]}"),
                        WHEN0 + ".values",
                        ">=3"),
                argumentSet(
                        "custom.time_of_day is rejected when extended conditions are off",
                        when("{key: custom.time_of_day, values: [\"08:00-18:00\"]}"),
                        WHEN0 + ".key",
                        "custom.time_of_day"),
                argumentSet(
                        "custom.day_of_week is rejected when extended conditions are off",
                        when("{key: custom.day_of_week, values: [monday]}"),
                        WHEN0 + ".key",
                        "custom.day_of_week"),
                argumentSet(
                        "request.url_path is rejected when extended conditions are off",
                        when("{key: request.url_path, values: [\"*../../../*\"]}"),
                        WHEN0 + ".key",
                        "request.url_path"));
    }

    @Test
    void theAnnotationTurnsExtendedConditionsOnForThatPolicyOnly() {
        var spec = TO_SERVICE + when("{key: \"request.headers[amount]\", notValues: [\">100000\"]}");
        var result = load(docs(annotated("foo", "on", ON, spec), policy("foo", "off", spec)));
        assertThat(result.policies().authorizationPolicies())
                .extracting(p -> p.meta().ref())
                .containsExactly("foo/on");
        assertThat(result.errors()).extracting(LoadError::object).containsExactly("AuthorizationPolicy foo/off");
    }

    @Test
    void theMeshSwitchTurnsExtendedConditionsOnForEveryPolicy() {
        var yaml = waypointPolicy("p", when("{key: custom.day_of_week, values: [monday]}"));
        assertLoads(load(yaml, true));
        var s = snapshot(yaml, MESH_ON);
        check(s.decideL7(l7().time(Instant.parse("2026-01-19T12:00:00Z")).build()), allowedBy("foo/p", 0));
        check(s.decideL7(l7().time(Instant.parse("2026-01-18T12:00:00Z")).build()), deniedNoAllowMatched());
    }

    @Test
    void withExtendedConditionsOffStarsAtBothEndsAreIstiosSuffixMatch() {
        var s = snapshot(waypointPolicy(
                "p", "action: DENY\n" + when("{key: \"request.headers[user-agent]\", values: [\"*sqlmap*\"]}")));
        check(s.decideL7(l7().headers(header("user-agent", "python sqlmap/1.7")).build()), allowedNoAllowPolicy());
        check(s.decideL7(l7().headers(header("user-agent", "x-sqlmap*")).build()), deniedBy("foo/p", 0));
    }

    // ---------------------------------------------------------------------------------------------
    // numeric comparisons

    @ParameterizedTest
    @MethodSource
    void numericComparisons(String condition, Map<String, List<String>> headers, Expect expected) {
        var s = snapshot(extended(when(condition)));
        check(s.decideL7(l7().headers(headers).build()), expected);
    }

    private static final Expect YES = allowedBy("foo/p", 0);
    private static final Expect NO = deniedNoAllowMatched();

    private static Arguments amount(String name, String condition, Map<String, List<String>> headers, Expect expected) {
        return argumentSet(name, condition, headers, expected);
    }

    static Stream<Arguments> numericComparisons() {
        String notOver = "{key: \"request.headers[amount]\", notValues: [\">100000\"]}";
        return Stream.of(
                amount("notValues >100000 admits 500", notOver, header("amount", "500"), YES),
                amount("notValues >100000 refuses 200000", notOver, header("amount", "200000"), NO),
                amount("notValues >100000 admits exactly 100000", notOver, header("amount", "100000"), YES),
                amount("an absent header always matches notValues", notOver, Map.of(), YES),
                amount(
                        "several header values: notValues fails if any value compares",
                        notOver,
                        header("amount", "500", "200000"),
                        NO),
                amount(
                        "a present header that is not a number fails closed",
                        notOver,
                        header("amount", "lots"),
                        denied(Reason.UNCOMPARABLE_VALUE)),
                amount(">=10 includes 10", "{key: \"request.headers[n]\", values: [\">=10\"]}", header("n", "10"), YES),
                amount(
                        ">=10 excludes 9.99",
                        "{key: \"request.headers[n]\", values: [\">=10\"]}",
                        header("n", "9.99"),
                        NO),
                amount("<5 includes 4", "{key: \"request.headers[n]\", values: [\"<5\"]}", header("n", "4"), YES),
                amount("<5 excludes 5", "{key: \"request.headers[n]\", values: [\"<5\"]}", header("n", "5"), NO),
                amount("<=5 includes 5", "{key: \"request.headers[n]\", values: [\"<=5\"]}", header("n", "5"), YES),
                amount(
                        ">1.5 compares decimals",
                        "{key: \"request.headers[n]\", values: [\">1.5\"]}",
                        header("n", "2"),
                        YES),
                amount(
                        ">100 compares numerically, not as text",
                        "{key: \"request.headers[n]\", values: [\">100\"]}",
                        header("n", "99"),
                        NO),
                amount(
                        "several header values: values match if any does",
                        "{key: \"request.headers[n]\", values: [\">100\"]}",
                        header("n", "5", "500"),
                        YES),
                amount(
                        "an absent header never matches values",
                        "{key: \"request.headers[n]\", values: [\">100\"]}",
                        Map.of(),
                        NO));
    }

    @Test
    void anUncomparableHeaderIsDeniedWithAReasonNamingTheKey() {
        var s = snapshot(extended(when("{key: \"request.headers[amount]\", notValues: [\">100000\"]}")));
        var d = s.decideL7(l7().headers(header("amount", "12,5")).build());
        check(d, denied(Reason.UNCOMPARABLE_VALUE));
        assertThat(d.explanation()).contains("uncomparable value for request.headers[amount]");
    }

    @Test
    void anUncomparableHeaderFailsClosedInADenyPolicyToo() {
        var s = snapshot(
                extended("action: DENY\n" + when("{key: \"request.headers[x-request-rate]\", values: [\">100\"]}")));
        check(s.decideL7(l7().headers(header("x-request-rate", "fast")).build()), denied(Reason.UNCOMPARABLE_VALUE));
        check(s.decideL7(l7().headers(header("x-request-rate", "101")).build()), deniedBy("foo/p", 0));
        check(s.decideL7(l7().headers(header("x-request-rate", "100")).build()), allowedNoAllowPolicy());
    }

    @ParameterizedTest
    @MethodSource
    void numericClaimComparisons(Object claim, Expect expected) {
        var yaml = docs(
                waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n"),
                extended(when("{key: \"request.auth.claims[level]\", values: [\">3\"]}")));
        var request = l7().token(jwt("https://issuer.example.com", "alice", Map.of("level", claim)))
                .build();
        check(snapshot(yaml).decideL7(request), expected);
    }

    static Stream<Arguments> numericClaimComparisons() {
        return Stream.of(
                argumentSet("a number claim compares numerically", 5, YES),
                argumentSet("a number claim below the bound does not match", 2, NO),
                argumentSet("a numeric string claim compares numerically", "5", YES),
                argumentSet("a list claim matches if any element compares", List.of("1", "7"), YES),
                argumentSet("a claim that is not a number fails closed", "high", denied(Reason.UNCOMPARABLE_VALUE)));
    }

    @Test
    void anAbsentClaimAlwaysMatchesNumericNotValues() {
        var yaml = docs(
                waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n"),
                extended(when("{key: \"request.auth.claims[level]\", notValues: [\">3\"]}")));
        var s = snapshot(yaml);
        check(s.decideL7(l7().token(jwt("https://issuer.example.com", "alice")).build()), YES);
        check(s.decideL7(l7().build()), YES);
    }

    @Test
    void negativeBoundsCompareNumerically() {
        var s = snapshot(extended(when("{key: \"request.headers[delta]\", values: [\"<0\"]}")));
        check(s.decideL7(l7().headers(header("delta", "-1.5")).build()), YES);
        check(s.decideL7(l7().headers(header("delta", "0")).build()), NO);
    }

    /** The contains reading applies to condition values (seed-extensions.md: values: ["*sqlmap*"]). */
    @ParameterizedTest
    @MethodSource
    void containsMatchesInJwtConditionValues(String key, Token.Verified token) {
        var yaml = docs(
                waypointRequestAuth("jwt", "jwtRules: [{issuer: https://issuer.example.com}]\n"),
                extended(when("{key: " + key + ", values: [\"*admin*\"]}")));
        check(snapshot(yaml).decideL7(l7().token(token).build()), YES);
    }

    static Stream<Arguments> containsMatchesInJwtConditionValues() {
        String iss = "https://issuer.example.com";
        return Stream.of(
                argumentSet(
                        "a contains match in request.auth.claims values",
                        "\"request.auth.claims[role]\"",
                        new Token.Verified(iss, "alice", List.of(), null, Map.of("role", "super-admin-ro"))),
                argumentSet(
                        "a contains match in request.auth.audiences values",
                        "request.auth.audiences",
                        new Token.Verified(iss, "alice", List.of("the-admin-api"), null, Map.of())),
                argumentSet(
                        "a contains match in request.auth.presenter values",
                        "request.auth.presenter",
                        new Token.Verified(iss, "alice", List.of(), "web-admin-console", Map.of())));
    }

    // ---------------------------------------------------------------------------------------------
    // time of day and day of week

    @ParameterizedTest
    @MethodSource
    void timeOfDay(MeshConfig mesh, String windows, String instant, boolean inside) {
        var s = snapshot(extended(when("{key: custom.time_of_day, values: " + windows + "}")), mesh);
        check(s.decideL7(l7().time(Instant.parse(instant)).build()), inside ? YES : NO);
    }

    static Stream<Arguments> timeOfDay() {
        String office = "[\"08:00-18:00\"]";
        String night = "[\"22:00-06:00\"]";
        String twoWindows = "[\"08:00-09:00\", \"17:00-18:00\"]";
        return Stream.of(
                argumentSet("the start of a window is inside", UTC, office, "2026-01-15T08:00:00Z", true),
                argumentSet("a minute before the end is inside", UTC, office, "2026-01-15T17:59:59Z", true),
                argumentSet("the end of a window is outside", UTC, office, "2026-01-15T18:00:00Z", false),
                argumentSet("a minute before the start is outside", UTC, office, "2026-01-15T07:59:00Z", false),
                argumentSet(
                        "the window is read in the mesh time zone (inside)",
                        BERLIN,
                        office,
                        "2026-01-15T07:30:00Z",
                        true),
                argumentSet(
                        "the window is read in the mesh time zone (outside)",
                        BERLIN,
                        office,
                        "2026-01-15T17:30:00Z",
                        false),
                argumentSet("the default time zone is UTC", UTC, office, "2026-01-15T17:30:00Z", true),
                argumentSet("a window can wrap midnight (before midnight)", UTC, night, "2026-01-15T23:00:00Z", true),
                argumentSet("a window can wrap midnight (after midnight)", UTC, night, "2026-01-15T05:59:00Z", true),
                argumentSet("a wrapping window ends at its end", UTC, night, "2026-01-15T06:00:00Z", false),
                argumentSet("a wrapping window starts at its start", UTC, night, "2026-01-15T21:59:00Z", false),
                argumentSet("several windows are ORed (second window)", UTC, twoWindows, "2026-01-15T17:30:00Z", true),
                argumentSet("several windows are ORed (between them)", UTC, twoWindows, "2026-01-15T12:00:00Z", false));
    }

    @ParameterizedTest
    @MethodSource
    void dayOfWeek(MeshConfig mesh, String days, String instant, boolean matches) {
        var s = snapshot(extended(when("{key: custom.day_of_week, values: " + days + "}")), mesh);
        check(s.decideL7(l7().time(Instant.parse(instant)).build()), matches ? YES : NO);
    }

    static Stream<Arguments> dayOfWeek() {
        // 2026-01-18 is a Sunday, 2026-01-19 a Monday
        return Stream.of(
                argumentSet("a day name matches that day", UTC, "[monday]", "2026-01-19T12:00:00Z", true),
                argumentSet("a day name does not match another day", UTC, "[monday]", "2026-01-18T12:00:00Z", false),
                argumentSet("day names are case-insensitive", UTC, "[MONDAY]", "2026-01-19T12:00:00Z", true),
                argumentSet("three-letter day names are accepted", UTC, "[Sun]", "2026-01-18T12:00:00Z", true),
                argumentSet("several days are ORed", UTC, "[sat, sun]", "2026-01-18T12:00:00Z", true),
                argumentSet("the day is read in the mesh time zone", BERLIN, "[monday]", "2026-01-18T23:30:00Z", true),
                argumentSet("the same instant is still Sunday in UTC", UTC, "[monday]", "2026-01-18T23:30:00Z", false));
    }

    @Test
    void withoutARequestTimeTheInjectedClockDecides() {
        var yaml = extended(when("{key: custom.time_of_day, values: [\"08:00-18:00\"]}"));
        var morning = snapshot(yaml, UTC, Clock.fixed(Instant.parse("2026-01-15T09:00:00Z"), ZoneOffset.UTC));
        var evening = snapshot(yaml, UTC, Clock.fixed(Instant.parse("2026-01-15T20:00:00Z"), ZoneOffset.UTC));
        check(morning.decideL7(l7().build()), YES);
        check(evening.decideL7(l7().build()), NO);
    }

    // ---------------------------------------------------------------------------------------------
    // contains and url_path

    @ParameterizedTest
    @MethodSource
    void containsAndUrlPath(String condition, AccessRequest request, Expect expected) {
        check(snapshot(extended("action: DENY\n" + when(condition))).decideL7(request), expected);
    }

    static Stream<Arguments> containsAndUrlPath() {
        String sqlmap = "{key: \"request.headers[user-agent]\", values: [\"*sqlmap*\"]}";
        String admin = "{key: request.url_path, values: [\"/admin*\"]}";
        return Stream.of(
                argumentSet(
                        "a value with * at both ends is a contains match",
                        sqlmap,
                        l7().headers(header("user-agent", "python sqlmap/1.7 (https://sqlmap.org)"))
                                .build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "a contains match does not match without the text",
                        sqlmap,
                        l7().headers(header("user-agent", "curl/8.5")).build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "request.url_path is the normalized path",
                        admin,
                        l7("GET", "/public/../admin/users").build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "request.url_path has the query removed",
                        "{key: request.url_path, values: [/admin]}",
                        l7("GET", "/admin?x=1").build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "request.url_path has the fragment removed",
                        "{key: request.url_path, values: [/admin]}",
                        l7("GET", "/admin#top").build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "request.url_path does not match another path",
                        admin,
                        l7("GET", "/public").build(),
                        allowedNoAllowPolicy()),
                argumentSet(
                        "request.url_path supports contains matches",
                        "{key: request.url_path, values: [\"*secret*\"]}",
                        l7("GET", "/a/secret/b").build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "request.url_path supports path templates like paths",
                        "{key: request.url_path, values: [\"/users/{*}/keys\"]}",
                        l7("GET", "/users/alice/keys").build(),
                        deniedBy("foo/p", 0)),
                argumentSet(
                        "dot segments are gone after normalization, so *../../../* never matches under BASE",
                        "{key: request.url_path, values: [\"*../../../*\"]}",
                        l7("GET", "/a/b/c/../../../etc/passwd").build(),
                        allowedNoAllowPolicy()));
    }
}
