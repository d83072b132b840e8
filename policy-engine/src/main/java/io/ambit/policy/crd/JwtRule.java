package io.ambit.policy.crd;

import java.util.List;

/**
 * One {@code jwtRules} entry of a RequestAuthentication.
 *
 * @param fromHeaders header locations, each with the prefix to strip (empty string when none)
 */
public record JwtRule(
        String issuer,
        List<String> audiences,
        String jwksUri,
        String jwks,
        List<HeaderLocation> fromHeaders,
        List<String> fromParams,
        List<String> fromCookies,
        String outputPayloadToHeader,
        boolean forwardOriginalToken,
        List<ClaimToHeader> outputClaimToHeaders,
        List<String> spaceDelimitedClaims) {

    /** {@code fromHeaders[]}: the header name and the prefix its value must start with. */
    public record HeaderLocation(String name, String prefix) {}

    /** {@code outputClaimToHeaders[]}. */
    public record ClaimToHeader(String header, String claim) {}
}
