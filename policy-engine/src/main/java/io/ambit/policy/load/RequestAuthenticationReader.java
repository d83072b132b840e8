package io.ambit.policy.load;

import io.ambit.policy.crd.JwtRule;
import io.ambit.policy.crd.PolicyMeta;
import io.ambit.policy.crd.RequestAuthentication;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Reads and validates one RequestAuthentication (authz-semantics §4). */
final class RequestAuthenticationReader {
    private static final Set<String> SPEC = Set.of("selector", "targetRef", "targetRefs", "jwtRules");
    private static final Set<String> RULE = Set.of(
            "issuer",
            "audiences",
            "jwksUri",
            "jwks",
            "fromHeaders",
            "fromParams",
            "fromCookies",
            "outputPayloadToHeader",
            "forwardOriginalToken",
            "outputClaimToHeaders",
            "timeout",
            "spaceDelimitedClaims");
    private static final Set<String> HEADER = Set.of("name", "prefix");
    private static final Set<String> CLAIM_TO_HEADER = Set.of("header", "claim");

    private RequestAuthenticationReader() {}

    static RequestAuthentication read(YamlNode spec, PolicyMeta meta, Problems p) {
        var f = Fields.map(spec, p, SPEC);
        var attach = Attachment.read(spec, f, p);
        var rules = new ArrayList<JwtRule>();
        var nodes = Fields.listOrNull(f.get("jwtRules"), p);
        if (nodes != null) {
            for (var n : nodes) {
                var r = rule(n, p);
                if (r != null) {
                    rules.add(r);
                }
            }
        }
        return p.any()
                ? null
                : new RequestAuthentication(meta, attach.selector(), attach.targetRefs(), List.copyOf(rules));
    }

    private static JwtRule rule(YamlNode n, Problems p) {
        var f = Fields.map(n, p, RULE);
        String issuer = Fields.required(n, f, "issuer", p);
        String jwksUri = Fields.string(f.get("jwksUri"), p);
        if (jwksUri != null) {
            try {
                var uri = new URI(jwksUri);
                if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                    p.at(f.get("jwksUri"), "is \"" + jwksUri + "\" (expected: an http or https URL)");
                }
            } catch (URISyntaxException e) {
                p.at(f.get("jwksUri"), "is \"" + jwksUri + "\" (expected: an http or https URL)");
            }
        }
        var headers = new ArrayList<JwtRule.HeaderLocation>();
        var headerNodes = Fields.listOrNull(f.get("fromHeaders"), p);
        if (headerNodes != null) {
            for (var h : headerNodes) {
                var hf = Fields.map(h, p, HEADER);
                String name = Fields.required(h, hf, "name", p);
                String prefix = Fields.string(hf.get("prefix"), p);
                if (name != null) {
                    headers.add(new JwtRule.HeaderLocation(name, prefix == null ? "" : prefix));
                }
            }
        }
        var claimHeaders = new ArrayList<JwtRule.ClaimToHeader>();
        var claimNodes = Fields.listOrNull(f.get("outputClaimToHeaders"), p);
        if (claimNodes != null) {
            for (var c : claimNodes) {
                var cf = Fields.map(c, p, CLAIM_TO_HEADER);
                String header = Fields.required(c, cf, "header", p);
                String claim = Fields.required(c, cf, "claim", p);
                if (header != null && claim != null) {
                    claimHeaders.add(new JwtRule.ClaimToHeader(header, claim));
                }
            }
        }
        String timeout = Fields.string(f.get("timeout"), p);
        if (timeout != null && !timeout.matches("[0-9]+(\\.[0-9]+)?(ms|s|m|h)")) {
            p.at(f.get("timeout"), "is \"" + timeout + "\" (expected: a duration such as 5s or 500ms)");
        }
        if (issuer == null) {
            return null;
        }
        return new JwtRule(
                issuer,
                Fields.stringList(f.get("audiences"), p),
                jwksUri,
                Fields.string(f.get("jwks"), p),
                List.copyOf(headers),
                Fields.stringList(f.get("fromParams"), p),
                Fields.stringList(f.get("fromCookies"), p),
                Fields.string(f.get("outputPayloadToHeader"), p),
                f.containsKey("forwardOriginalToken") && Fields.bool(f.get("forwardOriginalToken"), p),
                List.copyOf(claimHeaders),
                Fields.stringList(f.get("spaceDelimitedClaims"), p));
    }
}
