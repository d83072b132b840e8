package io.ambit.waypoint.jwt;

import static org.assertj.core.api.Assertions.assertThat;

import io.ambit.policy.crd.JwtRule;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TokenLocationsTest {
    private static JwtRule rule(String issuer, List<JwtRule.HeaderLocation> h, List<String> p, List<String> c) {
        return new JwtRule(issuer, List.of(), null, "{}", h, p, c, null, false, List.of(), List.of());
    }

    private static List<TokenLocations.Found> extract(List<JwtRule> rules, String path, Map<String, List<String>> h) {
        return new TokenLocations(rules).extract(new JwtRequest("GET", "http", "h", path, h), 8);
    }

    @Test
    void byDefaultTheBearerHeaderAndTheAccessTokenParameterAreRead() {
        var rules = List.of(rule("i", List.of(), List.of(), List.of()));
        var found = extract(rules, "/p?access_token=a.b.c", Map.of("authorization", List.of("Bearer x.y.z")));
        assertThat(found).extracting(TokenLocations.Found::token).containsExactly("x.y.z", "a.b.c");
        assertThat(extract(rules, "/p", Map.of("authorization", List.of("Basic dXNlcjpwYXNz"))))
                .isEmpty();
        assertThat(extract(rules, "/p", Map.of("authorization", List.of("bearer x.y.z"))))
                .extracting(TokenLocations.Found::token)
                .containsExactly("x.y.z");
    }

    @Test
    void configuredLocationsReplaceTheDefaults() {
        var rules = List.of(rule(
                "i",
                List.of(new JwtRule.HeaderLocation("X-Token", "Token "), new JwtRule.HeaderLocation("x-raw", "")),
                List.of("jwt"),
                List.of("session")));
        var found = extract(
                rules,
                "/p?access_token=ignored&jwt=q%2Eq.r.s",
                Map.of(
                        "authorization", List.of("Bearer ignored"),
                        "x-token", List.of("Token a.b.c", "no prefix here"),
                        "x-raw", List.of("d.e.f"),
                        "cookie", List.of("theme=dark; session=\"g.h.i\"")));
        assertThat(found)
                .extracting(TokenLocations.Found::token)
                .containsExactly("d.e.f", "a.b.c", "q.q.r.s", "g.h.i"); // headers in name order, as Envoy
    }

    @Test
    void aLocationKnowsWhichIssuersConfiguredIt() {
        var rules = List.of(
                rule("one", List.of(), List.of(), List.of()),
                rule("two", List.of(new JwtRule.HeaderLocation("x-two", "")), List.of(), List.of()));
        var l = new TokenLocations(rules);
        var auth = new TokenLocations.Location(TokenLocations.Kind.HEADER, "authorization", "Bearer ");
        var two = new TokenLocations.Location(TokenLocations.Kind.HEADER, "x-two", "");
        assertThat(l.allows(auth, "one")).isTrue();
        assertThat(l.allows(auth, "two")).isFalse();
        assertThat(l.allows(two, "two")).isTrue();
    }

    @Test
    void removalKeepsEverythingElseAsSent() {
        assertThat(TokenLocations.withoutParam("/p?a=%41&access_token=x&b&access_token=y#f", "access_token"))
                .isEqualTo("/p?a=%41&b#f");
        assertThat(TokenLocations.withoutParam("/p?access_token=x", "access_token"))
                .isEqualTo("/p");
        assertThat(TokenLocations.withoutCookie("a=1; session=x;b=2", "session"))
                .isEqualTo("a=1; b=2");
        assertThat(TokenLocations.withoutCookie("session=x", "session")).isEmpty();
    }

    @Test
    void percentDecodingIsUtf8AndKeepsMalformedEscapes() {
        assertThat(TokenLocations.decode("%E2%9C%93%zz%4")).isEqualTo("\u2713%zz%4");
    }
}
